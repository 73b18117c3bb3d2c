// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";

/// @notice A generic forwarder (as a multisig or smart account would be): the epoch submission is an
///         internal call, the transaction's calldata is `forward(target, data)`. Issue 11 finding 4
///         regression helper.
contract SubmitForwarder {
    error ForwardFailed(bytes reason);

    function forward(address target, bytes calldata data) external {
        (bool ok, bytes memory reason) = target.call(data);
        if (!ok) revert ForwardFailed(reason);
    }
}

/// @notice A contract whose function has `submitEpoch`'s selector and argument types: its calldata claims
///         whatever guardian list and bitmap its caller chose (e.g. one guardian), while it submits the
///         real signatures loaded beforehand. Decoding the transaction's calldata as a direct submitEpoch
///         call would pay the claimed signers. Issue 11 finding 4 regression helper.
contract SelectorReusingSubmitter {
    EpochSettlement public immutable settlement;
    bytes private _realCall;

    error SubmitFailed(bytes reason);

    constructor(EpochSettlement settlement_) {
        settlement = settlement_;
    }

    /// @notice Loads the real `submitEpoch` calldata to send on the next `submitEpoch` call.
    function load(bytes calldata realCall) external {
        _realCall = realCall;
    }

    /// @notice Same selector as `EpochSettlement.submitEpoch`; ignores its arguments.
    function submitEpoch(
        EpochHeader calldata,
        address[] calldata,
        uint256,
        GuardianQuorum.Signature[] calldata
    ) external {
        (bool ok, bytes memory reason) = address(settlement).call(_realCall);
        if (!ok) revert SubmitFailed(reason);
    }
}
