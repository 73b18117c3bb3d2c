// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";

/// @notice NodeStaking equivocation proofs: `proveEquivocation` slashes, strikes and pays the finder once
///         per node and epoch; every malformed proof reverts.
contract NodeStakingEquivocationTest is NodeStakingTestBase {
    // ================================================================ proveEquivocation

    function testFuzz_ProveEquivocation(
        uint96 stake,
        uint32 epoch,
        bytes32 rootA,
        bytes32 rootB,
        address caller,
        uint256 elapsed
    ) public {
        vm.assume(rootA != rootB);
        assumeNotForgeAddress(caller);
        vm.assume(caller != address(0) && caller != address(staking));
        stake = uint96(bound(stake, 60_000 ether, MAX_FUZZ_STAKE)); // the 5k slash stays under the 10% cap
        epoch = uint32(bound(epoch, 1, type(uint32).max));
        vm.warp(block.timestamp + bound(elapsed, 0, 3_650 days));
        (address nodeKey, uint256 pk) = _registerNode("node", operator, stake);
        Proof memory p = _proof(pk, epoch, rootA, rootB);
        uint256 callerBefore = token.balanceOf(caller);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.EquivocationProven(nodeKey, epoch, caller);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, epoch, EQUIVOCATION_SLASH, caller, 250 ether); // 5% fee
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), caller, 250 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, epoch, 1);
        assertEq(_submitProof(p, caller), EQUIVOCATION_SLASH);

        assertEq(token.balanceOf(caller) - callerBefore, 250 ether);
        _assertProven(nodeKey, stake, epoch);
    }

    function _assertProven(address nodeKey, uint96 stake, uint32 epoch) internal view {
        assertTrue(staking.equivocationProven(nodeKey, epoch));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, stake - EQUIVOCATION_SLASH);
        assertEq(n.recentStrikeEpochs, epoch);
        assertEq(n.lastSlashEpoch, _clock(), "the cap is keyed on the settlement clock, not the proven epoch");
        assertEq(n.slashedInLastSlashEpoch, EQUIVOCATION_SLASH);
        assertEq(settlement.currentEpoch(), _clock());
        assertEq(
            staking.slashCapRemaining(nodeKey, _clock()),
            uint256(stake) * MAX_SLASH_BPS / BPS - EQUIVOCATION_SLASH
        );
        assertTrue(staking.isActive(nodeKey));
        _assertSweepable(EQUIVOCATION_SLASH - 250 ether);
    }

    function testFuzz_ProveEquivocation_AnyFieldDiffers(uint8 field, uint128 units, uint64 leaves) public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        NodeStaking.EpochCommitment memory a = _commit(8, keccak256("r"));
        NodeStaking.EpochCommitment memory b = _commit(8, keccak256("r"));
        if (bound(field, 0, 1) == 0) {
            vm.assume(units != a.totalUnits);
            b.totalUnits = units;
        } else {
            vm.assume(leaves != a.leafCount);
            b.leafCount = leaves;
        }
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.prank(finder);
        assertEq(staking.proveEquivocation(a, sigA, b, sigB), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 8));
    }

    function test_ProveEquivocation_MinimumStakeNodeEjected() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        Proof memory p = _proof(pk, 2);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 2, 1_000 ether, stranger, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 2, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 1);
        assertEq(_submitProof(p, stranger), 1_000 ether); // capped at 10% of 10k
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1);
        assertEq(token.balanceOf(stranger), 50 ether);
    }

    function test_ProveEquivocation_ThreeEpochsEjectByStrikes() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _prove(pk, 1, finder); // clock 1: 5k of a 10k cap
        _nextClockEpoch();
        _prove(pk, 2, finder); // clock 2: 5k of a 9.5k cap
        assertTrue(staking.isActive(nodeKey));
        _nextClockEpoch();
        Proof memory p = _proof(pk, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _submitProof(p, finder); // clock 3: 5k of a 9k cap
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.unbonding, 85_000 ether);
        assertEq(n.unbondingEpoch, 3);
        assertEq(token.balanceOf(finder), 750 ether);
        _assertSweepable(14_250 ether);
    }

    function test_ProveEquivocation_ThreeEpochsInOneClockEpochHitTheCap() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        assertEq(_prove(pk, 1, finder), 5_000 ether);
        assertEq(_prove(pk, 2, finder), 5_000 ether);
        Proof memory p = _proof(pk, 3);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _submitProof(p, finder);
        assertTrue(staking.isActive(nodeKey), "the third strike was not recorded");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, (uint128(2) << 32) | 1);
        _nextClockEpoch();
        assertEq(_submitProof(p, finder), 5_000 ether);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function test_ProveEquivocation_SharesClockCapWithFaults() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 6, 8_000 ether, false), 8_000 ether);
        // a different epoch, the same clock epoch: only the rest of the cap
        assertEq(_prove(pk, 7, stranger), 2_000 ether, "only the rest of the clock epoch's cap");
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);
        assertEq(token.balanceOf(stranger), 100 ether);
    }

    function test_RevertWhen_ProveEquivocation_SlashCapReached() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 6, type(uint96).max, false);
        Proof memory p = _proof(pk, 6);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _submitProof(p, stranger);
        assertFalse(staking.equivocationProven(nodeKey, 6), "the proof can be submitted again later");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 0);
        assertEq(token.balanceOf(stranger), 0);

        _nextClockEpoch();
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.EquivocationProven(nodeKey, 6, stranger);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 6, EQUIVOCATION_SLASH, stranger, 250 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 6, 1);
        assertEq(_submitProof(p, stranger), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 6));
        assertEq(staking.getNode(nodeKey).lastSlashEpoch, 2);
    }

    /// @notice With `equivocationSlash == 0` a proof is strike-only: it never hits the cap.
    function test_ProveEquivocation_ZeroSlashIsStrikeOnly() public {
        NodeStaking.Config memory c = _config();
        c.equivocationSlash = 0;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, 100_000 ether);
        vm.prank(address(settlement));
        s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder); // cap used up
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);

        NodeStaking.EpochCommitment memory a = _commit(4, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(4, keccak256("b"));
        (uint8 va, bytes32 ra, bytes32 sa) = vm.sign(pk, s.commitmentDigest(a));
        (uint8 vb, bytes32 rb, bytes32 sb) = vm.sign(pk, s.commitmentDigest(b));
        vm.recordLogs();
        vm.prank(stranger);
        assertEq(s.proveEquivocation(a, abi.encodePacked(ra, sa, va), b, abi.encodePacked(rb, sb, vb)), 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2);
        assertEq(logs[0].topics[0], NodeStaking.EquivocationProven.selector);
        assertEq(logs[1].topics[0], NodeStaking.StrikeRecorded.selector);
        assertTrue(s.equivocationProven(nodeKey, 4));
        assertEq(s.getNode(nodeKey).recentStrikeEpochs, 4);
        assertEq(s.getNode(nodeKey).stake, 90_000 ether);
    }

    function test_ProveEquivocation_UsesSettlementClock() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        vm.warp(genesis + 8 * EPOCH); // clock epoch 9
        assertEq(_prove(pk, 3, finder), EQUIVOCATION_SLASH);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, 9);
        assertEq(staking.slashCapRemaining(nodeKey, 9), 5_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 3), 9_500 ether, "the proven epoch is not the cap key");
    }

    function test_ProveEquivocation_ExitingNode() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 100_000 ether);
        assertEq(_prove(pk, 1, finder), EQUIVOCATION_SLASH);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 95_000 ether);
        assertEq(n.unbondingEpoch, 1, "a slash does not move the epoch to finalize");
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
    }

    function testFuzz_RevertWhen_ProveEquivocation_EpochMismatch(uint32 epochA, uint32 epochB) public {
        vm.assume(epochA != epochB);
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(epochA, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(epochB, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.CommitmentEpochMismatch.selector, epochA, epochB));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_EpochZero() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(0, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(0, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("epoch")));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_Identical() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(NodeStaking.CommitmentsIdentical.selector);
        staking.proveEquivocation(a, sigA, a, sigA);
    }

    function test_RevertWhen_ProveEquivocation_IdenticalWithDifferentSignatures() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        (, uint256 otherPk) = makeAddrAndKey("other");
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigOther = _signCommitment(otherPk, a);
        vm.expectRevert(NodeStaking.CommitmentsIdentical.selector);
        staking.proveEquivocation(a, sigA, a, sigOther);
    }

    function test_RevertWhen_ProveEquivocation_SignerMismatch() public {
        (address keyA, uint256 pkA) = _registerNode("a", operator, MIN_STAKE);
        (address keyB, uint256 pkB) = _registerNode("b", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pkA, a);
        bytes memory sigB = _signCommitment(pkB, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.CommitmentSignerMismatch.selector, keyA, keyB));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_UnregisteredSigner() public {
        (address key, uint256 pk) = makeAddrAndKey("unregistered");
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, key));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_AlreadyProven() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _prove(pk, 1, finder);
        // the same pair again
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("root-a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("root-b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.EquivocationAlreadyProven.selector, nodeKey, uint32(1))
        );
        staking.proveEquivocation(a, sigA, b, sigB);
        // and a different pair for the same epoch
        NodeStaking.EpochCommitment memory c = _commit(1, keccak256("root-c"));
        bytes memory sigC = _signCommitment(pk, c);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.EquivocationAlreadyProven.selector, nodeKey, uint32(1))
        );
        staking.proveEquivocation(a, sigA, c, sigC);
    }

    function testFuzz_RevertWhen_ProveEquivocation_BadSignatureLength(bytes calldata sig) public {
        vm.assume(sig.length != 65);
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, sig.length));
        staking.proveEquivocation(a, sigA, b, sig);
    }

    function test_RevertWhen_ProveEquivocation_InvalidSignature() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        staking.proveEquivocation(a, sigA, b, new bytes(65)); // r = s = 0, v = 0
    }
}
