// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {TestSuite} from "../utils/TestSuite.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {SettlementHandler} from "./handlers/SettlementHandler.sol";

contract EpochSettlementInvariantTest is TestSuite {
    uint256 internal constant ESCROW = 430_000_000 ether;

    SettlementHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[3] memory nodes;
        for (uint256 i; i < 3; ++i) {
            (nodes[i],) = _registerNode(string.concat("node", vm.toString(i)), operator, 50_000 ether);
        }
        handler =
            new SettlementHandler(settlement, staking, token, owner, finder, guardians, guardianKeys, nodes);

        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = SettlementHandler.submitEpoch.selector;
        selectors[1] = SettlementHandler.submitOutOfOrder.selector;
        selectors[2] = SettlementHandler.warp.selector;
        selectors[3] = SettlementHandler.finalize.selector;
        selectors[4] = SettlementHandler.dispute.selector;
        selectors[5] = SettlementHandler.resolveDispute.selector;
        selectors[6] = SettlementHandler.claim.selector;
        selectors[7] = SettlementHandler.executeFault.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Claims never exceed the finalized total, by the contract's books and by tokens actually received.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_claimedWithinFinalizedCumulative() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertLe(p.totalClaimed, p.finalizedCumulative, "totalClaimed > finalizedCumulative");
        assertLe(handler.ghostTotalReceived(), p.finalizedCumulative, "received > finalizedCumulative");
        assertEq(handler.ghostTotalReceived(), p.totalClaimed, "received != totalClaimed");
    }

    /// Nothing leaves the escrow except claims.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_escrowConservation() public view {
        assertEq(
            token.balanceOf(address(settlement)) + settlement.settlementProgress().totalClaimed,
            ESCROW,
            "escrow + claimed != initial escrow"
        );
    }

    /// What is finalized and unclaimed is always covered.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_escrowCoversFinalizedUnclaimed() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertGe(token.balanceOf(address(settlement)), p.finalizedCumulative - p.totalClaimed);
    }

    /// Epochs advance one by one, never replayed or skipped; at most seven are pending.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_epochsSequential() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertLe(p.lastFinalized, p.lastSubmitted, "lastFinalized > lastSubmitted");
        assertLe(p.lastSubmitted - p.lastFinalized, 7, "more than seven pending epochs");
        assertEq(p.lastSubmitted, handler.ghostLastSubmitted(), "lastSubmitted != ghost");
        assertEq(handler.ghostSequenceViolations(), 0, "submitted epoch != previous + 1");
        assertEq(handler.ghostAcceptedOutOfOrder(), 0, "replayed or skipped epoch accepted");
    }

    /// The finalized cumulative is exactly the reward tree total of the last finalized epoch.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_finalizedCumulativeMatchesTree() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.finalizedCumulative, handler.totalOf(p.lastFinalized));
        (uint32 e,) = settlement.claimableRewardRoot();
        assertEq(e, p.lastFinalized);
    }

    /// Each account was paid exactly what it claimed, never more than its finalized cumulative.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_perAccountClaims() public view {
        uint32 lf = settlement.settlementProgress().lastFinalized;
        uint256 sum;
        for (uint256 i; i < handler.ACCOUNTS(); ++i) {
            address account = handler.accounts(i);
            uint256 claimed = settlement.claimed(account);
            assertLe(claimed, handler.cumulativeOf(lf, i), "claimed > finalized cumulative");
            assertEq(token.balanceOf(account), claimed, "balance != claimed");
            assertEq(handler.ghostReceived(account), claimed, "received != claimed");
            sum += claimed;
        }
        assertEq(sum, settlement.settlementProgress().totalClaimed, "sum of claims != totalClaimed");
    }

    /// Slashed stake goes to the finder and the sweep pot, never to or from the settlement escrow.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_slashAccounting() public view {
        uint256 slashed = handler.ghostTotalSlashed();
        assertEq(token.balanceOf(finder) + staking.slashedPendingSweep(), slashed);
        assertEq(staking.totalStaked() + staking.totalUnbonding() + slashed, 150_000 ether);
    }

    function afterInvariant() external view {
        console.log("submit", handler.calls("submitEpoch"), "finalize", handler.calls("finalize"));
        console.log("claim", handler.calls("claim"), "fault", handler.calls("executeFault"));
        console.log("dispute", handler.calls("dispute"), "resolveInvalid", handler.calls("resolveInvalid"));
        console.log(
            "lastSubmitted",
            settlement.settlementProgress().lastSubmitted,
            "lastFinalized",
            settlement.settlementProgress().lastFinalized
        );
    }
}
