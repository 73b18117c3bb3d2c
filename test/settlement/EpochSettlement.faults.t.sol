// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement faults: fault leaves recorded as pending at submission and `executeFault` after
///         finalization (slashing through NodeStaking, each leaf once).
contract EpochSettlementFaultsTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ submitEpoch: fault leaves recorded as pending

    function test_submitEpoch_withoutFaultsRecordsNothing() public {
        _submit(_h(1));
        assertEq(settlement.faultRoots(1), bytes32(0));
        assertFalse(settlement.faultPending(1, 0));
    }

    function testFuzz_submitEpoch_setsExactlyFaultCountPendingBits(uint32 count, uint32 probe) public {
        count = uint32(bound(count, 1, 1_100)); // up to five 256-bit words
        EpochHeader memory h = _withFaults(_h(1), keccak256("faults"), count);
        _submit(h);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, count - 1));
        assertFalse(settlement.faultPending(1, count));
        assertEq(settlement.faultPending(1, probe), probe < count);
        // no bleed into the neighbouring epochs' words
        assertFalse(settlement.faultPending(0, probe));
        assertFalse(settlement.faultPending(2, probe));
    }

    function test_submitEpoch_faultCountWordBoundaries() public {
        uint32[5] memory counts = [uint32(1), 255, 256, 257, 512];
        for (uint32 k; k < counts.length; ++k) {
            uint32 e = k + 1;
            _submit(_withFaults(_h(e), keccak256(abi.encode("faults", e)), counts[k]));
            vm.warp(block.timestamp + DISPUTE_WINDOW);
            assertTrue(settlement.faultPending(e, counts[k] - 1));
            assertFalse(settlement.faultPending(e, counts[k]));
        }
        // 256 fills word 0 exactly and leaves word 1 empty; 257 sets one bit of word 1
        assertTrue(settlement.faultPending(3, 255));
        assertFalse(settlement.faultPending(3, 256));
        assertTrue(settlement.faultPending(4, 256));
        assertFalse(settlement.faultPending(4, 257));
        assertTrue(settlement.faultPending(5, 511));
        assertFalse(settlement.faultPending(5, 512));
        assertFalse(settlement.faultPending(1, 1));
    }

    function testFuzz_RevertWhen_submitEpoch_faultRootWithoutCount(bytes32 root) public {
        vm.assume(root != bytes32(0));
        EpochHeader memory h = _withFaults(_h(1), root, 0);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultCountMismatch.selector, root, 0));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_faultCountWithoutRoot(uint32 count) public {
        count = uint32(bound(count, 1, type(uint32).max));
        EpochHeader memory h = _withFaults(_h(1), bytes32(0), count);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.FaultCountMismatch.selector, bytes32(0), count)
        );
        _trySubmit(h, bitmap, sigs);
    }

    // ------------------------------------------------------------------ executeFault

    /// @dev Registers nodeA (100k stake) and nodeB (10.5k) and finalizes epoch 1 with fault leaves
    ///      0: (nodeA, amountA, strikeA) and 1: (nodeB, 1,000, strike).
    function _faultEpoch(uint96 amountA, bool strikeA)
        internal
        returns (address nodeA, address nodeB, bytes32[] memory leaves)
    {
        (nodeA,) = _registerNode("nodeA", operator, 100_000 ether);
        (nodeB,) = _registerNode("nodeB", operator, 10_500 ether);
        address[] memory nodes = new address[](2);
        uint96[] memory amounts = new uint96[](2);
        bool[] memory strikes = new bool[](2);
        (nodes[0], nodes[1]) = (nodeA, nodeB);
        (amounts[0], amounts[1]) = (amountA, 1_000 ether);
        (strikes[0], strikes[1]) = (strikeA, true);
        bytes32 root;
        (leaves, root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
    }

    function testFuzz_executeFault_slashesWithCapAndPaysFinder(uint96 amount, bool strike) public {
        amount = uint96(bound(amount, 1, 1_000_000 ether));
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(amount, strike);
        uint96 cap = 10_000 ether; // 10% of 100k
        uint96 expected = amount < cap ? amount : cap;
        uint96 fee = uint96(uint256(expected) * FINDER_FEE_BPS / 10_000);
        uint32 clock = settlement.currentEpoch();
        assertGt(clock, 1);
        assertTrue(settlement.faultPending(1, 0));

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.FaultExecuted(1, 0, nodeA, amount, strike);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeA, 1, expected, finder, fee);
        if (strike) {
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.StrikeRecorded(nodeA, 1, 1);
        }
        vm.prank(finder);
        uint96 slashed = settlement.executeFault(1, 0, nodeA, amount, strike, Merkle.proof(leaves, 0));

        assertEq(slashed, expected);
        NodeStaking.Node memory n = staking.getNode(nodeA);
        assertEq(n.stake, 100_000 ether - expected);
        // the cap is booked against the settlement clock, not the fault's epoch
        assertEq(n.lastSlashEpoch, clock);
        assertEq(n.slashedInLastSlashEpoch, expected);
        assertEq(staking.slashCapRemaining(nodeA, clock), cap - expected);
        assertEq(token.balanceOf(finder), fee);
        assertEq(staking.sweepableSlashed(), expected - fee);
        assertFalse(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
        assertEq(n.recentStrikeEpochs, strike ? 1 : 0);
        // settlement escrow is untouched
        assertEq(token.balanceOf(address(settlement)), ESCROW);
        assertEq(settlement.settlementProgress().totalFunded, ESCROW);
    }

    function test_executeFault_ejectsBelowMinimum() public {
        (, address nodeB, bytes32[] memory leaves) = _faultEpoch(1, false);
        // nodeB has 10.5k stake (cap 1,050), requested 1k: 9.5k left, below the 10k minimum
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.FaultExecuted(1, 1, nodeB, 1_000 ether, true);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeB, 1, 1_000 ether, finder, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeB, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.prank(finder);
        uint96 slashed = settlement.executeFault(1, 1, nodeB, 1_000 ether, true, Merkle.proof(leaves, 1));
        assertEq(slashed, 1_000 ether);
        NodeStaking.Node memory n = staking.getNode(nodeB);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 9_500 ether);
        // ejected stake waits for the epoch in progress to be finalized
        assertEq(n.unbondingEpoch, settlement.currentEpoch());
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(token.balanceOf(finder), 50 ether);
        assertFalse(staking.isActive(nodeB));
    }

    function test_executeFault_anyCallerIsTheFinder() public {
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(2_000 ether, false);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeA, 1, 2_000 ether, carol, 100 ether);
        vm.prank(carol);
        settlement.executeFault(1, 0, nodeA, 2_000 ether, false, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(carol), 100 ether);
        assertEq(token.balanceOf(finder), 0);
    }

    function test_RevertWhen_executeFault_alreadyExecuted() public {
        (address nodeA, address nodeB, bytes32[] memory leaves) = _faultEpoch(500 ether, false);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        // also in a later clock epoch, with a fresh cap
        vm.warp(block.timestamp + 10 * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        // the other leaf is independent
        settlement.executeFault(1, 1, nodeB, 1_000 ether, true, Merkle.proof(leaves, 1));
        assertFalse(settlement.faultPending(1, 1));
        assertEq(staking.getNode(nodeA).stake, 99_500 ether);
    }

    function testFuzz_RevertWhen_executeFault_indexBeyondFaultCount(uint32 index) public {
        index = uint32(bound(index, 2, type(uint32).max));
        (address nodeA,,) = _faultEpoch(500 ether, false);
        assertFalse(settlement.faultPending(1, index));
        // an index the header did not count has no pending bit (checked before the proof)
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, index));
        settlement.executeFault(1, index, nodeA, 500 ether, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_leafIndexOutsideCountInSignedTree() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        // the tree holds three leaves but the header counts two: leaf 2 is dead
        address[] memory nodes = new address[](3);
        uint96[] memory amounts = new uint96[](3);
        bool[] memory strikes = new bool[](3);
        (nodes[0], nodes[1], nodes[2]) = (node, node, node);
        (amounts[0], amounts[1], amounts[2]) = (1 ether, 2 ether, 3 ether);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 2));
        settlement.executeFault(1, 2, node, 3 ether, false, Merkle.proof(leaves, 2));
        assertEq(settlement.executeFault(1, 1, node, 2 ether, false, Merkle.proof(leaves, 1)), 2 ether);
    }

    function testFuzz_RevertWhen_executeFault_invalidProof(uint96 wrongAmount) public {
        vm.assume(wrongAmount != 500 ether);
        (address nodeA, address nodeB, bytes32[] memory leaves) = _faultEpoch(500 ether, false);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, wrongAmount, false, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, true, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeB, 500 ether, false, proof);
        // leaf 0's content under index 1: the index is part of the leaf
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 1));
        settlement.executeFault(1, 1, nodeA, 500 ether, false, proof);
        // leaf 1 with leaf 0's proof
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 1));
        settlement.executeFault(1, 1, nodeB, 1_000 ether, true, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, new bytes32[](0));
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
    }

    function test_RevertWhen_executeFault_leafOfAnotherEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submitAndFinalize(_withOneFault(_h(1), node, 1 ether, false));
        _submitAndFinalize(_withOneFault(_h(2), node, 1 ether, false));
        // epoch 1's leaf replayed as epoch 2's: the epoch is part of the leaf
        bytes32[] memory proof = new bytes32[](0);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 2, 0));
        settlement.executeFault(2, 0, node, 2 ether, false, proof);
        assertEq(settlement.executeFault(1, 0, node, 1 ether, false, proof), 1 ether);
        assertEq(settlement.executeFault(2, 0, node, 1 ether, false, proof), 1 ether);
    }

    function test_RevertWhen_executeFault_epochZeroOrNotFinalized() public {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 0, 0));
        settlement.executeFault(0, 0, address(1), 1, false, new bytes32[](0));

        _submit(_withOneFault(_h(1), address(1), 1, false));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 1, 0));
        settlement.executeFault(1, 0, address(1), 1, false, new bytes32[](0));

        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 0, 1));
        settlement.executeFault(0, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_disputedEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submit(_withOneFault(_h(1), node, 1 ether, false));
        vm.prank(owner);
        settlement.dispute(1, "check");
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 1, 0));
        settlement.executeFault(1, 0, node, 1 ether, false, new bytes32[](0));
        assertTrue(settlement.faultPending(1, 0));
    }

    function testFuzz_RevertWhen_executeFault_futureEpoch(uint32 epoch) public {
        epoch = uint32(bound(epoch, 2, type(uint32).max));
        _submitAndFinalize(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, epoch, 1));
        settlement.executeFault(epoch, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_noFaultsInEpoch() public {
        _submitAndFinalize(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NoFaultsInEpoch.selector, 1));
        settlement.executeFault(1, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_unregisteredNode() public {
        address ghost = makeAddr("ghost");
        _submitAndFinalize(_withOneFault(_h(1), ghost, 1 ether, false));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, ghost));
        settlement.executeFault(1, 0, ghost, 1 ether, false, new bytes32[](0));
        // the whole transaction reverted: the leaf is still pending
        assertTrue(settlement.faultPending(1, 0));
    }

    function test_executeFault_oldEpochAfterRingWrapped() public {
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(500 ether, true);
        for (uint32 e = 2; e <= 12; ++e) {
            _submitAndFinalize(_h(e));
        }
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.epochEntry(1);
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
        assertTrue(settlement.faultPending(1, 0));
        uint96 slashed = settlement.executeFault(1, 0, nodeA, 500 ether, true, Merkle.proof(leaves, 0));
        assertEq(slashed, 500 ether);
        assertFalse(settlement.faultPending(1, 0));
    }

    function test_RevertWhen_executeFault_voidedFaultRootResubmittedWithout() public {
        (address nodeA,) = _registerNode("nodeA", operator, 100_000 ether);
        _submitAndFinalize(_h(1));
        _submit(_withOneFault(_h(2), nodeA, 500 ether, false));
        vm.startPrank(owner);
        settlement.dispute(2, "fabricated fault");
        settlement.resolveDispute(2, false);
        vm.stopPrank();
        _submitAndFinalize(_h(2));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NoFaultsInEpoch.selector, 2));
        settlement.executeFault(2, 0, nodeA, 500 ether, false, new bytes32[](0));
        assertEq(staking.getNode(nodeA).stake, 100_000 ether);
    }

    function test_executeFault_severalLeavesForOneNodeInOneEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        address[] memory nodes = new address[](3);
        uint96[] memory amounts = new uint96[](3);
        bool[] memory strikes = new bool[](3);
        (nodes[0], nodes[1], nodes[2]) = (node, node, node);
        (amounts[0], amounts[1], amounts[2]) = (3_000 ether, 4_000 ether, 0);
        (strikes[0], strikes[1], strikes[2]) = (false, true, true);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 3));
        // any order; each leaf once
        assertEq(settlement.executeFault(1, 2, node, 0, true, Merkle.proof(leaves, 2)), 0);
        assertEq(settlement.executeFault(1, 1, node, 4_000 ether, true, Merkle.proof(leaves, 1)), 4_000 ether);
        assertEq(
            settlement.executeFault(1, 0, node, 3_000 ether, false, Merkle.proof(leaves, 0)), 3_000 ether
        );
        NodeStaking.Node memory n = staking.getNode(node);
        assertEq(n.stake, 93_000 ether);
        assertEq(n.slashedInLastSlashEpoch, 7_000 ether);
        // two strikes for the same epoch count once
        assertEq(n.recentStrikeEpochs, 1);
        for (uint32 i; i < 3; ++i) {
            assertFalse(settlement.faultPending(1, i));
        }
    }

    /// @dev Within one clock epoch the cap is shared by every fault; a leaf arriving after it is used up
    ///      reverts (staying pending) and goes through in a later clock epoch.
    function test_executeFault_capReachedLeafStaysPendingForNextClockEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        address[] memory nodes = new address[](4);
        uint96[] memory amounts = new uint96[](4);
        bool[] memory strikes = new bool[](4);
        (nodes[0], nodes[1], nodes[2], nodes[3]) = (node, node, node, node);
        (amounts[0], amounts[1], amounts[2], amounts[3]) = (8_000 ether, 5_000 ether, 500 ether, 0);
        (strikes[0], strikes[1], strikes[2], strikes[3]) = (false, false, false, true);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 4));
        uint32 clock = settlement.currentEpoch();

        assertEq(
            settlement.executeFault(1, 0, node, 8_000 ether, false, Merkle.proof(leaves, 0)), 8_000 ether
        );
        // 2,000 of the cap left: the 5,000 leaf is cut to 2,000 and the rest forgiven
        assertEq(
            settlement.executeFault(1, 1, node, 5_000 ether, false, Merkle.proof(leaves, 1)), 2_000 ether
        );
        assertEq(staking.slashCapRemaining(node, clock), 0);
        assertFalse(settlement.faultPending(1, 1));

        // cap used up: the next slash reverts and the leaf stays pending
        bytes32[] memory proof2 = Merkle.proof(leaves, 2);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(1, 2, node, 500 ether, false, proof2);
        assertTrue(settlement.faultPending(1, 2));
        // a strike-only leaf needs no cap
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(node, 1, 1);
        assertEq(settlement.executeFault(1, 3, node, 0, true, Merkle.proof(leaves, 3)), 0);

        // still the same clock epoch one second before it ends
        vm.warp(settlement.epochEnd(clock) - 1);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(1, 2, node, 500 ether, false, proof2);
        // the next clock epoch brings a fresh cap (10% of the 90k left)
        vm.warp(settlement.epochEnd(clock));
        assertEq(settlement.currentEpoch(), clock + 1);
        assertEq(staking.slashCapRemaining(node, clock + 1), 9_000 ether);
        assertEq(settlement.executeFault(1, 2, node, 500 ether, false, proof2), 500 ether);
        assertFalse(settlement.faultPending(1, 2));
        NodeStaking.Node memory n = staking.getNode(node);
        assertEq(n.stake, 89_500 ether);
        assertEq(n.lastSlashEpoch, clock + 1);
        assertEq(n.slashedInLastSlashEpoch, 500 ether);
    }

    function _equivocate(uint256 nodePk, uint32 e) internal returns (uint96) {
        NodeStaking.EpochCommitment memory a = NodeStaking.EpochCommitment(e, keccak256("a"), 10, 1);
        NodeStaking.EpochCommitment memory b = NodeStaking.EpochCommitment(e, keccak256("b"), 10, 1);
        return staking.proveEquivocation(a, _signCommitment(nodePk, a), b, _signCommitment(nodePk, b));
    }

    /// @dev Submits and finalizes epochs 1 and 2, each with one fault leaf (index 0) against `node`.
    function _twoFaultEpochs(address node, uint96 amount1, uint96 amount2) internal {
        _submitAndFinalize(_withOneFault(_h(1), node, amount1, false));
        _submitAndFinalize(_withOneFault(_h(2), node, amount2, false));
    }

    function test_executeFault_perEpochCapSharedWithEquivocation() public {
        (address node, uint256 pk) = _registerNode("capped", operator, 100_000 ether);
        _twoFaultEpochs(node, 10_000 ether, 1_000 ether);
        uint32 clock = settlement.currentEpoch();
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, false, new bytes32[](0)), 10_000 ether);
        // the 10% cap of this clock epoch is used up: an equivocation proof now reverts
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        this.equivocateExternal(pk, 1);
        assertFalse(staking.equivocationProven(node, 1));
        assertEq(staking.getNode(node).stake, 90_000 ether);
    }

    /// @dev External wrapper so `vm.expectRevert` applies to the whole proof (signing happens first).
    function equivocateExternal(uint256 nodePk, uint32 e) external returns (uint96) {
        return _equivocate(nodePk, e);
    }

    /// @dev Was skipped: the cap used to be per fault epoch and only remembered the latest one, so
    ///      executing faults of different epochs in between gave epoch 1 a second 10%. The cap is now per
    ///      settlement-clock epoch (NodeStaking._slash / _slashCapRemaining take `currentEpoch`): whatever
    ///      order faults and equivocations of any epochs are applied in, one clock epoch slashes at most
    ///      10% of the stake.
    function test_executeFault_perEpochCapHoldsAcrossInterleavedEpochs() public {
        (address node, uint256 pk) = _registerNode("capped", operator, 100_000 ether);
        _twoFaultEpochs(node, 10_000 ether, 1_000 ether);
        uint32 clock = settlement.currentEpoch();
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, false, new bytes32[](0)), 10_000 ether);
        // epoch 2's fault and an equivocation of epoch 1 in the same clock epoch: nothing more
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(2, 0, node, 1_000 ether, false, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        this.equivocateExternal(pk, 1);
        assertEq(staking.getNode(node).stake, 90_000 ether, "clock epoch slashed above its 10% cap");
        assertTrue(settlement.faultPending(2, 0));

        // next clock epoch: 10% of the 90k left, shared by epoch 2's fault and the equivocation
        vm.warp(settlement.epochEnd(clock));
        assertEq(settlement.executeFault(2, 0, node, 1_000 ether, false, new bytes32[](0)), 1_000 ether);
        assertEq(_equivocate(pk, 1), 5_000 ether);
        assertEq(staking.slashCapRemaining(node, clock + 1), 3_000 ether);
        assertEq(staking.getNode(node).stake, 84_000 ether);
        // and a second equivocation in that clock epoch is cut to what is left
        assertEq(_equivocate(pk, 2), 3_000 ether);
        assertEq(staking.getNode(node).stake, 81_000 ether);
    }

    /// @dev Was a documented design risk: a node could unbond, let its cooldown run out while the epoch
    ///      carrying its fault sat disputed, and withdraw before the fault could be executed. Withdrawal
    ///      now also waits until the settlement has finalized the clock epoch of the unbond.
    function test_executeFault_stakeWithdrawBlockedWhileFinalizationStalled() public {
        (address node,) = _registerNode("runner", operator, 100_000 ether);
        vm.prank(operator);
        staking.requestUnbond(node, 100_000 ether);
        uint32 unbondingEpoch = settlement.currentEpoch();
        assertEq(staking.getNode(node).unbondingEpoch, unbondingEpoch);
        _submit(_withOneFault(_h(1), node, 10_000 ether, true));
        vm.prank(owner);
        settlement.dispute(1, "needs review");

        vm.warp(block.timestamp + UNBONDING);
        assertGe(block.timestamp, staking.getNode(node).unbondingReleaseAt);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.UnbondingEpochNotFinalized.selector, node, unbondingEpoch, 0)
        );
        vm.prank(operator);
        staking.withdraw(node);

        vm.prank(owner);
        settlement.resolveDispute(1, true);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 1);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, true, new bytes32[](0)), 10_000 ether);
        assertEq(staking.getNode(node).unbonding, 90_000 ether);

        vm.warp(staking.faultWindowEnd(node)); // see EpochSettlement.stall.t.sol
        vm.prank(operator);
        staking.withdraw(node);
        assertEq(token.balanceOf(operator), 90_000 ether);
        assertEq(token.balanceOf(finder), 500 ether);
    }
}
