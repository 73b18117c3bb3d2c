// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {WatchDogTestBase} from "./WatchDogTestBase.sol";
import {WatchDogLicense} from "../../contracts/watchdog/WatchDogLicense.sol";
import {WatchDogPresale} from "../../contracts/watchdog/WatchDogPresale.sol";

/// @notice Buyers never depend on the owner: the self-refund time (a sale neither finalized nor cancelled
///         by then expires, and holders refund themselves), the refund deadline (then the unrefunded money
///         goes to the treasury through a sweep anyone calls), and void licenses of a failed sale.
contract WatchDogPresaleDeadlinesTest is WatchDogTestBase {
    WatchDogPresale.SaleStatus internal constant ACTIVE = WatchDogPresale.SaleStatus.Active;
    WatchDogPresale.SaleStatus internal constant CANCELLED = WatchDogPresale.SaleStatus.Cancelled;
    WatchDogPresale.SaleStatus internal constant FINALIZED = WatchDogPresale.SaleStatus.Finalized;
    WatchDogPresale.SaleStatus internal constant EXPIRED = WatchDogPresale.SaleStatus.Expired;

    address internal operatorKey = makeAddr("operatorKey");

    /// alice: ids 1-2 in ETH, bob: id 3 in the stablecoin (public phase).
    function _sell() internal returns (uint256 ethPaid, uint256 usdPaid) {
        _openPublic();
        ethPaid = _buyPublicEth(alice, 2);
        usdPaid = _buyPublicUsd(bob, 1);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_setsDeadlinesAndVoidTime() public view {
        assertEq(presale.selfRefundTime(), SELF_REFUND);
        assertEq(presale.refundDeadline(), REFUND_DEADLINE);
        assertEq(license.voidTime(), SELF_REFUND, "licenses void from the self-refund time unless finalized");
        assertFalse(license.voided());
        assertEq(uint8(presale.saleStatus()), uint8(ACTIVE));
    }

    function test_RevertWhen_constructor_selfRefundTimeNotInFuture() public {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        delete c.allowlist;
        delete c.publicPhase;
        c.selfRefundTime = uint40(block.timestamp);
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        c.license = address(new WatchDogLicense(_licenseConfig(predicted)));
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.InvalidDeadline.selector, "selfRefundTime not in the future"
            )
        );
        new WatchDogPresale(c);
    }

    function test_RevertWhen_constructor_refundDeadlineNotAfterSelfRefundTime() public {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.refundDeadline = c.selfRefundTime;
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        c.license = address(new WatchDogLicense(_licenseConfig(predicted)));
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.InvalidDeadline.selector, "refundDeadline not after selfRefundTime"
            )
        );
        new WatchDogPresale(c);
    }

    function test_RevertWhen_phaseEndsAfterSelfRefundTime() public {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.publicPhase.end = SELF_REFUND + 1;
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        c.license = address(new WatchDogLicense(_licenseConfig(predicted)));
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.InvalidPhaseConfig.selector,
                WatchDogPresale.Phase.Public,
                "end after selfRefundTime"
            )
        );
        new WatchDogPresale(c);

        c = _presaleConfig(address(0), address(usd));
        c.allowlist.end = SELF_REFUND + 1;
        predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        c.license = address(new WatchDogLicense(_licenseConfig(predicted)));
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.InvalidPhaseConfig.selector,
                WatchDogPresale.Phase.Allowlist,
                "end after selfRefundTime"
            )
        );
        new WatchDogPresale(c);

        // scheduled later by the owner: the same bound
        c = _presaleConfig(address(0), address(usd));
        delete c.publicPhase;
        (license, presale) = _deploy(c);
        WatchDogPresale.PublicPhase memory p = _publicPhase();
        p.end = SELF_REFUND + 1;
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.InvalidPhaseConfig.selector,
                WatchDogPresale.Phase.Public,
                "end after selfRefundTime"
            )
        );
        presale.setPublicPhase(p);
        p.end = SELF_REFUND;
        vm.prank(owner);
        presale.setPublicPhase(p);
    }

    // ---------------------------------------------------------------- self-refund

    /// Nobody finalized nor cancelled: from the self-refund time each buyer refunds itself, exactly what it
    /// paid, in its currency, without any owner action.
    function test_selfRefund_afterSelfRefundTime_withoutOwner() public {
        (uint256 ethPaid, uint256 usdPaid) = _sell();
        vm.warp(SELF_REFUND);
        assertEq(uint8(presale.saleStatus()), uint8(EXPIRED));
        assertEq(uint8(presale.saleState().status), uint8(ACTIVE), "stored status untouched");
        (uint256 pe, uint256 pt) = presale.proceeds();
        assertEq(pe + pt, 0, "no proceeds of an expired sale");
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re, ethPaid);
        assertEq(rt, usdPaid);

        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Refunded(alice, _ids(1, 2), ethPaid, 0);
        vm.prank(alice);
        presale.refund(_ids(1, 2));
        assertEq(alice.balance, ethPaid);
        vm.prank(bob);
        presale.refund(_one(3));
        assertEq(usd.balanceOf(bob), usdPaid);
        assertEq(address(presale).balance, 0);
        assertEq(usd.balanceOf(address(presale)), 0);
        assertEq(license.totalBurned(), 3);
    }

    function test_RevertWhen_refund_beforeSelfRefundTime() public {
        _sell();
        vm.warp(SELF_REFUND - 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.RefundsNotOpen.selector, ACTIVE, SELF_REFUND));
        presale.refund(_one(1));
    }

    function test_RevertWhen_selfRefund_twiceOrSomeoneElsesLicense() public {
        _sell();
        vm.warp(SELF_REFUND);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.NotTokenHolder.selector, 1, alice, mallory));
        presale.refund(_one(1));
        vm.prank(alice);
        presale.refund(_one(1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseBurned.selector, 1));
        presale.refund(_one(1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseNotFound.selector, 4));
        presale.refund(_one(4));
        vm.prank(alice);
        vm.expectRevert(WatchDogPresale.NoTokenIds.selector);
        presale.refund(new uint256[](0));
    }

    function test_RevertWhen_ownerActsAfterSelfRefundTime() public {
        _sell();
        vm.warp(SELF_REFUND);
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, EXPIRED));
        presale.finalizeSale();
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, EXPIRED));
        presale.cancelSale();
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotFinalized.selector, EXPIRED));
        presale.withdrawProceeds();
        vm.stopPrank();
    }

    function test_RevertWhen_buyAfterSelfRefundTime() public {
        _sell();
        vm.warp(SELF_REFUND);
        vm.deal(carol, 1 ether);
        vm.prank(carol);
        vm.expectRevert(
            abi.encodeWithSelector(
                WatchDogPresale.PhaseNotOpen.selector, WatchDogPresale.Phase.Public, PUB_START, PUB_END
            )
        );
        presale.buyPublic{value: 1 ether}(1, 1 ether);
    }

    /// Finalized one second before the self-refund time: the sale stands for good, nothing is refundable
    /// and the licenses never become void.
    function test_finalize_justBeforeSelfRefundTime_standsForGood() public {
        _sell();
        vm.warp(SELF_REFUND - 1);
        vm.prank(owner);
        presale.finalizeSale();
        assertEq(license.voidTime(), 0, "a finalized sale's licenses are never void");
        vm.warp(REFUND_DEADLINE + 1);
        assertEq(uint8(presale.saleStatus()), uint8(FINALIZED));
        assertFalse(license.voided());
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.RefundsNotOpen.selector, FINALIZED, SELF_REFUND)
        );
        presale.refund(_one(1));
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.NotRefundable.selector, FINALIZED));
        presale.sweepUnrefunded();
        vm.prank(alice);
        license.setOperator(1, operatorKey);
        assertEq(license.operatorOf(1), operatorKey);
        vm.prank(owner);
        presale.withdrawProceeds();
    }

    // ---------------------------------------------------------------- refund deadline and sweep

    function test_RevertWhen_refund_atOrAfterRefundDeadline() public {
        _sell();
        _cancelNow();
        vm.warp(REFUND_DEADLINE);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.RefundPeriodOver.selector, REFUND_DEADLINE));
        presale.refund(_one(1));
    }

    function test_RevertWhen_sweep_beforeRefundDeadline() public {
        _sell();
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.NotRefundable.selector, ACTIVE));
        presale.sweepUnrefunded();
        _cancelNow();
        vm.warp(REFUND_DEADLINE - 1);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.RefundPeriodNotOver.selector, REFUND_DEADLINE));
        presale.sweepUnrefunded();
    }

    /// Expired sale, one buyer refunded itself, the other never did: from the refund deadline anyone sends
    /// exactly the unrefunded money to the treasury, once.
    function test_sweep_sendsUnrefundedToTreasury() public {
        (, uint256 usdPaid) = _sell();
        vm.warp(SELF_REFUND);
        vm.prank(alice);
        presale.refund(_ids(1, 2));
        vm.warp(REFUND_DEADLINE);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.UnrefundedSwept(treasury, 0, usdPaid);
        vm.prank(mallory);
        presale.sweepUnrefunded();
        assertEq(usd.balanceOf(treasury), usdPaid);
        assertEq(usd.balanceOf(address(presale)), 0);
        assertEq(usd.balanceOf(mallory), 0, "the caller gets nothing");
        vm.expectRevert(WatchDogPresale.NothingToSweep.selector);
        presale.sweepUnrefunded();
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.RefundPeriodOver.selector, REFUND_DEADLINE));
        presale.refund(_one(3));
        assertEq(license.ownerOf(3), bob, "an unrefunded license stays, void");
        assertTrue(license.voided());
    }

    function test_sweep_cancelledSaleBothCurrencies() public {
        (uint256 ethPaid, uint256 usdPaid) = _sell();
        _cancelNow();
        vm.warp(REFUND_DEADLINE);
        presale.sweepUnrefunded();
        assertEq(treasury.balance, ethPaid);
        assertEq(usd.balanceOf(treasury), usdPaid);
    }

    // ---------------------------------------------------------------- void licenses

    /// A cancellation voids every license at once: the operator key reads zero (so the keeper refuses the
    /// WatchDog's commits), no key can be set, and license rewards refuse to pay.
    function test_cancel_voidsLicensesAtOnce() public {
        _sell();
        vm.prank(alice);
        license.setOperator(1, operatorKey);
        assertEq(license.operatorOf(1), operatorKey);
        vm.warp(PUB_START + 100);
        vm.expectEmit(true, true, true, true, address(license));
        emit WatchDogLicense.VoidTimeSet(PUB_START + 100);
        _cancelNow();
        assertTrue(license.voided());
        assertEq(license.voidTime(), PUB_START + 100);
        assertEq(license.operatorOf(1), address(0), "void license has no operator");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseVoid.selector, 2, PUB_START + 100));
        license.setOperator(2, operatorKey);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseVoid.selector, 3, PUB_START + 100));
        license.setOperator(3, address(0));
    }

    /// A sale neither finalized nor cancelled voids its licenses at the self-refund time.
    function test_expiry_voidsLicensesAtSelfRefundTime() public {
        _sell();
        vm.prank(alice);
        license.setOperator(1, operatorKey);
        vm.warp(SELF_REFUND - 1);
        assertEq(license.operatorOf(1), operatorKey);
        vm.warp(SELF_REFUND);
        assertTrue(license.voided());
        assertEq(license.operatorOf(1), address(0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseVoid.selector, 1, SELF_REFUND));
        license.setOperator(1, operatorKey);
    }

    function test_RevertWhen_setVoidTime_notMinter() public {
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.OnlyMinter.selector, owner));
        license.setVoidTime(1);
    }

    function _cancelNow() internal {
        vm.prank(owner);
        presale.cancelSale();
    }
}
