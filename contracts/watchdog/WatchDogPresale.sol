// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {WatchDogLicense} from "./WatchDogLicense.sol";
import {PackedTier, PackedTierLib} from "../libraries/PackedTier.sol";

/// @title WatchDogPresale
/// @notice Sells the `supply` WatchDog licenses in an allowlist phase and a public first-come-first-served
///         phase, for ETH or one ERC-20 stablecoin. Prices come from tiers over one counter, `sold`, which
///         only ever grows: license number n (token id n) is sold at the price of the tier containing
///         n - 1, in both phases and both currencies. Every purchase names the most it will pay
///         (`maxTotalCost`). Payments stay here until the owner either finalizes the ended sale and
///         withdraws them to the immutable `treasury`, or cancels it, after which each license is
///         refundable for exactly the price it was bought at.
///         Buyers never depend on the owner: two times are fixed at deployment (immutable).
///         - `selfRefundTime`: if the sale is neither finalized nor cancelled by then, it has failed
///           (status `Expired`): the owner can no longer finalize (or cancel, or schedule), and every
///           holder refunds itself with `refund`, exactly as after a cancellation. Every phase ends by then.
///         - `refundDeadline` (after `selfRefundTime`): refunds of a cancelled or expired sale end; the money
///           of licenses not refunded by then goes to the `treasury` when anyone calls `sweepUnrefunded`.
///         Licenses of a cancelled or expired sale are void (`WatchDogLicense.voided`) from the cancellation,
///         or from `selfRefundTime`: no operator key, no WatchDog commits, no license rewards.
/// @dev The price a license was paid is derived, never stored: the tier of its id (ids are minted
///      sequentially from 1, only here, so id - 1 is the value of `sold` it was sold at) in the currency
///      recorded in the license's batch data. Purchase counters per account live in the license's
///      per-account data, in the balance word its mint writes anyway. Licenses are minted without receiver
///      callbacks; every function that moves ETH or tokens is `nonReentrant` and pays out last.
contract WatchDogPresale is Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    enum Phase {
        None,
        Allowlist, // bound into allowlist leaves as uint8(1)
        Public
    }

    enum Currency {
        Eth,
        Token
    }

    enum SaleStatus {
        Active, // selling (within the phases' windows), may still be cancelled
        Cancelled, // no more sales; every license sold is refundable
        Finalized, // ended and not cancellable; proceeds withdrawable
        Expired // never stored: Active past `selfRefundTime` (failed sale; every license sold is refundable)
    }

    /// @notice Tier i prices licenses whose sale index (id - 1) lies in [start_i, start_{i+1}), the last
    ///         tier up to `supply`. Prices are per license, in wei and in stablecoin units.
    struct Tier {
        uint32 start;
        uint96 ethPrice;
        uint96 tokenPrice;
    }

    struct AllowlistPhase {
        uint40 start;
        uint40 end; // exclusive
        /// @notice Licenses only the allowlist can buy while its phase has not ended; the allowlist can
        ///         never buy more than this.
        uint32 reserve;
        /// @notice Root of the tree of leaves (address account, uint256 maxQuantity, uint8 phase = 1),
        ///         OpenZeppelin standard (double-hashed) leaves.
        bytes32 merkleRoot;
    }

    struct PublicPhase {
        uint40 start;
        uint40 end; // exclusive
        uint32 walletCap; // licenses one account may buy in the public phase
        uint32 txCap; // licenses per purchase
    }

    struct Config {
        address owner;
        address license;
        /// @notice The stablecoin: a plain ERC-20 (no fee on transfer, no rebasing, no hooks).
        address paymentToken;
        /// @notice Receives the proceeds of a finalized sale.
        address treasury;
        uint32 supply;
        Tier[] tiers;
        /// @notice Optional (start 0: schedule later with `setAllowlistPhase`).
        AllowlistPhase allowlist;
        /// @notice Optional (start 0: schedule later with `setPublicPhase`).
        PublicPhase publicPhase;
        /// @notice From this time a sale neither finalized nor cancelled is `Expired`: holders refund
        ///         themselves and the owner can no longer finalize. Every phase must end by then.
        uint40 selfRefundTime;
        /// @notice Refunds end at this time (after `selfRefundTime`); what is left then goes to the treasury
        ///         (`sweepUnrefunded`).
        uint40 refundDeadline;
    }

    /// @dev One slot, read and written by every purchase.
    struct SaleState {
        uint32 sold; // licenses ever sold; never decreases (refunds burn licenses but do not lower it)
        uint32 allowlistSold;
        SaleStatus status;
        uint128 ethHeld; // ETH paid for licenses and neither refunded nor withdrawn
    }

    /// @dev One slot: both phases' windows and limits.
    struct Schedule {
        uint40 allowlistStart;
        uint40 allowlistEnd;
        uint32 allowlistReserve;
        uint40 publicStart;
        uint40 publicEnd;
        uint32 walletCap;
        uint32 txCap;
    }

    uint256 public constant MAX_TIERS = 8;
    /// @dev License batch data of a purchase paid in the stablecoin (ETH purchases: 0).
    uint24 private constant _PAID_IN_TOKEN = 1;

    WatchDogLicense public immutable license;
    IERC20 public immutable paymentToken;
    address public immutable treasury;
    uint32 public immutable supply;
    uint8 public immutable tierCount;
    /// @notice From this time a sale neither finalized nor cancelled is `Expired`: any holder refunds itself
    ///         (`refund`), and the owner can no longer finalize, cancel or schedule a phase.
    uint40 public immutable selfRefundTime;
    /// @notice Refunds (after a cancellation or an expiry) are accepted before this time only; from it, the
    ///         money of unrefunded licenses goes to the treasury through `sweepUnrefunded` (anyone).
    uint40 public immutable refundDeadline;
    /// @dev Tier i (unused tiers: 0), read through `_tierAt`.
    PackedTier private immutable _tier0;
    PackedTier private immutable _tier1;
    PackedTier private immutable _tier2;
    PackedTier private immutable _tier3;
    PackedTier private immutable _tier4;
    PackedTier private immutable _tier5;
    PackedTier private immutable _tier6;
    PackedTier private immutable _tier7;

    SaleState private _state;
    Schedule private _schedule;
    /// @notice Root of the allowlist tree (see `AllowlistPhase.merkleRoot`).
    bytes32 public merkleRoot;
    /// @notice Stablecoin paid for licenses and neither refunded nor withdrawn.
    uint256 public tokenHeld;

    event AllowlistPhaseSet(uint40 start, uint40 end, uint32 reserve, bytes32 merkleRoot);
    event PublicPhaseSet(uint40 start, uint40 end, uint32 walletCap, uint32 txCap);
    event Purchased(
        address indexed buyer,
        Phase indexed phase,
        Currency currency,
        uint256 firstTokenId,
        uint256 quantity,
        uint256 cost
    );
    event SaleCancelled(uint256 sold, uint256 ethOwed, uint256 tokenOwed);
    event SaleFinalized(uint256 sold, uint256 ethProceeds, uint256 tokenProceeds);
    event Refunded(address indexed holder, uint256[] tokenIds, uint256 ethAmount, uint256 tokenAmount);
    event ProceedsWithdrawn(address indexed treasury, uint256 ethAmount, uint256 tokenAmount);
    /// @notice Past the refund deadline, the money of licenses never refunded went to the treasury.
    event UnrefundedSwept(address indexed treasury, uint256 ethAmount, uint256 tokenAmount);

    error ZeroAddress(string what);
    error InvalidParameter(string what);
    error InvalidTier(uint256 index, string what);
    error LicenseNotFresh(address license);
    error InvalidPhaseConfig(Phase phase, string what);
    error PhaseAlreadyStarted(Phase phase, uint40 start);
    error PhaseNotOpen(Phase phase, uint40 start, uint40 end);
    error SaleNotActive(SaleStatus status);
    /// @notice Refunds are open only after a cancellation or from `selfRefundTime` on, if the sale is
    ///         neither finalized nor cancelled by then.
    error RefundsNotOpen(SaleStatus status, uint40 selfRefundTime);
    /// @notice Refunds ended at `refundDeadline`; the money left goes to the treasury (`sweepUnrefunded`).
    error RefundPeriodOver(uint40 refundDeadline);
    /// @notice The unrefunded money can be swept only from `refundDeadline` on.
    error RefundPeriodNotOver(uint40 refundDeadline);
    /// @notice A finalized (or still active) sale owes no refunds, so there is nothing to sweep.
    error NotRefundable(SaleStatus status);
    /// @notice The two deadlines are inconsistent (`what` names the problem).
    error InvalidDeadline(string what);
    error SaleNotFinalized(SaleStatus status);
    error SaleNotEnded(uint256 sold, uint40 lastPhaseEnd);
    error ZeroQuantity();
    error InvalidAllowlistProof(address account, uint256 maxQuantity);
    error AllowlistQuantityExceeded(address account, uint256 bought, uint256 quantity, uint256 maxQuantity);
    error TransactionCapExceeded(uint256 quantity, uint256 txCap);
    error WalletCapExceeded(address account, uint256 bought, uint256 quantity, uint256 walletCap);
    error ExceedsAvailableSupply(uint256 quantity, uint256 available);
    error CostAboveMax(uint256 cost, uint256 maxTotalCost);
    error InsufficientPayment(uint256 cost, uint256 paid);
    error TokenPaymentShortfall(uint256 cost, uint256 received);
    error EthTransferFailed(address to, uint256 amount);
    error NoTokenIds();
    error NotTokenHolder(uint256 tokenId, address holder, address caller);
    error NothingToWithdraw();
    error NothingToSweep();
    error RenounceDisabled();

    constructor(Config memory config) Ownable(config.owner) {
        if (config.license == address(0)) revert ZeroAddress("license");
        if (config.paymentToken == address(0)) revert ZeroAddress("paymentToken");
        if (config.treasury == address(0)) revert ZeroAddress("treasury");
        if (config.supply == 0) revert InvalidParameter("supply");
        if (config.selfRefundTime <= block.timestamp) {
            revert InvalidDeadline("selfRefundTime not in the future");
        }
        if (config.refundDeadline <= config.selfRefundTime) {
            revert InvalidDeadline("refundDeadline not after selfRefundTime");
        }
        WatchDogLicense license_ = WatchDogLicense(config.license);
        // token id n must be the n-th sale: this presale is the license's only minter, from the first id
        if (license_.minter() != address(this) || license_.totalMinted() != 0) {
            revert LicenseNotFresh(config.license);
        }

        uint256 count = config.tiers.length;
        if (count == 0 || count > MAX_TIERS) revert InvalidParameter("tiers");
        PackedTier[MAX_TIERS] memory packed;
        for (uint256 i; i < count; ++i) {
            Tier memory t = config.tiers[i];
            if (i == 0 ? t.start != 0 : t.start <= config.tiers[i - 1].start) revert InvalidTier(i, "start");
            if (t.start >= config.supply) revert InvalidTier(i, "start beyond supply");
            if (t.ethPrice == 0) revert InvalidTier(i, "ethPrice");
            if (t.tokenPrice == 0) revert InvalidTier(i, "tokenPrice");
            packed[i] = PackedTierLib.pack(t.start, t.ethPrice, t.tokenPrice);
        }
        license = license_;
        paymentToken = IERC20(config.paymentToken);
        treasury = config.treasury;
        supply = config.supply;
        tierCount = uint8(count);
        selfRefundTime = config.selfRefundTime;
        refundDeadline = config.refundDeadline;
        _tier0 = packed[0];
        _tier1 = packed[1];
        _tier2 = packed[2];
        _tier3 = packed[3];
        _tier4 = packed[4];
        _tier5 = packed[5];
        _tier6 = packed[6];
        _tier7 = packed[7];
        if (config.allowlist.start != 0) _setAllowlistPhase(config.allowlist, config.selfRefundTime);
        if (config.publicPhase.start != 0) _setPublicPhase(config.publicPhase, config.selfRefundTime);
        // a sale not finalized by its self-refund time has failed: its licenses are void from then on
        license_.setVoidTime(config.selfRefundTime);
    }

    // ---------------------------------------------------------------- buyers

    /// @notice Buys `quantity` licenses for ETH in the allowlist phase, counted against the caller's
    ///         allowance `maxQuantity` proved by `proof` (leaf: caller, maxQuantity, phase 1). Licenses go
    ///         to the caller. Send at least the cost; the excess comes back in this transaction. Anyone
    ///         on the allowlist.
    /// @param maxTotalCost reverts if the cost (wei) is above it.
    function buyAllowlist(
        uint256 quantity,
        uint256 maxQuantity,
        bytes32[] calldata proof,
        uint256 maxTotalCost
    ) external payable nonReentrant {
        _verifyAllowlist(maxQuantity, proof);
        _buy(Phase.Allowlist, quantity, maxQuantity, Currency.Eth, maxTotalCost);
    }

    /// @notice As `buyAllowlist`, paid in the stablecoin (pulled from the caller, who approved the cost).
    ///         Anyone on the allowlist.
    function buyAllowlistWithToken(
        uint256 quantity,
        uint256 maxQuantity,
        bytes32[] calldata proof,
        uint256 maxTotalCost
    ) external nonReentrant {
        _verifyAllowlist(maxQuantity, proof);
        _buy(Phase.Allowlist, quantity, maxQuantity, Currency.Token, maxTotalCost);
    }

    /// @notice Buys `quantity` licenses for ETH in the public phase (per-transaction and per-wallet caps).
    ///         Licenses go to the caller. Send at least the cost; the excess comes back in this
    ///         transaction. Anyone.
    /// @param maxTotalCost reverts if the cost (wei) is above it.
    function buyPublic(uint256 quantity, uint256 maxTotalCost) external payable nonReentrant {
        _buy(Phase.Public, quantity, 0, Currency.Eth, maxTotalCost);
    }

    /// @notice As `buyPublic`, paid in the stablecoin (pulled from the caller, who approved the cost).
    ///         Anyone.
    function buyPublicWithToken(uint256 quantity, uint256 maxTotalCost) external nonReentrant {
        _buy(Phase.Public, quantity, 0, Currency.Token, maxTotalCost);
    }

    /// @notice After a cancellation, or from `selfRefundTime` on if the sale was neither finalized nor
    ///         cancelled (no owner action needed), and before `refundDeadline`: burns the caller's licenses
    ///         `tokenIds` and pays back the price each was bought at, in the currency it was bought with.
    ///         The holder of each license.
    function refund(uint256[] calldata tokenIds) external nonReentrant {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status != SaleStatus.Cancelled && status != SaleStatus.Expired) {
            revert RefundsNotOpen(status, selfRefundTime);
        }
        if (block.timestamp >= refundDeadline) revert RefundPeriodOver(refundDeadline);
        if (tokenIds.length == 0) revert NoTokenIds();
        uint256 ethAmount;
        uint256 tokenAmount;
        for (uint256 i; i < tokenIds.length; ++i) {
            uint256 tokenId = tokenIds[i];
            // burning returns the holder; a wrong holder reverts the whole transaction, burn included
            (address holder, uint24 batchData) = license.burn(tokenId);
            if (holder != msg.sender) revert NotTokenHolder(tokenId, holder, msg.sender);
            (, PackedTier t,) = _tierOf(tokenId - 1);
            if (batchData == _PAID_IN_TOKEN) tokenAmount += _price(t, Currency.Token);
            else ethAmount += _price(t, Currency.Eth);
        }
        s.ethHeld -= ethAmount.toUint128();
        _state = s;
        if (tokenAmount != 0) tokenHeld -= tokenAmount;
        emit Refunded(msg.sender, tokenIds, ethAmount, tokenAmount);
        if (tokenAmount != 0) paymentToken.safeTransfer(msg.sender, tokenAmount);
        if (ethAmount != 0) _sendEth(msg.sender, ethAmount);
    }

    // ---------------------------------------------------------------- owner

    /// @notice Schedules the allowlist phase. Only the owner, only while the sale is active and before
    ///         either phase has started (the reserve shapes what the public phase may sell); frozen from its
    ///         start. The start may not be in the past, the end not after `selfRefundTime`.
    function setAllowlistPhase(AllowlistPhase calldata phase) external onlyOwner {
        _requireActive();
        Schedule memory sch = _schedule;
        _requireNotStarted(Phase.Allowlist, sch.allowlistStart);
        _requireNotStarted(Phase.Public, sch.publicStart);
        _setAllowlistPhase(phase, selfRefundTime);
    }

    /// @notice Schedules the public phase. Only the owner, only while the sale is active and before the
    ///         public phase has started; frozen from its start. The start may not be in the past, the end
    ///         not after `selfRefundTime`.
    function setPublicPhase(PublicPhase calldata phase) external onlyOwner {
        _requireActive();
        _requireNotStarted(Phase.Public, _schedule.publicStart);
        _setPublicPhase(phase, selfRefundTime);
    }

    /// @notice Cancels the sale: no more purchases, nothing withdrawable, every license sold refundable
    ///         (`refund`, until `refundDeadline`) and void at once (no operator key, no WatchDog commits, no
    ///         license rewards). Only the owner, while the sale is active (before it is finalized and before
    ///         `selfRefundTime`).
    function cancelSale() external onlyOwner {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status != SaleStatus.Active) revert SaleNotActive(status);
        _state.status = SaleStatus.Cancelled;
        license.setVoidTime(uint64(block.timestamp));
        emit SaleCancelled(s.sold, s.ethHeld, tokenHeld);
    }

    /// @notice Ends the sale for good once it has sold out or every scheduled phase has ended: it can no
    ///         longer be cancelled, so the proceeds become withdrawable, and its licenses are never void.
    ///         Only the owner, before `selfRefundTime` (from then on the sale is `Expired`:
    ///         `SaleNotActive(Expired)`).
    function finalizeSale() external onlyOwner {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status != SaleStatus.Active) revert SaleNotActive(status);
        if (!saleEnded()) revert SaleNotEnded(s.sold, _lastPhaseEnd());
        _state.status = SaleStatus.Finalized;
        license.setVoidTime(0);
        emit SaleFinalized(s.sold, s.ethHeld, tokenHeld);
    }

    /// @notice Sends all proceeds of the finalized sale (ETH and stablecoin) to `treasury`. Only the owner.
    function withdrawProceeds() external onlyOwner nonReentrant {
        SaleState memory s = _state;
        if (s.status != SaleStatus.Finalized) revert SaleNotFinalized(_effectiveStatus(s.status));
        uint256 ethAmount = s.ethHeld;
        uint256 tokenAmount = tokenHeld;
        if (ethAmount == 0 && tokenAmount == 0) revert NothingToWithdraw();
        _state.ethHeld = 0;
        tokenHeld = 0;
        emit ProceedsWithdrawn(treasury, ethAmount, tokenAmount);
        if (tokenAmount != 0) paymentToken.safeTransfer(treasury, tokenAmount);
        if (ethAmount != 0) _sendEth(treasury, ethAmount);
    }

    /// @notice From `refundDeadline` on, sends the money of licenses never refunded (ETH and stablecoin) of
    ///         a cancelled or expired sale to `treasury`; refunds are over then. Anyone may call.
    function sweepUnrefunded() external nonReentrant {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status != SaleStatus.Cancelled && status != SaleStatus.Expired) revert NotRefundable(status);
        if (block.timestamp < refundDeadline) revert RefundPeriodNotOver(refundDeadline);
        uint256 ethAmount = s.ethHeld;
        uint256 tokenAmount = tokenHeld;
        if (ethAmount == 0 && tokenAmount == 0) revert NothingToSweep();
        _state.ethHeld = 0;
        tokenHeld = 0;
        emit UnrefundedSwept(treasury, ethAmount, tokenAmount);
        if (tokenAmount != 0) paymentToken.safeTransfer(treasury, tokenAmount);
        if (ethAmount != 0) _sendEth(treasury, ethAmount);
    }

    /// @notice Disabled: ownership moves with the two-step transfer only (buyers do not depend on the owner
    ///         for their money: `selfRefundTime`, but a sale without an owner could never be finalized).
    function renounceOwnership() public pure override {
        revert RenounceDisabled();
    }

    // ---------------------------------------------------------------- views

    /// @notice Licenses ever sold (never decreases), of which through the allowlist, and the stored sale
    ///         status (never `Expired`: see `saleStatus`).
    function saleState() external view returns (SaleState memory) {
        return _state;
    }

    /// @notice The sale status now: the stored one, or `Expired` for an active sale from `selfRefundTime` on.
    function saleStatus() external view returns (SaleStatus) {
        return _effectiveStatus(_state.status);
    }

    /// @notice Licenses ever sold; never decreases, refunds included.
    function sold() external view returns (uint256) {
        return _state.sold;
    }

    /// @notice Both phases' windows and limits.
    function schedule() external view returns (Schedule memory) {
        return _schedule;
    }

    /// @notice Tier `index` and the sale index its prices stop at (exclusive).
    function tier(uint256 index) external view returns (Tier memory t, uint256 end) {
        if (index >= tierCount) revert InvalidTier(index, "index");
        PackedTier packed = _tierAt(index);
        t = Tier(packed.start(), packed.ethPrice(), packed.tokenPrice());
        end = _tierEnd(index);
    }

    /// @notice What `quantity` licenses cost now in `currency` (each at the price of its own tier).
    function quote(uint256 quantity, Currency currency) external view returns (uint256) {
        uint256 from = _state.sold;
        if (quantity > supply - from) revert ExceedsAvailableSupply(quantity, supply - from);
        return _cost(from, quantity, currency);
    }

    /// @notice The price license `tokenId` was bought at and its currency: what a refund pays back.
    function pricePaid(uint256 tokenId) external view returns (Currency currency, uint256 amount) {
        currency = license.batchDataOf(tokenId) == _PAID_IN_TOKEN ? Currency.Token : Currency.Eth;
        (, PackedTier t,) = _tierOf(tokenId - 1);
        amount = _price(t, currency);
    }

    /// @notice Licenses `account` bought in each phase.
    function purchasedBy(address account) external view returns (uint256 allowlist, uint256 publicSale) {
        uint64 data = license.accountDataOf(account);
        return (uint32(data), uint32(data >> 32));
    }

    /// @notice Money the owner gets on withdrawal, now or once finalized (nothing if cancelled or expired).
    function proceeds() external view returns (uint256 eth, uint256 token) {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status == SaleStatus.Active || status == SaleStatus.Finalized) return (s.ethHeld, tokenHeld);
    }

    /// @notice Money of licenses not yet refunded, if the sale is cancelled or expired (else nothing): owed
    ///         to their holders before `refundDeadline`, the treasury's (`sweepUnrefunded`) from then on.
    function refundsOwed() external view returns (uint256 eth, uint256 token) {
        SaleState memory s = _state;
        SaleStatus status = _effectiveStatus(s.status);
        if (status == SaleStatus.Cancelled || status == SaleStatus.Expired) return (s.ethHeld, tokenHeld);
    }

    /// @notice Whether a phase accepts purchases now (ignores the sale status and remaining supply).
    function phaseOpen(Phase phase) external view returns (bool) {
        Schedule memory sch = _schedule;
        if (phase == Phase.Allowlist) return _open(sch.allowlistStart, sch.allowlistEnd);
        if (phase == Phase.Public) return _open(sch.publicStart, sch.publicEnd);
        return false;
    }

    /// @notice True once sold out, or once every scheduled phase has ended (and at least one was).
    function saleEnded() public view returns (bool) {
        uint40 lastEnd = _lastPhaseEnd();
        return _state.sold == supply || (lastEnd != 0 && block.timestamp >= lastEnd);
    }

    /// @notice The allowlist leaf of (`account`, `maxQuantity`): OpenZeppelin standard leaf of
    ///         abi.encode(address, uint256, uint8 phase = 1).
    function allowlistLeaf(address account, uint256 maxQuantity) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, maxQuantity, uint8(Phase.Allowlist)))));
    }

    // ---------------------------------------------------------------- internals

    function _verifyAllowlist(uint256 maxQuantity, bytes32[] calldata proof) private view {
        if (!MerkleProof.verifyCalldata(proof, merkleRoot, allowlistLeaf(msg.sender, maxQuantity))) {
            revert InvalidAllowlistProof(msg.sender, maxQuantity);
        }
    }

    /// @dev Checks, then effects (sale state, mint without receiver hook), then the payment: ETH change
    ///      back to the caller or the stablecoin pulled from it. Purchases are counted against, and minted
    ///      to, the caller: the account whose allowance was proved.
    function _buy(Phase phase, uint256 quantity, uint256 maxQuantity, Currency currency, uint256 maxTotalCost)
        private
    {
        SaleState memory s = _state;
        if (s.status != SaleStatus.Active) revert SaleNotActive(s.status);
        if (quantity == 0) revert ZeroQuantity();
        uint64 data = _checkLimits(phase, s, quantity, maxQuantity);

        uint256 cost = _cost(s.sold, quantity, currency);
        if (cost > maxTotalCost) revert CostAboveMax(cost, maxTotalCost);
        s.sold += uint32(quantity);
        if (currency == Currency.Eth) {
            if (msg.value < cost) revert InsufficientPayment(cost, msg.value);
            s.ethHeld += cost.toUint128();
        } else {
            tokenHeld += cost;
        }
        _state = s;
        uint256 firstTokenId =
            license.mint(msg.sender, quantity, data, currency == Currency.Token ? _PAID_IN_TOKEN : 0);
        emit Purchased(msg.sender, phase, currency, firstTokenId, quantity, cost);

        if (currency == Currency.Eth) {
            if (msg.value > cost) _sendEth(msg.sender, msg.value - cost);
        } else {
            uint256 before = paymentToken.balanceOf(address(this));
            paymentToken.safeTransferFrom(msg.sender, address(this), cost);
            uint256 received = paymentToken.balanceOf(address(this)) - before;
            if (received != cost) revert TokenPaymentShortfall(cost, received);
        }
    }

    /// @dev Checks the phase window, the supply available to the phase and the caller's limits; counts
    ///      the purchase in `s` (memory) and returns the caller's updated counters
    ///      (allowlist bought | public bought << 32, kept in the license's per-account data).
    function _checkLimits(Phase phase, SaleState memory s, uint256 quantity, uint256 maxQuantity)
        private
        view
        returns (uint64 data)
    {
        Schedule memory sch = _schedule;
        data = license.accountDataOf(msg.sender);
        uint256 available;
        if (phase == Phase.Allowlist) {
            if (!_open(sch.allowlistStart, sch.allowlistEnd)) {
                revert PhaseNotOpen(phase, sch.allowlistStart, sch.allowlistEnd);
            }
            // while the allowlist phase runs the public phase sells at most supply - reserve, so the
            // reserve's remainder is always available to the allowlist
            available = sch.allowlistReserve - s.allowlistSold;
            if (quantity > available) revert ExceedsAvailableSupply(quantity, available);
            uint256 bought = uint32(data);
            if (bought + quantity > maxQuantity) {
                revert AllowlistQuantityExceeded(msg.sender, bought, quantity, maxQuantity);
            }
            s.allowlistSold += uint32(quantity);
            data += uint64(quantity);
        } else {
            if (!_open(sch.publicStart, sch.publicEnd)) {
                revert PhaseNotOpen(phase, sch.publicStart, sch.publicEnd);
            }
            if (quantity > sch.txCap) revert TransactionCapExceeded(quantity, sch.txCap);
            uint256 bought = uint32(data >> 32);
            if (bought + quantity > sch.walletCap) {
                revert WalletCapExceeded(msg.sender, bought, quantity, sch.walletCap);
            }
            available = supply - s.sold;
            // the unsold part of the allowlist reserve is released when the allowlist phase ends
            if (block.timestamp < sch.allowlistEnd) available -= sch.allowlistReserve - s.allowlistSold;
            if (quantity > available) revert ExceedsAvailableSupply(quantity, available);
            data += uint64(quantity) << 32;
        }
    }

    /// @dev Every phase ends by `selfRefundTime_` (passed in: the constructor cannot read immutables), so no
    ///      purchase is possible once a sale can expire.
    function _setAllowlistPhase(AllowlistPhase memory phase, uint40 selfRefundTime_) private {
        if (phase.start < block.timestamp) revert InvalidPhaseConfig(Phase.Allowlist, "start in the past");
        if (phase.end <= phase.start) revert InvalidPhaseConfig(Phase.Allowlist, "end not after start");
        if (phase.end > selfRefundTime_) {
            revert InvalidPhaseConfig(Phase.Allowlist, "end after selfRefundTime");
        }
        if (phase.reserve == 0 || phase.reserve > supply) {
            revert InvalidPhaseConfig(Phase.Allowlist, "reserve");
        }
        if (phase.merkleRoot == bytes32(0)) revert InvalidPhaseConfig(Phase.Allowlist, "merkleRoot");
        Schedule storage sch = _schedule;
        sch.allowlistStart = phase.start;
        sch.allowlistEnd = phase.end;
        sch.allowlistReserve = phase.reserve;
        merkleRoot = phase.merkleRoot;
        emit AllowlistPhaseSet(phase.start, phase.end, phase.reserve, phase.merkleRoot);
    }

    function _setPublicPhase(PublicPhase memory phase, uint40 selfRefundTime_) private {
        if (phase.start < block.timestamp) revert InvalidPhaseConfig(Phase.Public, "start in the past");
        if (phase.end <= phase.start) revert InvalidPhaseConfig(Phase.Public, "end not after start");
        if (phase.end > selfRefundTime_) revert InvalidPhaseConfig(Phase.Public, "end after selfRefundTime");
        if (phase.txCap == 0) revert InvalidPhaseConfig(Phase.Public, "txCap");
        if (phase.walletCap < phase.txCap) revert InvalidPhaseConfig(Phase.Public, "walletCap below txCap");
        Schedule storage sch = _schedule;
        sch.publicStart = phase.start;
        sch.publicEnd = phase.end;
        sch.walletCap = phase.walletCap;
        sch.txCap = phase.txCap;
        emit PublicPhaseSet(phase.start, phase.end, phase.walletCap, phase.txCap);
    }

    function _requireActive() private view {
        SaleStatus status = _effectiveStatus(_state.status);
        if (status != SaleStatus.Active) revert SaleNotActive(status);
    }

    /// @dev `stored`, or `Expired` for an active sale from `selfRefundTime` on.
    function _effectiveStatus(SaleStatus stored) private view returns (SaleStatus) {
        if (stored == SaleStatus.Active && block.timestamp >= selfRefundTime) return SaleStatus.Expired;
        return stored;
    }

    function _requireNotStarted(Phase phase, uint40 start) private view {
        if (start != 0 && block.timestamp >= start) revert PhaseAlreadyStarted(phase, start);
    }

    function _open(uint40 start, uint40 end) private view returns (bool) {
        return block.timestamp >= start && block.timestamp < end;
    }

    function _lastPhaseEnd() private view returns (uint40) {
        Schedule memory sch = _schedule;
        return sch.allowlistEnd > sch.publicEnd ? sch.allowlistEnd : sch.publicEnd;
    }

    function _sendEth(address to, uint256 amount) private {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }

    /// @dev Cost of the licenses with sale indices [from, from + quantity), each at its own tier's price.
    ///      The caller guarantees from + quantity <= supply.
    function _cost(uint256 from, uint256 quantity, Currency currency) private view returns (uint256 cost) {
        uint256 end = from + quantity;
        (uint256 i, PackedTier t, uint256 tierEnd) = _tierOf(from);
        while (true) {
            uint256 upTo = end < tierEnd ? end : tierEnd;
            cost += (upTo - from) * _price(t, currency);
            if (upTo == end) return cost;
            from = upTo;
            t = _tierAt(++i);
            tierEnd = _tierEnd(i);
        }
    }

    /// @dev The tier containing sale index `index` (tier 0 starts at 0): its index, the tier, and the sale
    ///      index its prices stop at (the next tier's start, or `supply`). Searches down from the last tier.
    function _tierOf(uint256 index) private view returns (uint256 i, PackedTier t, uint256 end) {
        i = tierCount - 1;
        end = supply;
        t = _tierAt(i);
        while (t.start() > index) {
            end = t.start();
            t = _tierAt(--i);
        }
    }

    function _tierEnd(uint256 i) private view returns (uint256) {
        return i + 1 < tierCount ? _tierAt(i + 1).start() : supply;
    }

    function _price(PackedTier packedTier, Currency currency) private pure returns (uint256) {
        return currency == Currency.Eth ? packedTier.ethPrice() : packedTier.tokenPrice();
    }

    /// @dev Tier `i` (< MAX_TIERS): a binary search over the eight immutables, which cannot be indexed.
    function _tierAt(uint256 i) private view returns (PackedTier) {
        if (i < 4) {
            if (i < 2) return i == 0 ? _tier0 : _tier1;
            return i == 2 ? _tier2 : _tier3;
        }
        if (i < 6) return i == 4 ? _tier4 : _tier5;
        return i == 6 ? _tier6 : _tier7;
    }
}
