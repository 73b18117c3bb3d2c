// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidBase} from "./DidBase.sol";
import {DidNames} from "./DidNames.sol";

/// @title DidCommitments
/// @notice Commit–reveal for the registry's two first-come-first-served writes, so that neither can be taken
///         by someone who reads it in the mempool: registering a name (`register`) and adding a device key
///         (`addKey`). The caller first sends `commit(hash)`, where the hash binds the caller's address to what
///         it will write; the write then needs that commitment to be at least `minCommitmentAge` and less than
///         `maxCommitmentAge` seconds old, and consumes it. A watcher who learns the name or the key from the
///         revealing transaction can commit only then, so its own commitment is too young until the reveal is
///         long mined; and it cannot use the victim's commitment, which names the victim as owner.
///           register: `keccak256(abi.encode(REGISTER_COMMITMENT_TYPEHASH, idOf(name), owner, secret))` —
///                     names are guessable, so a random `secret` hides which name is committed;
///           addKey:   `keccak256(abi.encode(KEY_COMMITMENT_TYPEHASH, did, key, keyType, owner))` — a fresh
///                     32-byte public key is unguessable until it is revealed, so it needs no secret.
/// @dev One mapping holds both kinds (the type hashes keep them apart). A commitment is deleted when used.
abstract contract DidCommitments is DidBase {
    bytes32 public constant REGISTER_COMMITMENT_TYPEHASH =
        keccak256("RegisterCommitment(uint256 did,address owner,bytes32 secret)");
    bytes32 public constant KEY_COMMITMENT_TYPEHASH =
        keccak256("KeyCommitment(uint256 did,bytes32 key,uint8 keyType,address owner)");

    /// @notice Seconds a commitment must have existed before it can be used.
    uint256 public immutable minCommitmentAge;
    /// @notice Seconds after which an unused commitment can no longer be used (and may be made again).
    uint256 public immutable maxCommitmentAge;

    mapping(bytes32 commitment => uint256 committedAt) internal _commitments;

    /// @notice `minAge` is zero (a commitment could be used in the block that makes it) or `maxAge` is not
    ///         above it.
    error InvalidCommitmentAges(uint256 minAge, uint256 maxAge);
    /// @notice No commitment matches what is being written by this caller: never committed, committed by
    ///         another account, another secret or other terms, or already used.
    error UnknownCommitment(bytes32 commitment);
    /// @notice The commitment is younger than `minCommitmentAge`; it can be used from `usableAt` on.
    error CommitmentTooNew(bytes32 commitment, uint256 usableAt);
    /// @notice The commitment is `maxCommitmentAge` old or older (since `expiredAt`); commit again.
    error CommitmentTooOld(bytes32 commitment, uint256 expiredAt);
    /// @notice The same commitment exists and has not expired (it expires at `expiresAt`); committing again
    ///         would restart its clock.
    error CommitmentPending(bytes32 commitment, uint256 expiresAt);

    /// @param minAge seconds before a commitment can be used (at least 1; 60 on a public chain).
    /// @param maxAge seconds after which an unused commitment lapses (above `minAge`; 1 day on a public chain).
    constructor(uint256 minAge, uint256 maxAge) {
        if (minAge == 0 || maxAge <= minAge) revert InvalidCommitmentAges(minAge, maxAge);
        minCommitmentAge = minAge;
        maxCommitmentAge = maxAge;
    }

    /// @notice Records `commitment` (see the contract notes for what it hashes) at the current block time.
    ///         Anyone; the hash names who may use it. Reverts `CommitmentPending` while the same commitment is
    ///         unexpired, so nobody can push a pending commitment's usable time back by repeating it.
    function commit(bytes32 commitment) external {
        uint256 at = _commitments[commitment];
        if (at != 0 && at + maxCommitmentAge > block.timestamp) {
            revert CommitmentPending(commitment, at + maxCommitmentAge);
        }
        _commitments[commitment] = block.timestamp;
    }

    /// @notice When `commitment` was made (0 if never, or used).
    function committedAt(bytes32 commitment) external view returns (uint256) {
        return _commitments[commitment];
    }

    /// @notice The commitment `owner` makes before registering `name` with `secret`; reverts with the name
    ///         rule `name` breaks.
    function registerCommitment(string calldata name, address owner, bytes32 secret)
        external
        pure
        returns (bytes32)
    {
        return _registerCommitment(DidNames.toId(bytes(name)), owner, secret);
    }

    // ---------------------------------------------------------------- internal

    function _registerCommitment(uint256 did, address owner, bytes32 secret) internal pure returns (bytes32) {
        return keccak256(abi.encode(REGISTER_COMMITMENT_TYPEHASH, did, owner, secret));
    }

    /// @dev Uses `commitment`: reverts unless it exists and is at least `minCommitmentAge` and less than
    ///      `maxCommitmentAge` old, then deletes it.
    function _useCommitment(bytes32 commitment) internal {
        uint256 at = _commitments[commitment];
        if (at == 0) revert UnknownCommitment(commitment);
        if (at + minCommitmentAge > block.timestamp) {
            revert CommitmentTooNew(commitment, at + minCommitmentAge);
        }
        if (at + maxCommitmentAge <= block.timestamp) {
            revert CommitmentTooOld(commitment, at + maxCommitmentAge);
        }
        delete _commitments[commitment];
    }
}
