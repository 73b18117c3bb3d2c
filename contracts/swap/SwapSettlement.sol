// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {Asset, AssetKind, SwapOrder, SwapOrderLib} from "./SwapOrderLib.sol";

/// @title SwapSettlement
/// @notice Atomic settlement of EIP-712 signed swap orders between two parties (chat-to-trade). A maker signs
///         a `SwapOrder` off-chain (it travels in a chat message); the taker submits it with `fill`, which
///         moves the maker's leg to the taker and the taker's leg to the maker in one transaction, or reverts
///         entirely. Each leg is an ERC-20 amount, an ERC-721 token or native ETH. No partial fills.
/// @dev Tokens move directly between the parties (the contract never holds ERC-20s or ERC-721s): each party
///      approves this contract beforehand. The taker pays an ETH leg with `msg.value`; a maker's ETH leg is
///      paid from ETH the maker deposited here beforehand (`deposit`), withdrawable at any time.
///      Nonces: a per-maker bitmap (a nonce is used once, by a fill or a cancel) plus a per-maker minimum
///      below which every nonce is void. Makers may be contracts (ERC-1271 signatures via SignatureChecker).
///      ERC-20 legs are moved with `transferFrom` of the signed amount and not measured: fee-on-transfer and
///      rebasing tokens are unsupported (the recipient gets what the token delivers; see docs/swap.md). An
///      ERC-721 leg is checked delivered (`ownerOf` after the transfer).
///      No owner, no fees, no parameters: nothing can be changed after deployment.
contract SwapSettlement is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SwapOrderLib for SwapOrder;

    /// @notice ETH each maker deposited for ETH legs of its orders (wei).
    mapping(address maker => uint256) public ethEscrow;
    /// @notice Every nonce of `maker` below this is void (filled, cancelled or skipped).
    mapping(address maker => uint256) public minNonce;
    /// @notice Used (filled or cancelled) nonces of `maker`: bit `nonce & 255` of word `nonce >> 8`.
    mapping(address maker => mapping(uint256 word => uint256 bits)) public nonceBitmap;

    event OrderFilled(bytes32 indexed orderHash, address indexed maker, address indexed taker, uint256 nonce);
    event NonceCancelled(address indexed maker, uint256 nonce);
    event MinNonceRaised(address indexed maker, uint256 newMinNonce);
    event EthDeposited(address indexed maker, uint256 amount, uint256 balance);
    event EthWithdrawn(address indexed maker, uint256 amount, uint256 balance);

    /// The order's expiry has passed.
    error OrderExpired(uint256 expiry, uint256 timestamp);
    /// The order names a taker and the caller is someone else.
    error WrongTaker(address expected, address caller);
    /// The maker tried to fill its own order.
    error SelfFill(address maker);
    /// A leg's kind is not one of `AssetKind`.
    error UnknownAssetKind(uint8 kind);
    /// A leg's token does not fit its kind: an ETH leg names a token, or an ERC-20 / ERC-721 leg names an
    /// address without code.
    error AssetKindMismatch(uint8 kind, address token);
    /// Both legs are ETH (a swap of ETH for ETH is meaningless).
    error BothLegsEth();
    /// An ERC-20 or ETH leg (or a deposit / withdrawal) of zero.
    error ZeroAmount();
    /// The nonce was already used by a fill or a cancel.
    error NonceAlreadyUsed(address maker, uint256 nonce);
    /// The nonce is below the maker's minimum valid nonce.
    error NonceBelowMinimum(address maker, uint256 nonce, uint256 minNonce);
    /// The signature is neither the maker key's ECDSA signature nor accepted by the maker's ERC-1271
    /// `isValidSignature`.
    error InvalidSignature(address maker);
    /// `msg.value` differs from the taker's ETH leg (or is non-zero when the taker's leg is not ETH).
    error WrongMsgValue(uint256 expected, uint256 sent);
    /// The maker's deposited ETH does not cover its ETH leg, or a withdrawal exceeds the deposit.
    error InsufficientEscrow(address maker, uint256 available, uint256 required);
    /// The new minimum nonce is not above the current one.
    error MinNonceNotIncreasing(uint256 current, uint256 requested);
    /// Sending ETH to `to` failed without a revert reason.
    error EthTransferFailed(address to, uint256 amount);
    /// After an ERC-721 transfer the recipient does not own the token.
    error NftNotReceived(address token, uint256 tokenId, address recipient);

    constructor() EIP712("SendingNetwork SwapSettlement", "1") {}

    // ---------------------------------------------------------------- fill

    /// @notice Settles `order` between its maker and the caller: the maker's leg goes to the caller, the
    ///         caller's leg to the maker, both or neither. Anyone may call for an open order (`taker` zero);
    ///         only `order.taker` otherwise; never the maker. The caller must send exactly the taker leg's
    ///         amount as `msg.value` if that leg is ETH (else no ETH), and have approved this contract for an
    ///         ERC-20 / ERC-721 taker leg; the maker must have approved its token leg or deposited its ETH leg.
    /// @param signature the maker's EIP-712 signature of the order: 65-byte ECDSA `(r, s, v)` packed, low `s`,
    ///        by the maker's key; or, for a contract maker, whatever its ERC-1271 `isValidSignature` accepts.
    /// @return orderHash the EIP-712 digest of the order (emitted in `OrderFilled`).
    function fill(SwapOrder calldata order, bytes calldata signature)
        external
        payable
        nonReentrant
        returns (bytes32 orderHash)
    {
        AssetKind makerKind;
        AssetKind takerKind;
        (orderHash, makerKind, takerKind) = _check(order, signature, msg.sender);
        uint256 expectedValue = takerKind == AssetKind.ETH ? order.takerAsset.amountOrId : 0;
        if (msg.value != expectedValue) revert WrongMsgValue(expectedValue, msg.value);

        // Effects: consume the nonce and the maker's escrowed ETH before any external call.
        address maker = order.maker;
        _useNonce(maker, order.nonce);
        if (makerKind == AssetKind.ETH) ethEscrow[maker] -= order.makerAsset.amountOrId; // covered: _check
        emit OrderFilled(orderHash, maker, msg.sender, order.nonce);

        _move(order.makerAsset, makerKind, maker, msg.sender);
        _move(order.takerAsset, takerKind, msg.sender, maker);
    }

    /// @notice Runs every check `fill` runs on the order itself (assets, expiry, taker, nonce, signature,
    ///         the maker's escrowed ETH) for a fill by `taker`, reverting with the error `fill` would raise.
    ///         Does not check balances, approvals or `msg.value`. Anyone may call (view).
    /// @return orderHash the EIP-712 digest of the order.
    function checkOrder(SwapOrder calldata order, bytes calldata signature, address taker)
        external
        view
        returns (bytes32 orderHash)
    {
        (orderHash,,) = _check(order, signature, taker);
        uint256 nonce = order.nonce;
        uint256 min = minNonce[order.maker];
        if (nonce < min) revert NonceBelowMinimum(order.maker, nonce, min);
        if (nonceBitmap[order.maker][nonce >> 8] & (1 << (nonce & 0xff)) != 0) {
            revert NonceAlreadyUsed(order.maker, nonce);
        }
    }

    // ---------------------------------------------------------------- cancel

    /// @notice Cancels the caller's orders carrying `nonce` (every order of the caller with that nonce).
    ///         Only the maker itself (the caller cancels its own nonces).
    function cancelNonce(uint256 nonce) external nonReentrant {
        _useNonce(msg.sender, nonce);
        emit NonceCancelled(msg.sender, nonce);
    }

    /// @notice Cancels every order of the caller with a nonce below `newMinNonce`. The minimum only grows.
    ///         Only the maker itself.
    function cancelNoncesBelow(uint256 newMinNonce) external nonReentrant {
        uint256 current = minNonce[msg.sender];
        if (newMinNonce <= current) revert MinNonceNotIncreasing(current, newMinNonce);
        minNonce[msg.sender] = newMinNonce;
        emit MinNonceRaised(msg.sender, newMinNonce);
    }

    // ---------------------------------------------------------------- maker ETH escrow

    /// @notice Deposits `msg.value` as the caller's ETH for the ETH legs of its orders. Anyone, for itself.
    function deposit() external payable nonReentrant {
        if (msg.value == 0) revert ZeroAmount();
        uint256 balance = ethEscrow[msg.sender] + msg.value;
        ethEscrow[msg.sender] = balance;
        emit EthDeposited(msg.sender, msg.value, balance);
    }

    /// @notice Withdraws `amount` of the caller's deposited ETH to the caller. Only the depositor, for its own
    ///         deposit (orders whose ETH leg it no longer covers then fail with `InsufficientEscrow`).
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = ethEscrow[msg.sender];
        if (amount > available) revert InsufficientEscrow(msg.sender, available, amount);
        ethEscrow[msg.sender] = available - amount;
        emit EthWithdrawn(msg.sender, amount, available - amount);
        _sendEth(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice EIP-712 digest of `order` in this contract's domain: what the maker signs. Anyone (view).
    function hashOrder(SwapOrder calldata order) external view returns (bytes32) {
        return _hashTypedDataV4(order.hash());
    }

    /// @notice The EIP-712 domain separator (name "SendingNetwork SwapSettlement", version "1", this chain,
    ///         this contract). Anyone (view).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Whether `maker` may still use `nonce` (not filled, not cancelled, not below the minimum).
    ///         Anyone (view).
    function isNonceUsable(address maker, uint256 nonce) external view returns (bool) {
        return nonce >= minNonce[maker] && nonceBitmap[maker][nonce >> 8] & (1 << (nonce & 0xff)) == 0;
    }

    // ---------------------------------------------------------------- internals

    function _check(SwapOrder calldata order, bytes calldata signature, address taker)
        private
        view
        returns (bytes32 orderHash, AssetKind makerKind, AssetKind takerKind)
    {
        if (block.timestamp > order.expiry) revert OrderExpired(order.expiry, block.timestamp);
        address maker = order.maker;
        if (order.taker != address(0) && order.taker != taker) revert WrongTaker(order.taker, taker);
        if (taker == maker) revert SelfFill(maker);
        makerKind = _checkAsset(order.makerAsset);
        takerKind = _checkAsset(order.takerAsset);
        if (makerKind == AssetKind.ETH && takerKind == AssetKind.ETH) revert BothLegsEth();

        orderHash = _hashTypedDataV4(order.hash());
        if (!_isValidSignature(maker, orderHash, signature)) revert InvalidSignature(maker);
        if (makerKind == AssetKind.ETH) {
            uint256 available = ethEscrow[maker];
            if (available < order.makerAsset.amountOrId) {
                revert InsufficientEscrow(maker, available, order.makerAsset.amountOrId);
            }
        }
    }

    /// @dev Marks `nonce` of `maker` used; reverts if it is below the maker's minimum or already used.
    function _useNonce(address maker, uint256 nonce) private {
        uint256 min = minNonce[maker];
        if (nonce < min) revert NonceBelowMinimum(maker, nonce, min);
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = nonceBitmap[maker][nonce >> 8];
        if (bits & bit != 0) revert NonceAlreadyUsed(maker, nonce);
        nonceBitmap[maker][nonce >> 8] = bits | bit;
    }

    /// @dev An ECDSA signature recovering to `maker` is accepted first (no code lookup on the maker: a cold
    ///      account access saved on every EOA fill; a contract address has no private key, and the key of an
    ///      EIP-7702 delegated account already controls it). Otherwise a maker with code is asked through
    ///      ERC-1271 (OpenZeppelin SignatureChecker).
    function _isValidSignature(address maker, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == maker) return true;
        return maker.code.length != 0
            && SignatureChecker.isValidERC1271SignatureNowCalldata(maker, digest, signature);
    }

    function _checkAsset(Asset calldata asset) private view returns (AssetKind kind) {
        uint8 raw = asset.kind;
        if (raw > uint8(type(AssetKind).max)) revert UnknownAssetKind(raw);
        kind = AssetKind(raw);
        if (kind == AssetKind.ETH) {
            if (asset.token != address(0)) revert AssetKindMismatch(raw, asset.token);
        } else if (asset.token.code.length == 0) {
            revert AssetKindMismatch(raw, asset.token);
        }
        if (kind != AssetKind.ERC721 && asset.amountOrId == 0) revert ZeroAmount();
    }

    /// @dev Moves one leg from `from` to `to`. ETH legs are paid from this contract's balance (msg.value of
    ///      the fill, or the maker's escrow already debited).
    function _move(Asset calldata asset, AssetKind kind, address from, address to) private {
        uint256 amountOrId = asset.amountOrId;
        if (kind == AssetKind.ETH) {
            _sendEth(to, amountOrId);
        } else if (kind == AssetKind.ERC20) {
            IERC20(asset.token).safeTransferFrom(from, to, amountOrId);
        } else {
            IERC721 token = IERC721(asset.token);
            token.safeTransferFrom(from, to, amountOrId);
            if (token.ownerOf(amountOrId) != to) revert NftNotReceived(address(token), amountOrId, to);
        }
    }

    function _sendEth(address to, uint256 amount) private {
        if (!LowLevelCall.callNoReturn(to, amount, "")) {
            if (LowLevelCall.returnDataSize() > 0) LowLevelCall.bubbleRevert();
            revert EthTransferFailed(to, amount);
        }
    }
}
