// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Everything guardians sign about one epoch. Only roots and totals: the dataset itself is
///         published off-chain and committed by `dataHash`.
struct EpochHeader {
    uint32 epoch; // strictly the next epoch after the last submitted one
    uint32 consensusVersion; // version of the scoring function that produced the roots
    uint32 faultCount; // number of leaves in the fault tree (0 when no faults)
    uint96 totalCumulative; // sum over all reward leaves (cumulative since genesis)
    uint96 epochEmission; // SEND emitted by this epoch (<= the emission schedule)
    bytes32 rewardRoot; // Merkle root of (account, cumulative amount) leaves
    bytes32 faultRoot; // Merkle root of (epoch, index, nodeKey, slash amount, strike) leaves; 0 when none
    bytes32 scoresHash; // head of the hash chain over the per-node score chunks
    bytes32 dataHash; // hash of the published epoch dataset (commitments, openings, transcripts)
    bytes32 seed; // sampling seed (see docs/protocol.md, "Randomness")
}

/// @notice Per-node result of an epoch, published in chunks for indexers.
struct NodeScore {
    address nodeKey;
    uint32 rank; // 1 = best in this epoch
    uint32 score; // parts per million
    uint32 availability; // parts per million (median over assigned WatchDogs)
    uint32 latencyP50Ms;
    uint32 latencyP95Ms;
    uint64 verifiedUnits; // relay volume credited after sampling and caps
    uint96 reward; // SEND earned by this node in this epoch
    uint8 faults; // bit flags, see docs/protocol.md
}

/// @title EpochHeaderLib
/// @notice EIP-712 struct hash of an epoch header, and the score-chunk hash chain.
library EpochHeaderLib {
    bytes32 internal constant TYPEHASH = keccak256(
        "EpochHeader(uint32 epoch,uint32 consensusVersion,uint32 faultCount,uint96 totalCumulative,"
        "uint96 epochEmission,bytes32 rewardRoot,bytes32 faultRoot,bytes32 scoresHash,bytes32 dataHash,bytes32 seed)"
    );

    /// @notice The value after the last link of a scores hash chain (an epoch with no chunks has
    ///         `scoresHash == SCORES_END`).
    bytes32 internal constant SCORES_END = bytes32(uint256(1));

    /// @dev The header is a static struct, so abi.encode lays it out exactly as EIP-712 encodeData.
    function structHash(EpochHeader calldata h) internal pure returns (bytes32) {
        return keccak256(abi.encode(TYPEHASH, h));
    }

    /// @notice Link of the scores hash chain: `link = keccak256(abi.encode(keccak256(abi.encode(chunk)), next))`.
    function chunkLink(NodeScore[] calldata chunk, bytes32 next) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(abi.encode(chunk)), next));
    }
}
