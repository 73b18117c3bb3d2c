// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Merkle} from "../utils/Merkle.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader, NodeScore} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement disputes: `dispute` by guardians or the owner, and the owner's `resolveDispute`
///         (valid: finalizes now; invalid: voids the epoch and every later one, faults included).
contract EpochSettlementDisputesTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ dispute

    function testFuzz_dispute_byAnyGuardian(uint256 i, string calldata reason) public {
        address g = guardians[bound(i, 0, 6)];
        _submit(_h(1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, g, reason);
        vm.prank(g);
        settlement.dispute(1, reason);
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Disputed));
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
        vm.prank(guardians[0]);
        settlement.dispute(1, "a");
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
        vm.prank(guardians[2]);
        settlement.dispute(1, "x");
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
        vm.prank(guardians[6]);
        settlement.dispute(2, "wrong root");
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
