// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Merkle} from "../utils/Merkle.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader, NodeScore} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement disputes: `dispute` by the owner (at once) or by M - T + 1 guardian votes, the
///         owner's `resolveDispute` (valid: finalizes now; invalid: voids the epoch and every later one,
///         faults included) and `expireDispute` (anyone voids a dispute left unresolved).
contract EpochSettlementDisputesTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ dispute

    /// @dev Issue 11 finding 6: one guardian alone cannot stop an epoch from finalizing.
    function testFuzz_dispute_oneGuardianOnlyVotes(uint256 i, string calldata reason) public {
        address g = guardians[bound(i, 0, 6)];
        _submit(_h(1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeVoteCast(1, g, 1, 3, reason);
        vm.prank(g);
        settlement.dispute(1, reason);
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Pending));
        (uint64 voters, uint8 count, uint8 needed) = settlement.disputeVotes(1);
        assertEq(voters, uint64(1 << bound(i, 0, 6)));
        assertEq(count, 1);
        assertEq(needed, 3);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
    }

    /// @dev Any three distinct guardians of seven (M - T + 1) dispute; the third vote flips the status.
    function testFuzz_dispute_threeGuardiansDispute(uint256 a, uint256 b, uint256 c) public {
        a = bound(a, 0, 6);
        b = (a + 1 + bound(b, 0, 5)) % 7;
        c = bound(c, 0, 6);
        while (c == a || c == b) c = (c + 1) % 7;
        _submit(_h(1));
        vm.prank(guardians[a]);
        settlement.dispute(1, "a");
        vm.prank(guardians[b]);
        settlement.dispute(1, "b");
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Pending));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeVoteCast(1, guardians[c], 3, 3, "c");
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, guardians[c], "c");
        vm.prank(guardians[c]);
        settlement.dispute(1, "c");
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Disputed));
        // while disputed, finalizeAt holds the expiry of the dispute
        assertEq(settlement.epochEntry(1).finalizeAt, block.timestamp + DISPUTE_RESOLUTION);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
    }

    function test_RevertWhen_dispute_sameGuardianVotesTwice() public {
        _submit(_h(1));
        vm.startPrank(guardians[4]);
        settlement.dispute(1, "a");
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.AlreadyVoted.selector, 1, guardians[4]));
        settlement.dispute(1, "again");
        vm.stopPrank();
        (, uint8 count,) = settlement.disputeVotes(1);
        assertEq(count, 1);
    }

    /// @dev Votes against a voided submission do not count against the resubmitted header.
    function test_dispute_votesResetOnResubmission() public {
        _submit(_h(1));
        vm.prank(guardians[0]);
        settlement.dispute(1, "a");
        vm.prank(guardians[1]);
        settlement.dispute(1, "b");
        vm.startPrank(owner);
        settlement.dispute(1, "gov");
        settlement.resolveDispute(1, false);
        vm.stopPrank();
        vm.warp(block.timestamp + 1);
        _submit(_header(1, keccak256("fixed"), 100 ether, 100 ether));
        (uint64 voters, uint8 count,) = settlement.disputeVotes(1);
        assertEq(voters, 0);
        assertEq(count, 0);
        vm.prank(guardians[2]);
        settlement.dispute(1, "c");
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Pending), "two stale votes counted");
        vm.prank(guardians[0]);
        settlement.dispute(1, "a again"); // a voter of the voided submission may vote again
        (, count,) = settlement.disputeVotes(1);
        assertEq(count, 2);
    }

    function test_dispute_byOwner() public {
        _submit(_h(1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, owner, "gov");
        vm.prank(owner);
        settlement.dispute(1, "gov");
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Disputed));
    }

    function testFuzz_RevertWhen_dispute_notGuardian(address caller) public {
        vm.assume(caller != owner);
        for (uint256 k; k < 7; ++k) {
            vm.assume(caller != guardians[k]);
        }
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.NotGuardian.selector, caller));
        vm.prank(caller);
        settlement.dispute(1, "x");
    }

    function testFuzz_RevertWhen_dispute_windowClosed(uint256 late) public {
        _submit(_h(1));
        uint40 finalizeAt = settlement.epochEntry(1).finalizeAt;
        vm.warp(finalizeAt + bound(late, 0, 365 days));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.DisputeWindowClosed.selector, 1, finalizeAt));
        vm.prank(guardians[0]);
        settlement.dispute(1, "late");
    }

    function test_RevertWhen_dispute_finalizedEpoch() public {
        _submitAndFinalize(_h(1));
        uint40 finalizeAt = settlement.epochEntry(1).finalizeAt;
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.DisputeWindowClosed.selector, 1, finalizeAt));
        vm.prank(owner);
        settlement.dispute(1, "late");
    }

    function test_RevertWhen_dispute_alreadyDisputed() public {
        _submit(_h(1));
        _disputeByGuardians(1, "a");
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        vm.prank(guardians[1]);
        settlement.dispute(1, "b");
    }

    function testFuzz_RevertWhen_dispute_notSubmitted(uint32 epoch) public {
        vm.assume(epoch != 1);
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, epoch));
        vm.prank(guardians[0]);
        settlement.dispute(epoch, "x");
    }

    function test_RevertWhen_dispute_voidedEpoch() public {
        _submit(_h(1));
        vm.prank(owner);
        settlement.dispute(1, "bad");
        vm.prank(owner);
        settlement.resolveDispute(1, false);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        vm.prank(owner);
        settlement.dispute(1, "again");
    }

    // ------------------------------------------------------------------ resolveDispute

    function testFuzz_RevertWhen_resolveDispute_notOwner(address caller) public {
        vm.assume(caller != owner);
        _submit(_h(1));
        vm.prank(owner);
        settlement.dispute(1, "x");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        settlement.resolveDispute(1, true);
    }

    function test_RevertWhen_resolveDispute_notDisputed() public {
        _submit(_h(1));
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.resolveDispute(1, true);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 2));
        settlement.resolveDispute(2, false);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.resolveDispute(0, false);
        // resolved once: not disputed any more
        settlement.dispute(1, "x");
        settlement.resolveDispute(1, true);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.resolveDispute(1, true);
        vm.stopPrank();
    }

    function test_RevertWhen_resolveDispute_voidedEpoch() public {
        vm.warp(settlement.epochEnd(2));
        _submitRange(1, 2);
        vm.startPrank(owner);
        settlement.dispute(1, "x");
        settlement.dispute(2, "y");
        settlement.resolveDispute(1, false);
        // epoch 2 was voided with epoch 1, even though it was disputed too
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 2));
        settlement.resolveDispute(2, false);
        vm.stopPrank();
    }

    function testFuzz_resolveDispute_validFinalizesNow(uint256 wait) public {
        vm.warp(settlement.epochEnd(2));
        _submitRange(1, 2);
        _disputeByGuardians(1, "x");
        wait = bound(wait, 0, 2 * DISPUTE_WINDOW);
        vm.warp(block.timestamp + wait);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeResolved(1, true);
        vm.prank(owner);
        settlement.resolveDispute(1, true);
        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(1);
        assertEq(uint8(entry.status), uint8(EpochSettlement.EpochStatus.Pending));
        assertEq(entry.finalizeAt, block.timestamp);

        settlement.finalizeEpochs();
        // epoch 2 (submitted at the same time) follows once its own window passed
        assertEq(settlement.settlementProgress().lastFinalized, wait >= DISPUTE_WINDOW ? 2 : 1);
    }

    function test_resolveDispute_invalidVoidsLaterEpochs() public {
        vm.warp(settlement.epochEnd(4));
        for (uint32 e = 1; e <= 4; ++e) {
            _submit(_withFaults(_h(e), keccak256(abi.encode("faults", e)), 2));
        }
        _disputeByGuardians(2, "wrong root");
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Disputed);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeResolved(2, false);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochsVoided(2, 4);
        vm.prank(owner);
        settlement.resolveDispute(2, false);

        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 1);
        assertEq(p.lastFinalized, 0);
        assertEq(settlement.faultRoots(1), keccak256(abi.encode("faults", uint32(1))));
        for (uint32 e = 2; e <= 4; ++e) {
            assertEq(uint8(_status(e)), uint8(EpochSettlement.EpochStatus.None));
            assertEq(settlement.faultRoots(e), bytes32(0));
            _assertLifecycle(e, EpochSettlement.EpochLifecycle.None);
        }
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Pending));
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Pending);
        assertTrue(settlement.faultPending(1, 1));

        // voided epochs can no longer be published or disputed
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 3));
        settlement.publishScores(3, new NodeScore[](0), SCORES_END);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 3));
        vm.prank(owner);
        settlement.dispute(3, "x");

        // keepers resubmit from epoch 2; cumulative continues from epoch 1, not the voided epoch 4
        EpochHeader memory again = _header(2, keccak256("fixed root"), 150 ether, 100 ether);
        _submit(again);
        p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 2);
        assertEq(settlement.epochEntry(2).rewardRoot, keccak256("fixed root"));
        assertEq(settlement.faultRoots(2), bytes32(0));
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 2);
        assertEq(settlement.settlementProgress().finalizedCumulative, 150 ether);
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Finalized);
        _assertLifecycle(3, EpochSettlement.EpochLifecycle.None);
    }

    function test_resolveDispute_afterResolutionPeriodWhileNotExpired() public {
        _submit(_h(1));
        _disputeByGuardians(1, "x");
        vm.warp(block.timestamp + DISPUTE_RESOLUTION + 1 days);
        vm.prank(owner);
        settlement.resolveDispute(1, true);
        settlement.finalizeEpochs();
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
    }

    // ------------------------------------------------------------------ expireDispute

    /// @dev Issue 11 finding 6: a dispute the owner leaves unresolved voids the epoch (and later ones) after
    ///      the resolution period, for anyone who calls; keepers then resubmit.
    function testFuzz_expireDispute_voidsAfterResolutionPeriod(address caller, uint256 late) public {
        vm.warp(settlement.epochEnd(3));
        _submitRange(1, 3);
        _disputeByGuardians(2, "wrong root");
        uint40 expiresAt = settlement.epochEntry(2).finalizeAt;
        assertEq(expiresAt, block.timestamp + DISPUTE_RESOLUTION);

        vm.warp(expiresAt - 1);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.DisputeNotExpired.selector, 2, expiresAt));
        vm.prank(caller);
        settlement.expireDispute(2);

        vm.warp(uint256(expiresAt) + bound(late, 0, 365 days));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeExpired(2, caller);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochsVoided(2, 3);
        vm.prank(caller);
        settlement.expireDispute(2);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.None);
        _assertLifecycle(3, EpochSettlement.EpochLifecycle.None);
        // epoch 1 was not disputed: it finalizes; epoch 2 is submitted again
        settlement.finalizeEpochs();
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
        _submit(_header(2, keccak256("fixed"), 200 ether, 100 ether));
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Pending);
        // the owner can no longer resolve the expired dispute
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 2));
        vm.prank(owner);
        settlement.resolveDispute(2, true);
    }

    function test_RevertWhen_expireDispute_notDisputed() public {
        _submit(_h(1));
        vm.warp(block.timestamp + DISPUTE_WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.expireDispute(1);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 2));
        settlement.expireDispute(2);
        // resolved as valid: nothing to expire
        vm.startPrank(owner);
        settlement.dispute(1, "x");
        settlement.resolveDispute(1, true);
        vm.stopPrank();
        vm.warp(block.timestamp + DISPUTE_RESOLUTION);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.expireDispute(1);
    }

    function test_resolveDispute_voidedFaultTreeReplacedByResubmission() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submit(_withOneFault(_h(1), node, 9_000 ether, false));
        vm.startPrank(owner);
        settlement.dispute(1, "wrong amount");
        settlement.resolveDispute(1, false);
        vm.stopPrank();
        // resubmitted with a corrected tree of two leaves (the voided one had a single leaf)
        address[] memory nodes = new address[](2);
        uint96[] memory amounts = new uint96[](2);
        bool[] memory strikes = new bool[](2);
        (nodes[0], nodes[1]) = (node, node);
        (amounts[0], amounts[1]) = (900 ether, 100 ether);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
        assertEq(settlement.faultRoots(1), root);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
        assertFalse(settlement.faultPending(1, 2));
        // the voided leaf no longer verifies
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, node, 9_000 ether, false, new bytes32[](0));
        assertEq(settlement.executeFault(1, 0, node, 900 ether, false, Merkle.proof(leaves, 0)), 900 ether);
        assertEq(settlement.executeFault(1, 1, node, 100 ether, false, Merkle.proof(leaves, 1)), 100 ether);
        assertEq(staking.getNode(node).stake, 99_000 ether);
    }

    /// @dev Voiding an epoch forgets its fault root and every pending bit it set, so a resubmission with
    ///      fewer faults (here none) leaves no phantom leaves behind.
    function test_resolveDispute_voidClearsFaultPendingBits() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        EpochHeader memory h = _withFaults(_h(1), keccak256("fabricated faults"), 300);
        _submit(h);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 299));
        vm.startPrank(owner);
        settlement.dispute(1, "fabricated faults");
        settlement.resolveDispute(1, false);
        vm.stopPrank();
        assertFalse(settlement.faultPending(1, 0), "voided leaf 0 still pending");
        assertFalse(settlement.faultPending(1, 299), "voided leaf 299 still pending");

        // resubmitted with one real fault: only leaf 0 exists
        _submitAndFinalize(_withOneFault(_h(1), node, 1 ether, false));
        assertTrue(settlement.faultPending(1, 0));
        assertFalse(settlement.faultPending(1, 1), "leaf 1 of the voided tree still pending");
        assertFalse(settlement.faultPending(1, 299), "leaf 299 of the voided tree still pending");
    }
}
