// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IEpochSettlementView
/// @notice What license rewards read from `EpochSettlement`: the latest finalized reward root, which also
///         commits to every license's cumulative reward, and the epoch it belongs to.
interface IEpochSettlementView {
    /// @notice The newest finalized epoch and its full 256-bit reward root (0 and 0 before the first).
    function claimableRewardRoot() external view returns (uint32 epoch, bytes32 root);

    /// @notice The newest finalized epoch (0 before the first).
    function lastFinalizedEpoch() external view returns (uint32);
}
