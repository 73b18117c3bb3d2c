// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";

/// @notice NodeStaking unbonding: `requestUnbond` and `withdraw`, including the wait for the unbonding
///         epoch to be finalized by the settlement.
contract NodeStakingUnbondingTest is NodeStakingTestBase {
    // ================================================================ requestUnbond

    function testFuzz_RequestUnbond_Partial(uint96 stake, uint96 amount) public {
        stake = uint96(bound(stake, MIN_STAKE + 1, MAX_FUZZ_STAKE));
        amount = uint96(bound(amount, 1, stake - MIN_STAKE));
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, amount, stake - amount, releaseAt);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, amount);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, stake - amount);
        assertEq(n.unbonding, amount);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1, "settlement clock at genesis");
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
        assertEq(staking.totalStaked(), stake - amount);
        assertEq(staking.totalUnbonding(), amount);
        assertEq(token.balanceOf(address(staking)), stake, "no tokens move on unbond");
    }

    function testFuzz_RequestUnbond_FullExits(uint96 stake) public {
        stake = _boundStake(stake);
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, stake, 0, releaseAt);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, stake);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, stake);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
        assertFalse(staking.isActive(nodeKey));
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), stake);
    }

    function testFuzz_RequestUnbond_RecordsSettlementClockEpoch(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3_650 days);
        (address nodeKey,) = _registerNode("node", operator, 2 * MIN_STAKE);
        vm.warp(block.timestamp + elapsed);
        uint32 expected = uint32(elapsed / EPOCH + 1);
        assertEq(settlement.currentEpoch(), expected);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, expected);
    }

    function testFuzz_RequestUnbond_RestartsCooldown(uint96 first, uint96 second, uint256 elapsed) public {
        uint96 stake = 10 * MIN_STAKE;
        first = uint96(bound(first, 1, 4 * MIN_STAKE));
        second = uint96(bound(second, 1, 4 * MIN_STAKE));
        elapsed = bound(elapsed, 1, UNBONDING - 1);
        (address nodeKey,) = _registerNode("node", operator, stake);

        vm.prank(operator);
        staking.requestUnbond(nodeKey, first);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1);
        uint256 firstRelease = block.timestamp + UNBONDING;
        vm.warp(block.timestamp + elapsed);
        uint40 newRelease = uint40(block.timestamp + UNBONDING);
        uint32 secondEpoch = uint32(elapsed / EPOCH + 1);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, second, stake - first - second, newRelease);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, second);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, first + second);
        assertEq(n.unbondingReleaseAt, newRelease);
        assertEq(n.unbondingEpoch, secondEpoch, "the latest unbond moves the epoch to finalize");
        assertGt(newRelease, firstRelease);

        // the first tranche is not released at its original time any more
        vm.warp(firstRelease);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, newRelease)
        );
        staking.withdraw(nodeKey);

        // with only the first tranche's epoch finalized, a second unbond in a later epoch keeps it locked
        if (secondEpoch > 1) {
            _finalizeThrough(secondEpoch - 1);
            if (block.timestamp < newRelease) vm.warp(newRelease);
            vm.prank(operator);
            vm.expectRevert(
                abi.encodeWithSelector(
                    NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, secondEpoch, secondEpoch - 1
                )
            );
            staking.withdraw(nodeKey);
        }

        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), uint256(first) + second);
    }

    function test_RevertWhen_RequestUnbond_ZeroAmount() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.requestUnbond(nodeKey, 0);
    }

    function testFuzz_RevertWhen_RequestUnbond_ExceedsStake(uint96 stake, uint96 amount) public {
        stake = _boundStake(stake);
        amount = uint96(bound(amount, uint256(stake) + 1, type(uint96).max));
        (address nodeKey,) = _registerNode("node", operator, stake);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondExceedsStake.selector, amount, stake));
        staking.requestUnbond(nodeKey, amount);
    }

    function testFuzz_RevertWhen_RequestUnbond_LeavesBelowMinimum(uint96 stake, uint96 amount) public {
        stake = uint96(bound(stake, MIN_STAKE + 1, MAX_FUZZ_STAKE));
        // 0 < remaining < minStake
        amount = uint96(bound(amount, uint256(stake) - MIN_STAKE + 1, uint256(stake) - 1));
        (address nodeKey,) = _registerNode("node", operator, stake);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.StakeBelowMinimum.selector, stake - amount, MIN_STAKE)
        );
        staking.requestUnbond(nodeKey, amount);
    }

    function testFuzz_RevertWhen_RequestUnbond_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.requestUnbond(nodeKey, MIN_STAKE);
    }

    function test_RevertWhen_RequestUnbond_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.requestUnbond(nodeKey, 1);
    }

    function test_RevertWhen_RequestUnbond_NodeExiting() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Exiting
            )
        );
        staking.requestUnbond(nodeKey, 1);
    }

    function test_RevertWhen_RequestUnbond_NodeEjected() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1, false);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Ejected
            )
        );
        staking.requestUnbond(nodeKey, 1);
    }

    // ================================================================ withdraw

    function testFuzz_Withdraw(uint96 stake, uint96 amount, uint256 extra) public {
        stake = uint96(bound(stake, MIN_STAKE, MAX_FUZZ_STAKE));
        (address nodeKey,) = _registerNode("node", operator, stake);
        // partial (leaving >= min) or full
        amount = stake == MIN_STAKE ? stake : uint96(bound(amount, 1, stake - MIN_STAKE));
        extra = bound(extra, 0, 365 days);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, amount);
        vm.warp(block.timestamp + UNBONDING + extra);
        _finalizeThrough(1);
        _passFaultWindow(nodeKey);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StakeWithdrawn(nodeKey, operator, amount);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), operator, amount);
        vm.prank(operator);
        staking.withdraw(nodeKey);

        assertEq(token.balanceOf(operator), amount);
        assertEq(token.balanceOf(address(staking)), stake - amount);
        assertEq(staking.getNode(nodeKey).unbonding, 0);
        assertEq(staking.getNode(nodeKey).stake, stake - amount);
        assertEq(staking.totalUnbonding(), 0);
        assertEq(staking.totalStaked(), stake - amount);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    function test_Withdraw_ExactlyAtRelease() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        _finalizeThrough(1); // two days in, long before the release

        vm.warp(releaseAt - 1);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, releaseAt));
        staking.withdraw(nodeKey);

        vm.warp(releaseAt);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
    }

    function test_RevertWhen_Withdraw_NothingUnbonding() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    /// @dev Nothing is finalized either: the cooldown is checked first.
    function testFuzz_RevertWhen_Withdraw_NotReleased(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, UNBONDING - 1);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.warp(block.timestamp + elapsed);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, releaseAt));
        staking.withdraw(nodeKey);
    }

    function testFuzz_RevertWhen_Withdraw_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        _releaseAndFinalize(nodeKey);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.withdraw(nodeKey);
    }

    function test_RevertWhen_Withdraw_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    function test_Withdraw_AfterEjectionReturnsRemainingStake() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        uint96 slashed = _fault(nodeKey, 1, type(uint96).max, false);
        assertEq(slashed, MIN_STAKE / 10);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1, "ejection records the clock epoch");
        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - slashed);
        _assertSweepable(slashed - _fee(slashed));
    }

    function test_RevertWhen_Withdraw_UnbondingFullySlashed() public {
        // maxSlashBps = 100% so one fault can take the whole unbonding balance
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = uint16(BPS);
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);
        vm.prank(operator);
        s.requestUnbond(nodeKey, MIN_STAKE);
        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, MIN_STAKE, false, finder), MIN_STAKE);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        s.withdraw(nodeKey);
    }

    // ================================================================ withdraw: finalization of the unbonding epoch

    function test_RevertWhen_Withdraw_UnbondingEpochNotFinalized() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        vm.warp(block.timestamp + UNBONDING + 365 days); // cooldown long over, nothing ever settled
        assertEq(settlement.lastFinalizedEpoch(), 0);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(1), uint32(0)
            )
        );
        staking.withdraw(nodeKey);
        assertEq(staking.getNode(nodeKey).unbonding, MIN_STAKE, "nothing moved");
        assertEq(token.balanceOf(address(staking)), MIN_STAKE);
    }

    function testFuzz_Withdraw_WaitsForFinalizedUnbondingEpoch(uint256 unbondEpoch, uint256 finalized)
        public
    {
        uint32 u = uint32(bound(unbondEpoch, 1, 12));
        uint32 f = uint32(bound(finalized, 0, 14));
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.warp(genesis + uint256(u - 1) * EPOCH + 1 hours);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, u);

        _finalizeThrough(f);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        if (block.timestamp < releaseAt) vm.warp(releaseAt);
        if (f < u) {
            vm.prank(operator);
            vm.expectRevert(
                abi.encodeWithSelector(NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, u, f)
            );
            staking.withdraw(nodeKey);
            _finalizeThrough(u);
        }
        _passFaultWindow(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE);
        assertEq(staking.totalUnbonding(), 0);
    }

    /// @notice Settlement stalls (an epoch is disputed): the cooldown and the later epoch's dispute window both
    ///         pass, yet nothing new is finalized, so the stake stays slashable and locked. Once the dispute is
    ///         resolved and the unbonding epoch finalizes, the withdrawal goes through.
    function test_Withdraw_BlockedWhileSettlementStalls() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _finalizeThrough(2); // time: end of epoch 2 + dispute window = start of epoch 4
        assertEq(settlement.currentEpoch(), 4);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 4);

        _submit(_header(3, bytes32(0), 0, 0));
        _disputeByGuardians(3, "bad scores");
        _submit(_header(4, bytes32(0), 0, 0));
        vm.warp(block.timestamp + UNBONDING + DISPUTE_WINDOW);
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 2);

        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(4), uint32(2)
            )
        );
        staking.withdraw(nodeKey);

        // a fault found meanwhile can still reach the locked stake
        assertEq(_fault(nodeKey, 3, 100 ether, false), 100 ether);

        vm.prank(owner);
        settlement.resolveDispute(3, true);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 4);
        // finalized now: its faults get one epoch before the stake can leave, and the slash above (clock
        // epoch c) holds it until clock epoch c + 2 begins, whichever is later
        uint40 opensAt = uint40(staking.faultWindowEnd(nodeKey));
        assertGe(opensAt, vm.getBlockTimestamp() + EPOCH);
        assertGe(opensAt, settlement.epochEnd(settlement.currentEpoch() + 1));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, nodeKey, opensAt));
        staking.withdraw(nodeKey);
        vm.warp(opensAt);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StakeWithdrawn(nodeKey, operator, MIN_STAKE - 100 ether);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - 100 ether);
    }

    function test_Withdraw_EjectionWaitsForItsClockEpoch() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.warp(genesis + 4 * EPOCH); // clock epoch 5
        assertEq(_fault(nodeKey, 2, 1 ether, false), 1 ether); // below the minimum: ejected
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.unbondingEpoch, 5);
        assertEq(n.unbondingReleaseAt, uint40(block.timestamp + UNBONDING));

        vm.warp(n.unbondingReleaseAt);
        _finalizeThrough(4);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(5), uint32(4)
            )
        );
        staking.withdraw(nodeKey);

        _finalizeThrough(5);
        _passFaultWindow(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - 1 ether);
    }

    function test_Withdraw_LaterUnbondMovesTheEpochToFinalize() public {
        (address nodeKey,) = _registerNode("node", operator, 3 * MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE); // clock epoch 1
        _finalizeThrough(1); // now clock epoch 3
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbondingEpoch, 3);
        assertEq(n.unbonding, 2 * MIN_STAKE);

        vm.warp(n.unbondingReleaseAt);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(3), uint32(1)
            )
        );
        staking.withdraw(nodeKey);

        _finalizeThrough(3);
        _passFaultWindow(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 2 * MIN_STAKE);
        assertEq(staking.getNode(nodeKey).stake, MIN_STAKE);
    }

    /// @notice Issue 12 §2: after a stall longer than the cooldown, finalizing and withdrawing in the same
    ///         block used to leave the epoch's fault nothing to slash. Now the fault window holds the stake
    ///         for one epoch after the finalization, the finder executes the fault, and the rest leaves.
    function test_RevertWhen_Withdraw_SameBlockAsFinalizationAfterStall() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE); // clock epoch 1
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = Merkle.faultLeaf(1, 0, nodeKey, 500 ether, false);
        EpochHeader memory h = _header(1, bytes32(0), 0, 0);
        h.faultRoot = Merkle.root(leaves);
        h.faultCount = 1;
        _submit(h);
        _disputeByGuardians(1, "stall");
        vm.warp(genesis + UNBONDING + 30 days); // cooldown long over
        vm.prank(owner);
        settlement.resolveDispute(1, true);

        // one block: finalize, then try to withdraw everything
        settlement.finalizeEpochs();
        // resolved and finalized in this block: finalizedBy = now + EPOCH, the window one epoch more
        uint40 opensAt = uint40(vm.getBlockTimestamp() + 2 * EPOCH);
        assertEq(staking.faultWindowEnd(nodeKey), opensAt);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, nodeKey, opensAt));
        staking.withdraw(nodeKey);

        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 0, nodeKey, 500 ether, false, proof), 500 ether);
        // the slash of this clock epoch holds the window until the clock epoch after next begins
        uint32 clock = settlement.currentEpoch();
        uint256 afterNext = settlement.epochEnd(clock + 1);
        assertEq(staking.faultWindowEnd(nodeKey), afterNext > opensAt ? afterNext : opensAt);
        vm.warp(staking.faultWindowEnd(nodeKey));
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - 500 ether);
    }
}
