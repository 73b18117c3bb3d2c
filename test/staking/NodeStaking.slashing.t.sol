// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";

/// @notice NodeStaking slashing: `applyFault` (access, the per-clock-epoch cap, stake then unbonding
///         stake, ejection, finder fees), `sweepSlashed`, and faults executed through EpochSettlement.
contract NodeStakingSlashingTest is NodeStakingTestBase {
    // ================================================================ applyFault: access

    function testFuzz_RevertWhen_ApplyFault_NotSettlement(address caller) public {
        vm.assume(caller != address(settlement));
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.OnlySettlement.selector, caller));
        staking.applyFault(nodeKey, 1, 1, 1 ether, true, caller);
    }

    function test_RevertWhen_ApplyFault_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.applyFault(nodeKey, 1, 1, 1 ether, false, finder);
    }

    function test_RevertWhen_ApplyFault_NotRegisteredStrikeOnly() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.applyFault(nodeKey, 1, 1, 0, true, finder);
    }

    // ================================================================ applyFault: slashing

    function testFuzz_ApplyFault_SlashCappedAtMaxSlashBps(
        uint96 stake,
        uint96 amount,
        uint32 faultEpoch,
        uint32 clock
    ) public {
        stake = _boundStake(stake);
        amount = uint96(bound(amount, 1, type(uint96).max));
        faultEpoch = uint32(bound(faultEpoch, 1, type(uint32).max));
        clock = uint32(bound(clock, 1, type(uint32).max));
        (address nodeKey,) = _registerNode("node", operator, stake);

        uint96 cap = uint96(uint256(stake) * MAX_SLASH_BPS / BPS);
        assertEq(staking.slashCapRemaining(nodeKey, clock), cap);
        uint96 expected = uint96(_min(amount, cap));
        uint96 fee = uint96(_fee(expected));
        bool ejects = stake - expected < MIN_STAKE;

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, faultEpoch, expected, finder, fee);
        if (ejects) {
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.NodeEjected(nodeKey, faultEpoch, NodeStaking.EjectReason.StakeBelowMinimum);
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.UnbondRequested(
                nodeKey, stake - expected, 0, uint40(block.timestamp + UNBONDING)
            );
        }
        if (fee != 0) {
            vm.expectEmit(true, true, true, true, address(token));
            emit IERC20.Transfer(address(staking), finder, fee);
        }
        assertEq(_faultAt(nodeKey, faultEpoch, clock, amount, false), expected);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, clock, "the cap is tracked per settlement-clock epoch");
        assertEq(n.slashedInLastSlashEpoch, expected);
        assertEq(n.recentStrikeEpochs, 0, "no strike requested");
        if (ejects) {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
            assertEq(n.stake, 0);
            assertEq(n.unbonding, stake - expected);
            assertEq(n.unbondingEpoch, 1, "ejection reads the settlement clock");
            assertEq(staking.totalStaked(), 0);
            assertEq(staking.totalUnbonding(), stake - expected);
        } else {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
            assertEq(n.stake, stake - expected);
            assertEq(n.unbonding, 0);
            assertEq(n.unbondingEpoch, 0);
            assertEq(staking.totalStaked(), stake - expected);
            assertEq(staking.totalUnbonding(), 0);
        }
        assertEq(token.balanceOf(finder), fee);
        assertEq(token.balanceOf(address(staking)), stake - fee);
        assertEq(staking.slashCapRemaining(nodeKey, clock), cap - expected);
        _assertSweepable(expected - fee);
    }

    /// @notice Faults of any fault epochs, executed in any order within one settlement-clock epoch, share one
    ///         cap; once it is used up a slashing fault reverts (and stays executable later).
    function testFuzz_ApplyFault_FaultEpochsInAnyOrderShareClockCap(
        uint96 stake,
        uint96[6] memory amounts,
        uint32[6] memory faultEpochs,
        uint256 elapsed
    ) public {
        stake = _boundStake(stake);
        vm.warp(block.timestamp + bound(elapsed, 0, 1_000 days));
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint32 clock = _clock();
        uint256 cap = uint256(stake) * MAX_SLASH_BPS / BPS;
        uint256 total;
        uint256 fees;
        for (uint256 i; i < amounts.length; ++i) {
            uint96 amount = uint96(bound(amounts[i], 1, cap));
            uint32 faultEpoch = uint32(bound(faultEpochs[i], 1, 1_000));
            if (total == cap) {
                vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock));
                _faultAt(nodeKey, faultEpoch, clock, amount, false);
                continue;
            }
            uint256 expected = _min(amount, cap - total);
            assertEq(_faultAt(nodeKey, faultEpoch, clock, amount, false), expected, "slashed");
            total += expected;
            fees += _fee(expected);
            assertEq(staking.slashCapRemaining(nodeKey, clock), cap - total, "cap remaining");
        }
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertLe(total, cap);
        assertEq(uint256(n.stake) + n.unbonding, stake - total);
        assertEq(n.lastSlashEpoch, clock);
        assertEq(n.slashedInLastSlashEpoch, total);
        assertEq(token.balanceOf(finder), fees);
        _assertSweepable(total - fees);
    }

    function test_ApplyFault_SecondSlashInClockEpochCappedAtRemainder() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 7, 6_000 ether, false), 6_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 4_000 ether);
        // another fault epoch, same clock epoch; the base is the stake at the start of the clock epoch:
        // 94k + 6k already slashed
        assertEq(_fault(nodeKey, 8, 6_000 ether, false), 4_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertEq(n.lastSlashEpoch, 1);
        assertEq(n.stake, 90_000 ether);
    }

    function test_RevertWhen_ApplyFault_SlashCapReached() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 3, type(uint96).max, false), 10_000 ether);
        NodeStaking.Node memory before = staking.getNode(nodeKey);
        uint256 finderBefore = token.balanceOf(finder);

        // the whole fault reverts, strike included, so the settlement keeps the leaf executable
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _faultAt(nodeKey, 2, 1, 1, true);

        NodeStaking.Node memory afterwards = staking.getNode(nodeKey);
        assertEq(afterwards.stake, before.stake);
        assertEq(afterwards.slashedInLastSlashEpoch, before.slashedInLastSlashEpoch);
        assertEq(afterwards.recentStrikeEpochs, 0, "no strike recorded");
        assertEq(token.balanceOf(finder), finderBefore);

        // one clock epoch later the same fault goes through
        _nextClockEpoch();
        assertEq(staking.slashCapRemaining(nodeKey, 2), 9_000 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 2, 1, finder, 0);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 1);
        assertEq(_fault(nodeKey, 2, 1, true), 1);
        NodeStaking.Node memory later = staking.getNode(nodeKey);
        assertEq(later.lastSlashEpoch, 2);
        assertEq(later.slashedInLastSlashEpoch, 1);
        assertEq(later.recentStrikeEpochs, 2);
    }

    function test_ApplyFault_StrikeOnlyFaultWhenCapReached() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 3, type(uint96).max, false), 10_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);

        vm.recordLogs();
        assertEq(_fault(nodeKey, 4, 0, true), 0, "a strike-only fault never reverts on the cap");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], NodeStaking.StrikeRecorded.selector);
        assertEq(logs[0].topics[2], bytes32(uint256(4)));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 90_000 ether);
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertEq(n.recentStrikeEpochs, 4);
    }

    function test_ApplyFault_ZeroAmountChangesNothing() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 5, 0, false), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, MIN_STAKE);
        assertEq(n.lastSlashEpoch, 0, "a zero slash does not touch the epoch tracker");
        assertTrue(staking.isActive(nodeKey));
    }

    function testFuzz_ApplyFault_NewClockEpochResetsCap(
        uint96 stake,
        uint32 clock,
        uint32 gap,
        uint32 faultEpoch
    ) public {
        stake = _boundStake(stake);
        clock = uint32(bound(clock, 1, type(uint32).max - 1));
        gap = uint32(bound(gap, 1, type(uint32).max - clock));
        faultEpoch = uint32(bound(faultEpoch, 1, type(uint32).max));
        (address nodeKey,) = _registerNode("node", operator, stake);

        uint256 cap1 = uint256(stake) * MAX_SLASH_BPS / BPS;
        assertEq(_faultAt(nodeKey, faultEpoch, clock, type(uint96).max, false), cap1);
        assertEq(staking.slashCapRemaining(nodeKey, clock), 0);

        uint32 next = clock + gap;
        // stake + unbonding is unchanged by an ejection, so the new cap is 10% of what is left; what the first
        // fault asked for above its cap is forgiven, not carried over
        uint256 cap2 = (uint256(stake) - cap1) * MAX_SLASH_BPS / BPS;
        assertEq(staking.slashCapRemaining(nodeKey, next), cap2);
        assertEq(_faultAt(nodeKey, faultEpoch, next, type(uint96).max, false), cap2);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, next);
        assertEq(n.slashedInLastSlashEpoch, cap2);
        assertEq(uint256(n.stake) + n.unbonding, stake - cap1 - cap2);
        _assertSweepable(cap1 - _fee(cap1) + cap2 - _fee(cap2));
    }

    function test_ApplyFault_CapIsPerClockEpochNotPerFaultEpoch() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _nextClockEpoch(); // clock epoch 2
        assertEq(_fault(nodeKey, 5, 15_000 ether, false), 10_000 ether);
        assertEq(staking.getNode(nodeKey).lastSlashEpoch, 2);
        assertEq(staking.slashCapRemaining(nodeKey, 2), 0, "clock epoch 2 used up");
        assertEq(staking.slashCapRemaining(nodeKey, 5), 9_000 ether, "fault epoch 5 is not a cap key");
        // a fault of yet another epoch in the same clock epoch is blocked
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(2)));
        _faultAt(nodeKey, 1, 2, 1 ether, false);
    }

    /// @dev Previously a reported bug: the cap was keyed on the fault epoch and only remembered the last one,
    ///      so interleaving fault epochs (5, 4, 5) reset epoch 5's tracker and slashed past `maxSlashBps`.
    ///      Now the cap is per settlement-clock epoch: epoch-5, epoch-4 and epoch-5 faults executed in the
    ///      same clock epoch total exactly 10%.
    function test_ApplyFault_PerEpochCapHoldsWhenEpochsInterleave() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _nextClockEpoch();
        _nextClockEpoch(); // clock epoch 3
        assertEq(_fault(nodeKey, 5, 6_000 ether, false), 6_000 ether); // epoch 5
        assertEq(_fault(nodeKey, 4, 6_000 ether, false), 4_000 ether); // epoch 4: only the rest of the cap
        assertEq(staking.slashCapRemaining(nodeKey, 3), 0);
        // epoch 5 again (an equivocation): the clock epoch's 10% is gone
        Proof memory p = _proof(pk, 5);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(3)));
        _submitProof(p, finder);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 90_000 ether, "exactly 10% slashed in clock epoch 3");
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertFalse(staking.equivocationProven(nodeKey, 5));

        // next clock epoch: the proof goes through, under the new cap (10% of 90k)
        _nextClockEpoch();
        assertEq(_submitProof(p, finder), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 5));
        assertEq(staking.slashCapRemaining(nodeKey, 4), 4_000 ether);
        _assertSweepable(15_000 ether - _fee(15_000 ether));
    }

    function test_ApplyFault_SlashesUnbondingAfterStake() public {
        (address nodeKey,) = _registerNode("node", operator, 210_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 200_000 ether); // stake 10k, unbonding 200k
        _nextClockEpoch();
        uint40 newRelease = uint40(block.timestamp + UNBONDING);

        // cap = 10% of 210k = 21k: 10k from stake, then 11k from unbonding; stake 0 < min ejects
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 1, 21_000 ether, finder, 1_050 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 0, 0, newRelease);
        assertEq(_fault(nodeKey, 1, 50_000 ether, false), 21_000 ether);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 189_000 ether);
        assertEq(n.unbondingReleaseAt, newRelease, "ejection restarts the cooldown");
        assertEq(n.unbondingEpoch, 2, "and moves the epoch to finalize");
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), 189_000 ether);
        assertEq(token.balanceOf(finder), 1_050 ether);
        _assertSweepable(19_950 ether);
    }

    function testFuzz_ApplyFault_SplitBetweenStakeAndUnbonding(uint96 stake, uint96 unbond, uint96 amount)
        public
    {
        stake = uint96(bound(stake, MIN_STAKE, 10_000_000 ether));
        unbond = uint96(bound(unbond, 1, 90_000_000 ether));
        amount = uint96(bound(amount, 1, type(uint96).max));
        (address nodeKey,) = _registerNode("node", operator, stake + unbond);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, unbond);

        uint256 expected = _min(amount, (uint256(stake) + unbond) * MAX_SLASH_BPS / BPS);
        uint256 fromStake = _min(expected, stake);
        uint256 fromUnbonding = expected - fromStake;
        assertEq(_fault(nodeKey, 2, amount, false), expected);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (stake - fromStake < MIN_STAKE) {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
            assertEq(n.stake, 0);
            assertEq(n.unbonding, stake - fromStake + unbond - fromUnbonding);
        } else {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
            assertEq(n.stake, stake - fromStake);
            assertEq(n.unbonding, unbond - fromUnbonding);
        }
        assertEq(staking.totalStaked(), n.stake);
        assertEq(staking.totalUnbonding(), n.unbonding);
        _assertSweepable(expected - _fee(expected));
    }

    function test_ApplyFault_ExitingNodeSlashedFromUnbondingWithoutEjection() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 50_000 ether);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;

        vm.recordLogs();
        assertEq(_fault(nodeKey, 9, type(uint96).max, false), 5_000 ether);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeSlashed.selector), 1);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
        assertEq(n.unbonding, 45_000 ether);
        assertEq(n.unbondingReleaseAt, releaseAt, "cooldown unchanged");
        assertEq(n.unbondingEpoch, 1, "epoch to finalize unchanged");
        assertEq(staking.totalUnbonding(), 45_000 ether);

        _releaseAndFinalize(nodeKey);
        assertEq(block.timestamp, releaseAt);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 45_000 ether);
    }

    function test_ApplyFault_EjectedNodeStaysSlashable() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        assertEq(_fault(nodeKey, 1, type(uint96).max, false), 1_000 ether);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        // a later finding still reaches the (unbonding) stake in a later clock epoch, with no second ejection
        _nextClockEpoch();
        vm.recordLogs();
        assertEq(_fault(nodeKey, 2, type(uint96).max, false), 900 ether);
        assertEq(_countLogs(vm.getRecordedLogs(), address(staking), NodeStaking.NodeEjected.selector), 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 8_100 ether);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        _assertSweepable(1_900 ether - _fee(1_900 ether));
    }

    function test_ApplyFault_EjectionWhenStakeFallsBelowMinimum() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE + 500 ether);
        // 500 ether keeps the node at the minimum: no ejection
        assertEq(_fault(nodeKey, 1, 500 ether, false), 500 ether);
        assertTrue(staking.isActive(nodeKey));
        assertEq(staking.getNode(nodeKey).stake, MIN_STAKE);

        // one more wei (same clock epoch, still within its cap) ejects
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, MIN_STAKE - 1, 0, releaseAt);
        assertEq(_fault(nodeKey, 1, 1, false), 1);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.stake, 0);
        assertEq(n.unbonding, MIN_STAKE - 1);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertFalse(staking.isActive(nodeKey));
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), MIN_STAKE - 1);
    }

    function test_ApplyFault_DustSlashPaysNoFinderFee() public {
        (address nodeKey,) = _registerNode("node", operator, 20_000 ether);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 1, 19, false), 19); // 19 * 5% rounds down to 0
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(token), IERC20.Transfer.selector), 0);
        assertEq(token.balanceOf(finder), 0);
        _assertSweepable(19);
    }

    function testFuzz_ApplyFault_FinderFee(uint16 feeBps, uint96 amount, address finder_) public {
        vm.assume(finder_ != address(0));
        feeBps = uint16(bound(feeBps, 0, BPS));
        NodeStaking.Config memory c = _config();
        c.finderFeeBps = feeBps;
        NodeStaking s = new NodeStaking(c);
        vm.assume(finder_ != address(s));
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, 100_000 ether);
        amount = uint96(bound(amount, 1, 10_000 ether));
        uint256 finderBefore = token.balanceOf(finder_);

        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, amount, false, finder_), amount);

        uint256 fee = uint256(amount) * feeBps / BPS;
        assertEq(token.balanceOf(finder_) - finderBefore, fee);
        assertEq(s.sweepableSlashed(), amount - fee);
        assertEq(token.balanceOf(address(s)), 100_000 ether - fee);
    }

    function testFuzz_ApplyFault_MaxSlashBpsConfig(uint16 maxSlashBps, uint96 stake) public {
        maxSlashBps = uint16(bound(maxSlashBps, 1, BPS));
        stake = _boundStake(stake);
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = maxSlashBps;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, stake);
        uint256 cap = uint256(stake) * maxSlashBps / BPS;
        assertEq(s.slashCapRemaining(nodeKey, 1), cap);
        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder), cap);
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        s.applyFault(nodeKey, 2, 1, 1, false, finder);
    }

    /// @notice `slashedInLastSlashEpoch` is a uint88: the cap is clamped so it can never overflow.
    function test_ApplyFault_CapClampedToUint88() public {
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = uint16(BPS);
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("whale");
        uint96 stake = 400_000_000 ether; // > 2^88 - 1 wei (~309.5M SEND)
        address nodeKey = _registerOn(s, pk, operator, stake);
        uint96 maxStorable = type(uint88).max;
        assertEq(s.slashCapRemaining(nodeKey, 1), maxStorable);

        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder), maxStorable);
        NodeStaking.Node memory n = s.getNode(nodeKey);
        assertEq(n.slashedInLastSlashEpoch, maxStorable);
        assertEq(n.stake, stake - maxStorable);
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        s.applyFault(nodeKey, 1, 1, 1, false, finder);

        // the next clock epoch's cap is the whole (smaller) remainder
        assertEq(s.slashCapRemaining(nodeKey, 2), stake - maxStorable);
    }

    /// @notice Issue 12 §2: a node with nothing left (exited and withdrawn) has a zero cap. A slashing fault
    ///         against it slashes nothing and still records its strike (it used to revert `SlashCapReached`
    ///         for good, losing the strike and leaving the leaf pending forever).
    function test_ApplyFault_NodeFullyWithdrawnStillRecordsStrike() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _exitAndWithdraw(nodeKey);
        uint32 clock = _clock();
        assertEq(staking.slashCapRemaining(nodeKey, clock), 0);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        assertEq(_faultAt(nodeKey, 1, clock, 1_000 ether, true), 0);
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 1);
        assertEq(token.balanceOf(finder), 0);
        assertEq(_fault(nodeKey, 2, 0, true), 0);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
    }

    /// @notice Dust whose cap rounds to zero (9 wei at 10%) is not "cap reached": the fault executes,
    ///         slashing nothing, and records its strike, instead of reverting in every later clock epoch.
    function test_ApplyFault_DustStakeSlashesNothingAndRecordsStrike() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        // 10% per clock epoch until 9 wei are left (about 480 clock epochs)
        uint32 clock = _clock();
        uint96 unbonding = MIN_STAKE;
        while (unbonding > 9) {
            uint96 cap = staking.slashCapRemaining(nodeKey, clock);
            _faultAt(nodeKey, 1, clock, unbonding - 9 < cap ? unbonding - 9 : cap, false);
            unbonding = staking.getNode(nodeKey).unbonding;
            ++clock;
        }
        assertEq(unbonding, 9);
        assertEq(staking.slashCapRemaining(nodeKey, clock), 0);
        assertEq(_faultAt(nodeKey, 2, clock, 1 ether, true), 0);
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 2);
        assertEq(staking.getNode(nodeKey).unbonding, 9);
    }

    /// @notice Registration writes every slot a node's first (non-ejecting) slash and strike touch, so that
    ///         slash writes no slot that was zero before.
    function test_ApplyFault_FirstSlashWritesNoFreshSlot() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        uint256 snap = vm.snapshotState();
        vm.record();
        assertEq(_fault(nodeKey, 1, 1_000 ether, true), 1_000 ether);
        (, bytes32[] memory writes) = vm.accesses(address(staking));
        vm.revertToState(snap);
        assertGt(writes.length, 0);
        for (uint256 i; i < writes.length; ++i) {
            assertTrue(vm.load(address(staking), writes[i]) != bytes32(0), "slash wrote a fresh slot");
        }
    }

    // ================================================================ sweepSlashed

    function test_RevertWhen_SweepSlashed_NothingPending() public {
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function test_RevertWhen_SweepSlashed_OnlyStakeHeld() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 20_000 ether);
        assertEq(staking.sweepableSlashed(), 0, "active and unbonding stake are never sweepable");
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function testFuzz_SweepSlashed(uint96 amount, address caller) public {
        assumeNotForgeAddress(caller);
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        amount = uint96(bound(amount, 1, 10_000 ether));
        _fault(nodeKey, 1, amount, false);
        uint256 pending = amount - _fee(amount);
        _assertSweepable(pending);
        uint256 treasuryBefore = token.balanceOf(treasury);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.SlashedSwept(treasury, pending);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), treasury, pending);
        vm.prank(caller);
        staking.sweepSlashed();

        assertEq(token.balanceOf(treasury) - treasuryBefore, pending);
        assertEq(token.balanceOf(address(staking)), 100_000 ether - amount);
        _assertSweepable(0);

        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function test_SweepSlashed_AccumulatesOverNodes() public {
        (address a,) = _registerNode("a", operator, 100_000 ether);
        (, uint256 pkB) = _registerNode("b", operator2, 100_000 ether);
        _fault(a, 1, 2_000 ether, false);
        _prove(pkB, 1, finder);
        // (2,000 + 5,000) * 95%
        _assertSweepable(6_650 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);
        staking.sweepSlashed();
        assertEq(token.balanceOf(treasury) - treasuryBefore, 6_650 ether);
        assertEq(token.balanceOf(address(staking)), 193_000 ether);
        assertEq(staking.totalStaked(), 193_000 ether);
    }

    /// @notice Slashed unbonding stake is swept, and the operator still withdraws exactly what is left.
    function test_SweepSlashed_DoesNotTouchUnbondingStake() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 50_000 ether);
        assertEq(_fault(nodeKey, 1, 3_000 ether, false), 3_000 ether);
        _assertSweepable(2_850 ether);
        staking.sweepSlashed();
        _assertSweepable(0);
        assertEq(token.balanceOf(address(staking)), 47_000 ether);
        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 47_000 ether);
        assertEq(token.balanceOf(address(staking)), 0);
    }

    /// @notice `sweepableSlashed` is derived from the balance: tokens sent to the contract outside staking
    ///         (donations, mistakes) are swept to the treasury along with slashed stake.
    function testFuzz_SweepSlashed_IncludesDirectTransfers(uint96 donation) public {
        donation = uint96(bound(donation, 1, 1_000_000 ether));
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fund(address(staking), donation);
        _assertSweepable(donation);
        _fault(nodeKey, 1, 1_000 ether, false);
        _assertSweepable(uint256(donation) + 950 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);
        staking.sweepSlashed();
        assertEq(token.balanceOf(treasury) - treasuryBefore, uint256(donation) + 950 ether);
        assertEq(token.balanceOf(address(staking)), 99_000 ether);
        assertEq(staking.totalStaked(), 99_000 ether);
    }

    // ================================================================ end to end through EpochSettlement

    /// @notice Fault leaves of two finalized epochs executed through the settlement in interleaved order: one
    ///         clock epoch's cap holds across them, the capped-out leaf reverts and stays pending, and it
    ///         executes in the next clock epoch.
    function test_ExecuteFault_ClockCapAcrossFaultEpochsThroughSettlement() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        bytes32[] memory leaves1 = new bytes32[](2);
        leaves1[0] = Merkle.faultLeaf(1, 0, nodeKey, 6_000 ether, false);
        leaves1[1] = Merkle.faultLeaf(1, 1, nodeKey, 6_000 ether, true);
        bytes32[] memory leaves2 = new bytes32[](1);
        leaves2[0] = Merkle.faultLeaf(2, 0, nodeKey, 6_000 ether, false);

        EpochHeader memory h1 = _header(1, bytes32(0), 0, 0);
        h1.faultRoot = Merkle.root(leaves1);
        h1.faultCount = 2;
        _submitAndFinalize(h1);
        EpochHeader memory h2 = _header(2, bytes32(0), 0, 0);
        h2.faultRoot = Merkle.root(leaves2);
        h2.faultCount = 1;
        _submitAndFinalize(h2);
        uint32 clock = settlement.currentEpoch();
        assertEq(clock, 4);

        // the newer epoch first, then the older one: together exactly 10% of the stake
        vm.prank(finder);
        assertEq(
            settlement.executeFault(2, 0, nodeKey, 6_000 ether, false, Merkle.proof(leaves2, 0)), 6_000 ether
        );
        vm.prank(finder);
        assertEq(
            settlement.executeFault(1, 0, nodeKey, 6_000 ether, false, Merkle.proof(leaves1, 0)), 4_000 ether
        );
        assertEq(staking.getNode(nodeKey).stake, 90_000 ether);

        bytes32[] memory proof11 = Merkle.proof(leaves1, 1);
        vm.prank(finder);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock));
        settlement.executeFault(1, 1, nodeKey, 6_000 ether, true, proof11);
        assertTrue(settlement.faultPending(1, 1), "still executable");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 0);

        _nextClockEpoch();
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 1, 6_000 ether, finder, 300 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 1, nodeKey, 6_000 ether, true, proof11), 6_000 ether);
        assertFalse(settlement.faultPending(1, 1));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 84_000 ether);
        assertEq(n.lastSlashEpoch, clock + 1);
        assertEq(n.recentStrikeEpochs, 1);
        assertEq(token.balanceOf(finder), 800 ether);
        _assertSweepable(16_000 ether - 800 ether);
    }
}
