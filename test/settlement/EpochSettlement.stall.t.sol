// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice A node operator that is a contract: it can bundle `finalizeEpochs` and `withdraw` in one
///         transaction, as the security review of issue 12 §2 ("withdraw after a stall") did.
contract StallRunner {
    NodeStaking public immutable staking;
    EpochSettlement public immutable settlement;
    address public nodeKey;

    constructor(NodeStaking staking_, EpochSettlement settlement_) {
        staking = staking_;
        settlement = settlement_;
    }

    function register(address nodeKey_, uint96 amount, bytes calldata consent) external {
        nodeKey = nodeKey_;
        IERC20(address(staking.token())).approve(address(staking), amount);
        staking.register(nodeKey_, amount, consent, "wss://runner.example", "");
    }

    function unbondAll() external {
        staking.requestUnbond(nodeKey, staking.getNode(nodeKey).stake);
    }

    /// @notice The attack: finalize the stalled epoch that carries this node's fault and withdraw before
    ///         anyone can execute the fault.
    function finalizeAndWithdraw() external {
        settlement.finalizeEpochs();
        staking.withdraw(nodeKey);
    }

    function withdraw() external {
        staking.withdraw(nodeKey);
    }
}

/// @notice Issue 12 §2 "withdraw after a stall": a node cannot take its stake out before every fault of
///         an epoch it was bonded in has had its execution window, and a fault always executes (its strike
///         recorded) even when nothing is left to slash.
contract EpochSettlementStallTest is EpochSettlementTestBase {
    StallRunner internal runner;
    address internal node;

    function setUp() public override {
        super.setUp();
        runner = new StallRunner(staking, settlement);
        uint256 pk;
        (node, pk) = makeAddrAndKey("runner-node");
        _fund(address(runner), 100_000 ether);
        runner.register(node, 100_000 ether, _keyConsent(pk, address(runner)));
    }

    /// @dev Epoch 1 carries a 10,000 SEND fault with a strike against `node`; the runner unbonded all of
    ///      its stake in epoch 1; the epoch sat disputed past the cooldown and is then resolved valid.
    function _stalledFaultEpoch() internal {
        runner.unbondAll();
        _submit(_withOneFault(_h(1), node, 10_000 ether, true));
        vm.prank(owner);
        settlement.dispute(1, "needs review");
        vm.warp(vm.getBlockTimestamp() + UNBONDING);
        assertGe(vm.getBlockTimestamp(), staking.getNode(node).unbondingReleaseAt);
        vm.prank(owner);
        settlement.resolveDispute(1, true);
    }

    /// @dev The review's attack, from a contract operator in one transaction. Before the fix the
    ///      withdrawal went through and the fault then reverted `SlashCapReached` forever.
    function test_withdrawAfterStall_contractOperatorCannotBundleFinalizeAndWithdraw() public {
        _stalledFaultEpoch();
        // finalized in the same block as resolved: finalizedBy = finalizeAt + EPOCH, window one more epoch
        uint40 opensAt = uint40(vm.getBlockTimestamp() + 2 * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, node, opensAt));
        runner.finalizeAndWithdraw();

        // the fault reaches the stake that was at risk in epoch 1
        settlement.finalizeEpochs();
        assertEq(settlement.finalizedBy(1), vm.getBlockTimestamp() + EPOCH);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, true, new bytes32[](0)), 10_000 ether);
        NodeStaking.Node memory n = staking.getNode(node);
        assertEq(n.unbonding, 90_000 ether);
        assertEq(n.recentStrikeEpochs, 1);

        // the slash of this clock epoch holds the window at least to the start of the clock epoch after next
        uint32 clock = settlement.currentEpoch();
        uint64 afterNext = settlement.epochEnd(clock + 1);
        opensAt = uint40(afterNext > opensAt ? afterNext : opensAt);
        assertEq(staking.faultWindowEnd(node), opensAt);
        // one second before the window ends: still closed; at its end: the rest is withdrawn
        vm.warp(opensAt - 1);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, node, opensAt));
        runner.withdraw();
        vm.warp(opensAt);
        runner.withdraw();
        assertEq(token.balanceOf(address(runner)), 90_000 ether);
        assertEq(token.balanceOf(finder), 500 ether);
    }

    /// @dev A leaf nobody executed within the window: the node withdrew, the fault still executes, slashes
    ///      nothing and records its strike (before the fix: `SlashCapReached` forever, strike lost).
    function test_executeFault_nothingLeftToSlashStillRecordsStrike() public {
        _stalledFaultEpoch();
        settlement.finalizeEpochs();
        vm.warp(staking.faultWindowEnd(node));
        runner.withdraw();
        assertEq(token.balanceOf(address(runner)), 100_000 ether);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(node, 1, 1);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, true, new bytes32[](0)), 0);
        assertFalse(settlement.faultPending(1, 0));
        assertEq(staking.getNode(node).recentStrikeEpochs, 1);
        assertEq(token.balanceOf(finder), 0);
    }

    /// @dev A fault deferred by the per-clock-epoch cap keeps the withdrawal closed until the clock epoch
    ///      after the next one begins, so the deferred leaf has one whole clock epoch to execute.
    function test_withdraw_waitsOneClockEpochAfterASlash() public {
        runner.unbondAll();
        address[] memory nodes = new address[](2);
        uint96[] memory amounts = new uint96[](2);
        bool[] memory strikes = new bool[](2);
        (nodes[0], nodes[1]) = (node, node);
        (amounts[0], amounts[1]) = (10_000 ether, 2_000 ether);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
        vm.warp(vm.getBlockTimestamp() + UNBONDING);
        uint32 clock = settlement.currentEpoch();
        assertEq(
            settlement.executeFault(1, 0, node, 10_000 ether, false, Merkle.proof(leaves, 0)), 10_000 ether
        );
        bytes32[] memory proof1 = Merkle.proof(leaves, 1);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(1, 1, node, 2_000 ether, false, proof1);

        // the fault window of epoch 1 is long over, but the slash of this clock epoch holds it closed
        uint40 opensAt = uint40(settlement.epochEnd(clock + 1));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, node, opensAt));
        runner.withdraw();
        vm.warp(settlement.epochEnd(clock)); // next clock epoch: the deferred leaf goes through
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, node, opensAt));
        runner.withdraw();
        assertEq(settlement.executeFault(1, 1, node, 2_000 ether, false, proof1), 2_000 ether);
        // ... and, being a slash of clock + 1, keeps the window open one epoch further
        vm.warp(opensAt);
        uint40 later = uint40(settlement.epochEnd(clock + 2));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, node, later));
        runner.withdraw();
        vm.warp(later);
        runner.withdraw();
        assertEq(token.balanceOf(address(runner)), 88_000 ether);
    }

    /// @dev `finalizedBy` is exact while the epoch is in the ring and rounds up to the finalization of the
    ///      oldest later epoch still there once it is not (so the fault window is never shortened).
    function test_finalizedBy_exactInRingAndLaterOnceEvicted() public {
        assertEq(settlement.finalizedBy(0), 0);
        assertEq(settlement.finalizedBy(1), 0);
        uint40[11] memory at;
        for (uint32 e = 1; e <= 10; ++e) {
            _submitAndFinalize(_h(e));
            at[e] = uint40(vm.getBlockTimestamp());
            vm.warp(vm.getBlockTimestamp() + 1 hours);
        }
        assertEq(settlement.finalizedBy(11), 0);
        for (uint32 e = 3; e <= 10; ++e) {
            assertEq(settlement.finalizedBy(e), at[e] + EPOCH); // finalized at finalizeAt: not late
        }
        // epochs 1 and 2 left the ring (slots reused by 9 and 10): epoch 3's bound, which is later
        assertEq(settlement.finalizedBy(1), at[3] + EPOCH);
        assertEq(settlement.finalizedBy(2), at[3] + EPOCH);
        assertGt(at[3], at[2]);
    }

    /// @dev A finalization more than one epoch after `finalizeAt` (a stall) records its own time, so the
    ///      bound stays within one epoch of the real finalization; steady state writes nothing.
    function test_finalizedBy_lateFinalizationRecordsItsTime() public {
        _submit(_h(1));
        uint40 scheduled = settlement.epochEntry(1).finalizeAt;
        vm.warp(uint256(scheduled) + EPOCH); // exactly one epoch late: not recorded
        settlement.finalizeEpochs();
        assertEq(settlement.epochEntry(1).finalizeAt, scheduled);
        assertEq(settlement.finalizedBy(1), uint256(scheduled) + EPOCH);

        _submit(_h(2));
        scheduled = settlement.epochEntry(2).finalizeAt;
        vm.warp(uint256(scheduled) + EPOCH + 1); // later: the actual time is recorded
        settlement.finalizeEpochs();
        assertEq(settlement.epochEntry(2).finalizeAt, vm.getBlockTimestamp());
        assertEq(settlement.finalizedBy(2), vm.getBlockTimestamp() + EPOCH);
    }
}
