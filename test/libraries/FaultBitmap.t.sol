// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {FaultBitmap, FaultBitmapLib} from "../../contracts/libraries/FaultBitmap.sol";

/// @notice Holds a FaultBitmap in slot 0, as EpochSettlement holds its own in a slot of its layout.
contract FaultBitmapHarness {
    FaultBitmap internal _bits;

    function isPending(uint32 epoch, uint32 index) external view returns (bool) {
        return _bits.isPending(epoch, index);
    }

    function setPending(uint32 epoch, uint32 count) external {
        _bits.setPending(epoch, count);
    }

    function consume(uint32 epoch, uint32 index) external returns (bool) {
        return _bits.consume(epoch, index);
    }

    function clear(uint32 epoch) external {
        _bits.clear(epoch);
    }
}

contract FaultBitmapTest is Test {
    uint256 internal constant MAX_COUNT = 1_100; // up to five words
    FaultBitmapHarness internal harness = new FaultBitmapHarness();

    /// @notice Word `wordIndex` of `epoch` read straight from storage, where a bare
    ///         `mapping(uint256 => uint256)` in slot 0 keeps it.
    function _word(uint32 epoch, uint256 wordIndex) internal view returns (uint256) {
        bytes32 slot = keccak256(abi.encode((uint256(epoch) << 32) | wordIndex, uint256(0)));
        return uint256(vm.load(address(harness), slot));
    }

    function testFuzz_setPending_marksExactlyTheFirstCountLeaves(uint32 epoch, uint256 count, uint32 probe)
        public
    {
        count = bound(count, 0, MAX_COUNT);
        harness.setPending(epoch, uint32(count));
        assertEq(harness.isPending(epoch, probe), probe < count);
        if (count != 0) {
            assertTrue(harness.isPending(epoch, uint32(count - 1)));
            assertFalse(harness.isPending(epoch, uint32(count)));
        }
    }

    /// Whole words are all ones, the partial one holds `count % 256` low bits, nothing beyond.
    function testFuzz_setPending_wordsLaidOutAsABareMapping(uint32 epoch, uint256 count) public {
        count = bound(count, 0, MAX_COUNT);
        harness.setPending(epoch, uint32(count));
        for (uint256 w; w <= MAX_COUNT / 256 + 1; ++w) {
            uint256 expected = (w + 1) * 256 <= count
                ? type(uint256).max
                : (w * 256 < count ? (uint256(1) << (count - w * 256)) - 1 : 0);
            assertEq(_word(epoch, w), expected);
        }
    }

    function testFuzz_setPending_leavesOtherEpochsAlone(uint32 epoch, uint256 count, uint32 probe) public {
        vm.assume(epoch != 0 && epoch != type(uint32).max);
        count = bound(count, 1, MAX_COUNT);
        harness.setPending(epoch, uint32(count));
        assertFalse(harness.isPending(epoch - 1, probe));
        assertFalse(harness.isPending(epoch + 1, probe));
    }

    function test_setPending_wordBoundaries() public {
        uint32[6] memory counts = [uint32(1), 255, 256, 257, 511, 512];
        for (uint32 k; k < counts.length; ++k) {
            harness.setPending(k, counts[k]);
            assertTrue(harness.isPending(k, counts[k] - 1));
            assertFalse(harness.isPending(k, counts[k]));
        }
        assertEq(_word(2, 0), type(uint256).max);
        assertEq(_word(2, 1), 0);
        assertEq(_word(3, 1), 1);
    }

    function testFuzz_consume_clearsALeafOnce(uint32 epoch, uint256 count, uint256 index, uint32 other)
        public
    {
        count = bound(count, 1, MAX_COUNT);
        index = bound(index, 0, count - 1);
        vm.assume(other != index);
        harness.setPending(epoch, uint32(count));
        assertTrue(harness.consume(epoch, uint32(index)));
        assertFalse(harness.isPending(epoch, uint32(index)));
        assertEq(harness.isPending(epoch, other), other < count, "other leaves untouched");
        assertFalse(harness.consume(epoch, uint32(index)), "second time");
    }

    function test_consume_lastLeafOfAWordZeroesIt() public {
        harness.setPending(7, 1);
        assertTrue(harness.consume(7, 0));
        assertEq(_word(7, 0), 0);
    }

    /// A leaf that is not pending is reported as such and its word stays as it was.
    function testFuzz_consume_notPendingChangesNothing(uint32 epoch, uint256 count, uint32 index) public {
        count = bound(count, 0, MAX_COUNT);
        vm.assume(index >= count);
        harness.setPending(epoch, uint32(count));
        uint256 before = _word(epoch, index >> 8);
        assertFalse(harness.consume(epoch, index));
        assertEq(_word(epoch, index >> 8), before);
    }

    function testFuzz_clear_deletesEveryWordOfTheEpoch(uint32 epoch, uint256 count, uint32 probe) public {
        vm.assume(epoch != type(uint32).max);
        count = bound(count, 0, MAX_COUNT);
        harness.setPending(epoch, uint32(count));
        harness.setPending(epoch + 1, 300);
        harness.clear(epoch);
        for (uint256 w; w <= MAX_COUNT / 256 + 1; ++w) {
            assertEq(_word(epoch, w), 0);
        }
        assertFalse(harness.isPending(epoch, probe));
        assertTrue(harness.isPending(epoch + 1, 299), "next epoch untouched");
    }

    function testFuzz_wordKey(uint32 epoch, uint256 wordIndex) public pure {
        wordIndex = bound(wordIndex, 0, type(uint32).max >> 8);
        uint256 key = FaultBitmapLib.wordKey(epoch, wordIndex);
        assertEq(key, (uint256(epoch) << 32) | wordIndex);
        assertEq(key >> 32, epoch, "the epoch is recoverable: keys of two epochs never meet");
    }
}
