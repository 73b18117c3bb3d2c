// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {QuorumSigning} from "../utils/QuorumSigning.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";

/// @notice Exposes the internal quorum check of GuardianQuorum so sets of any size can be fuzzed.
contract GuardianQuorumHarness is GuardianQuorum {
    constructor(address owner_, address[] memory members, uint64 delay)
        GuardianQuorum(owner_, members, delay)
    {}

    function verifyQuorum(
        bytes32 digest,
        address[] calldata members,
        uint256 bitmap,
        Signature[] calldata sigs
    ) external {
        _verifyQuorum(digest, members, bitmap, sigs);
    }

    function requireGuardian(address account) external view {
        _requireGuardian(account);
    }
}

contract GuardianQuorumTest is ProtocolTestBase {
    bytes32 internal constant DIGEST = keccak256("some header digest");

    // ------------------------------------------------------------------ helpers

    /// @dev `n` fresh guardian keys (derived from `salt`), sorted by address.
    function _keys(uint256 n, uint256 salt)
        internal
        pure
        returns (address[] memory members, uint256[] memory keys)
    {
        members = new address[](n);
        keys = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            keys[i] = uint256(keccak256(abi.encode("gq", salt, i))) % (SECP256K1_ORDER - 1) + 1;
            members[i] = vm.addr(keys[i]);
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && members[j - 1] > members[j]; --j) {
                (members[j - 1], members[j]) = (members[j], members[j - 1]);
                (keys[j - 1], keys[j]) = (keys[j], keys[j - 1]);
            }
        }
    }

    function _signDigest(bytes32 digest, uint256[] memory keys, uint256 bitmap)
        internal
        pure
        returns (GuardianQuorum.Signature[] memory)
    {
        return QuorumSigning.signDigest(digest, keys, bitmap);
    }

    function _popCount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) {
            ++c;
        }
    }

    function _hash(address[] memory members) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(members));
    }

    function _harness(address[] memory members) internal returns (GuardianQuorumHarness) {
        return new GuardianQuorumHarness(owner, members, DISPUTE_WINDOW);
    }

    function _submitSignedBy(
        EpochHeader memory h,
        address[] memory members,
        uint256[] memory keys,
        uint256 bitmap
    ) internal {
        GuardianQuorum.Signature[] memory sigs = _signDigest(settlement.headerDigest(h), keys, bitmap);
        vm.prank(keeper);
        settlement.submitEpoch(h, members, bitmap, sigs);
    }

    function _lowBits(uint256 n) internal pure returns (uint256) {
        return (uint256(1) << n) - 1;
    }

    // ------------------------------------------------------------------ threshold

    function testFuzz_thresholdFor_isFloorTwoThirdsPlusOne(uint8 m) public view {
        uint256 t = settlement.thresholdFor(m);
        // T is the smallest integer strictly greater than 2M/3
        assertGt(3 * t, 2 * uint256(m), "T > 2M/3");
        assertLe(3 * (t - 1), 2 * uint256(m), "T - 1 <= 2M/3");
        if (m > 0) assertLe(t, m, "T <= M");
        // two quorums overlap in more than a third of the set: 2T - M > M/3
        assertGt(3 * (2 * t - m), uint256(m));
    }

    function test_thresholdFor_knownValues() public view {
        assertEq(settlement.thresholdFor(0), 1);
        assertEq(settlement.thresholdFor(1), 1);
        assertEq(settlement.thresholdFor(2), 2);
        assertEq(settlement.thresholdFor(3), 3);
        assertEq(settlement.thresholdFor(4), 3);
        assertEq(settlement.thresholdFor(5), 4);
        assertEq(settlement.thresholdFor(6), 5);
        assertEq(settlement.thresholdFor(7), 5);
        assertEq(settlement.thresholdFor(10), 7);
        assertEq(settlement.thresholdFor(64), 43);
        assertEq(settlement.thresholdFor(255), 171);
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_activatesInitialSet() public {
        (address[] memory members,) = _keys(7, 1);
        vm.expectEmit(true, true, true, true);
        emit GuardianQuorum.GuardianSetActivated(1, members, 5);
        GuardianQuorumHarness h = _harness(members);

        (GuardianQuorum.GuardianSet memory set, address[] memory active) = h.activeGuardianSet();
        assertEq(set.membersHash, _hash(members));
        assertEq(set.id, 1);
        assertEq(set.size, 7);
        assertEq(set.threshold, 5);
        assertEq(set.activatesAt, 0);
        assertEq(active, members);
        (GuardianQuorum.GuardianSet memory pending, address[] memory pendingMembers) = h.pendingGuardianSet();
        assertEq(pending.activatesAt, 0);
        assertEq(pending.id, 0);
        assertEq(pendingMembers.length, 0);
        assertEq(h.rotationDelay(), DISPUTE_WINDOW);
        assertEq(h.owner(), owner);
        assertEq(h.MAX_GUARDIANS(), 64);
    }

    function test_constructor_settlementSet() public view {
        (GuardianQuorum.GuardianSet memory set, address[] memory active) = settlement.activeGuardianSet();
        assertEq(active, guardians);
        assertEq(set.membersHash, _hash(guardians));
        assertEq(set.size, 7);
        assertEq(set.threshold, 5);
        assertEq(settlement.rotationDelay(), DISPUTE_WINDOW);
    }

    function testFuzz_constructor_acceptsAnyValidSize(uint8 n) public {
        n = uint8(bound(n, 1, 64));
        (address[] memory members,) = _keys(n, n);
        GuardianQuorumHarness h = _harness(members);
        (GuardianQuorum.GuardianSet memory set, address[] memory active) = h.activeGuardianSet();
        assertEq(set.size, n);
        assertEq(set.threshold, uint256(n) * 2 / 3 + 1);
        assertEq(active, members);
    }

    function test_RevertWhen_constructor_emptySet() public {
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "size must be 1..64")
        );
        _harness(new address[](0));
    }

    function test_RevertWhen_constructor_moreThan64() public {
        (address[] memory members,) = _keys(65, 3);
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "size must be 1..64")
        );
        _harness(members);
    }

    function test_RevertWhen_constructor_zeroAddress() public {
        (address[] memory members,) = _keys(3, 4);
        members[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "zero address"));
        _harness(members);
    }

    function test_RevertWhen_constructor_singleZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "zero address"));
        _harness(new address[](1));
    }

    function testFuzz_RevertWhen_constructor_unsorted(uint256 i) public {
        (address[] memory members,) = _keys(7, 5);
        i = bound(i, 1, 6);
        (members[i - 1], members[i]) = (members[i], members[i - 1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSet.selector, "members must be sorted ascending, unique"
            )
        );
        _harness(members);
    }

    function testFuzz_RevertWhen_constructor_duplicate(uint256 i) public {
        (address[] memory members,) = _keys(7, 6);
        i = bound(i, 1, 6);
        members[i] = members[i - 1];
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSet.selector, "members must be sorted ascending, unique"
            )
        );
        _harness(members);
    }

    function test_RevertWhen_settlementConstructor_invalidGuardians() public {
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.guardians = new address[](0);
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "size must be 1..64")
        );
        new EpochSettlement(cfg);

        cfg = _settlementConfig(address(token), address(staking));
        (cfg.guardians[0], cfg.guardians[1]) = (cfg.guardians[1], cfg.guardians[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSet.selector, "members must be sorted ascending, unique"
            )
        );
        new EpochSettlement(cfg);
    }

    // ------------------------------------------------------------------ quorum check (harness, any size)

    function testFuzz_verifyQuorum_acceptsAnyQuorumSubset(uint8 n, uint256 bitmap) public {
        n = uint8(bound(n, 1, 20));
        (address[] memory members, uint256[] memory keys) = _keys(n, 7);
        GuardianQuorumHarness h = _harness(members);
        uint256 t = h.thresholdFor(n);
        bitmap &= _lowBits(n);
        // top up the subset to at least the threshold with the lowest unset members
        for (uint256 i; _popCount(bitmap) < t; ++i) {
            bitmap |= 1 << i;
        }
        h.verifyQuorum(DIGEST, members, bitmap, _signDigest(DIGEST, keys, bitmap));
    }

    function testFuzz_RevertWhen_verifyQuorum_belowThreshold(uint8 n, uint256 bitmap) public {
        n = uint8(bound(n, 2, 20));
        (address[] memory members, uint256[] memory keys) = _keys(n, 8);
        GuardianQuorumHarness h = _harness(members);
        uint256 t = h.thresholdFor(n);
        bitmap &= _lowBits(n);
        // drop the highest set members until below the threshold
        for (uint256 i = n; _popCount(bitmap) >= t; --i) {
            bitmap &= ~(uint256(1) << (i - 1));
        }
        GuardianQuorum.Signature[] memory sigs = _signDigest(DIGEST, keys, bitmap);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, sigs.length, t));
        h.verifyQuorum(DIGEST, members, bitmap, sigs);
    }

    function testFuzz_RevertWhen_verifyQuorum_bitmapOutOfRange(uint8 n, uint256 extra) public {
        n = uint8(bound(n, 1, 64));
        (address[] memory members, uint256[] memory keys) = _keys(n, 9);
        GuardianQuorumHarness h = _harness(members);
        uint256 bitmap = _lowBits(n) | (uint256(bound(extra, 1, type(uint256).max >> n)) << n);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignerBitmapOutOfRange.selector, bitmap, n));
        h.verifyQuorum(DIGEST, members, bitmap, _signDigest(DIGEST, keys, _lowBits(n)));
    }

    function test_verifyQuorum_fullSetOf64() public {
        (address[] memory members, uint256[] memory keys) = _keys(64, 10);
        GuardianQuorumHarness h = _harness(members);
        uint256 bitmap = type(uint64).max;
        h.verifyQuorum(DIGEST, members, bitmap, _signDigest(DIGEST, keys, bitmap));
        // 42 of 64 is one short
        uint256 short = _lowBits(42);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, 42, 43));
        h.verifyQuorum(DIGEST, members, short, _signDigest(DIGEST, keys, short));
    }

    function testFuzz_requireGuardian(uint256 i, address outsider) public {
        (address[] memory members,) = _keys(7, 11);
        GuardianQuorumHarness h = _harness(members);
        h.requireGuardian(members[bound(i, 0, 6)]);
        for (uint256 k; k < 7; ++k) {
            vm.assume(outsider != members[k]);
        }
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.NotGuardian.selector, outsider));
        h.requireGuardian(outsider);
    }

    // ------------------------------------------------------------------ rotation

    function testFuzz_RevertWhen_proposeGuardianSet_notOwner(address caller) public {
        vm.assume(caller != owner);
        (address[] memory members,) = _keys(4, 12);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        settlement.proposeGuardianSet(members);
    }

    function test_RevertWhen_proposeGuardianSet_invalid() public {
        vm.startPrank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "size must be 1..64")
        );
        settlement.proposeGuardianSet(new address[](0));

        (address[] memory big,) = _keys(65, 13);
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "size must be 1..64")
        );
        settlement.proposeGuardianSet(big);

        (address[] memory members,) = _keys(4, 14);
        members[0] = address(0);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "zero address"));
        settlement.proposeGuardianSet(members);

        (members,) = _keys(4, 14);
        (members[2], members[3]) = (members[3], members[2]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSet.selector, "members must be sorted ascending, unique"
            )
        );
        settlement.proposeGuardianSet(members);

        (members,) = _keys(4, 14);
        members[3] = members[2];
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSet.selector, "members must be sorted ascending, unique"
            )
        );
        settlement.proposeGuardianSet(members);
        vm.stopPrank();

        (GuardianQuorum.GuardianSet memory pending,) = settlement.pendingGuardianSet();
        assertEq(pending.activatesAt, 0);
    }

    function testFuzz_proposeGuardianSet_storesPending(uint8 n) public {
        n = uint8(bound(n, 1, 64));
        (address[] memory members,) = _keys(n, 15);
        uint40 activatesAt = uint40(block.timestamp + DISPUTE_WINDOW);
        uint8 t = settlement.thresholdFor(n);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetProposed(2, members, t, activatesAt);
        vm.prank(owner);
        settlement.proposeGuardianSet(members);

        (GuardianQuorum.GuardianSet memory pending, address[] memory pendingMembers) =
            settlement.pendingGuardianSet();
        assertEq(pending.membersHash, _hash(members));
        assertEq(pending.id, 2);
        assertEq(pending.size, n);
        assertEq(pending.threshold, t);
        assertEq(pending.activatesAt, activatesAt);
        assertEq(pendingMembers, members);
        // still the old set until the delay passes
        (GuardianQuorum.GuardianSet memory active, address[] memory activeMembers) =
            settlement.activeGuardianSet();
        assertEq(active.id, 1);
        assertEq(activeMembers, guardians);
    }

    function test_RevertWhen_activatePendingGuardianSet_nonePending() public {
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "no pending set is due")
        );
        settlement.activatePendingGuardianSet();
    }

    function testFuzz_RevertWhen_activatePendingGuardianSet_beforeDelay(uint256 wait) public {
        (address[] memory members,) = _keys(4, 16);
        vm.prank(owner);
        settlement.proposeGuardianSet(members);
        vm.warp(block.timestamp + bound(wait, 0, DISPUTE_WINDOW - 1));
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "no pending set is due")
        );
        settlement.activatePendingGuardianSet();
        (GuardianQuorum.GuardianSet memory active,) = settlement.activeGuardianSet();
        assertEq(active.id, 1);
    }

    function testFuzz_activatePendingGuardianSet_afterDelay(uint256 wait, address caller) public {
        (address[] memory members,) = _keys(4, 17);
        vm.prank(owner);
        settlement.proposeGuardianSet(members);
        vm.warp(block.timestamp + bound(wait, DISPUTE_WINDOW, 1000 days));

        // the view already reports the due set as active
        (GuardianQuorum.GuardianSet memory viewSet, address[] memory viewMembers) =
            settlement.activeGuardianSet();
        assertEq(viewSet.id, 2);
        assertEq(viewSet.activatesAt, 0);
        assertEq(viewMembers, members);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetActivated(2, members, 3);
        vm.prank(caller);
        settlement.activatePendingGuardianSet();

        (GuardianQuorum.GuardianSet memory active, address[] memory activeMembers) =
            settlement.activeGuardianSet();
        assertEq(active.id, 2);
        assertEq(active.size, 4);
        assertEq(active.threshold, 3);
        assertEq(active.membersHash, _hash(members));
        assertEq(active.activatesAt, 0);
        assertEq(activeMembers, members);
        (GuardianQuorum.GuardianSet memory pending, address[] memory pendingMembers) =
            settlement.pendingGuardianSet();
        assertEq(pending.activatesAt, 0);
        assertEq(pending.membersHash, bytes32(0));
        assertEq(pendingMembers.length, 0);

        // nothing left to activate
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "no pending set is due")
        );
        settlement.activatePendingGuardianSet();
    }

    function test_rotation_oldSetValidUntilDelayThenNewSetOnly() public {
        // epoch 1 ends at genesis + 1 day; propose at genesis + 1 day so the delay covers epoch 2's end
        vm.warp(genesis + EPOCH);
        (address[] memory members, uint256[] memory keys) = _keys(4, 19);
        vm.prank(owner);
        settlement.proposeGuardianSet(members);

        // before the delay: the new set is rejected, the old set signs epoch 1
        EpochHeader memory h1 = _header(1, keccak256("r1"), 0, 0);
        GuardianQuorum.Signature[] memory newSigs = _signDigest(settlement.headerDigest(h1), keys, 0x7);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, _hash(guardians), _hash(members)
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h1, members, 0x7, newSigs);
        _submit(h1);

        // after the delay: the old set is rejected, even with a full 7-of-7
        vm.warp(genesis + EPOCH + DISPUTE_WINDOW);
        EpochHeader memory h2 = _header(2, keccak256("r2"), 0, 0);
        (uint256 oldBitmap, GuardianQuorum.Signature[] memory oldSigs) = _sign(h2, 7);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, _hash(members), _hash(guardians)
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h2, guardians, oldBitmap, oldSigs);

        // old signatures passed with the new list fail the signature check
        address recovered0 = ECDSA.recover(settlement.headerDigest(h2), oldSigs[0].r, oldSigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, members[0], recovered0
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h2, members, 0xF, _trim(oldSigs, 4));

        // the new set (3 of 4) submits; the submission itself activates the set
        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetActivated(2, members, 3);
        _submitSignedBy(h2, members, keys, 0xB); // members 0, 1, 3
        assertEq(settlement.settlementProgress().lastSubmitted, 2);
        (GuardianQuorum.GuardianSet memory pending,) = settlement.pendingGuardianSet();
        assertEq(pending.activatesAt, 0);
        (GuardianQuorum.GuardianSet memory active,) = settlement.activeGuardianSet();
        assertEq(active.id, 2);
    }

    function _trim(GuardianQuorum.Signature[] memory sigs, uint256 n)
        internal
        pure
        returns (GuardianQuorum.Signature[] memory out)
    {
        out = new GuardianQuorum.Signature[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = sigs[i];
        }
    }

    function test_rotation_oldGuardiansLoseDisputeRight() public {
        // propose one second before epoch 1 is submitted: the new set is due while epoch 1 is disputable
        vm.warp(genesis + EPOCH - 1);
        (address[] memory members,) = _keys(4, 20);
        vm.prank(owner);
        settlement.proposeGuardianSet(members);
        _submit(_header(1, keccak256("r1"), 0, 0));
        uint40 finalizeAt = settlement.epochEntry(1).finalizeAt;
        assertEq(finalizeAt, genesis + EPOCH + DISPUTE_WINDOW);

        vm.warp(finalizeAt - 1);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.NotGuardian.selector, guardians[0]));
        vm.prank(guardians[0]);
        settlement.dispute(1, "old");

        // the new set has 4 members (T = 3): two votes dispute
        vm.prank(members[0]);
        settlement.dispute(1, "new");
        assertEq(uint8(settlement.epochEntry(1).status), uint8(EpochSettlement.EpochStatus.Pending));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, members[1], "new");
        vm.prank(members[1]);
        settlement.dispute(1, "new");
        assertEq(uint8(settlement.epochEntry(1).status), uint8(EpochSettlement.EpochStatus.Disputed));
    }

    function test_proposeGuardianSet_newerProposalReplacesPending() public {
        (address[] memory a,) = _keys(4, 21);
        (address[] memory b, uint256[] memory bKeys) = _keys(5, 22);
        vm.prank(owner);
        settlement.proposeGuardianSet(a);
        uint256 aDue = block.timestamp + DISPUTE_WINDOW;

        vm.warp(block.timestamp + DISPUTE_WINDOW / 2);
        uint40 bDue = uint40(block.timestamp + DISPUTE_WINDOW);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetProposed(2, b, 4, bDue);
        vm.prank(owner);
        settlement.proposeGuardianSet(b);

        (GuardianQuorum.GuardianSet memory pending, address[] memory pendingMembers) =
            settlement.pendingGuardianSet();
        assertEq(pending.id, 2);
        assertEq(pending.activatesAt, bDue);
        assertEq(pendingMembers, b);

        // at A's original due time nothing activates
        vm.warp(aDue);
        vm.expectRevert(
            abi.encodeWithSelector(GuardianQuorum.InvalidGuardianSet.selector, "no pending set is due")
        );
        settlement.activatePendingGuardianSet();

        vm.warp(bDue);
        settlement.activatePendingGuardianSet();
        (GuardianQuorum.GuardianSet memory active, address[] memory activeMembers) =
            settlement.activeGuardianSet();
        assertEq(active.id, 2);
        assertEq(activeMembers, b);

        // and B signs (4 of 5)
        EpochHeader memory h = _header(1, keccak256("r"), 0, 0);
        _submitSignedBy(h, b, bKeys, 0x1E);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function test_proposeGuardianSet_promotesDuePendingFirst() public {
        (address[] memory a,) = _keys(4, 23);
        (address[] memory b,) = _keys(6, 24);
        vm.prank(owner);
        settlement.proposeGuardianSet(a);
        vm.warp(block.timestamp + DISPUTE_WINDOW);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetActivated(2, a, 3);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit GuardianQuorum.GuardianSetProposed(3, b, 5, uint40(block.timestamp + DISPUTE_WINDOW));
        vm.prank(owner);
        settlement.proposeGuardianSet(b);

        (GuardianQuorum.GuardianSet memory active, address[] memory activeMembers) =
            settlement.activeGuardianSet();
        assertEq(active.id, 2);
        assertEq(activeMembers, a);
        (GuardianQuorum.GuardianSet memory pending,) = settlement.pendingGuardianSet();
        assertEq(pending.id, 3);
    }

    // ------------------------------------------------------------------ ownership (Ownable2Step)

    function testFuzz_ownable2Step_transfer(address newOwner, address stranger) public {
        vm.assume(newOwner != address(0) && newOwner != owner);
        vm.assume(stranger != newOwner);
        vm.prank(owner);
        settlement.transferOwnership(newOwner);
        assertEq(settlement.owner(), owner, "owner unchanged until accepted");
        assertEq(settlement.pendingOwner(), newOwner);

        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        settlement.acceptOwnership();

        vm.prank(newOwner);
        settlement.acceptOwnership();
        assertEq(settlement.owner(), newOwner);
        assertEq(settlement.pendingOwner(), address(0));

        (address[] memory members,) = _keys(4, 25);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, owner));
        vm.prank(owner);
        settlement.proposeGuardianSet(members);
        vm.prank(newOwner);
        settlement.proposeGuardianSet(members);
    }

    function testFuzz_RevertWhen_transferOwnership_notOwner(address caller) public {
        vm.assume(caller != owner);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        settlement.transferOwnership(caller);
    }
}
