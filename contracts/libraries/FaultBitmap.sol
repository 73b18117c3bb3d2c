// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Which fault leaves of each epoch are still pending (not executed): bit `index % 256` of the word
///         keyed `epoch << 32 | index / 256` (OpenZeppelin's `BitMaps`, with the epoch in the key).
/// @dev A struct holding one mapping is laid out exactly as that mapping alone: the words live at
///      keccak256(key . slot), as they did in the bare `mapping(uint256 => uint256)` this replaces. Only
///      `FaultBitmapLib` touches `_words`.
struct FaultBitmap {
    mapping(uint256 wordKey => uint256 bits) _words;
}

using FaultBitmapLib for FaultBitmap global;

/// @title FaultBitmapLib
/// @notice The pending-fault bitmap of EpochSettlement: leaves 0 .. count - 1 of an epoch are marked pending
///         when the epoch is submitted (the submitter pays for the storage), each is consumed once when it is
///         executed, and a voided epoch's words are deleted.
/// @dev Epochs and leaf indices are uint32 in EpochSettlement; they are taken as uint256 here so that the
///      arithmetic needs no cleanup of narrow types. Callers pass values below 2^32.
library FaultBitmapLib {
    /// @notice True while leaf `index` of `epoch` is pending.
    function isPending(FaultBitmap storage self, uint256 epoch, uint256 index) internal view returns (bool) {
        return (self._words[wordKey(epoch, index >> 8)] >> (index & 0xff)) & 1 != 0;
    }

    /// @notice Marks leaves 0 .. `count` - 1 of `epoch` pending: whole words first, then the partial one.
    /// @dev Overwrites the words it covers; words beyond them are left as they are.
    function setPending(FaultBitmap storage self, uint256 epoch, uint256 count) internal {
        uint256 fullWords = count >> 8;
        uint256 base = wordKey(epoch, 0);
        for (uint256 i; i < fullWords; ++i) {
            self._words[base | i] = type(uint256).max;
        }
        uint256 rest = count & 0xff;
        if (rest != 0) self._words[base | fullWords] = (uint256(1) << rest) - 1;
    }

    /// @notice Clears leaf `index` of `epoch`.
    /// @return wasPending whether it was pending (if not, the word is written back unchanged).
    function consume(FaultBitmap storage self, uint256 epoch, uint256 index)
        internal
        returns (bool wasPending)
    {
        uint256 key = wordKey(epoch, index >> 8);
        uint256 bit = uint256(1) << (index & 0xff);
        uint256 word = self._words[key];
        wasPending = word & bit != 0;
        self._words[key] = word & ~bit;
    }

    /// @notice Deletes the words of an epoch none of whose leaves was consumed (a voided epoch is never
    ///         finalized, so none was executed): its words are exactly the non-zero ones from word 0 up.
    function clear(FaultBitmap storage self, uint256 epoch) internal {
        for (uint256 key = wordKey(epoch, 0); self._words[key] != 0; ++key) {
            delete self._words[key];
        }
    }

    /// @notice Key of word `wordIndex` (leaves 256·wordIndex .. 256·wordIndex + 255) of `epoch`. A uint32
    ///         leaf index has at most 2^24 words, so keys of different epochs never meet.
    function wordKey(uint256 epoch, uint256 wordIndex) internal pure returns (uint256) {
        return (epoch << 32) | wordIndex;
    }
}
