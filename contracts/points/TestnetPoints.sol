// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestnetPoints
/// @notice The public testnet's reward unit ("SendingNetwork Testnet Points", 18 decimals). Points mode is
///         the ordinary `EpochSettlement` and `LicenseRewards` deployed with this token instead of SEND, so
///         scoring, guardian signatures, cumulative roots, emission caps and claims stay exactly as they
///         are and no SEND moves. Points are later converted into SEND by `PointsConversion`, which reads
///         the last points reward root, never balances.
/// @dev The whole supply is minted once, at deployment, to the two escrows (the points settlement and the
///      points license rewards). Points leave an escrow only through that escrow's claims; every other
///      transfer reverts, so points cannot be traded, pooled or moved between holders (nor into an escrow:
///      `EpochSettlement.fundEscrow` reverts, the escrow is funded by the mint). Claiming is optional: it
///      only shows a holder its points in a wallet; conversion does not look at balances.
contract TestnetPoints is ERC20 {
    /// @notice The points settlement (node and guardian points escrow).
    address public immutable settlementEscrow;
    /// @notice The points license rewards (WatchDog license points escrow).
    address public immutable licenseEscrow;

    /// @notice A constructor address was zero (`what` names it).
    error ZeroAddress(string what);
    /// @notice Points move only out of an escrow (its claims); `from` is not one.
    error PointsNotTransferable(address from, address to);

    /// @param settlementEscrow_ the points `EpochSettlement` (predicted address: it reads its balance in its
    ///        constructor), minted `settlementAmount`.
    /// @param licenseEscrow_ the points `LicenseRewards` (predicted address), minted `licenseAmount`.
    constructor(
        address settlementEscrow_,
        uint256 settlementAmount,
        address licenseEscrow_,
        uint256 licenseAmount
    ) ERC20("SendingNetwork Testnet Points", "SNPT") {
        if (settlementEscrow_ == address(0)) revert ZeroAddress("settlementEscrow");
        if (licenseEscrow_ == address(0)) revert ZeroAddress("licenseEscrow");
        settlementEscrow = settlementEscrow_;
        licenseEscrow = licenseEscrow_;
        _mint(settlementEscrow_, settlementAmount);
        _mint(licenseEscrow_, licenseAmount);
    }

    /// @dev Mints (constructor only: there is no mint function) and transfers out of an escrow pass;
    ///      everything else reverts. There is no burn function, so `to` is never the zero address here.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && from != settlementEscrow && from != licenseEscrow) {
            revert PointsNotTransferable(from, to);
        }
        super._update(from, to, value);
    }
}
