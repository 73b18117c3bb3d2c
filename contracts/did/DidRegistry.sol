// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {DidBase} from "./DidBase.sol";
import {DidCommitments} from "./DidCommitments.sol";
import {DidNames} from "./DidNames.sol";
import {DidKeys} from "./DidKeys.sol";
import {DidRecords} from "./DidRecords.sol";
import {
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
} from "./interfaces/IEnsResolver.sol";

/// @title DidRegistry
/// @notice SendingNetwork DIDs: ERC-721 tokens named `[a-z0-9-]` that carry a user's linked wallets
///         (`DidLinks`), device and messaging keys (`DidKeys`) and profile pointer and text records
///         (`DidRecords`), and answer ENS resolution for `<name>.<tld>`.
///         Anyone registers a free name for themselves, in two steps so that nobody who sees the registration
///         in the mempool can take the name first: `commit` a hash of the name, the caller and a secret,
///         then `register` between `minCommitmentAge` and `maxCommitmentAge` later (`DidCommitments`).
///         A DID moves only with its recipient's consent: the owner offers it and the recipient accepts, or
///         the owner (or an approved operator) submits the recipient's EIP-712 `TransferConsent`; plain
///         ERC-721 transfers revert.
///         A transfer starts the new owner clean: every linked wallet is unlinked (their primary cleared), all
///         keys are revoked, text records and the profile hash are gone (a new generation starts), the
///         previous owner's primary is cleared if it was this DID, and pending offers and approvals are void.
/// @dev Names are permanent: there is no burn and no expiry.
contract DidRegistry is DidRecords, DidKeys {
    bytes32 public constant TRANSFER_CONSENT_TYPEHASH =
        keccak256("TransferConsent(uint256 did,address from,address to,uint32 generation,uint256 deadline)");

    mapping(uint256 did => address to) internal _offers;

    /// @notice `name` was registered as `did` under `node`; the owner is in the ERC-721 `Transfer` beside it.
    event Registered(uint256 indexed did, bytes32 indexed node, string name);
    /// @notice `to` is zero when the offer is withdrawn.
    event TransferOffered(uint256 indexed did, address indexed from, address indexed to);
    /// @notice `did` moved to a new owner and starts `generation`: links, keys and records of earlier
    ///         generations are void.
    event DidReset(uint256 indexed did, uint32 generation);

    error NameTaken(string name);
    /// @notice ERC-721 transfers need the recipient's consent: `offerTransfer` then `acceptTransfer` (or the
    ///         recipient's own `transferFrom`), or `transferWithConsent`.
    error TransferRequiresConsent(uint256 did, address to);
    error TransferToSelf(uint256 did);
    error NoTransferOffer(uint256 did, address caller);

    /// @param tld_ the top-level label DID names resolve under (`send`: `alice.send`).
    /// @param minCommitmentAge_ seconds a `register`/`addKey` commitment must age before use (≥ 1).
    /// @param maxCommitmentAge_ seconds after which an unused commitment lapses (> `minCommitmentAge_`).
    constructor(string memory tld_, uint256 minCommitmentAge_, uint256 maxCommitmentAge_)
        DidBase(tld_)
        DidCommitments(minCommitmentAge_, maxCommitmentAge_)
    {}

    // ---------------------------------------------------------------- names

    /// @notice Registers `name` and mints its DID to the caller. Anyone, for a free name that follows the
    ///         name rules (`DidNames`), with its commitment `registerCommitment(name, caller, secret)` made at
    ///         least `minCommitmentAge` and less than `maxCommitmentAge` seconds before (`commit`); the
    ///         commitment is used up. The token id is the name's bytes read as an integer (`idOf`).
    function register(string calldata name, bytes32 secret) external returns (uint256 did) {
        bytes memory label = bytes(name);
        did = DidNames.toId(label);
        bytes32 node = DidNames.node(tldNode, label);
        Did storage d = _dids[node];
        if (d.owner != address(0)) revert NameTaken(name);
        _useCommitment(_registerCommitment(did, msg.sender, secret));
        d.owner = msg.sender;
        ++_accounts[msg.sender].balance;
        emit Transfer(address(0), msg.sender, did);
        emit Registered(did, node, name);
    }

    // ---------------------------------------------------------------- transfers

    /// @notice Offers `did` to `to`, who takes it with `acceptTransfer`; `to` zero withdraws the offer. Only the
    ///         DID's owner. A new offer replaces the previous one; any transfer voids it.
    function offerTransfer(uint256 did, address to) external {
        Did memory d = _requireDidOwner(nodeOf(did), did);
        if (to == d.owner) revert TransferToSelf(did);
        _offers[did] = to;
        emit TransferOffered(did, d.owner, to);
    }

    /// @notice Takes `did`, which its owner offered to the caller. Only the offer's recipient.
    function acceptTransfer(uint256 did) external {
        if (!_isOfferedTo(did, msg.sender)) revert NoTransferOffer(did, msg.sender);
        bytes32 node = nodeOf(did);
        _move(did, node, _dids[node], msg.sender);
    }

    /// @notice ERC-721 transfer, allowed only as the recipient taking a DID offered to it (the same as
    ///         `acceptTransfer`): the caller must be `to` and the offer's recipient, `from` the owner. Every
    ///         other ERC-721 transfer reverts `TransferRequiresConsent`. `safeTransferFrom` goes through here.
    function transferFrom(address from, address to, uint256 tokenId) public override {
        if (msg.sender != to || !_isOfferedTo(tokenId, to)) revert TransferRequiresConsent(tokenId, to);
        bytes32 node = nodeOf(tokenId);
        Did memory d = _dids[node];
        if (from != d.owner) revert ERC721IncorrectOwner(from, tokenId, d.owner);
        _move(tokenId, node, d, to);
    }

    /// @notice Transfers `did` to `to` with `to`'s EIP-712 `TransferConsent(did, from, to, generation,
    ///         deadline)` signature, `generation` being the DID's current one (`didRecord(did).generation`;
    ///         every transfer bumps it, so a consent moves the DID at most once). The DID's owner or an ERC-721
    ///         approved operator. Contract recipients consent through ERC-1271.
    function transferWithConsent(uint256 did, address to, uint256 deadline, bytes calldata consent) external {
        bytes32 node = nodeOf(did);
        Did memory d = _dids[node];
        _checkAuthorized(d.owner, msg.sender, did);
        if (to == d.owner) revert TransferToSelf(did);
        _checkDeadline(deadline);
        _checkConsent(to, _transferDigest(did, d, to, deadline), consent);
        _move(did, node, d, to);
    }

    // ---------------------------------------------------------------- views

    /// @notice The account `did` is offered to (zero if none).
    function transferOffer(uint256 did) external view returns (address) {
        return _offers[did];
    }

    /// @notice The EIP-712 digest `to` signs to accept `did` from its current owner in its current generation.
    function transferConsentDigest(uint256 did, address to, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _transferDigest(did, _dids[nodeOf(did)], to, deadline);
    }

    /// @notice ERC-165: ERC-721 (+ metadata) and the ENS resolver profiles `addr`, `addr(coinType)`, `text`,
    ///         `contenthash` and `name`.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IAddrResolver).interfaceId
            || interfaceId == type(IAddressResolver).interfaceId
            || interfaceId == type(ITextResolver).interfaceId
            || interfaceId == type(IContentHashResolver).interfaceId
            || interfaceId == type(INameResolver).interfaceId || ERC721.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Whether `did` has a pending offer to `account` (never true for the zero address).
    function _isOfferedTo(uint256 did, address account) internal view returns (bool) {
        return account != address(0) && _offers[did] == account;
    }

    function _transferDigest(uint256 did, Did memory d, address to, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(TRANSFER_CONSENT_TYPEHASH, did, d.owner, to, d.generation, deadline))
        );
    }

    /// @dev Moves `did` (record `d`) from its owner to `to` and starts its next generation.
    function _move(uint256 did, bytes32 node, Did memory d, address to) internal {
        address from = d.owner;
        _clearLinks(did, to);
        --_accounts[from].balance;
        _clearPrimaryIf(from, did);
        ++_accounts[to].balance;
        uint32 generation = d.generation + 1;
        _dids[node] = Did(to, generation);
        delete _offers[did];
        _approve(address(0), did, address(0), false);
        emit Transfer(from, to, did);
        emit DidReset(did, generation);
    }
}
