// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {PackedTier, PackedTierLib} from "../../contracts/libraries/PackedTier.sol";

contract PackedTierHarness {
    function pack(uint32 start, uint96 ethPrice, uint96 tokenPrice) external pure returns (uint256) {
        return PackedTier.unwrap(PackedTierLib.pack(start, ethPrice, tokenPrice));
    }

    function unpack(uint256 word) external pure returns (uint32 start, uint96 ethPrice, uint96 tokenPrice) {
        PackedTier tier = PackedTier.wrap(word);
        return (tier.start(), tier.ethPrice(), tier.tokenPrice());
    }
}

contract PackedTierTest is Test {
    PackedTierHarness internal harness = new PackedTierHarness();

    function testFuzz_packUnpackRoundTrip(uint32 start, uint96 ethPrice, uint96 tokenPrice) public view {
        (uint32 s, uint96 e, uint96 t) = harness.unpack(harness.pack(start, ethPrice, tokenPrice));
        assertEq(s, start);
        assertEq(e, ethPrice);
        assertEq(t, tokenPrice);
    }

    /// The layout WatchDogPresale has always used: start | ethPrice << 32 | tokenPrice << 128, top 32 bits 0.
    function testFuzz_layout(uint32 start, uint96 ethPrice, uint96 tokenPrice) public view {
        uint256 word = harness.pack(start, ethPrice, tokenPrice);
        assertEq(word, uint256(start) | (uint256(ethPrice) << 32) | (uint256(tokenPrice) << 128));
        assertEq(word >> 224, 0);
    }

    /// Each field reads only its own bits.
    function testFuzz_fieldsIgnoreTheOtherBits(uint256 word) public view {
        (uint32 s, uint96 e, uint96 t) = harness.unpack(word);
        assertEq(s, word & type(uint32).max);
        assertEq(e, (word >> 32) & type(uint96).max);
        assertEq(t, (word >> 128) & type(uint96).max);
    }

    function test_zeroIsAnUnusedTier() public view {
        (uint32 s, uint96 e, uint96 t) = harness.unpack(0);
        assertEq(s, 0);
        assertEq(e, 0);
        assertEq(t, 0);
    }
}
