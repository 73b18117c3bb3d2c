// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {StakingHandler} from "./handlers/StakingHandler.sol";

/// @notice Stateful invariants of NodeStaking under random operator, settlement and equivocation activity, with
///         the real EpochSettlement as clock and finality source (the handler signs and finalizes epochs).
contract NodeStakingInvariantTest is ProtocolTestBase {
    StakingHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new StakingHandler(staking, token, settlement, guardians, guardianKeys);
        _fund(address(handler), 100_000_000 ether);

        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = StakingHandler.register.selector;
        selectors[1] = StakingHandler.increaseStake.selector;
        selectors[2] = StakingHandler.requestUnbond.selector;
        selectors[3] = StakingHandler.withdraw.selector;
        selectors[4] = StakingHandler.warp.selector;
        selectors[5] = StakingHandler.settle.selector;
        selectors[6] = StakingHandler.applyFault.selector;
        selectors[7] = StakingHandler.proveEquivocation.selector;
        selectors[8] = StakingHandler.sweepSlashed.selector;
        selectors[9] = StakingHandler.donate.selector;
        selectors[10] = StakingHandler.applyFault.selector; // faults twice as likely
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function _node(uint256 i) internal view returns (NodeStaking.Node memory) {
        return staking.getNode(handler.nodeKeys(i));
    }

    function invariant_TotalStakedIsSumOfStakes() public view {
        uint256 sum;
        for (uint256 i; i < handler.nodeCount(); ++i) {
            sum += _node(i).stake;
        }
        assertEq(staking.totalStaked(), sum);
    }

    function invariant_TotalUnbondingIsSumOfUnbonding() public view {
        uint256 sum;
        for (uint256 i; i < handler.nodeCount(); ++i) {
            sum += _node(i).unbonding;
        }
        assertEq(staking.totalUnbonding(), sum);
    }

    /// @notice The derived sweepable amount is exactly slashed - finder fees - swept (+ donations).
    function invariant_SweepableMatchesGhost() public view {
        uint256 expected = handler.ghost_slashed() + handler.ghost_donated() - handler.ghost_finderFees()
            - handler.ghost_swept();
        assertEq(staking.sweepableSlashed(), expected);
        assertEq(
            token.balanceOf(address(staking)), staking.totalStaked() + staking.totalUnbonding() + expected
        );
    }

    /// @notice Every token that entered is staked, unbonding, sweepable, withdrawn, paid to finders or swept.
    function invariant_TokenConservation() public view {
        assertEq(
            token.balanceOf(address(staking)),
            handler.ghost_deposited() + handler.ghost_donated() - handler.ghost_withdrawn()
                - handler.ghost_finderFees() - handler.ghost_swept()
        );
        assertEq(token.balanceOf(handler.finder()), handler.ghost_finderFees());
    }

    /// @notice Per node and settlement-clock epoch, slashes (of any fault epochs, in any order) never exceed
    ///         maxSlashBps of (stake + unbonding + already slashed in that clock epoch) at the time of each
    ///         slash, never exceed what was requested, and match the model exactly (a revert exactly when the
    ///         cap is used up and something was requested).
    function invariant_SlashNeverExceedsClockEpochCap() public view {
        assertEq(handler.ghost_capViolations(), 0, "cap violations");
        assertEq(handler.ghost_overRequested(), 0, "over requested");
        assertEq(handler.ghost_capMismatch(), 0, "cap model mismatch");
        assertEq(handler.ghost_unexpectedReverts(), 0, "unexpected reverts");
    }

    /// @notice The stored cap tracker never runs ahead of the settlement clock and matches the ghost.
    function invariant_CapTrackerMatchesGhost() public view {
        uint32 clock = settlement.currentEpoch();
        for (uint256 i; i < handler.nodeCount(); ++i) {
            NodeStaking.Node memory n = _node(i);
            assertLe(n.lastSlashEpoch, clock);
            if (n.lastSlashEpoch != 0) {
                assertEq(
                    n.slashedInLastSlashEpoch,
                    handler.ghost_slashedInClockEpoch(handler.nodeKeys(i), n.lastSlashEpoch)
                );
            }
        }
    }

    /// @notice The strike ring and ejections follow the model, and an Active node never holds `maxStrikes`
    ///         ring epochs within the window.
    function invariant_StrikesFollowModel() public view {
        assertEq(handler.ghost_strikeMismatch(), 0);
        uint256 k = staking.maxStrikes();
        uint256 window = staking.strikeWindowEpochs();
        for (uint256 i; i < handler.nodeCount(); ++i) {
            NodeStaking.Node memory n = _node(i);
            if (n.status != NodeStaking.NodeStatus.Active) continue;
            uint32[] memory ring = handler.modelRing(handler.nodeKeys(i));
            for (uint256 mask = 1; mask < (1 << ring.length); ++mask) {
                uint256 count;
                uint32 lo = type(uint32).max;
                uint32 hi;
                for (uint256 j; j < ring.length; ++j) {
                    if (mask & (1 << j) == 0) continue;
                    ++count;
                    if (ring[j] < lo) lo = ring[j];
                    if (ring[j] > hi) hi = ring[j];
                }
                assertFalse(count == k && hi - lo < window, "active node with too many strikes in window");
            }
        }
    }

    /// @notice Withdrawals happen only after the cooldown AND the finalization of the unbonding epoch, and the
    ///         unbonding epoch is the settlement-clock epoch of the latest unbond or ejection.
    function invariant_WithdrawalsWaitForFinalization() public view {
        assertEq(handler.ghost_withdrawMismatch(), 0);
        uint32 clock = settlement.currentEpoch();
        for (uint256 i; i < handler.nodeCount(); ++i) {
            assertLe(_node(i).unbondingEpoch, clock);
        }
        assertLe(settlement.lastFinalizedEpoch(), clock);
    }

    function invariant_ActiveNodesHoldMinimumStake() public view {
        for (uint256 i; i < handler.nodeCount(); ++i) {
            NodeStaking.Node memory n = _node(i);
            if (n.status == NodeStaking.NodeStatus.Active) assertGe(n.stake, staking.minStake());
            else assertEq(n.stake, 0, "an Exiting or Ejected node has no active stake");
            assertTrue(n.status != NodeStaking.NodeStatus.None, "registered nodes stay registered");
        }
    }

    /// @notice Run with -vv to see how often each path was exercised.
    function invariant_CallSummary() public view {
        bytes32[17] memory names = [
            bytes32("register"),
            "increaseStake",
            "unbondAll",
            "unbondPartial",
            "withdraw",
            "withdrawNotFinalized",
            "donate",
            "warp",
            "settle",
            "submit",
            "finalize",
            "fault",
            "faultStrike",
            "equivocation",
            "capReached",
            "sweep",
            ""
        ];
        for (uint256 i; i < names.length - 1; ++i) {
            console.log(string(abi.encodePacked(names[i])), handler.calls(names[i]));
        }
        console.log("ejections", handler.ghost_ejections());
        console.log("clock epoch", settlement.currentEpoch(), "finalized", settlement.lastFinalizedEpoch());
    }
}
