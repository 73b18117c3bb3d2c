// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {DidTestBase} from "./DidTestBase.sol";
import {MockContractWallet} from "./mocks/MockContractWallet.sol";
import {DidRegistry} from "../../contracts/did/DidRegistry.sol";
import {DidBase} from "../../contracts/did/DidBase.sol";
import {DidLinks} from "../../contracts/did/DidLinks.sol";
import {DidKeys} from "../../contracts/did/DidKeys.sol";
import {DidNames} from "../../contracts/did/DidNames.sol";
import {
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
} from "../../contracts/did/interfaces/IEnsResolver.sol";

contract DidRegistryTest is DidTestBase {
    uint256 internal aliceDid;

    function setUp() public override {
        super.setUp();
        aliceDid = _register(alice, "alice");
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_tld() public view {
        assertEq(registry.tld(), "send");
        assertEq(registry.tldNode(), keccak256(abi.encodePacked(bytes32(0), keccak256("send"))));
        assertEq(registry.name(), "SendingNetwork DID");
        assertEq(registry.symbol(), "DID");
    }

    function test_constructor_revertsOnInvalidTld() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 0, bytes1("S")));
        new DidRegistry("Send", MIN_AGE, MAX_AGE);
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooShort.selector, 0, 3));
        new DidRegistry("", MIN_AGE, MAX_AGE);
    }

    // ------------------------------------------------------------------ register

    function test_register_mintsToCaller() public {
        uint256 id = 0x626f62; // "bob"
        bytes32 commitment = _commitName(bob, "bob");
        assertEq(registry.committedAt(commitment), block.timestamp);
        vm.warp(block.timestamp + MIN_AGE);
        vm.expectEmit(address(registry));
        emit IERC721.Transfer(address(0), bob, id);
        vm.expectEmit(address(registry));
        emit DidRegistry.Registered(id, _node("bob"), "bob");
        vm.prank(bob);
        assertEq(registry.register("bob", _secret(bob, "bob")), id);
        assertEq(registry.committedAt(commitment), 0, "commitment used up");

        assertEq(registry.ownerOf(id), bob);
        assertEq(registry.balanceOf(bob), 1);
        assertEq(registry.ownerOfNode(_node("bob")), bob);
        assertEq(registry.nodeOf(id), _node("bob"));
        assertEq(registry.nameOf(id), "bob");
        assertEq(registry.idOf("bob"), id);
        DidBase.Did memory d = registry.didRecord(id);
        assertEq(d.owner, bob);
        assertEq(d.generation, 0);
    }

    function test_register_manyPerAccount() public {
        _register(alice, "alice-2");
        _register(alice, "alice-3");
        assertEq(registry.balanceOf(alice), 3);
    }

    function test_register_revertsNameTaken() public {
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NameTaken.selector, "alice"));
        vm.prank(bob);
        registry.register("alice", bytes32(0));
    }

    function test_register_revertsInvalidName() public {
        vm.startPrank(bob);
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 0, bytes1("B")));
        registry.register("Bob", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooShort.selector, 2, 3));
        registry.register("bo", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooLong.selector, 25, 24));
        registry.register("bbbbbbbbbbbbbbbbbbbbbbbbb", bytes32(0));
        vm.expectRevert(DidNames.NameHyphenAtEdge.selector);
        registry.register("bob-", bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameDoubleHyphen.selector, 3));
        registry.register("bo--b", bytes32(0));
        vm.stopPrank();
    }

    function testFuzz_register_anyValidName(address who, uint256 seed, uint256 len) public {
        vm.assume(who != address(0));
        len = bound(len, 3, 24);
        bytes memory alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        bytes memory label = new bytes(len);
        for (uint256 i; i < len; ++i) {
            label[i] = alphabet[uint256(keccak256(abi.encode(seed, i))) % alphabet.length];
        }
        vm.assume(keccak256(label) != keccak256("alice"));
        uint256 did = _register(who, string(label));
        assertEq(registry.ownerOf(did), who);
        assertEq(registry.nameOf(did), string(label));
        assertEq(registry.addr(_node(string(label))), who);
    }

    // ------------------------------------------------------------------ ERC-721 views

    function test_ownerOf_revertsForUnregistered() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x626f62));
        registry.ownerOf(0x626f62);
        // ids that are not names at all
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0));
        registry.ownerOf(0);
        vm.expectRevert(
            abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, type(uint256).max)
        );
        registry.ownerOf(type(uint256).max);
    }

    function test_balanceOf_revertsForZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidOwner.selector, address(0)));
        registry.balanceOf(address(0));
        assertEq(registry.balanceOf(bob), 0);
    }

    function test_tokenURI() public {
        assertEq(registry.tokenURI(aliceDid), "");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x626f62));
        registry.tokenURI(0x626f62);
    }

    function test_domainSeparator() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("SendingNetwork DidRegistry"),
                keccak256("1"),
                block.chainid,
                address(registry)
            )
        );
        assertEq(registry.DOMAIN_SEPARATOR(), expected);
    }

    function test_supportsInterface() public view {
        assertTrue(registry.supportsInterface(type(IERC165).interfaceId));
        assertTrue(registry.supportsInterface(type(IERC721).interfaceId));
        assertTrue(registry.supportsInterface(type(IERC721Metadata).interfaceId));
        assertTrue(registry.supportsInterface(0x3b3b57de)); // addr(bytes32)
        assertTrue(registry.supportsInterface(0xf1cb7e06)); // addr(bytes32,uint256)
        assertTrue(registry.supportsInterface(0x59d1d43c)); // text(bytes32,string)
        assertTrue(registry.supportsInterface(0xbc1c58d1)); // contenthash(bytes32)
        assertTrue(registry.supportsInterface(0x691f3431)); // name(bytes32)
        assertEq(type(IAddrResolver).interfaceId, bytes4(0x3b3b57de));
        assertEq(type(IAddressResolver).interfaceId, bytes4(0xf1cb7e06));
        assertEq(type(ITextResolver).interfaceId, bytes4(0x59d1d43c));
        assertEq(type(IContentHashResolver).interfaceId, bytes4(0xbc1c58d1));
        assertEq(type(INameResolver).interfaceId, bytes4(0x691f3431));
        assertFalse(registry.supportsInterface(0x9061b923)); // IExtendedResolver: not implemented
        assertFalse(registry.supportsInterface(0xffffffff));
    }

    // ------------------------------------------------------------------ plain ERC-721 transfers

    function test_transferFrom_revertsWithoutConsent() public {
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(alice);
        registry.transferFrom(alice, bob, aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(alice);
        registry.safeTransferFrom(alice, bob, aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(alice);
        registry.safeTransferFrom(alice, bob, aliceDid, "");
        // even an approved operator, or the recipient itself without an offer
        vm.prank(alice);
        registry.setApprovalForAll(carol, true);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(carol);
        registry.transferFrom(alice, bob, aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(bob);
        registry.transferFrom(alice, bob, aliceDid);
        assertEq(registry.ownerOf(aliceDid), alice);
    }

    function testFuzz_transferFrom_revertsWithoutConsent(address caller, address to) public {
        vm.assume(caller != address(0));
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, to));
        vm.prank(caller);
        registry.transferFrom(alice, to, aliceDid);
    }

    function test_transferFrom_offerToCaller() public {
        vm.prank(alice);
        registry.offerTransfer(aliceDid, bob);
        // someone else cannot pull it for bob, and to must be the offer's recipient
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, bob));
        vm.prank(alice);
        registry.transferFrom(alice, bob, aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, carol));
        vm.prank(carol);
        registry.transferFrom(alice, carol, aliceDid);
        vm.expectRevert(
            abi.encodeWithSelector(IERC721Errors.ERC721IncorrectOwner.selector, carol, aliceDid, alice)
        );
        vm.prank(bob);
        registry.transferFrom(carol, bob, aliceDid);

        vm.prank(bob);
        registry.safeTransferFrom(alice, bob, aliceDid);
        assertEq(registry.ownerOf(aliceDid), bob);
        assertEq(registry.transferOffer(aliceDid), address(0));
    }

    function test_safeTransferFrom_contractRecipientHook() public {
        MockContractWallet wallet = new MockContractWallet();
        vm.prank(alice);
        registry.offerTransfer(aliceDid, address(wallet));
        wallet.setRejectTokens(true);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(wallet)));
        wallet.call(
            address(registry),
            abi.encodeWithSignature(
                "safeTransferFrom(address,address,uint256)", alice, address(wallet), aliceDid
            )
        );
        wallet.setRejectTokens(false);
        wallet.call(
            address(registry),
            abi.encodeWithSignature(
                "safeTransferFrom(address,address,uint256)", alice, address(wallet), aliceDid
            )
        );
        assertEq(registry.ownerOf(aliceDid), address(wallet));
    }

    // ------------------------------------------------------------------ offer / accept

    function test_offerTransfer_andAccept() public {
        vm.expectEmit(address(registry));
        emit DidRegistry.TransferOffered(aliceDid, alice, bob);
        vm.prank(alice);
        registry.offerTransfer(aliceDid, bob);
        assertEq(registry.transferOffer(aliceDid), bob);

        vm.expectEmit(address(registry));
        emit IERC721.Transfer(alice, bob, aliceDid);
        vm.expectEmit(address(registry));
        emit DidRegistry.DidReset(aliceDid, 1);
        vm.prank(bob);
        registry.acceptTransfer(aliceDid);

        assertEq(registry.ownerOf(aliceDid), bob);
        assertEq(registry.balanceOf(alice), 0);
        assertEq(registry.balanceOf(bob), 1);
        assertEq(registry.didRecord(aliceDid).generation, 1);
        assertEq(registry.addr(_node("alice")), bob);
        assertEq(registry.transferOffer(aliceDid), address(0));
    }

    function test_offerTransfer_replaceAndWithdraw() public {
        vm.startPrank(alice);
        registry.offerTransfer(aliceDid, bob);
        registry.offerTransfer(aliceDid, carol);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NoTransferOffer.selector, aliceDid, bob));
        vm.prank(bob);
        registry.acceptTransfer(aliceDid);

        vm.expectEmit(address(registry));
        emit DidRegistry.TransferOffered(aliceDid, alice, address(0));
        vm.prank(alice);
        registry.offerTransfer(aliceDid, address(0));
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NoTransferOffer.selector, aliceDid, carol));
        vm.prank(carol);
        registry.acceptTransfer(aliceDid);
    }

    function test_offerTransfer_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, bob));
        vm.prank(bob);
        registry.offerTransfer(aliceDid, bob);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x626f62));
        vm.prank(bob);
        registry.offerTransfer(0x626f62, carol);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferToSelf.selector, aliceDid));
        vm.prank(alice);
        registry.offerTransfer(aliceDid, alice);
        // approved operators cannot offer: only the owner
        vm.prank(alice);
        registry.approve(carol, aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, carol));
        vm.prank(carol);
        registry.offerTransfer(aliceDid, carol);
    }

    function test_acceptTransfer_revertsWithoutOffer() public {
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NoTransferOffer.selector, aliceDid, bob));
        vm.prank(bob);
        registry.acceptTransfer(aliceDid);
        // the zero address can never take an "offer" to nobody
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NoTransferOffer.selector, aliceDid, address(0)));
        vm.prank(address(0));
        registry.acceptTransfer(aliceDid);
        vm.expectRevert(
            abi.encodeWithSelector(DidRegistry.TransferRequiresConsent.selector, aliceDid, address(0))
        );
        vm.prank(address(0));
        registry.transferFrom(alice, address(0), aliceDid);
    }

    function test_offer_voidedByAnotherTransfer() public {
        vm.prank(alice);
        registry.offerTransfer(aliceDid, bob);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(carolPk, aliceDid, deadline);
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, carol, deadline, consent);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NoTransferOffer.selector, aliceDid, bob));
        vm.prank(bob);
        registry.acceptTransfer(aliceDid);
    }

    // ------------------------------------------------------------------ transferWithConsent

    function test_transferWithConsent_byOwner() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.expectEmit(address(registry));
        emit IERC721.Transfer(alice, bob, aliceDid);
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
        assertEq(registry.ownerOf(aliceDid), bob);
    }

    function test_transferWithConsent_byApprovedAndOperator() public {
        vm.prank(alice);
        registry.approve(carol, aliceDid);
        assertEq(registry.getApproved(aliceDid), carol);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.prank(carol);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
        assertEq(registry.ownerOf(aliceDid), bob);
        assertEq(registry.getApproved(aliceDid), address(0), "approval cleared by the transfer");

        vm.prank(bob);
        registry.setApprovalForAll(dave, true);
        consent = _transferConsent(carolPk, aliceDid, deadline);
        vm.prank(dave);
        registry.transferWithConsent(aliceDid, carol, deadline, consent);
        assertEq(registry.ownerOf(aliceDid), carol);
    }

    function test_transferWithConsent_revertsUnauthorized() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, aliceDid)
        );
        vm.prank(bob);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x626f62));
        vm.prank(bob);
        registry.transferWithConsent(0x626f62, bob, deadline, consent);
    }

    function test_transferWithConsent_revertsToSelfAndExpired() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(alicePk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.TransferToSelf.selector, aliceDid));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, alice, deadline, consent);

        consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(DidBase.ConsentExpired.selector, deadline));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
    }

    function testFuzz_transferWithConsent_deadline(uint256 deadline, uint256 nowTs) public {
        nowTs = bound(nowTs, block.timestamp, type(uint64).max);
        deadline = bound(deadline, block.timestamp, type(uint64).max);
        bytes memory consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.warp(nowTs);
        if (nowTs > deadline) {
            vm.expectRevert(abi.encodeWithSelector(DidBase.ConsentExpired.selector, deadline));
        }
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
    }

    function test_transferWithConsent_revertsBadSignature() public {
        uint256 deadline = block.timestamp + 1 hours;
        // signed by someone else than the recipient
        bytes memory consent = _transferConsent(carolPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, bob));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, consent);
        // for another deadline than the one submitted
        consent = _transferConsent(bobPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, bob));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline + 1, consent);
        // malformed
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, bob));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, hex"1234");
        // to the zero address
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, address(0)));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, address(0), deadline, consent);
    }

    /// A consent moves the DID at most once: the transfer bumps the generation it names.
    function test_transferWithConsent_cannotBeReplayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory toBob = _transferConsent(bobPk, aliceDid, deadline);
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, toBob);
        // back to alice with her consent
        bytes memory toAlice = _transferConsent(alicePk, aliceDid, deadline);
        vm.prank(bob);
        registry.transferWithConsent(aliceDid, alice, deadline, toAlice);
        // alice owns it again, but bob's old consent was for generation 0
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, bob));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, bob, deadline, toBob);
    }

    function test_transferWithConsent_contractRecipient() public {
        MockContractWallet wallet = new MockContractWallet();
        uint256 deadline = block.timestamp + 1 hours;
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, address(wallet)));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, address(wallet), deadline, "");
        wallet.approve(registry.transferConsentDigest(aliceDid, address(wallet), deadline));
        vm.prank(alice);
        registry.transferWithConsent(aliceDid, address(wallet), deadline, "");
        assertEq(registry.ownerOf(aliceDid), address(wallet));
    }

    // ------------------------------------------------------------------ what a transfer does

    function _transfer(address from, uint256 did, uint256 toPk) internal {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _transferConsent(toPk, did, deadline);
        vm.prank(from);
        registry.transferWithConsent(did, vm.addr(toPk), deadline, consent);
    }

    function test_transfer_startsTheNewOwnerClean() public {
        bytes32 node = _node("alice");
        uint256 otherDid = _register(dave, "dave");
        _link(alice, aliceDid, carolPk);
        _link(alice, aliceDid, davePk);
        _link(dave, otherDid, carolPk); // carol is linked to two DIDs
        vm.prank(carol);
        registry.setPrimary(aliceDid);
        vm.prank(dave);
        registry.setPrimary(otherDid);
        vm.prank(alice);
        registry.setPrimary(aliceDid);
        _addKey(alice, aliceDid, keccak256("k1"), DidKeys.KeyType.Ed25519, "");
        _addKey(alice, aliceDid, keccak256("k2"), DidKeys.KeyType.X25519, "");
        vm.startPrank(alice);
        registry.setText(node, "avatar", "ipfs://old");
        registry.setContenthash(node, hex"e301");
        registry.approve(stranger, aliceDid);
        vm.stopPrank();

        vm.expectEmit(address(registry));
        emit DidLinks.WalletUnlinked(aliceDid, dave, alice);
        vm.expectEmit(address(registry));
        emit DidLinks.WalletUnlinked(aliceDid, carol, alice);
        vm.expectEmit(address(registry));
        emit DidLinks.PrimaryChanged(carol, 0);
        vm.expectEmit(address(registry));
        emit DidLinks.PrimaryChanged(alice, 0);
        _transfer(alice, aliceDid, bobPk);

        // links gone on both sides, other links intact
        assertEq(registry.walletsOf(aliceDid).length, 0);
        assertFalse(registry.isLinked(aliceDid, carol));
        assertFalse(registry.isLinked(aliceDid, dave));
        assertEq(registry.didsOf(carol).length, 1);
        assertEq(registry.didsOf(carol)[0], otherDid);
        assertTrue(registry.isLinked(otherDid, carol));
        assertEq(registry.walletsOf(otherDid)[0], carol);
        assertEq(registry.didsOf(dave).length, 0);
        // primaries that pointed at it are cleared, others kept
        assertEq(registry.primaryOf(carol), 0);
        assertEq(registry.primaryOf(alice), 0);
        assertEq(registry.primaryOf(dave), otherDid);
        // keys revoked, records gone, approval gone
        (DidKeys.KeyStatus status,,) = registry.keyState(keccak256("k1"));
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
        (status,,) = registry.keyState(keccak256("k2"));
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
        assertEq(registry.text(node, "avatar"), "");
        assertEq(registry.contenthash(node), "");
        assertEq(registry.getApproved(aliceDid), address(0));
        // the name now resolves to the new owner; the old owner's reverse record is empty
        assertEq(registry.addr(node), bob);
        assertEq(registry.name(_reverseNode(alice)), "");

        // the new owner starts its own generation
        vm.prank(bob);
        registry.setText(node, "avatar", "ipfs://new");
        assertEq(registry.text(node, "avatar"), "ipfs://new");
    }

    function test_transfer_toALinkedWalletKeepsItsPrimary() public {
        _link(alice, aliceDid, bobPk);
        vm.prank(bob);
        registry.setPrimary(aliceDid);
        _transfer(alice, aliceDid, bobPk);
        assertFalse(registry.isLinked(aliceDid, bob), "the owner is not linked to its own DID");
        assertEq(registry.primaryOf(bob), aliceDid, "primary kept: bob owns it now");
        assertEq(registry.name(_reverseNode(bob)), "alice.send");
    }

    function test_transfer_keysOfOldGenerationCannotBeRevivedOrReused() public {
        bytes32 key = keccak256("device");
        _addKey(alice, aliceDid, key, DidKeys.KeyType.Ed25519, "");
        _transfer(alice, aliceDid, bobPk);
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, key));
        vm.prank(bob);
        registry.addKey(aliceDid, key, DidKeys.KeyType.Ed25519, "");
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyNotActive.selector, aliceDid, key));
        vm.prank(bob);
        registry.revokeKey(aliceDid, key);
        // back to alice: still revoked (generation 2 now)
        _transfer(bob, aliceDid, alicePk);
        (DidKeys.KeyStatus status,,) = registry.keyState(key);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
    }

    function test_transfer_clearsAFullDid() public {
        uint256 max = registry.MAX_WALLETS_PER_DID();
        for (uint256 i; i < max; ++i) {
            _link(alice, aliceDid, uint256(keccak256(abi.encode("wallet", i))));
        }
        assertEq(registry.walletsOf(aliceDid).length, max);
        uint256 gasBefore = gasleft();
        _transfer(alice, aliceDid, bobPk);
        uint256 used = gasBefore - gasleft();
        assertEq(registry.walletsOf(aliceDid).length, 0);
        for (uint256 i; i < max; ++i) {
            address w = vm.addr(uint256(keccak256(abi.encode("wallet", i))));
            assertEq(registry.didsOf(w).length, 0);
        }
        assertLt(used, 1_500_000, "clearing the largest DID stays far below a block");
    }
}
