// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MerkleRootLib
/// @notice Recomputes the root of a sorted-pair Merkle tree from a leaf and a calldata proof, the same
///         function as OpenZeppelin's `MerkleProof.processProofCalldata`, in a tight assembly loop (about
///         a third of the gas per level). Claims compare a truncated root, so they need the root itself
///         rather than a boolean `verify`.
library MerkleRootLib {
    function processProofCalldata(bytes32[] calldata proof, bytes32 leaf)
        internal
        pure
        returns (bytes32 root)
    {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            root := leaf
            let offset := proof.offset
            let end := add(offset, shl(5, proof.length))
            for {} lt(offset, end) { offset := add(offset, 0x20) } {
                let sibling := calldataload(offset)
                // sorted pair: the smaller value goes first (scratch space 0x00-0x3f, no allocation)
                let smallerFirst := lt(root, sibling)
                mstore(xor(0x20, shl(5, smallerFirst)), root)
                mstore(shl(5, smallerFirst), sibling)
                root := keccak256(0x00, 0x40)
            }
        }
    }
}
