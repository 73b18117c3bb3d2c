// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement guardian quorum on `submitEpoch`: guardian list, signer bitmap and EIP-712
///         signatures (domain, order, duplicates, malformed).
contract EpochSettlementQuorumTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ submitEpoch: quorum

    function testFuzz_RevertWhen_submitEpoch_wrongGuardianList(uint256 i, address replacement) public {
        i = bound(i, 0, 6);
        vm.assume(replacement != guardians[i]);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        address[] memory list = guardians;
        list[i] = replacement;
        bytes32 expected = keccak256(abi.encodePacked(guardians));
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(list))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, list, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_unsortedOrShortGuardianList(uint256 i) public {
        i = bound(i, 1, 6);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        bytes32 expected = keccak256(abi.encodePacked(guardians));

        address[] memory unsorted = new address[](7);
        for (uint256 k; k < 7; ++k) {
            unsorted[k] = guardians[k];
        }
        (unsorted[i - 1], unsorted[i]) = (unsorted[i], unsorted[i - 1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(unsorted))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, unsorted, bitmap, sigs);

        address[] memory short = new address[](i);
        for (uint256 k; k < i; ++k) {
            short[k] = guardians[k];
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(short))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, short, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_bitmapOutOfRange(uint256 high) public {
        high = bound(high, 1, type(uint256).max >> 7);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        uint256 bitmap = 0x1F | (high << 7);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignerBitmapOutOfRange.selector, bitmap, 7));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_quorumNotReached(uint256 bitmap) public {
        bitmap &= 0x7F;
        // keep at most four signers
        for (uint256 i = 7; _popCount(bitmap) > 4; --i) {
            bitmap &= ~(uint256(1) << (i - 1));
        }
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, bitmap);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, sigs.length, 5));
        _trySubmit(h, bitmap, sigs);
    }

    function test_RevertWhen_submitEpoch_fourSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 4);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, 4, 5));
        _trySubmit(h, bitmap, sigs);
        // a bitmap claiming five signers does not help
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, 4, 5));
        _trySubmit(h, 0x1F, sigs);
    }

    function test_RevertWhen_submitEpoch_bitmapHasMoreBitsThanSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        // bits 0..5 set: the five signatures match members 0..4, member 5's bit is left over
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 6));
        _trySubmit(h, 0x3F, sigs);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 7));
        _trySubmit(h, 0x7F, sigs);
    }

    function test_RevertWhen_submitEpoch_bitmapHasFewerBitsThanSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 4));
        _trySubmit(h, 0x0F, sigs);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 0));
        _trySubmit(h, 0, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signatureByNonMember(uint256 outsiderKey, uint256 slot) public {
        outsiderKey = bound(outsiderKey, 1, SECP256K1_ORDER - 1);
        address outsider = vm.addr(outsiderKey);
        slot = bound(slot, 0, 4);
        for (uint256 k; k < 7; ++k) {
            vm.assume(outsider != guardians[k]);
        }
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        (bytes32 r, bytes32 vs) = vm.signCompact(outsiderKey, settlement.headerDigest(h));
        sigs[slot] = GuardianQuorum.Signature(r, vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, slot, guardians[slot], outsider
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signatureOverAnotherHeader(uint96 otherTotal) public {
        vm.assume(otherTotal != 100 ether);
        EpochHeader memory h = _h(1);
        EpochHeader memory other = _h(1);
        other.totalCumulative = otherTotal;
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(other, 5);
        address recovered = ECDSA.recover(settlement.headerDigest(h), sigs[0].r, sigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signedForAnotherChain(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.chainId(chainId);
        address recovered = ECDSA.recover(settlement.headerDigest(h), sigs[0].r, sigs[0].vs);
        assertTrue(recovered != guardians[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, bitmap, sigs);
        // signatures made for this chain are accepted
        _trySubmit(h, bitmap, _sigsFor(settlement, h, bitmap));
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function test_RevertWhen_submitEpoch_signedForAnotherSettlement() public {
        EpochSettlement other = new EpochSettlement(_settlementConfig(address(token), address(staking)));
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        assertTrue(other.headerDigest(h) != settlement.headerDigest(h));
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, 0x1F);
        address recovered = ECDSA.recover(other.headerDigest(h), sigs[0].r, sigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        vm.prank(keeper);
        other.submitEpoch(h, guardians, 0x1F, sigs);
        // and the reverse direction
        GuardianQuorum.Signature[] memory otherSigs = _sigsFor(other, h, 0x1F);
        recovered = ECDSA.recover(settlement.headerDigest(h), otherSigs[0].r, otherSigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, 0x1F, otherSigs);
    }

    function test_RevertWhen_submitEpoch_sameGuardianTwice() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        // guardian 0's signature in member 1's slot
        sigs[1] = sigs[0];
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 1, guardians[1], guardians[0]
            )
        );
        _trySubmit(h, bitmap, sigs);

        // five copies of one valid signature under a one-bit bitmap
        GuardianQuorum.Signature[] memory five = new GuardianQuorum.Signature[](5);
        for (uint256 i; i < 5; ++i) {
            five[i] = sigs[0];
        }
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 1));
        _trySubmit(h, 0x01, five);
    }

    function test_RevertWhen_submitEpoch_signaturesOutOfOrder() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], guardians[1]
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function test_RevertWhen_submitEpoch_malformedSignature() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        sigs[2].r = bytes32(0);
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        _trySubmit(h, bitmap, sigs);
    }
}
