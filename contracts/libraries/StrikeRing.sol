// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The (up to) four latest distinct strike epochs of a node in 128 bits: four 32-bit lanes holding the
///         epochs ascending from the low lane, empty lanes (0) above the used ones. NodeStaking stores it as the
///         plain `uint128 recentStrikeEpochs` of its `Node` (so the node's ABI is unchanged) and wraps it here.
/// @dev Every ring `add` returns is well-formed (used lanes contiguous from lane 0, strictly ascending,
///      non-zero), and so is the empty ring; `add` relies on it.
type StrikeRing is uint128;

using StrikeRingLib for StrikeRing global;

/// @title StrikeRingLib
/// @notice Adds a strike epoch to a ring and judges it by a window rule: are `maxStrikes` of the epochs within
///         `window` consecutive epochs? Works on the packed lanes (no memory arrays).
library StrikeRingLib {
    /// @notice Epochs a ring keeps.
    uint256 internal constant CAPACITY = 4;

    /// @notice The epoch in lane `lane` (0 = lowest); 0 when the lane is empty or `lane` >= CAPACITY.
    function epochAt(StrikeRing ring, uint256 lane) internal pure returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(StrikeRing.unwrap(ring) >> (32 * lane)); // one 32-bit lane
    }

    /// @notice Adds strike epoch `epoch` to `ring`.
    /// @dev The judgement covers the stored epochs and `epoch` together, before the oldest is dropped, so a late
    ///      strike for an old epoch still counts against its neighbours.
    /// @param maxStrikes at least 1 and at most CAPACITY.
    /// @return known true when `epoch` is already in the ring (a strike per epoch counts once; an empty lane
    ///         matches epoch 0); then nothing else is returned.
    /// @return next the ring of the latest CAPACITY of the stored epochs and `epoch`.
    /// @return tooMany whether some `maxStrikes` of the stored epochs and `epoch` lie within `window`
    ///         consecutive epochs (latest minus earliest < `window`).
    /// @return inWindow how many of the stored epochs and `epoch` lie less than `window` epochs from `epoch`
    ///         (`epoch` itself included).
    function add(StrikeRing ring, uint32 epoch, uint256 maxStrikes, uint256 window)
        internal
        pure
        returns (bool known, StrikeRing next, bool tooMany, uint8 inWindow)
    {
        (bool stored, uint256 sorted, uint256 count) = _insert(StrikeRing.unwrap(ring), epoch);
        if (stored) return (true, ring, false, 0);
        for (uint256 i; i < count; ++i) {
            uint256 e = uint32(sorted >> (32 * i));
            if (i + maxStrikes <= count && uint32(sorted >> (32 * (i + maxStrikes - 1))) - e < window) {
                tooMany = true;
            }
            if ((e > epoch ? e - epoch : epoch - e) < window) ++inWindow; // `epoch` counts itself
        }
        // keep the latest CAPACITY: drop the lowest lane when there are CAPACITY + 1
        // forge-lint: disable-next-line(unsafe-typecast)
        next = StrikeRing.wrap(uint128(count > CAPACITY ? sorted >> 32 : sorted));
    }

    /// @dev The stored epochs with `epoch` inserted, ascending in 32-bit lanes of `sorted` (count <= CAPACITY + 1
    ///      lanes); `known` when a lane already holds `epoch`.
    function _insert(uint256 ring, uint32 epoch)
        private
        pure
        returns (bool known, uint256 sorted, uint256 count)
    {
        uint256 at; // bit offset of the new epoch: 32 times the number of stored epochs below it
        for (uint256 i; i < CAPACITY; ++i) {
            uint256 e = uint32(ring >> (32 * i));
            if (e == epoch) return (true, 0, 0);
            if (e != 0) {
                ++count;
                if (e < epoch) at += 32;
            }
        }
        uint256 below = (uint256(1) << at) - 1;
        sorted = (ring & below) | (uint256(epoch) << at) | ((ring & ~below) << 32);
        ++count;
    }
}
