// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";

/// @title BulkNodeRegistrar
/// @notice Devnet and benchmark helper: registers many edge nodes in one transaction, as their operator.
///         Each node key signs `NodeKeyConsent(operator = this contract)`; the stake comes from SEND sent to
///         this contract beforehand. Never part of a deployment.
contract BulkNodeRegistrar {
    NodeStaking public immutable staking;

    error LengthMismatch();

    constructor(NodeStaking staking_) {
        staking = staking_;
        IERC20(address(staking_.token())).approve(address(staking_), type(uint256).max);
    }

    /// @notice Registers `nodeKeys[i]` with `stake`, consent `consents[i]` and endpoint `endpoints[i]`.
    function registerMany(
        address[] calldata nodeKeys,
        bytes[] calldata consents,
        string[] calldata endpoints,
        uint96 stake
    ) external {
        if (nodeKeys.length != consents.length || nodeKeys.length != endpoints.length) revert LengthMismatch();
        for (uint256 i; i < nodeKeys.length; ++i) {
            staking.register(nodeKeys[i], stake, consents[i], endpoints[i], "");
        }
    }
}
