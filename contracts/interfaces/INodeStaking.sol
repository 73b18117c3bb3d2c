// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title INodeStaking
/// @notice What EpochSettlement needs from node staking: applying finalized faults.
interface INodeStaking {
    /// @notice Applies one finalized fault of `nodeKey` in `epoch`: slashes up to `amount` (capped per
    ///         epoch), records a strike when `strike` is set, pays `finder` its fee, ejects when due.
    /// @return slashed the amount actually slashed after the per-epoch cap.
    function applyFault(address nodeKey, uint32 epoch, uint96 amount, bool strike, address finder)
        external
        returns (uint96 slashed);

    /// @notice Length of the unbonding cooldown in seconds (must exceed the dispute window).
    function unbondingPeriod() external view returns (uint64);
}
