// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TestSuite} from "../utils/TestSuite.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {StakingHandler} from "./handlers/StakingHandler.sol";

/// @notice Stateful invariants of NodeStaking under random operator, settlement and equivocation activity.
contract NodeStakingInvariantTest is TestSuite {
    StakingHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new StakingHandler(staking, token, address(settlement));
        _fund(address(handler), 100_000_000 ether);

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = StakingHandler.register.selector;
        selectors[1] = StakingHandler.increaseStake.selector;
        selectors[2] = StakingHandler.requestUnbond.selector;
        selectors[3] = StakingHandler.withdraw.selector;
        selectors[4] = StakingHandler.warp.selector;
        selectors[5] = StakingHandler.advanceEpoch.selector;
        selectors[6] = StakingHandler.applyFault.selector;
        selectors[7] = StakingHandler.proveEquivocation.selector;
        selectors[8] = StakingHandler.sweepSlashed.selector;
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

    function invariant_BalanceMatchesAccounting() public view {
        assertEq(
            token.balanceOf(address(staking)),
            staking.totalStaked() + staking.totalUnbonding() + staking.slashedPendingSweep()
        );
    }

    /// @notice Every token that entered is staked, unbonding, pending sweep, withdrawn, paid to finders or swept.
    function invariant_TokenConservation() public view {
        assertEq(
            token.balanceOf(address(staking)),
            handler.ghost_deposited() - handler.ghost_withdrawn() - handler.ghost_finderFees()
                - handler.ghost_swept()
        );
        assertEq(
            handler.ghost_slashed(),
            handler.ghost_finderFees() + handler.ghost_swept() + staking.slashedPendingSweep()
        );
        assertEq(token.balanceOf(handler.finder()), handler.ghost_finderFees());
    }

    /// @notice Per node and epoch, slashes never exceed maxSlashBps of (stake + unbonding + already slashed that
    ///         epoch) at the time of each slash, and never exceed what was requested.
    function invariant_SlashNeverExceedsEpochCap() public view {
        assertEq(handler.ghost_capViolations(), 0);
        assertEq(handler.ghost_overRequested(), 0);
    }

    function invariant_ActiveNodesHoldMinimumStake() public view {
        for (uint256 i; i < handler.nodeCount(); ++i) {
            NodeStaking.Node memory n = _node(i);
            if (n.status == NodeStaking.NodeStatus.Active) assertGe(n.stake, staking.minStake());
            else assertEq(n.stake, 0, "an Exiting or Ejected node has no active stake");
            assertTrue(n.status != NodeStaking.NodeStatus.None, "registered nodes stay registered");
        }
    }
}
