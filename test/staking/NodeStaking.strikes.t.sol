// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";

/// @notice NodeStaking strikes: the ring of the four latest strike epochs and ejection after `maxStrikes`
///         strikes within `strikeWindowEpochs`, checked against a reference model.
contract NodeStakingStrikesTest is NodeStakingTestBase {
    // ================================================================ strikes

    function test_Strikes_ThreeWithinWindowEject() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        _strike(nodeKey, 1);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 2);
        _strike(nodeKey, 2);
        assertTrue(staking.isActive(nodeKey));

        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 50_000 ether, 0, releaseAt);
        _strike(nodeKey, 3);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 50_000 ether);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertEq(n.recentStrikeEpochs, (uint128(3) << 64) | (uint128(2) << 32) | 1);
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), 50_000 ether);
        assertEq(token.balanceOf(address(staking)), 50_000 ether, "strikes alone move no tokens");
    }

    function testFuzz_Strikes_WithinWindowEjectInAnyOrder(uint32 start, uint8 d1, uint8 d2, uint8 order)
        public
    {
        // three distinct epochs (a repeated epoch is not a new strike) spanning d1 + d2 < window
        d1 = uint8(bound(d1, 1, STRIKE_WINDOW - 2));
        d2 = uint8(bound(d2, 1, STRIKE_WINDOW - 1 - d1));
        start = uint32(bound(start, 1, type(uint32).max - STRIKE_WINDOW));
        uint32[3] memory e = [start, start + d1, start + d1 + d2];
        // one of the 6 permutations
        uint256 p = bound(order, 0, 5);
        uint32[3] memory seq = p == 0
            ? [e[0], e[1], e[2]]
            : p == 1
                ? [e[0], e[2], e[1]]
                : p == 2
                    ? [e[1], e[0], e[2]]
                    : p == 3 ? [e[1], e[2], e[0]] : p == 4 ? [e[2], e[0], e[1]] : [e[2], e[1], e[0]];

        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        _strike(nodeKey, seq[0]);
        _strike(nodeKey, seq[1]);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, seq[2], 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, seq[2], NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, seq[2]);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function testFuzz_Strikes_SpreadBeyondWindowDoNotEject(uint32 start, uint32 mid, uint32 span) public {
        span = uint32(bound(span, STRIKE_WINDOW, 1_000_000));
        start = uint32(bound(start, 1, type(uint32).max - span));
        mid = uint32(bound(mid, start + 1, start + span - 1)); // three distinct epochs
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        _strike(nodeKey, start);
        _strike(nodeKey, mid);
        vm.recordLogs();
        _strike(nodeKey, start + span);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        assertEq(logs.length, 1);
        (uint8 inWindow) = abi.decode(logs[0].data, (uint8));
        // the new strike plus each other stored strike less than a window away from it
        assertEq(inWindow, start + span - mid < STRIKE_WINDOW ? 2 : 1, "strikes in window");
        assertTrue(staking.isActive(nodeKey));
        assertEq(staking.getNode(nodeKey).stake, 50_000 ether);
    }

    function test_Strikes_WindowBoundary() public {
        (address a,) = _registerNode("a", operator, MIN_STAKE);
        _strike(a, 1);
        _strike(a, 5);
        _strike(a, 10); // span 9 < 10
        _assertStatus(a, NodeStaking.NodeStatus.Ejected);

        (address b,) = _registerNode("b", operator, MIN_STAKE);
        _strike(b, 1);
        _strike(b, 5);
        _strike(b, 11); // span 10: not within 10 consecutive epochs
        _assertStatus(b, NodeStaking.NodeStatus.Active);
    }

    function test_Strikes_OutOfOrderEpochs() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 7, 1);
        _strike(nodeKey, 7);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 2);
        _strike(nodeKey, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 5, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 5, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 5);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function test_Strikes_OnlyLatestStrikesCount() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 1);
        _strike(nodeKey, 11);
        _strike(nodeKey, 21);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 22, 2); // 22 and 21; 11 is 11 epochs away
        _strike(nodeKey, 22); // 1, 11, 21, 22: no three within 10 epochs
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 23, 3);
        _strike(nodeKey, 23); // 21, 22, 23 within the window; 1 drops out of the ring
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        // the ring keeps the four latest strike epochs, ascending from the low lane
        assertEq(
            staking.getNode(nodeKey).recentStrikeEpochs,
            (uint128(23) << 96) | (uint128(22) << 64) | (uint128(21) << 32) | 11
        );
    }

    function test_Strikes_SameEpochCountedOnce() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 4);
        vm.recordLogs();
        _strike(nodeKey, 4);
        _strike(nodeKey, 4);
        assertEq(vm.getRecordedLogs().length, 0, "a repeated strike epoch is ignored silently");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 4);
        assertTrue(staking.isActive(nodeKey));

        // also when the repeated epoch is not the newest in the ring
        _strike(nodeKey, 9);
        vm.recordLogs();
        _strike(nodeKey, 4);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, (uint128(9) << 32) | 4);
        assertTrue(staking.isActive(nodeKey));

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 5, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 5, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 5);
    }

    function test_Strikes_RepeatedEpochWithSlashStillSlashes() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 4, 1_000 ether, true);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 4, 1_000 ether, true), 1_000 ether);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeSlashed.selector), 1);
        assertEq(_countLogs(logs, address(staking), NodeStaking.StrikeRecorded.selector), 0);
        assertEq(staking.getNode(nodeKey).stake, 98_000 ether);
    }

    function test_Strikes_NonActiveNodeIsNotEjectedAgain() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        vm.warp(block.timestamp + 1 days);
        vm.recordLogs();
        _strike(nodeKey, 1);
        _strike(nodeKey, 2);
        _strike(nodeKey, 3);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.StrikeRecorded.selector), 3);
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
        assertEq(staking.getNode(nodeKey).unbondingReleaseAt, releaseAt, "cooldown not restarted");
    }

    function test_Strikes_WithSlashInSameFault() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 1, 1_000 ether, true);
        _fault(nodeKey, 2, 1_000 ether, true);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 3, 1_000 ether, finder, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 97_000 ether, 0, uint40(block.timestamp + UNBONDING));
        assertEq(_fault(nodeKey, 3, 1_000 ether, true), 1_000 ether);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 97_000 ether);
        assertEq(n.unbondingEpoch, 1);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
    }

    function testFuzz_Strikes_MaxStrikesConfig(uint8 maxStrikes, uint32 start) public {
        maxStrikes = uint8(bound(maxStrikes, 1, 4));
        start = uint32(bound(start, 1, 1_000_000));
        NodeStaking.Config memory c = _config();
        c.maxStrikes = maxStrikes;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);
        for (uint32 i; i < maxStrikes; ++i) {
            assertTrue(s.isActive(nodeKey), "active before the last strike");
            uint8 expectedInWindow = uint8(i + 1);
            vm.expectEmit(true, true, true, true, address(s));
            emit NodeStaking.StrikeRecorded(nodeKey, start + i, expectedInWindow);
            vm.prank(address(settlement));
            s.applyFault(nodeKey, start + i, 1, 0, true, finder);
        }
        assertFalse(s.isActive(nodeKey));
        assertEq(uint8(s.getNode(nodeKey).status), uint8(NodeStaking.NodeStatus.Ejected));
    }

    /// @dev Previously a reported bug: only the last `maxStrikes` executed strikes were inspected, so executing
    ///      strikes for epochs 1, 20, 2, 3 never ejected although 1, 2, 3 lie in one window. Fixed.
    function test_Strikes_OrderOfExecutionDoesNotMatter() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        _strike(nodeKey, 1);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 20, 1);
        _strike(nodeKey, 20);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 2);
        _strike(nodeKey, 2);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 3);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    /// @notice The ring keeps the four LATEST strike epochs and the window is checked before the oldest is
    ///         dropped: a strike executed late still counts against its in-window neighbours, even after
    ///         later strikes were executed in between.
    function test_Strikes_LateStrikeStillCountsAfterLaterOnes() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 1);
        _strike(nodeKey, 2);
        _strike(nodeKey, 50);
        _strike(nodeKey, 60);
        assertTrue(staking.isActive(nodeKey));
        // 1, 2 and 3 lie within the window: ejected, whatever was executed in between
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 3);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        // the ring now holds the latest four: 2, 3, 50, 60
        assertEq(
            staking.getNode(nodeKey).recentStrikeEpochs,
            (uint128(60) << 96) | (uint128(50) << 64) | (uint128(3) << 32) | 2
        );
        // a strike older than all four stored is still checked against them, then dropped
        (address other,) = _registerNode("other", operator, MIN_STAKE);
        _strike(other, 20);
        _strike(other, 30);
        _strike(other, 40);
        _strike(other, 50);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(other, 5, 1);
        _strike(other, 5);
        assertTrue(staking.isActive(other));
        assertEq(
            staking.getNode(other).recentStrikeEpochs,
            (uint128(50) << 96) | (uint128(40) << 64) | (uint128(30) << 32) | 20
        );
    }

    /// @notice Differential check of `_recordStrike` against a brute-force model: the ring keeps the four
    ///         latest distinct strike epochs; a new strike ejects an Active node when some `maxStrikes` of the
    ///         ring plus the new one span less than the window; `strikesInWindow` counts the new strike and
    ///         every ring epoch less than a window away from it; the ring is stored ascending.
    function testFuzz_Strikes_MatchModel(uint8[8] memory raw, uint8 maxStrikes) public {
        maxStrikes = uint8(bound(maxStrikes, 1, 4));
        NodeStaking.Config memory c = _config();
        c.maxStrikes = maxStrikes;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);

        uint32[] memory ring = new uint32[](0); // ascending
        bool active = true;
        for (uint256 i; i < raw.length; ++i) {
            uint32 e = uint32(bound(raw[i], 1, 40));
            bool known;
            for (uint256 j; j < ring.length; ++j) {
                if (ring[j] == e) known = true;
            }
            vm.recordLogs();
            vm.prank(address(settlement));
            s.applyFault(nodeKey, e, 1, 0, true, finder);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            if (known) {
                assertEq(logs.length, 0, "repeat ignored");
                continue;
            }
            uint32[] memory candidates = _insertSorted(ring, e);
            uint8 inWindow;
            for (uint256 j; j < candidates.length; ++j) {
                uint32 d = candidates[j] > e ? candidates[j] - e : e - candidates[j];
                if (d < STRIKE_WINDOW) ++inWindow;
            }
            bool ejects = active && _someSubsetWithinWindow(candidates, maxStrikes);
            ring = _latestFour(candidates);
            assertEq(logs[0].topics[0], NodeStaking.StrikeRecorded.selector);
            assertEq(logs[0].topics[2], bytes32(uint256(e)));
            assertEq(abi.decode(logs[0].data, (uint8)), inWindow, "strikesInWindow");
            assertEq(_countLogs(logs, address(s), NodeStaking.NodeEjected.selector), ejects ? 1 : 0, "eject");
            if (ejects) active = false;
            assertEq(s.isActive(nodeKey), active);
            uint128 packed;
            for (uint256 j; j < ring.length; ++j) {
                packed |= uint128(uint256(ring[j]) << (32 * j));
            }
            assertEq(s.getNode(nodeKey).recentStrikeEpochs, packed, "ring");
        }
    }

    function _insertSorted(uint32[] memory ring, uint32 e) internal pure returns (uint32[] memory out) {
        out = new uint32[](ring.length + 1);
        uint256 k;
        bool placed;
        for (uint256 j; j < ring.length; ++j) {
            if (!placed && e < ring[j]) {
                out[k++] = e;
                placed = true;
            }
            out[k++] = ring[j];
        }
        if (!placed) out[k] = e;
    }

    function _latestFour(uint32[] memory sorted) internal pure returns (uint32[] memory out) {
        uint256 drop = sorted.length > 4 ? sorted.length - 4 : 0;
        out = new uint32[](sorted.length - drop);
        for (uint256 j; j < out.length; ++j) {
            out[j] = sorted[j + drop];
        }
    }

    /// @dev Brute force over all subsets of exactly `k` ring epochs.
    function _someSubsetWithinWindow(uint32[] memory ring, uint8 k) internal pure returns (bool) {
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
            if (count == k && hi - lo < STRIKE_WINDOW) return true;
        }
        return false;
    }
}
