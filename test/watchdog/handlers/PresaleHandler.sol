// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Merkle} from "../../utils/Merkle.sol";
import {WatchDogLicense} from "../../../contracts/watchdog/WatchDogLicense.sol";
import {WatchDogPresale} from "../../../contracts/watchdog/WatchDogPresale.sol";
import {MockStablecoin} from "../mocks/WatchDogMocks.sol";

/// @notice Drives the presale with allowlist and public purchases in both currencies (some overpaying, some
///         asking for more than is left or allowed), time warps across overlapping phases, an occasional
///         cancellation followed by refunds, transfers after an early unlock (so refunds go to later
///         holders), finalization and withdrawal, self-refunds once the sale expired unfinalized, and the sweep
///         of unrefunded money past the refund deadline; long leaps of time reach both deadlines. Every call goes through try/catch: a rejection must be one
///         of the errors the situation allows, anything else is counted as unexpected. Ghost state mirrors
///         what the presale must hold.
contract PresaleHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant PUBLIC_ACTORS = 8;

    WatchDogPresale public immutable presale;
    WatchDogLicense public immutable license;
    MockStablecoin public immutable usd;
    address public immutable owner;

    address[] public listed;
    uint256[] public allowances;
    bytes32[] internal _leaves;
    address[] public actors; // listed accounts first, then public-only actors

    /// Licenses each actor holds (as the handler moved them).
    mapping(address => uint256[]) internal _held;
    /// Price each license was bought at (ghost, from the handler's own tier table) and its currency.
    mapping(uint256 tokenId => uint256) public ghostPrice;
    mapping(uint256 tokenId => bool) public ghostInToken;

    uint256 public ghostSold;
    uint256 public ghostAllowlistSold;
    uint256 public ghostEthIn;
    uint256 public ghostTokenIn;
    uint256 public ghostEthRefunded;
    uint256 public ghostTokenRefunded;
    uint256 public ghostEthWithdrawn;
    uint256 public ghostTokenWithdrawn;
    uint256 public ghostEthSwept;
    uint256 public ghostTokenSwept;
    /// Refunds that succeeded outside the refund window (before a cancellation or the self-refund time, or
    /// from the refund deadline on), and sweeps that succeeded before the deadline or of a finalized sale.
    uint256 public ghostRefundsOutOfWindow;
    uint256 public ghostSweepsOutOfWindow;
    /// Owner actions that succeeded from the self-refund time on (only possible before it).
    uint256 public ghostLateOwnerActions;
    uint256 public ghostSoldDecreases;
    uint256 public ghostReserveViolations;
    uint256 public ghostRefundMismatches;
    uint256 public ghostPaymentMismatches;
    uint256 public ghostUnexpected;
    bytes public lastUnexpected;
    mapping(address => uint256) public ghostAllowlistBought;
    mapping(address => uint256) public ghostPublicBought;
    mapping(bytes32 => uint256) public calls;

    constructor(
        WatchDogPresale presale_,
        MockStablecoin usd_,
        address owner_,
        address[] memory listed_,
        uint256[] memory allowances_,
        bytes32[] memory leaves_
    ) {
        presale = presale_;
        license = presale_.license();
        usd = usd_;
        owner = owner_;
        listed = listed_;
        allowances = allowances_;
        _leaves = leaves_;
        for (uint256 i; i < listed_.length; ++i) {
            actors.push(listed_[i]);
        }
        for (uint256 i; i < PUBLIC_ACTORS; ++i) {
            actors.push(makeAddr(string.concat("public", vm.toString(i))));
        }
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function heldCount(address actor) external view returns (uint256) {
        return _held[actor].length;
    }

    // ---------------------------------------------------------------- set-up

    /// @notice Public purchases of `count` licenses in total by the public-only actors, five at a time, in
    ///         ETH (set-up of the crowded scenario; the public phase must be open).
    function presell(uint256 count) external {
        for (uint256 k; count != 0; ++k) {
            address buyer = actors[listed.length + k % PUBLIC_ACTORS];
            uint256 q = count < 5 ? count : 5;
            (uint256 cost,) = _expectedCost(q, false);
            _fund(buyer, false, cost, cost);
            uint256 soldBefore = presale.sold();
            (bool ok,) = _tryBuyPublic(buyer, q, false, cost, cost);
            require(ok, "presell");
            _recordPurchase(buyer, soldBefore, q, cost, false);
            ghostPublicBought[buyer] += q;
            count -= q;
        }
        _afterAction();
    }

    // ---------------------------------------------------------------- actions

    /// @notice Moves time on: usually up to a minute, sometimes 400 s.
    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + (_chance(seconds_, 10) ? 400 : _bound(seconds_, 1, 60)));
        calls["warp"]++;
    }

    /// @notice A long leap of time (up to 3,000 s): reaches the self-refund time and the refund deadline.
    function leap(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, 3000));
        calls["leap"]++;
    }

    /// @notice Six purchases in a row (crowded phases), each with its own derived parameters.
    function buyBurst(uint256 seed) external {
        for (uint256 k; k < 6; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            if (r % 3 == 0) _buyAllowlist(r >> 8, r >> 16, (r >> 24) % 2 == 0, r >> 32);
            else _buyPublic(r >> 8, r >> 16, (r >> 24) % 2 == 0, r >> 32);
        }
    }

    function buyAllowlist(uint256 actorSeed, uint256 quantity, bool inToken, uint256 overpay) external {
        _buyAllowlist(actorSeed, quantity, inToken, overpay);
    }

    function buyPublic(uint256 actorSeed, uint256 quantity, bool inToken, uint256 overpay) external {
        _buyPublic(actorSeed, quantity, inToken, overpay);
    }

    function _buyAllowlist(uint256 actorSeed, uint256 quantity, bool inToken, uint256 overpay) internal {
        _tick(overpay);
        uint256 i = _bound(actorSeed, 0, listed.length - 1);
        address buyer = listed[i];
        uint256 q = _bound(quantity, 1, 6);
        (uint256 cost, bool fits) = _expectedCost(q, inToken);
        uint256 value = inToken ? 0 : cost + _bound(overpay, 0, 1 ether);
        _fund(buyer, inToken, cost, value);
        uint256 soldBefore = presale.sold();
        (bool ok, bytes memory reason) = _tryBuyAllowlist(i, q, inToken, cost, value);
        if (ok) {
            if (!fits) ghostPaymentMismatches++;
            _recordPurchase(buyer, soldBefore, q, cost, inToken);
            ghostAllowlistSold += q;
            ghostAllowlistBought[buyer] += q;
            calls["buyAllowlist.ok"]++;
        } else {
            _expect(
                reason,
                WatchDogPresale.PhaseNotOpen.selector,
                WatchDogPresale.ExceedsAvailableSupply.selector,
                WatchDogPresale.AllowlistQuantityExceeded.selector,
                WatchDogPresale.SaleNotActive.selector,
                0
            );
            calls["buyAllowlist.rejected"]++;
        }
        _afterAction();
    }

    function _buyPublic(uint256 actorSeed, uint256 quantity, bool inToken, uint256 overpay) internal {
        _tick(overpay);
        address buyer = actors[_bound(actorSeed, 0, actors.length - 1)];
        uint256 q = _bound(quantity, 1, 7);
        (uint256 cost, bool fits) = _expectedCost(q, inToken);
        uint256 value = inToken ? 0 : cost + _bound(overpay, 0, 1 ether);
        _fund(buyer, inToken, cost, value);
        uint256 soldBefore = presale.sold();
        (bool ok, bytes memory reason) = _tryBuyPublic(buyer, q, inToken, cost, value);
        if (ok) {
            if (!fits) ghostPaymentMismatches++;
            _recordPurchase(buyer, soldBefore, q, cost, inToken);
            ghostPublicBought[buyer] += q;
            if (block.timestamp < presale.schedule().allowlistEnd) {
                WatchDogPresale.SaleState memory s = presale.saleState();
                if (s.sold - s.allowlistSold > presale.supply() - presale.schedule().allowlistReserve) {
                    ghostReserveViolations++;
                }
            }
            calls["buyPublic.ok"]++;
        } else {
            _expect(
                reason,
                WatchDogPresale.PhaseNotOpen.selector,
                WatchDogPresale.ExceedsAvailableSupply.selector,
                WatchDogPresale.TransactionCapExceeded.selector,
                WatchDogPresale.WalletCapExceeded.selector,
                WatchDogPresale.SaleNotActive.selector
            );
            calls["buyPublic.rejected"]++;
        }
        _afterAction();
    }

    /// @notice The owner cancels, rarely (one call in 24 reaches it), while the sale is active (or tries to,
    ///         once the sale expired unfinalized).
    function cancel(uint256 seed) external {
        if (!_chance(seed, 24) || presale.saleState().status != WatchDogPresale.SaleStatus.Active) return;
        vm.prank(owner);
        try presale.cancelSale() {
            if (block.timestamp >= presale.selfRefundTime()) ghostLateOwnerActions++;
            calls["cancel"]++;
        } catch (bytes memory reason) {
            _expect(reason, WatchDogPresale.SaleNotActive.selector, 0, 0, 0, 0);
        }
        _afterAction();
    }

    function finalize() external {
        vm.prank(owner);
        try presale.finalizeSale() {
            if (block.timestamp >= presale.selfRefundTime()) ghostLateOwnerActions++;
            calls["finalize.ok"]++;
        } catch (bytes memory reason) {
            _expect(
                reason, WatchDogPresale.SaleNotEnded.selector, WatchDogPresale.SaleNotActive.selector, 0, 0, 0
            );
        }
        _afterAction();
    }

    function withdraw() external {
        uint256 tBefore = usd.balanceOf(presale.treasury());
        uint256 eBefore = presale.treasury().balance;
        vm.prank(owner);
        try presale.withdrawProceeds() {
            ghostEthWithdrawn += presale.treasury().balance - eBefore;
            ghostTokenWithdrawn += usd.balanceOf(presale.treasury()) - tBefore;
            calls["withdraw.ok"]++;
        } catch (bytes memory reason) {
            _expect(
                reason,
                WatchDogPresale.SaleNotFinalized.selector,
                WatchDogPresale.NothingToWithdraw.selector,
                0,
                0,
                0
            );
        }
        _afterAction();
    }

    /// @notice Anyone sweeps the unrefunded money of a cancelled or expired sale to the treasury (from the
    ///         refund deadline on).
    function sweep() external {
        address t = presale.treasury();
        uint256 tBefore = usd.balanceOf(t);
        uint256 eBefore = t.balance;
        WatchDogPresale.SaleStatus status = presale.saleStatus();
        try presale.sweepUnrefunded() {
            if (
                block.timestamp < presale.refundDeadline()
                    || (status != WatchDogPresale.SaleStatus.Cancelled
                        && status != WatchDogPresale.SaleStatus.Expired)
            ) ghostSweepsOutOfWindow++;
            ghostEthSwept += t.balance - eBefore;
            ghostTokenSwept += usd.balanceOf(t) - tBefore;
            calls["sweep.ok"]++;
        } catch (bytes memory reason) {
            _expect(
                reason,
                WatchDogPresale.NotRefundable.selector,
                WatchDogPresale.RefundPeriodNotOver.selector,
                WatchDogPresale.NothingToSweep.selector,
                0,
                0
            );
        }
        _afterAction();
    }

    /// @notice A holder refunds up to `count` of its licenses (accepted after a cancellation, or once the
    ///         sale expired unfinalized, before the refund deadline).
    function refund(uint256 actorSeed, uint256 count) external {
        address holder = actors[_bound(actorSeed, 0, actors.length - 1)];
        uint256[] storage held = _held[holder];
        if (held.length == 0) return;
        uint256 n = _bound(count, 1, held.length);
        uint256[] memory ids = new uint256[](n);
        uint256 expectEth;
        uint256 expectToken;
        for (uint256 k; k < n; ++k) {
            ids[k] = held[held.length - 1 - k];
            if (ghostInToken[ids[k]]) expectToken += ghostPrice[ids[k]];
            else expectEth += ghostPrice[ids[k]];
        }
        uint256 eBefore = holder.balance;
        uint256 tBefore = usd.balanceOf(holder);
        WatchDogPresale.SaleStatus status = presale.saleStatus();
        vm.prank(holder);
        try presale.refund(ids) {
            if (
                block.timestamp >= presale.refundDeadline()
                    || (status != WatchDogPresale.SaleStatus.Cancelled
                        && status != WatchDogPresale.SaleStatus.Expired)
            ) ghostRefundsOutOfWindow++;
            if (status == WatchDogPresale.SaleStatus.Expired) calls["selfRefund.ok"]++;
            uint256 gotEth = holder.balance - eBefore;
            uint256 gotToken = usd.balanceOf(holder) - tBefore;
            if (gotEth != expectEth || gotToken != expectToken) ghostRefundMismatches++;
            ghostEthRefunded += gotEth;
            ghostTokenRefunded += gotToken;
            for (uint256 k; k < n; ++k) {
                held.pop();
            }
            calls["refund.ok"]++;
        } catch (bytes memory reason) {
            _expect(
                reason,
                WatchDogPresale.RefundsNotOpen.selector,
                WatchDogPresale.RefundPeriodOver.selector,
                0,
                0,
                0
            );
        }
        _afterAction();
    }

    /// @notice The owner unlocks transfers early (rarely), then holders pass licenses around.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 unlockSeed) external {
        if (license.transfersLocked()) {
            if (!_chance(unlockSeed, 16)) return;
            vm.prank(owner);
            license.setUnlockTime(uint64(block.timestamp));
            calls["unlock"]++;
        }
        address from = actors[_bound(fromSeed, 0, actors.length - 1)];
        address to = actors[_bound(toSeed, 0, actors.length - 1)];
        uint256[] storage held = _held[from];
        if (held.length == 0 || from == to) return;
        uint256 id = held[held.length - 1];
        vm.prank(from);
        license.transferFrom(from, to, id);
        held.pop();
        _held[to].push(id);
        calls["transfer"]++;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Purchases take time too: 0-19 s pass before each.
    function _tick(uint256 seed) internal {
        vm.warp(block.timestamp + uint256(keccak256(abi.encode(seed, "tick"))) % 20);
    }

    /// @dev True for about one seed in `n` (hashed: the fuzzer favours small and round values).
    function _chance(uint256 seed, uint256 n) internal pure returns (bool) {
        return uint256(keccak256(abi.encode(seed, "chance"))) % n == 0;
    }

    function _tryBuyAllowlist(uint256 i, uint256 q, bool inToken, uint256 cost, uint256 value)
        internal
        returns (bool ok, bytes memory reason)
    {
        bytes32[] memory proof = Merkle.proof(_leaves, i);
        vm.prank(listed[i]);
        if (inToken) {
            try presale.buyAllowlistWithToken(q, allowances[i], proof, cost) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try presale.buyAllowlist{value: value}(q, allowances[i], proof, cost) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
    }

    function _tryBuyPublic(address buyer, uint256 q, bool inToken, uint256 cost, uint256 value)
        internal
        returns (bool ok, bytes memory reason)
    {
        vm.prank(buyer);
        if (inToken) {
            try presale.buyPublicWithToken(q, cost) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try presale.buyPublic{value: value}(q, cost) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
    }

    /// @dev Cost of the next `q` licenses from the handler's own copy of the tiers; `fits` false when
    ///      they are not all left (the presale must then refuse).
    function _expectedCost(uint256 q, bool inToken) internal view returns (uint256 cost, bool fits) {
        uint256 from = presale.sold();
        fits = from + q <= presale.supply();
        for (uint256 i = from; i < from + q; ++i) {
            cost += _unitPrice(i, inToken);
        }
    }

    function _unitPrice(uint256 index, bool inToken) internal pure returns (uint256) {
        if (index < 40) return inToken ? 300e6 : 0.1 ether;
        if (index < 80) return inToken ? 360e6 : 0.12 ether;
        return inToken ? 450e6 : 0.15 ether;
    }

    function _fund(address buyer, bool inToken, uint256 cost, uint256 value) internal {
        if (inToken) {
            usd.mint(buyer, cost);
            vm.prank(buyer);
            usd.approve(address(presale), cost);
        } else {
            vm.deal(buyer, buyer.balance + value);
        }
    }

    function _recordPurchase(address buyer, uint256 soldBefore, uint256 q, uint256 cost, bool inToken)
        internal
    {
        ghostSold += q;
        if (inToken) ghostTokenIn += cost;
        else ghostEthIn += cost;
        for (uint256 k; k < q; ++k) {
            uint256 id = soldBefore + 1 + k;
            if (license.ownerOf(id) != buyer) ghostPaymentMismatches++;
            ghostPrice[id] = _unitPrice(soldBefore + k, inToken);
            ghostInToken[id] = inToken;
            _held[buyer].push(id);
        }
    }

    function _expect(bytes memory reason, bytes4 a, bytes4 b, bytes4 c, bytes4 d, bytes4 e) internal {
        bytes4 selector = reason.length >= 4 ? bytes4(reason) : bytes4(0);
        calls[bytes32(selector)]++;
        if (
            selector == bytes4(0)
                || (selector != a && selector != b && selector != c && selector != d && selector != e)
        ) {
            ghostUnexpected++;
            lastUnexpected = reason;
        }
    }

    uint256 internal _lastSold;

    function _afterAction() internal {
        uint256 s = presale.sold();
        if (s < _lastSold) ghostSoldDecreases++;
        _lastSold = s;
    }
}
