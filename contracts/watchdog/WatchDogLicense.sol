// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721A} from "erc721a/ERC721A.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title WatchDogLicense
/// @notice ERC-721 license to run one WatchDog node. Minted only by the presale (`minter`), in sequential
///         batches (ERC721A: one ownership and one balance write per batch, no enumeration). Transfers are
///         locked until `unlockTime`, which the owner can only move earlier and which never exceeds the
///         immutable `maxUnlockTime`. Each license names an operator key, the key that runs its WatchDog,
///         set by the holder and cleared whenever the license changes hands. Licenses of a sale that failed
///         (cancelled, or neither finalized nor cancelled by the presale's self-refund time) are void from
///         the time the presale sets (`voidTime`): no operator key can be set and `operatorOf` is zero for
///         every license, so no WatchDog of theirs can commit, and `LicenseRewards` pays none of them.
/// @dev The minter may attach data that costs no extra storage because it rides in slots a mint writes
///      anyway: 64 bits per account (ERC721A `aux`, in the balance word) and 24 bits per minted batch
///      (ERC721A `extraData`, in the ownership word; kept unchanged through transfers and burns). The
///      presale keeps each buyer's purchase counters and each purchase's currency there. Mints never call
///      `onERC721Received` (no receiver hook, so no reentrancy through a mint).
contract WatchDogLicense is ERC721A, Ownable2Step {
    struct Config {
        string name;
        string symbol;
        /// @notice `tokenURI(id)` = baseURI ++ decimal id (empty base: empty URIs).
        string baseURI;
        address owner;
        /// @notice The presale: the only address that mints and burns.
        address minter;
        uint64 unlockTime;
        uint64 maxUnlockTime;
    }

    /// @notice The only address allowed to mint and burn (the presale).
    address public immutable minter;
    /// @notice `unlockTime` can never be later than this.
    uint64 public immutable maxUnlockTime;

    /// @notice Transfers between holders revert before this time (mints and burns do not).
    uint64 public unlockTime;
    /// @notice From this time every license is void (zero: never). Set by the minter: the presale sets its
    ///         self-refund time at deployment, the time of a cancellation, or zero when it is finalized.
    uint64 public voidTime;
    /// @dev Key that runs the WatchDog of each license, chosen by the holder (read through `operatorOf`).
    mapping(uint256 tokenId => address) private _operators;

    string private _baseTokenURI;

    event UnlockTimeSet(uint64 previousUnlockTime, uint64 newUnlockTime);
    event OperatorSet(uint256 indexed tokenId, address indexed operator);
    /// @notice Every license is void from `voidTime` on (zero: never).
    event VoidTimeSet(uint64 voidTime);

    error ZeroAddress(string what);
    error UnlockTimeAboveMax(uint64 unlockTime, uint64 maxUnlockTime);
    error UnlockTimeNotEarlier(uint64 currentUnlockTime, uint64 requestedUnlockTime);
    error TransfersLocked(uint256 tokenId, uint64 unlockTime);
    error OnlyMinter(address caller);
    error NotHolderNorApproved(uint256 tokenId, address caller);
    /// @notice The licenses are void since `voidTime` (their sale was cancelled or never finalized).
    error LicenseVoid(uint256 tokenId, uint64 voidTime);
    /// @notice License `tokenId` was never minted.
    error LicenseNotFound(uint256 tokenId);
    /// @notice License `tokenId` was burned (refunded) already.
    error LicenseBurned(uint256 tokenId);

    constructor(Config memory config) ERC721A(config.name, config.symbol) Ownable(config.owner) {
        if (config.minter == address(0)) revert ZeroAddress("minter");
        if (config.unlockTime > config.maxUnlockTime) {
            revert UnlockTimeAboveMax(config.unlockTime, config.maxUnlockTime);
        }
        minter = config.minter;
        maxUnlockTime = config.maxUnlockTime;
        unlockTime = config.unlockTime;
        _baseTokenURI = config.baseURI;
        emit UnlockTimeSet(0, config.unlockTime);
    }

    // ---------------------------------------------------------------- minter

    /// @notice Mints `quantity` licenses with consecutive ids to `to`, without calling `onERC721Received`.
    ///         Only the minter (presale).
    /// @param accountData replaces `to`'s 64-bit minter data (`accountDataOf`).
    /// @param batchData 24-bit minter data of every license of this batch (`batchDataOf`).
    /// @return firstTokenId the id of the first license minted (ids start at 1).
    function mint(address to, uint256 quantity, uint64 accountData, uint24 batchData)
        external
        returns (uint256 firstTokenId)
    {
        _requireMinter();
        firstTokenId = _nextTokenId();
        _mint(to, quantity);
        _setAux(to, accountData);
        if (batchData != 0) _setExtraDataAt(firstTokenId, batchData);
    }

    /// @notice Burns license `tokenId` whoever holds it (refunds of a cancelled sale). Only the minter,
    ///         which checks `holder` itself.
    /// @return holder who held the license; `batchData` its minter data.
    function burn(uint256 tokenId) external returns (address holder, uint24 batchData) {
        _requireMinter();
        if (!_exists(tokenId)) {
            if (tokenId != 0 && tokenId < _nextTokenId()) revert LicenseBurned(tokenId);
            revert LicenseNotFound(tokenId);
        }
        TokenOwnership memory ownership = _ownershipOf(tokenId);
        _burn(tokenId);
        return (ownership.addr, ownership.extraData);
    }

    /// @notice Makes every license void from `newVoidTime` on (zero: never; a time in the past: at once).
    ///         Only the minter: the presale sets its self-refund time at deployment, the time of a
    ///         cancellation, and zero when the sale is finalized.
    function setVoidTime(uint64 newVoidTime) external {
        _requireMinter();
        voidTime = newVoidTime;
        emit VoidTimeSet(newVoidTime);
    }

    // ---------------------------------------------------------------- holders

    /// @notice Names `operator` as the key that runs license `tokenId`'s WatchDog (zero clears it). The
    ///         holder, or an address approved for the token or for all the holder's tokens; never for a void
    ///         license (`LicenseVoid`).
    function setOperator(uint256 tokenId, address operator) external {
        address holder = ownerOf(tokenId);
        if (voided()) revert LicenseVoid(tokenId, voidTime);
        if (
            msg.sender != holder && getApproved(tokenId) != msg.sender
                && !isApprovedForAll(holder, msg.sender)
        ) {
            revert NotHolderNorApproved(tokenId, msg.sender);
        }
        _operators[tokenId] = operator;
        emit OperatorSet(tokenId, operator);
    }

    // ---------------------------------------------------------------- owner

    /// @notice Moves the transfer unlock time earlier (a time in the past unlocks at once). Never later:
    ///         holders can rely on the time announced at deployment as the latest. Only the owner.
    function setUnlockTime(uint64 newUnlockTime) external onlyOwner {
        uint64 current = unlockTime;
        if (newUnlockTime >= current) revert UnlockTimeNotEarlier(current, newUnlockTime);
        unlockTime = newUnlockTime;
        emit UnlockTimeSet(current, newUnlockTime);
    }

    // ---------------------------------------------------------------- views

    /// @notice Key that runs the WatchDog of license `tokenId` (zero: none, and zero for every license once
    ///         the licenses are void).
    function operatorOf(uint256 tokenId) external view returns (address) {
        if (voided()) return address(0);
        return _operators[tokenId];
    }

    /// @notice Whether every license is void now: its sale was cancelled, or passed the presale's
    ///         self-refund time without being finalized.
    function voided() public view returns (bool) {
        uint64 t = voidTime;
        return t != 0 && block.timestamp >= t;
    }

    /// @notice Whether transfers between holders are still locked.
    function transfersLocked() external view returns (bool) {
        return block.timestamp < unlockTime;
    }

    /// @notice The minter's 64-bit data for `account` (the presale's purchase counters).
    function accountDataOf(address account) external view returns (uint64) {
        return _getAux(account);
    }

    /// @notice The minter's 24-bit data of the batch license `tokenId` was minted in (reverts if the
    ///         license does not exist).
    function batchDataOf(uint256 tokenId) external view returns (uint24) {
        return _ownershipOf(tokenId).extraData;
    }

    /// @notice Licenses ever minted (burned ones included); the next id is `totalMinted() + 1`.
    function totalMinted() external view returns (uint256) {
        return _totalMinted();
    }

    /// @notice Licenses burned (refunded).
    function totalBurned() external view returns (uint256) {
        return _totalBurned();
    }

    // ---------------------------------------------------------------- internals

    function _requireMinter() private view {
        if (msg.sender != minter) revert OnlyMinter(msg.sender);
    }

    /// @dev Transfers (not mints, not burns) are locked until `unlockTime`; any change of holder (transfer
    ///      or burn) clears the operator key. ERC721A calls this with quantity 1 except for mints.
    function _beforeTokenTransfers(address from, address to, uint256 startTokenId, uint256)
        internal
        override
    {
        if (from == address(0)) return;
        if (to != address(0)) {
            uint64 unlock = unlockTime;
            if (block.timestamp < unlock) revert TransfersLocked(startTokenId, unlock);
        }
        if (_operators[startTokenId] != address(0)) {
            delete _operators[startTokenId];
            emit OperatorSet(startTokenId, address(0));
        }
    }

    /// @dev The batch data set at mint stays with every license of the batch through transfers and burns.
    function _extraData(address, address, uint24 previousExtraData) internal pure override returns (uint24) {
        return previousExtraData;
    }

    function _startTokenId() internal pure override returns (uint256) {
        return 1;
    }

    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }
}
