// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice One price tier of the WatchDog presale in one word: `start | ethPrice << 32 | tokenPrice << 128`
///         (bits 0-31 the first sale index of the tier, 32-127 the price in wei, 128-223 the price in
///         stablecoin units; the top 32 bits are zero). The zero word is an unused tier.
/// @dev WatchDogPresale keeps its tiers as eight immutables of this type: immutables cost no SLOAD, which an
///      array would.
type PackedTier is uint256;

using PackedTierLib for PackedTier global;

/// @title PackedTierLib
/// @notice Packs and reads a `PackedTier`.
library PackedTierLib {
    function pack(uint32 start_, uint96 ethPrice_, uint96 tokenPrice_) internal pure returns (PackedTier) {
        return PackedTier.wrap(uint256(start_) | (uint256(ethPrice_) << 32) | (uint256(tokenPrice_) << 128));
    }

    /// @notice First sale index (license id - 1) the tier prices.
    function start(PackedTier tier) internal pure returns (uint32) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint32(PackedTier.unwrap(tier));
    }

    /// @notice Price of one license in wei.
    function ethPrice(PackedTier tier) internal pure returns (uint96) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint96(PackedTier.unwrap(tier) >> 32);
    }

    /// @notice Price of one license in stablecoin units.
    function tokenPrice(PackedTier tier) internal pure returns (uint96) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint96(PackedTier.unwrap(tier) >> 128);
    }
}
