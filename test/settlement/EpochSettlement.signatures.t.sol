// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {QuorumSigning} from "../utils/QuorumSigning.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice Who signed an epoch: the signer bitmap recorded at submission and `addSignatures`, which adds
///         further valid signatures over the stored header digest while the epoch is pending (issue 11
///         finding 4: the submitter no longer chooses which guardians are paid).
contract EpochSettlementSignaturesTest is EpochSettlementTestBase {
    function _submitWith(EpochHeader memory h, uint256 bitmap) internal {
        uint64 endsAt = settlement.epochEnd(h.epoch);
        if (block.timestamp < endsAt) vm.warp(endsAt);
        _trySubmit(h, bitmap, _sigsFor(settlement, h, bitmap));
    }

    function _add(uint32 e, EpochHeader memory h, uint256 bitmap) internal {
        settlement.addSignatures(e, guardians, bitmap, _sigsFor(settlement, h, bitmap));
    }

    /// @dev Any quorum subset submitted, any disjoint rest added by anyone: the bitmap is their union.
    function testFuzz_addSignatures_recordsTheRest(uint256 submitted, uint256 added, address caller) public {
        submitted &= 0x7F;
        for (uint256 i; _popCount(submitted) < 5; ++i) {
            submitted |= 1 << i;
        }
        added &= 0x7F & ~submitted;
        vm.assume(added != 0);
        EpochHeader memory h = _h(1);
        _submitWith(h, submitted);
        assertEq(settlement.epochEntry(1).signerBitmap, submitted);

        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, added);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.SignaturesAdded(1, uint64(added), uint64(submitted | added), caller);
        vm.prank(caller);
        settlement.addSignatures(1, guardians, added, sigs);
        assertEq(settlement.epochEntry(1).signerBitmap, submitted | added);
    }

    function test_addSignatures_oneByOne() public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        _add(1, h, 0x40);
        _add(1, h, 0x20);
        assertEq(settlement.epochEntry(1).signerBitmap, 0x7F);
    }

    /// @dev While the epoch is pending includes a window that passed but was not finalized yet.
    function test_addSignatures_afterWindowBeforeFinalization() public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        vm.warp(block.timestamp + DISPUTE_WINDOW + 1 days);
        _add(1, h, 0x60);
        assertEq(settlement.epochEntry(1).signerBitmap, 0x7F);
    }

    function testFuzz_RevertWhen_addSignatures_bitAlreadySet(uint256 again) public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        again = (again & 0x7F) | (uint256(1) << bound(again >> 8, 0, 4));
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, again);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.SignerAlreadyRecorded.selector, 1, again & 0x1F)
        );
        settlement.addSignatures(1, guardians, again, sigs);
    }

    function test_RevertWhen_addSignatures_signatureDoesNotRecover() public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        // guardian 6's key signs over another header: recovers to someone else
        EpochHeader memory other = _h(1);
        other.rewardRoot = keccak256("other");
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, other, 0x40);
        bytes32 digest = settlement.headerDigest(h);
        address recovered = ecrecoverCompact(digest, sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 6, guardians[6], recovered
            )
        );
        settlement.addSignatures(1, guardians, 0x40, sigs);
        // guardian 5's valid signature under guardian 6's bit
        sigs = _sigsFor(settlement, h, 0x20);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 6, guardians[6], guardians[5]
            )
        );
        settlement.addSignatures(1, guardians, 0x40, sigs);
    }

    function test_RevertWhen_addSignatures_badLists() public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, 0x60);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NoSignersAdded.selector, 1));
        settlement.addSignatures(1, guardians, 0, new GuardianQuorum.Signature[](0));
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 2, 1));
        settlement.addSignatures(1, guardians, 0x20, sigs);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignerBitmapOutOfRange.selector, 0x80, 7));
        settlement.addSignatures(1, guardians, 0x80, sigs);
        address[] memory wrong = new address[](7);
        for (uint256 i; i < 7; ++i) {
            wrong[i] = guardians[i];
        }
        wrong[6] = address(uint160(guardians[6]) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector,
                keccak256(abi.encodePacked(guardians)),
                keccak256(abi.encodePacked(wrong))
            )
        );
        settlement.addSignatures(1, wrong, 0x60, sigs);
    }

    function test_RevertWhen_addSignatures_notPending() public {
        EpochHeader memory h = _h(1);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, 0x40);
        // not submitted
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.addSignatures(1, guardians, 0x40, sigs);
        // disputed
        _submitWith(h, 0x1F);
        vm.prank(owner);
        settlement.dispute(1, "x");
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        settlement.addSignatures(1, guardians, 0x40, sigs);
        // voided
        vm.prank(owner);
        settlement.resolveDispute(1, false);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        settlement.addSignatures(1, guardians, 0x40, sigs);
        // finalized
        vm.warp(block.timestamp + 1);
        _submitAndFinalize(h);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        settlement.addSignatures(1, guardians, 0x40, sigs);
    }

    /// @dev Bits index the set in force at submission: after a rotation they would name other members.
    function test_RevertWhen_addSignatures_guardianSetRotated() public {
        EpochHeader memory h = _h(1);
        _submitWith(h, 0x1F);
        address[] memory members = new address[](7);
        for (uint256 i; i < 7; ++i) {
            members[i] = guardians[i];
        }
        vm.prank(owner);
        settlement.proposeGuardianSet(members); // the same members, a new set id
        vm.warp(block.timestamp + DISPUTE_WINDOW - 1);
        _add(1, h, 0x20); // not due yet: still the submission's set
        vm.warp(block.timestamp + 1);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, 0x40);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.GuardianSetRotated.selector, 1, 1, 2));
        settlement.addSignatures(1, guardians, 0x40, sigs);
    }

    function ecrecoverCompact(bytes32 digest, GuardianQuorum.Signature memory sig)
        internal
        pure
        returns (address)
    {
        bytes32 s = sig.vs & bytes32(uint256(type(uint256).max >> 1));
        uint8 v = uint8((uint256(sig.vs) >> 255) + 27);
        return ecrecover(digest, v, sig.r, s);
    }

    function test_quorumSigning_libraryStillSignsAscending() public view {
        // the helper the other suites use signs in ascending member order, as addSignatures expects
        GuardianQuorum.Signature[] memory sigs =
            QuorumSigning.signDigest(settlement.headerDigest(_h(1)), guardianKeys, 0x41);
        assertEq(sigs.length, 2);
        assertEq(ecrecoverCompact(settlement.headerDigest(_h(1)), sigs[1]), guardians[6]);
    }
}
