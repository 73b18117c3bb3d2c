// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable2Step, Ownable} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title GuardianQuorum
/// @notice The guardian set and its T-of-M signature check. M members sorted ascending, threshold
///         T = floor(2M/3) + 1. The owner (governance) can rotate the set; a new set takes effect only
///         after `rotationDelay` (the settlement dispute window), so headers signed by the old set can
///         still be disputed before the new set can sign anything.
/// @dev Only a hash of the member list is stored for the signature check: callers pass the list in
///      calldata (cheaper than a cold storage read per signer) and a bitmap of which members signed,
///      so a signer can never be counted twice.
abstract contract GuardianQuorum is Ownable2Step {
    using SafeCast for uint256;

    /// @notice One compact (ERC-2098) ECDSA signature.
    struct Signature {
        bytes32 r;
        bytes32 vs;
    }

    struct GuardianSet {
        bytes32 membersHash; // keccak256(abi.encodePacked(members))
        uint32 id;
        uint8 size;
        uint8 threshold;
        uint40 activatesAt; // 0 for the active set
    }

    uint256 public constant MAX_GUARDIANS = 64;

    /// @notice Delay between proposing a guardian set and it taking effect.
    uint64 public immutable rotationDelay;

    GuardianSet private _active;
    GuardianSet private _pending;
    address[] private _activeMembers;
    address[] private _pendingMembers;

    event GuardianSetProposed(uint32 indexed id, address[] members, uint8 threshold, uint40 activatesAt);
    event GuardianSetActivated(uint32 indexed id, address[] members, uint8 threshold);

    error InvalidGuardianSet(string reason);
    error GuardianListMismatch(bytes32 expectedHash, bytes32 providedHash);
    error SignerBitmapOutOfRange(uint256 signerBitmap, uint256 size);
    error SignatureCountMismatch(uint256 signatures, uint256 bitmapSigners);
    error QuorumNotReached(uint256 signatures, uint256 threshold);
    error InvalidGuardianSignature(uint256 memberIndex, address expected, address recovered);
    error NotGuardian(address caller);

    constructor(address initialOwner, address[] memory members, uint64 rotationDelay_) Ownable(initialOwner) {
        rotationDelay = rotationDelay_;
        _validateMembers(members);
        uint8 size = uint8(members.length);
        _active = GuardianSet(keccak256(abi.encodePacked(members)), 1, size, thresholdFor(size), 0);
        _activeMembers = members;
        emit GuardianSetActivated(1, members, _active.threshold);
    }

    /// @notice Proposes a new guardian set (sorted ascending, no duplicates, no zero address) that
    ///         replaces the active set `rotationDelay` seconds from now. Only the owner. A newer proposal
    ///         replaces a pending one.
    function proposeGuardianSet(address[] calldata members) external onlyOwner {
        _validateMembers(members);
        _promotePendingIfDue();
        uint8 size = uint8(members.length);
        uint40 activatesAt = (block.timestamp + rotationDelay).toUint40();
        uint32 id = _active.id + 1;
        _pending =
            GuardianSet(keccak256(abi.encodePacked(members)), id, size, thresholdFor(size), activatesAt);
        _pendingMembers = members;
        emit GuardianSetProposed(id, members, _pending.threshold, activatesAt);
    }

    /// @notice Makes a pending guardian set active once its delay has passed. Anyone may call; it also
    ///         happens on the next epoch submission.
    function activatePendingGuardianSet() external {
        if (!_promotePendingIfDue()) revert InvalidGuardianSet("no pending set is due");
    }

    /// @notice The guardian set that signs now (a pending set whose delay has passed counts as active).
    function activeGuardianSet() public view returns (GuardianSet memory set, address[] memory members) {
        if (_pending.activatesAt != 0 && block.timestamp >= _pending.activatesAt) {
            set = _pending;
            set.activatesAt = 0;
            return (set, _pendingMembers);
        }
        return (_active, _activeMembers);
    }

    /// @notice The proposed set waiting for its delay, if any (`activatesAt == 0` when none).
    function pendingGuardianSet() external view returns (GuardianSet memory set, address[] memory members) {
        return (_pending, _pendingMembers);
    }

    /// @dev Id of the active set as stored (the caller promotes a due pending set first).
    function _activeSetId() internal view returns (uint32) {
        return _active.id;
    }

    /// @notice T = floor(2M/3) + 1: the smallest quorum such that two quorums always share an honest
    ///         member when fewer than a third are faulty.
    function thresholdFor(uint8 size) public pure returns (uint8) {
        return uint8(uint256(size) * 2 / 3 + 1);
    }

    /// @dev Reverts unless `signatures` are valid signatures of `digest` by distinct members of the
    ///      active set, at least threshold of them. `members` must be the active set's list; bit i of
    ///      `signerBitmap` says member i signed, and signatures come in ascending member order.
    ///      Returns the active set's id.
    function _verifyQuorum(
        bytes32 digest,
        address[] calldata members,
        uint256 signerBitmap,
        Signature[] calldata signatures
    ) internal returns (uint32 setId) {
        _promotePendingIfDue();
        return _verifySigners(digest, members, signerBitmap, signatures, _active.threshold);
    }

    /// @dev Reverts unless `signatures` are valid signatures of `digest` by the members of the active set
    ///      whose bits are set in `signerBitmap` (ascending member order), one per bit, at least
    ///      `minSignatures` of them. Returns the active set's id; the caller has promoted a due pending set.
    function _verifySigners(
        bytes32 digest,
        address[] calldata members,
        uint256 signerBitmap,
        Signature[] calldata signatures,
        uint256 minSignatures
    ) internal view returns (uint32 setId) {
        GuardianSet storage set = _active;
        bytes32 providedHash = keccak256(abi.encodePacked(members));
        if (providedHash != set.membersHash) revert GuardianListMismatch(set.membersHash, providedHash);
        uint256 size = set.size;
        if (signerBitmap >> size != 0) revert SignerBitmapOutOfRange(signerBitmap, size);
        uint256 count = signatures.length;
        if (count < minSignatures) revert QuorumNotReached(count, minSignatures);

        uint256 memberIndex;
        for (uint256 i; i < count; ++i) {
            // advance to the next member whose bit is set
            while (memberIndex < size && (signerBitmap >> memberIndex) & 1 == 0) ++memberIndex;
            if (memberIndex == size) revert SignatureCountMismatch(count, _popCount(signerBitmap));
            address recovered = ECDSA.recover(digest, signatures[i].r, signatures[i].vs);
            if (recovered != members[memberIndex]) {
                revert InvalidGuardianSignature(memberIndex, members[memberIndex], recovered);
            }
            ++memberIndex;
        }
        if (signerBitmap >> memberIndex != 0) revert SignatureCountMismatch(count, _popCount(signerBitmap));
        return set.id;
    }

    /// @dev Reverts unless `account` is a member of the active set (a due pending set counts as active);
    ///      returns its member index, the set's id, size and threshold.
    function _requireGuardian(address account)
        internal
        view
        returns (uint256 index, uint32 setId, uint256 size, uint256 threshold)
    {
        (GuardianSet memory set, address[] memory members) = activeGuardianSet();
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == account) return (i, set.id, set.size, set.threshold);
        }
        revert NotGuardian(account);
    }

    function _promotePendingIfDue() internal returns (bool promoted) {
        uint40 activatesAt = _pending.activatesAt;
        if (activatesAt == 0 || block.timestamp < activatesAt) return false;
        GuardianSet memory next = _pending;
        next.activatesAt = 0;
        _active = next;
        _activeMembers = _pendingMembers;
        delete _pending;
        delete _pendingMembers;
        emit GuardianSetActivated(next.id, _activeMembers, next.threshold);
        return true;
    }

    function _validateMembers(address[] memory members) private pure {
        uint256 size = members.length;
        if (size == 0 || size > MAX_GUARDIANS) revert InvalidGuardianSet("size must be 1..64");
        if (members[0] == address(0)) revert InvalidGuardianSet("zero address");
        for (uint256 i = 1; i < size; ++i) {
            if (members[i] <= members[i - 1]) {
                revert InvalidGuardianSet("members must be sorted ascending, unique");
            }
        }
    }

    function _popCount(uint256 bitmap) internal pure returns (uint256 count) {
        for (; bitmap != 0; bitmap &= bitmap - 1) {
            ++count;
        }
    }
}
