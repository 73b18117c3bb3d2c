// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MerkleRootLib} from "../../contracts/libraries/MerkleRootLib.sol";

contract MerkleRootLibHarness {
    function process(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleRootLib.processProofCalldata(proof, leaf);
    }

    function openZeppelin(bytes32[] calldata proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleProof.processProofCalldata(proof, leaf);
    }
}

contract MerkleRootLibTest is Test {
    MerkleRootLibHarness internal harness = new MerkleRootLibHarness();

    /// The assembly loop computes exactly OpenZeppelin's root for any proof, including equal siblings.
    function testFuzz_matchesOpenZeppelin(bytes32[] calldata proof, bytes32 leaf) public view {
        assertEq(harness.process(proof, leaf), harness.openZeppelin(proof, leaf));
    }

    function testFuzz_equalSiblings(bytes32 leaf, uint8 depth) public view {
        bytes32[] memory proof = new bytes32[](depth % 24);
        for (uint256 i; i < proof.length; ++i) {
            proof[i] = leaf;
        }
        assertEq(harness.process(proof, leaf), harness.openZeppelin(proof, leaf));
    }

    function test_emptyProofIsTheLeaf() public view {
        assertEq(harness.process(new bytes32[](0), keccak256("leaf")), keccak256("leaf"));
    }

    /// The loop uses only scratch space: memory allocated before it is untouched.
    function test_doesNotClobberAllocatedMemory() public view {
        bytes32[] memory proof = new bytes32[](3);
        proof[0] = keccak256("a");
        proof[1] = keccak256("b");
        proof[2] = keccak256("c");
        bytes memory canary = abi.encode(uint256(0xC0FFEE), uint256(0xBEEF));
        bytes32 expected = harness.openZeppelin(proof, keccak256("leaf"));
        assertEq(this.processFromMemory(proof, keccak256("leaf"), canary), expected);
    }

    function processFromMemory(bytes32[] calldata proof, bytes32 leaf, bytes calldata canary)
        external
        pure
        returns (bytes32 root)
    {
        bytes memory before = canary;
        root = MerkleRootLib.processProofCalldata(proof, leaf);
        (uint256 a, uint256 b) = abi.decode(before, (uint256, uint256));
        require(a == 0xC0FFEE && b == 0xBEEF, "memory clobbered");
    }
}
