// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {StrikeRing, StrikeRingLib} from "../../contracts/libraries/StrikeRing.sol";

contract StrikeRingHarness {
    function epochAt(uint128 ring, uint256 lane) external pure returns (uint32) {
        return StrikeRing.wrap(ring).epochAt(lane);
    }

    function add(uint128 ring, uint32 epoch, uint256 maxStrikes, uint256 window)
        external
        pure
        returns (bool known, uint128 next, bool tooMany, uint8 inWindow)
    {
        StrikeRing n;
        (known, n, tooMany, inWindow) = StrikeRing.wrap(ring).add(epoch, maxStrikes, window);
        next = StrikeRing.unwrap(n);
    }
}

/// @notice The strike rule as NodeStaking computed it before StrikeRingLib (memory array, insertion sort),
///         kept as the reference the packed implementation must match.
library StrikeRingReference {
    function add(uint128 ring, uint32 epoch, uint256 maxStrikes, uint256 window)
        internal
        pure
        returns (bool known, uint128 next, bool tooMany, uint8 inWindow)
    {
        uint32[5] memory epochs;
        uint256 count;
        for (uint256 i; i < 4; ++i) {
            uint32 e = uint32(ring >> (32 * i));
            if (e == epoch) return (true, ring, false, 0);
            if (e != 0) epochs[count++] = e;
        }
        epochs[count++] = epoch;
        for (uint256 i = 1; i < count; ++i) {
            uint32 key = epochs[i];
            uint256 j = i;
            for (; j > 0 && epochs[j - 1] > key; --j) {
                epochs[j] = epochs[j - 1];
            }
            epochs[j] = key;
        }
        for (uint256 i; i < count; ++i) {
            if (i + maxStrikes <= count && epochs[i + maxStrikes - 1] - epochs[i] < window) tooMany = true;
            uint32 distance = epochs[i] > epoch ? epochs[i] - epoch : epoch - epochs[i];
            if (distance < window) ++inWindow;
        }
        uint256 drop = count > 4 ? 1 : 0;
        for (uint256 i = drop; i < count; ++i) {
            next |= uint128(uint256(epochs[i]) << (32 * (i - drop)));
        }
    }
}

contract StrikeRingTest is Test {
    StrikeRingHarness internal harness = new StrikeRingHarness();

    /// @notice A well-formed ring (what `add` produces) from fuzz input: `n % 5` distinct non-zero epochs,
    ///         ascending from the low lane.
    function _ring(uint32[4] memory raw, uint256 n, uint256 maxStep) internal pure returns (uint128 ring) {
        uint256 e;
        for (uint256 i; i < n % 5; ++i) {
            e += bound(raw[i], 1, maxStep);
            ring |= uint128(e << (32 * i));
        }
    }

    function _assertMatchesReference(uint128 ring, uint32 epoch, uint256 maxStrikes, uint256 window)
        internal
        view
    {
        (bool known, uint128 next, bool tooMany, uint8 inWindow) =
            harness.add(ring, epoch, maxStrikes, window);
        (bool rKnown, uint128 rNext, bool rTooMany, uint8 rInWindow) =
            StrikeRingReference.add(ring, epoch, maxStrikes, window);
        assertEq(known, rKnown, "known");
        assertEq(next, rNext, "next");
        assertEq(tooMany, rTooMany, "tooMany");
        assertEq(inWindow, rInWindow, "inWindow");
    }

    /// Close epochs (steps up to 8) and windows up to 40, so windows both hold and miss.
    function testFuzz_add_matchesReference(
        uint32[4] memory raw,
        uint256 n,
        uint32 epoch,
        uint256 maxStrikes,
        uint256 window
    ) public view {
        uint128 ring = _ring(raw, n, 8);
        epoch = uint32(bound(epoch, 0, 40));
        _assertMatchesReference(ring, epoch, bound(maxStrikes, 1, 4), bound(window, 1, 40));
    }

    /// Anywhere in the uint32 range.
    function testFuzz_add_matchesReferenceWideRange(
        uint32[4] memory raw,
        uint256 n,
        uint32 epoch,
        uint256 maxStrikes,
        uint32 window
    ) public view {
        uint128 ring = _ring(raw, n, type(uint32).max / 4);
        _assertMatchesReference(ring, epoch, bound(maxStrikes, 1, 4), bound(window, 1, type(uint32).max));
    }

    /// Sequences of strikes from an empty ring stay well-formed and match the reference at every step.
    function testFuzz_add_sequenceMatchesReference(uint8[8] memory raw, uint256 maxStrikes, uint256 window)
        public
        view
    {
        maxStrikes = bound(maxStrikes, 1, 4);
        window = bound(window, 1, 20);
        uint128 ring;
        for (uint256 i; i < raw.length; ++i) {
            uint32 epoch = uint32(raw[i] % 32);
            _assertMatchesReference(ring, epoch, maxStrikes, window);
            (bool known, uint128 next,,) = harness.add(ring, epoch, maxStrikes, window);
            if (!known) ring = next;
        }
    }

    function test_add_repeatedEpochIsKnown() public view {
        uint128 ring = (uint128(9) << 32) | 4;
        (bool known, uint128 next, bool tooMany, uint8 inWindow) = harness.add(ring, 9, 3, 10);
        assertTrue(known);
        assertEq(next, ring);
        assertFalse(tooMany);
        assertEq(inWindow, 0);
    }

    function test_add_toEmptyRing() public view {
        (bool known, uint128 next, bool tooMany, uint8 inWindow) = harness.add(0, 7, 3, 10);
        assertFalse(known);
        assertEq(next, 7);
        assertFalse(tooMany);
        assertEq(inWindow, 1);
    }

    /// Epoch 0 matches an empty lane (the ring cannot tell them apart); a full ring takes and drops it.
    function test_add_epochZero() public view {
        (bool known,,,) = harness.add(5, 0, 3, 10);
        assertTrue(known);
        uint128 full = (uint128(4) << 96) | (uint128(3) << 64) | (uint128(2) << 32) | 1;
        (bool knownFull, uint128 next,,) = harness.add(full, 0, 3, 10);
        assertFalse(knownFull);
        assertEq(next, full, "0 is the oldest: dropped");
    }

    function test_add_fifthDropsTheOldest() public view {
        uint128 full = (uint128(40) << 96) | (uint128(30) << 64) | (uint128(20) << 32) | 10;
        (, uint128 next, bool tooMany, uint8 inWindow) = harness.add(full, 25, 3, 11);
        assertEq(next, (uint128(40) << 96) | (uint128(30) << 64) | (uint128(25) << 32) | 20);
        assertTrue(tooMany, "20, 25, 30 within 11");
        assertEq(inWindow, 3, "20, 25, 30");
    }

    /// A late strike for an old epoch is judged with the epochs stored, before the oldest is dropped.
    function test_add_lateStrikeCountsBeforeTheDrop() public view {
        uint128 full = (uint128(50) << 96) | (uint128(40) << 64) | (uint128(3) << 32) | 2;
        (, uint128 next, bool tooMany,) = harness.add(full, 1, 3, 10);
        assertTrue(tooMany, "1, 2, 3");
        assertEq(next, full, "1 is the oldest: dropped");
    }

    function test_add_maxStrikesOneAlwaysTooMany() public view {
        (,, bool tooMany,) = harness.add(0, 100, 1, 1);
        assertTrue(tooMany);
    }

    function testFuzz_epochAt_readsEachLane(uint128 ring, uint256 lane) public view {
        lane = bound(lane, 0, 3);
        assertEq(harness.epochAt(ring, lane), uint32(ring >> (32 * lane)));
    }

    function testFuzz_epochAt_beyondCapacityIsEmpty(uint128 ring, uint256 lane) public view {
        lane = bound(lane, StrikeRingLib.CAPACITY, 64);
        assertEq(harness.epochAt(ring, lane), 0);
    }

    /// NodeStaking.MAX_STRIKES_LIMIT is this capacity (checked in NodeStakingTest).
    function test_capacity() public pure {
        assertEq(StrikeRingLib.CAPACITY, 4);
    }
}
