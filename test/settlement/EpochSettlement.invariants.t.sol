// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {SettlementHandler} from "./handlers/SettlementHandler.sol";

contract EpochSettlementInvariantTest is ProtocolTestBase {
    uint256 internal constant ESCROW = 430_000_000 ether;
    uint256 internal constant HANDLER_FLOAT = 10_000_000 ether;

    SettlementHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[3] memory nodes;
        for (uint256 i; i < 3; ++i) {
            (nodes[i],) = _registerNode(string.concat("node", vm.toString(i)), operator, 50_000 ether);
        }
        handler =
            new SettlementHandler(settlement, staking, token, owner, finder, guardians, guardianKeys, nodes);
        _fund(address(handler), HANDLER_FLOAT); // for fundEscrow

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = SettlementHandler.submitEpoch.selector;
        selectors[1] = SettlementHandler.submitOutOfOrder.selector;
        selectors[2] = SettlementHandler.warp.selector;
        selectors[3] = SettlementHandler.finalize.selector;
        selectors[4] = SettlementHandler.dispute.selector;
        selectors[5] = SettlementHandler.resolveDispute.selector;
        selectors[6] = SettlementHandler.claim.selector;
        selectors[7] = SettlementHandler.executeFault.selector;
        selectors[8] = SettlementHandler.fundEscrow.selector;
        selectors[9] = SettlementHandler.addSignatures.selector;
        selectors[10] = SettlementHandler.expireDispute.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Claims never exceed the finalized total, by the contract's books and by tokens actually received.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_claimedWithinFinalizedCumulative() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        uint256 totalClaimed = settlement.totalClaimed();
        assertLe(totalClaimed, p.finalizedCumulative, "totalClaimed > finalizedCumulative");
        assertLe(handler.ghostTotalReceived(), p.finalizedCumulative, "received > finalizedCumulative");
        assertEq(handler.ghostTotalReceived(), totalClaimed, "received != totalClaimed");
    }

    /// Nothing leaves the escrow except claims; nothing enters it except the premint and fundEscrow
    /// (the handler never donates), so the derived books balance exactly.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_escrowConservation() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.totalFunded, handler.ghostTotalFunded(), "totalFunded != premint + fundEscrow");
        assertEq(
            token.balanceOf(address(settlement)) + settlement.totalClaimed(),
            p.totalFunded,
            "escrow + claimed != totalFunded"
        );
        assertEq(
            token.balanceOf(address(settlement)) + handler.ghostTotalReceived(),
            ESCROW + (HANDLER_FLOAT - token.balanceOf(address(handler))),
            "escrow + received != premint + funded by the handler"
        );
    }

    /// What is finalized and unclaimed is always covered, and so is every submitted total.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_escrowCoversFinalizedUnclaimed() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertGe(
            token.balanceOf(address(settlement)),
            p.finalizedCumulative - settlement.totalClaimed(),
            "escrow < finalized - claimed"
        );
        assertLe(handler.totalOf(p.lastSubmitted), p.totalFunded, "submitted total above funded");
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
        assertEq(settlement.lastFinalizedEpoch(), p.lastFinalized);
    }

    /// Every live submission records at least a quorum of signers, only members' bits, and the digest of
    /// the header guardians signed.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_signersRecorded() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        uint32 from = p.lastFinalized == 0 ? 1 : p.lastFinalized;
        for (uint32 e = from; e <= p.lastSubmitted; ++e) {
            EpochSettlement.EpochEntry memory entry = settlement.epochEntry(e);
            uint256 signers;
            for (uint64 b = entry.signerBitmap; b != 0; b &= b - 1) {
                ++signers;
            }
            assertGe(signers, 5, "fewer than T signers recorded");
            assertEq(uint256(entry.signerBitmap) >> guardians.length, 0, "bit beyond the set");
            assertTrue(entry.headerDigest != bytes32(0), "no digest stored");
        }
    }

    /// `epochStatus` agrees with the progress counters and the ring.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_epochStatusConsistent() public view {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(uint8(settlement.epochStatus(0)), uint8(EpochSettlement.EpochLifecycle.None));
        assertEq(
            uint8(settlement.epochStatus(p.lastSubmitted + 1)), uint8(EpochSettlement.EpochLifecycle.None)
        );
        if (p.lastFinalized != 0) {
            assertEq(
                uint8(settlement.epochStatus(p.lastFinalized)),
                uint8(EpochSettlement.EpochLifecycle.Finalized)
            );
            assertEq(uint8(settlement.epochStatus(1)), uint8(EpochSettlement.EpochLifecycle.Finalized));
        }
        for (uint32 e = p.lastFinalized + 1; e <= p.lastSubmitted; ++e) {
            EpochSettlement.EpochStatus ring = settlement.epochEntry(e).status;
            EpochSettlement.EpochLifecycle expected = ring == EpochSettlement.EpochStatus.Disputed
                ? EpochSettlement.EpochLifecycle.Disputed
                : EpochSettlement.EpochLifecycle.Pending;
            assertTrue(ring != EpochSettlement.EpochStatus.None, "live epoch marked None");
            assertEq(uint8(settlement.epochStatus(e)), uint8(expected), "epochStatus != ring status");
        }
    }

    /// Fault leaves of every live submission are pending exactly until executed; indices past the
    /// count never are. (Epochs without faults are not checked: a voided submission's pending bits
    /// survive, see test_resolveDispute_voidClearsFaultPendingBits.)
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_faultPendingBits() public view {
        uint32 last = settlement.settlementProgress().lastSubmitted;
        for (uint32 e = 1; e <= last; ++e) {
            if (!handler.hasFaults(e)) {
                assertEq(settlement.faultRoots(e), bytes32(0), "fault root without faults");
                continue;
            }
            assertTrue(settlement.faultRoots(e) != bytes32(0), "faults without root");
            uint32 count = handler.faultCountOf(e);
            for (uint32 i; i < count; ++i) {
                assertEq(settlement.faultPending(e, i), !handler.faultDone(e, i), "pending bit != ghost");
            }
            assertFalse(settlement.faultPending(e, count), "leaf past faultCount pending");
        }
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
        assertEq(sum, settlement.totalClaimed(), "sum of claims != totalClaimed");
    }

    /// Slashed stake goes to the finder and the sweep pot, never to or from the settlement escrow.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_slashAccounting() public view {
        uint256 slashed = handler.ghostTotalSlashed();
        assertEq(token.balanceOf(finder) + staking.sweepableSlashed(), slashed);
        assertEq(staking.totalStaked() + staking.totalUnbonding() + slashed, 150_000 ether);
        assertEq(token.balanceOf(address(staking)) + token.balanceOf(finder), 150_000 ether);
    }

    /// However faults of different epochs interleave, one settlement-clock epoch never slashes a node
    /// more than maxSlashBps of what it held when that clock epoch's first slash hit.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_slashCapPerClockEpoch() public view {
        for (uint256 j; j < handler.NODES(); ++j) {
            address node = handler.nodes(j);
            uint256 inClock = handler.ghostSlashedInClock(node);
            assertLe(inClock * 10_000, handler.ghostSlashBase(node) * MAX_SLASH_BPS, "clock epoch above cap");
            NodeStaking.Node memory n = staking.getNode(node);
            assertEq(n.lastSlashEpoch, handler.ghostSlashClock(node), "lastSlashEpoch != ghost clock");
            assertEq(n.slashedInLastSlashEpoch, inClock, "slashedInLastSlashEpoch != ghost");
        }
    }

    function afterInvariant() external view {
        console.log("submit", handler.calls("submitEpoch"), "finalize", handler.calls("finalize"));
        console.log("claim", handler.calls("claim"), "fault", handler.calls("executeFault"));
        console.log("dispute", handler.calls("dispute"), "resolveInvalid", handler.calls("resolveInvalid"));
        console.log(
            "addSignatures", handler.calls("addSignatures"), "expireDispute", handler.calls("expireDispute")
        );
        console.log("fundEscrow", handler.calls("fundEscrow"), "capDeferred", handler.ghostCapDeferred());
        console.log(
            "lastSubmitted",
            settlement.settlementProgress().lastSubmitted,
            "lastFinalized",
            settlement.settlementProgress().lastFinalized
        );
    }
}
