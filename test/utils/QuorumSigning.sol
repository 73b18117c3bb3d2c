// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader, EpochHeaderLib} from "../../contracts/libraries/EpochHeaderLib.sol";

/// @notice Epoch headers and guardian signatures for tests and invariant handlers: one implementation
///         of what every suite needs to submit a real, really-signed epoch.
library QuorumSigning {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice A header for `epoch` with no faults and no scores, deterministic data hash and seed.
    function header(uint32 epoch, bytes32 rewardRoot, uint96 totalCumulative, uint96 emission)
        internal
        pure
        returns (EpochHeader memory h)
    {
        h.epoch = epoch;
        h.consensusVersion = 1;
        h.totalCumulative = totalCumulative;
        h.epochEmission = emission;
        h.rewardRoot = rewardRoot;
        h.scoresHash = EpochHeaderLib.SCORES_END;
        h.dataHash = keccak256(abi.encode("dataset", epoch));
        h.seed = keccak256(abi.encode("seed", epoch));
    }

    /// @notice Compact signatures over `digest` by `keys[i]` for every bit i set in `bitmap`, ascending,
    ///         as `submitEpoch` takes them.
    function signDigest(bytes32 digest, uint256[] memory keys, uint256 bitmap)
        internal
        pure
        returns (GuardianQuorum.Signature[] memory sigs)
    {
        uint256 count;
        for (uint256 i; i < keys.length; ++i) {
            if ((bitmap >> i) & 1 == 1) ++count;
        }
        sigs = new GuardianQuorum.Signature[](count);
        uint256 n;
        for (uint256 i; i < keys.length; ++i) {
            if ((bitmap >> i) & 1 == 0) continue;
            (bytes32 r, bytes32 vs) = VM.signCompact(keys[i], digest);
            sigs[n++] = GuardianQuorum.Signature(r, vs);
        }
    }
}
