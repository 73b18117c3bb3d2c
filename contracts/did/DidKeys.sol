// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidCommitments} from "./DidCommitments.sol";

/// @title DidKeys
/// @notice Device and messaging keys of a DID: 32-byte public keys, typed Ed25519 (signing) or X25519 (key
///         agreement), with a one-way lifecycle added → revoked. A key belongs to one DID forever: once added
///         it can never be added again (to any DID), so a revoked key never comes back. Keys of earlier
///         generations (before a transfer) count as revoked.
///         Because a key is bound once and for all, nobody may bind a key it only saw in someone else's
///         `addKey` transaction: adding a key needs the owner's matured commitment to exactly that binding
///         (`keyCommitment`, `DidCommitments`). The EVM cannot check an Ed25519 signature (no precompile;
///         a Solidity verifier costs about a million gas) and an X25519 key cannot sign at all, so the
///         registry takes proof of prior knowledge instead of proof of possession: a fresh key is public only
///         from its reveal on, when a watcher's commitment is necessarily too young.
/// @dev Keys are not enumerated on-chain: `KeyAdded` carries everything a device needs (DID, key, type,
///      generation, the owner's metadata), `KeyRevoked` and `DidReset` end them; `keyState` answers for one key.
abstract contract DidKeys is DidCommitments {
    enum KeyType {
        Ed25519, // signing
        X25519 // key agreement
    }

    enum KeyStatus {
        None, // never added
        Active,
        Revoked // revoked by the owner, or voided by a transfer of its DID
    }

    /// @dev One slot; `did` is non-zero once the key has been added.
    struct Key {
        uint192 did;
        uint32 generation;
        KeyType keyType;
        bool revoked;
    }

    mapping(bytes32 key => Key) internal _keys;

    /// @param generation the DID's generation the key belongs to (it dies with the next transfer).
    /// @param metadata free-form, emitted only (e.g. device label, the signing key that certifies it).
    event KeyAdded(
        uint256 indexed did, bytes32 indexed key, KeyType keyType, uint32 generation, bytes metadata
    );
    event KeyRevoked(uint256 indexed did, bytes32 indexed key, KeyType keyType);

    error ZeroKey();
    /// @notice The key was added before (to this or another DID); keys are never re-added.
    error KeyAlreadyUsed(bytes32 key);
    error KeyNotActive(uint256 did, bytes32 key);

    /// @notice Adds the public key `key` of type `keyType` to `did`. Only the DID's owner, with its commitment
    ///         `keyCommitment(did, key, keyType, owner)` made at least `minCommitmentAge` and less than
    ///         `maxCommitmentAge` seconds before (`commit`); the commitment is used up.
    function addKey(uint256 did, bytes32 key, KeyType keyType, bytes calldata metadata) external {
        Did memory d = _requireDidOwner(nodeOf(did), did);
        if (key == bytes32(0)) revert ZeroKey();
        if (_keys[key].did != 0) revert KeyAlreadyUsed(key);
        _useCommitment(_keyCommitment(did, key, keyType, msg.sender));
        _keys[key] = Key(uint192(did), d.generation, keyType, false);
        emit KeyAdded(did, key, keyType, d.generation, metadata);
    }

    /// @notice Revokes the active key `key` of `did`, for good. Only the DID's owner.
    function revokeKey(uint256 did, bytes32 key) external {
        Did memory d = _requireDidOwner(nodeOf(did), did);
        Key memory k = _keys[key];
        if (k.did != did || k.revoked || k.generation != d.generation) revert KeyNotActive(did, key);
        _keys[key].revoked = true;
        emit KeyRevoked(did, key, k.keyType);
    }

    /// @notice The commitment `owner` makes before adding `key` of type `keyType` to `did`.
    function keyCommitment(uint256 did, bytes32 key, KeyType keyType, address owner)
        external
        pure
        returns (bytes32)
    {
        return _keyCommitment(did, key, keyType, owner);
    }

    /// @notice Status of `key`, the DID it was added to (0 if never) and its type.
    function keyState(bytes32 key) external view returns (KeyStatus status, uint256 did, KeyType keyType) {
        Key memory k = _keys[key];
        did = k.did;
        keyType = k.keyType;
        if (did == 0) status = KeyStatus.None;
        else if (k.revoked || k.generation != _dids[nodeOf(did)].generation) status = KeyStatus.Revoked;
        else status = KeyStatus.Active;
    }

    function _keyCommitment(uint256 did, bytes32 key, KeyType keyType, address owner)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(KEY_COMMITMENT_TYPEHASH, did, key, keyType, owner));
    }
}
