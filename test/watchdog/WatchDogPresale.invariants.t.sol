// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {WatchDogTestBase} from "./WatchDogTestBase.sol";
import {WatchDogPresale} from "../../contracts/watchdog/WatchDogPresale.sol";
import {PresaleHandler} from "./handlers/PresaleHandler.sol";

/// @notice Random sequences of purchases (both phases, both currencies, over the limits too), warps across
///         overlapping phases, cancellation and refunds, early unlock and transfers, finalization and
///         withdrawal, self-refunds of an expired sale and sweeps past the refund deadline. The allowlist
///         phase runs 300 s; the public phase opens 100 s into it, so the reserve binds, and ends 1,000 s
///         after the allowlist phase starts, so runs reach finalization. The sale expires unfinalized 2,500 s
///         after the allowlist phase starts, refunds end 5,000 s after it, so runs reach both.
contract WatchDogPresaleInvariantTest is WatchDogTestBase {
    PresaleHandler internal handler;

    function setUp() public virtual override {
        super.setUp();
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.allowlist.end = AL_START + 300;
        c.publicPhase.start = AL_START + 100;
        c.publicPhase.end = AL_START + 1000;
        c.selfRefundTime = AL_START + 2500;
        c.refundDeadline = AL_START + 5000;
        (license, presale) = _deploy(c);
        handler = new PresaleHandler(presale, usd, owner, allowlisted, allowances, allowLeaves);
        vm.warp(AL_START - 30);

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = PresaleHandler.warp.selector;
        selectors[1] = PresaleHandler.buyAllowlist.selector;
        selectors[2] = PresaleHandler.buyPublic.selector;
        selectors[3] = PresaleHandler.cancel.selector;
        selectors[4] = PresaleHandler.finalize.selector;
        selectors[5] = PresaleHandler.withdraw.selector;
        selectors[6] = PresaleHandler.refund.selector;
        selectors[7] = PresaleHandler.transfer.selector;
        selectors[8] = PresaleHandler.buyBurst.selector;
        selectors[9] = PresaleHandler.sweep.selector;
        selectors[10] = PresaleHandler.leap.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Never more sold than the supply; every sale minted exactly one license, ids 1..sold.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_soldWithinSupply() public view {
        WatchDogPresale.SaleState memory s = presale.saleState();
        assertLe(s.sold, SUPPLY, "sold > supply");
        assertEq(s.sold, handler.ghostSold(), "sold != successful purchases");
        assertEq(license.totalMinted(), s.sold, "minted != sold");
        assertEq(license.totalSupply(), s.sold - license.totalBurned(), "live licenses != sold - refunded");
    }

    /// `sold` never decreases, refunds included.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_soldNeverDecreases() public view {
        assertEq(handler.ghostSoldDecreases(), 0, "sold decreased");
    }

    /// The allowlist never buys more than its reserve or an account its allowance; while the allowlist phase
    /// runs the public phase never eats into the reserve; no wallet exceeds the public cap.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_reserveAndCaps() public view {
        WatchDogPresale.SaleState memory s = presale.saleState();
        assertLe(s.allowlistSold, RESERVE, "allowlist above reserve");
        assertEq(s.allowlistSold, handler.ghostAllowlistSold(), "allowlistSold != ghost");
        if (block.timestamp < presale.schedule().allowlistEnd) {
            assertLe(s.sold - s.allowlistSold, SUPPLY - RESERVE, "public ate the reserve");
        }
        assertEq(handler.ghostReserveViolations(), 0, "public ate the reserve at some point");
        for (uint256 i; i < handler.actorCount(); ++i) {
            address a = handler.actors(i);
            (uint256 al, uint256 pub) = presale.purchasedBy(a);
            assertEq(al, handler.ghostAllowlistBought(a), "allowlist bought != ghost");
            assertEq(pub, handler.ghostPublicBought(a), "public bought != ghost");
            assertLe(pub, WALLET_CAP, "wallet cap exceeded");
            if (i < allowlisted.length) assertLe(al, allowances[i], "allowance exceeded");
            else assertEq(al, 0, "unlisted account bought in the allowlist phase");
        }
    }

    /// Money: payments in = proceeds withdrawn + refunds + unrefunded money swept + balance, in each
    /// currency, for every interleaving; the balance is exactly proceeds + refunds owed, one of them zero.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_paymentsInEqualWithdrawnPlusRefundedPlusSweptPlusBalance() public view {
        (uint256 pe, uint256 pt) = presale.proceeds();
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(address(presale).balance, pe + re, "ETH balance != proceeds + refunds owed");
        assertEq(usd.balanceOf(address(presale)), pt + rt, "token balance != proceeds + refunds owed");
        assertEq(
            handler.ghostEthIn(),
            handler.ghostEthWithdrawn() + handler.ghostEthRefunded() + handler.ghostEthSwept()
                + address(presale).balance,
            "ETH in != withdrawn + refunded + swept + balance"
        );
        assertEq(
            handler.ghostTokenIn(),
            handler.ghostTokenWithdrawn() + handler.ghostTokenRefunded() + handler.ghostTokenSwept()
                + usd.balanceOf(address(presale)),
            "token in != withdrawn + refunded + swept + balance"
        );
        WatchDogPresale.SaleStatus status = presale.saleStatus();
        if (status == WatchDogPresale.SaleStatus.Cancelled || status == WatchDogPresale.SaleStatus.Expired) {
            assertEq(pe + pt, 0, "proceeds while cancelled or expired");
            assertEq(
                handler.ghostEthWithdrawn() + handler.ghostTokenWithdrawn(),
                0,
                "withdrawn from a cancelled or expired sale"
            );
        } else {
            assertEq(re + rt, 0, "refunds owed while active or finalized");
            assertEq(
                handler.ghostEthRefunded() + handler.ghostTokenRefunded(), 0, "refund from a standing sale"
            );
            assertEq(handler.ghostEthSwept() + handler.ghostTokenSwept(), 0, "sweep of a standing sale");
        }
        assertEq(handler.ghostRefundsOutOfWindow(), 0, "refund outside the refund window");
        assertEq(
            handler.ghostSweepsOutOfWindow(), 0, "sweep before the refund deadline or of a standing sale"
        );
    }

    /// The owner loses its powers at the self-refund time; licenses are void exactly when the sale is
    /// cancelled or expired, and then no license has an operator key.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_failedSaleLicensesVoid() public view {
        assertEq(
            handler.ghostLateOwnerActions(), 0, "owner finalized or cancelled after the self-refund time"
        );
        WatchDogPresale.SaleStatus status = presale.saleStatus();
        bool failed =
            status == WatchDogPresale.SaleStatus.Cancelled || status == WatchDogPresale.SaleStatus.Expired;
        assertEq(license.voided(), failed, "licenses void != sale cancelled or expired");
        if (failed) {
            uint256 minted = license.totalMinted();
            for (uint256 id = 1; id <= minted; ++id) {
                assertEq(license.operatorOf(id), address(0), "void license has an operator");
            }
        }
    }

    /// Every refund paid exactly the ghost price of each license; every purchase paid what the tiers say
    /// and minted to the buyer; nothing was rejected with an error the situation did not call for.
    /// forge-config: default.invariant.fail-on-revert = true
    /// forge-config: default.invariant.depth = 128
    function invariant_exactPricesAndExpectedErrors() public view {
        assertEq(handler.ghostRefundMismatches(), 0, "refund != price paid");
        assertEq(handler.ghostPaymentMismatches(), 0, "purchase mismatch");
        assertEq(handler.ghostUnexpected(), 0, string(handler.lastUnexpected()));
    }

    function afterInvariant() external view {
        console.log(
            "allowlist ok",
            handler.calls("buyAllowlist.ok"),
            "rejected",
            handler.calls("buyAllowlist.rejected")
        );
        console.log(
            "public ok", handler.calls("buyPublic.ok"), "rejected", handler.calls("buyPublic.rejected")
        );
        console.log("cancel", handler.calls("cancel"), "refund ok", handler.calls("refund.ok"));
        console.log("finalize", handler.calls("finalize.ok"), "withdraw", handler.calls("withdraw.ok"));
        console.log("self-refund ok", handler.calls("selfRefund.ok"), "sweep", handler.calls("sweep.ok"));
        console.log("unlock", handler.calls("unlock"), "transfer", handler.calls("transfer"));
        console.log("sold", presale.sold(), "burned", license.totalBurned());
    }
}

/// @notice The same invariants when the public phase has already sold 68 of its 70 licenses while the
///         allowlist phase runs: buyers race for the last public licenses, the allowlist for its reserve,
///         and everyone for what the reserve releases when the allowlist phase ends.
contract WatchDogPresaleCrowdedInvariantTest is WatchDogPresaleInvariantTest {
    function setUp() public override {
        super.setUp();
        vm.warp(AL_START + 100);
        handler.presell(68);
        require(presale.sold() == 68, "presold");
    }
}
