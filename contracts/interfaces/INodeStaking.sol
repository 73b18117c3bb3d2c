// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title INodeStaking
/// @notice What EpochSettlement needs from node staking: applying finalized faults.
interface INodeStaking {
    /// @notice Applies one finalized fault of `nodeKey` committed in `faultEpoch`: slashes up to `amount`
    ///         (at most `maxSlashBps` of the node's stake per epoch of the settlement clock, `currentEpoch`),
    ///         records a strike when `strike` is set, pays `finder` its fee, ejects when due.
    /// @return slashed the amount actually slashed after the per-epoch cap.
    function applyFault(
        address nodeKey,
        uint32 faultEpoch,
        uint32 currentEpoch,
        uint96 amount,
        bool strike,
        address finder
    ) external returns (uint96 slashed);

    /// @notice Length of the unbonding cooldown in seconds (must exceed the dispute window).
    function unbondingPeriod() external view returns (uint64);
}

/// @title IEpochClock
/// @notice The settlement's epoch clock, read by staking to rate-limit slashing per epoch and to hold
///         withdrawals until every fault the stake may owe has had its execution window.
interface IEpochClock {
    /// @notice The epoch in progress at the current block time (0 before genesis).
    function currentEpoch() external view returns (uint32);

    /// @notice The newest finalized epoch (0 before the first).
    function lastFinalizedEpoch() external view returns (uint32);

    /// @notice A time by which `epoch` was finalized (its fault leaves executable), 0 while it is not.
    function finalizedBy(uint32 epoch) external view returns (uint64);

    /// @notice Length of one epoch in seconds.
    function epochDuration() external view returns (uint64);

    /// @notice Timestamp at which `epoch` ends.
    function epochEnd(uint32 epoch) external view returns (uint64);
}
