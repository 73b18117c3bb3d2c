// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {DidTestBase} from "./DidTestBase.sol";
import {MockContractWallet} from "./mocks/MockContractWallet.sol";
import {DidRegistry} from "../../contracts/did/DidRegistry.sol";
import {DidBase} from "../../contracts/did/DidBase.sol";
import {DidLinks} from "../../contracts/did/DidLinks.sol";

contract DidLinksTest is DidTestBase {
    uint256 internal aliceDid;
    uint256 internal bobDid;
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        aliceDid = _register(alice, "alice");
        bobDid = _register(bob, "bob");
        deadline = block.timestamp + 1 hours;
    }

    function _wallet(uint256 i) internal pure returns (uint256 pk) {
        return uint256(keccak256(abi.encode("linked wallet", i)));
    }

    /// Both views agree with isLinked for every (did, wallet) pair given.
    function _assertSymmetric(uint256[] memory dids, address[] memory wallets) internal view {
        for (uint256 i; i < dids.length; ++i) {
            address[] memory ofDid = registry.walletsOf(dids[i]);
            for (uint256 j; j < wallets.length; ++j) {
                bool linked = registry.isLinked(dids[i], wallets[j]);
                assertEq(_contains(ofDid, wallets[j]), linked, "walletsOf != isLinked");
                assertEq(_contains(registry.didsOf(wallets[j]), dids[i]), linked, "didsOf != isLinked");
            }
        }
    }

    // ------------------------------------------------------------------ linkWallet

    function test_linkWallet() public {
        assertEq(registry.linkNonce(carol), 0);
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.expectEmit(address(registry));
        emit DidLinks.WalletLinked(aliceDid, carol);
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);

        assertTrue(registry.isLinked(aliceDid, carol));
        assertEq(registry.walletsOf(aliceDid).length, 1);
        assertEq(registry.walletsOf(aliceDid)[0], carol);
        assertEq(registry.didsOf(carol).length, 1);
        assertEq(registry.didsOf(carol)[0], aliceDid);
        assertEq(registry.linkNonce(carol), 1);
        assertFalse(registry.isLinked(bobDid, carol));
        assertFalse(registry.isLinked(aliceDid, alice), "owning is not a link");
    }

    function test_linkWallet_manyToMany() public {
        _link(alice, aliceDid, carolPk);
        _link(alice, aliceDid, davePk);
        _link(bob, bobDid, carolPk);
        _link(bob, bobDid, alicePk); // an owner of one DID can be linked to another
        uint256[] memory dids = new uint256[](2);
        (dids[0], dids[1]) = (aliceDid, bobDid);
        address[] memory wallets = new address[](4);
        (wallets[0], wallets[1], wallets[2], wallets[3]) = (alice, bob, carol, dave);
        _assertSymmetric(dids, wallets);
        assertEq(registry.didsOf(carol).length, 2);
        assertEq(registry.walletsOf(aliceDid).length, 2);
        assertEq(registry.linkNonce(carol), 2);
    }

    function test_linkWallet_revertsNotOwner() public {
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, bob));
        vm.prank(bob);
        registry.linkWallet(aliceDid, carol, deadline, consent);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x636172));
        vm.prank(bob);
        registry.linkWallet(0x636172, carol, deadline, consent);
    }

    function test_linkWallet_revertsWalletIsOwner() public {
        bytes memory consent = _linkConsent(alicePk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.WalletIsOwner.selector, aliceDid, alice));
        vm.prank(alice);
        registry.linkWallet(aliceDid, alice, deadline, consent);
    }

    function test_linkWallet_revertsExpired() public {
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(DidBase.ConsentExpired.selector, deadline));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
    }

    function testFuzz_linkWallet_deadline(uint256 deadline_, uint256 nowTs) public {
        nowTs = bound(nowTs, block.timestamp, type(uint64).max);
        deadline_ = bound(deadline_, block.timestamp, type(uint64).max);
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline_);
        vm.warp(nowTs);
        if (nowTs > deadline_) {
            vm.expectRevert(abi.encodeWithSelector(DidBase.ConsentExpired.selector, deadline_));
        }
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline_, consent);
        assertEq(registry.isLinked(aliceDid, carol), nowTs <= deadline_);
    }

    function test_linkWallet_revertsAlreadyLinked() public {
        _link(alice, aliceDid, carolPk);
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.AlreadyLinked.selector, aliceDid, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
        // also when the DID is not the first of the wallet's list
        _link(bob, bobDid, davePk);
        _link(alice, aliceDid, davePk);
        consent = _linkConsent(davePk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.AlreadyLinked.selector, aliceDid, dave));
        vm.prank(alice);
        registry.linkWallet(aliceDid, dave, deadline, consent);
    }

    function test_linkWallet_revertsTooManyWallets() public {
        uint256 max = registry.MAX_WALLETS_PER_DID();
        for (uint256 i; i < max; ++i) {
            _link(alice, aliceDid, _wallet(i));
        }
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.TooManyWallets.selector, aliceDid));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
        // room again after an unlink
        vm.prank(alice);
        registry.unlink(aliceDid, vm.addr(_wallet(3)));
        _link(alice, aliceDid, carolPk);
        assertEq(registry.walletsOf(aliceDid).length, max);
    }

    function test_linkWallet_revertsTooManyDids() public {
        uint256 max = registry.MAX_DIDS_PER_WALLET();
        for (uint256 i; i < max; ++i) {
            uint256 did = _register(dave, string.concat("dave-", vm.toString(i)));
            _link(dave, did, carolPk);
        }
        assertEq(registry.didsOf(carol).length, max);
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.TooManyDids.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
    }

    // ------------------------------------------------------------------ consent signatures

    function test_linkWallet_revertsWrongSigner() public {
        bytes memory consent = _sign(davePk, registry.linkConsentDigest(aliceDid, carol, deadline));
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
    }

    function test_linkWallet_revertsMalformedSignature() public {
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, "");
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        consent[64] = bytes1(uint8(29)); // invalid v
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
    }

    /// A consent is for one DID, one wallet, one owner, one nonce, one deadline, one chain, one registry.
    function test_linkWallet_consentBindsEveryTerm() public {
        uint256 n = registry.linkNonce(carol);
        bytes32[7] memory wrong = [
            _linkDigestFor(block.chainid, address(registry), bobDid, carol, alice, n, deadline), // other DID
            _linkDigestFor(block.chainid, address(registry), aliceDid, dave, alice, n, deadline), // other wallet
            _linkDigestFor(block.chainid, address(registry), aliceDid, carol, bob, n, deadline), // other owner
            _linkDigestFor(block.chainid, address(registry), aliceDid, carol, alice, n + 1, deadline), // nonce
            _linkDigestFor(block.chainid, address(registry), aliceDid, carol, alice, n, deadline + 1), // deadline
            _linkDigestFor(block.chainid + 1, address(registry), aliceDid, carol, alice, n, deadline), // chain
            _linkDigestFor(block.chainid, address(resolver), aliceDid, carol, alice, n, deadline) // contract
        ];
        for (uint256 i; i < wrong.length; ++i) {
            bytes memory consent = _sign(carolPk, wrong[i]);
            vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
            vm.prank(alice);
            registry.linkWallet(aliceDid, carol, deadline, consent);
        }
        bytes32 right = _linkDigestFor(block.chainid, address(registry), aliceDid, carol, alice, n, deadline);
        assertEq(right, registry.linkConsentDigest(aliceDid, carol, deadline));
        bytes memory good = _sign(carolPk, right);
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, good);
    }

    /// The same consent cannot link again after an unlink (the wallet's nonce moved), nor on another chain.
    function test_linkWallet_consentCannotBeReplayed() public {
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);
        vm.prank(carol);
        registry.unlink(aliceDid, carol);
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, consent);

        // a fork with another chain id: the domain separator is rebuilt and the old consent fails
        bytes memory fresh = _linkConsent(carolPk, aliceDid, deadline);
        vm.chainId(block.chainid + 1);
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(alice);
        registry.linkWallet(aliceDid, carol, deadline, fresh);
    }

    /// A consent given to the DID's owner dies with a transfer to someone else.
    function test_linkWallet_consentDiesWithTransfer() public {
        bytes memory consent = _linkConsent(carolPk, aliceDid, deadline);
        vm.prank(alice);
        registry.offerTransfer(aliceDid, dave);
        vm.prank(dave);
        registry.acceptTransfer(aliceDid);
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, carol));
        vm.prank(dave);
        registry.linkWallet(aliceDid, carol, deadline, consent);
    }

    function test_linkWallet_contractWallet() public {
        MockContractWallet wallet = new MockContractWallet();
        vm.expectRevert(abi.encodeWithSelector(DidBase.InvalidConsentSignature.selector, address(wallet)));
        vm.prank(alice);
        registry.linkWallet(aliceDid, address(wallet), deadline, "approved by contract");
        wallet.approve(registry.linkConsentDigest(aliceDid, address(wallet), deadline));
        vm.prank(alice);
        registry.linkWallet(aliceDid, address(wallet), deadline, "approved by contract");
        assertTrue(registry.isLinked(aliceDid, address(wallet)));
    }

    function testFuzz_linkWallet_anyWalletKey(uint256 pk) public {
        pk = bound(pk, 1, SECP256K1_ORDER - 1);
        address wallet = vm.addr(pk);
        vm.assume(wallet != alice);
        _link(alice, aliceDid, pk);
        assertTrue(registry.isLinked(aliceDid, wallet));
        assertEq(registry.didsOf(wallet)[0], aliceDid);
    }

    // ------------------------------------------------------------------ unlink

    function test_unlink_byOwner() public {
        _link(alice, aliceDid, carolPk);
        vm.expectEmit(address(registry));
        emit DidLinks.WalletUnlinked(aliceDid, carol, alice);
        vm.prank(alice);
        registry.unlink(aliceDid, carol);
        assertFalse(registry.isLinked(aliceDid, carol));
        assertEq(registry.walletsOf(aliceDid).length, 0);
        assertEq(registry.didsOf(carol).length, 0);
        assertEq(registry.linkNonce(carol), 1, "the nonce survives an empty list");
    }

    function test_unlink_byWallet() public {
        _link(alice, aliceDid, carolPk);
        vm.expectEmit(address(registry));
        emit DidLinks.WalletUnlinked(aliceDid, carol, carol);
        vm.prank(carol);
        registry.unlink(aliceDid, carol);
        assertFalse(registry.isLinked(aliceDid, carol));
    }

    function test_unlink_reverts() public {
        _link(alice, aliceDid, carolPk);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotOwnerOrWallet.selector, aliceDid, bob));
        vm.prank(bob);
        registry.unlink(aliceDid, carol);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinked.selector, aliceDid, dave));
        vm.prank(alice);
        registry.unlink(aliceDid, dave);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinked.selector, bobDid, carol));
        vm.prank(carol);
        registry.unlink(bobDid, carol);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinked.selector, 0x636172, carol));
        vm.prank(carol);
        registry.unlink(0x636172, carol);
    }

    /// Removing from the middle of both lists keeps every twin pointer right.
    function test_unlink_middleEntriesKeepListsMirrored() public {
        uint256 carolDid = _register(carol, "carol");
        uint256 daveDid = _register(dave, "dave");
        address[] memory wallets = new address[](5);
        for (uint256 i; i < 5; ++i) {
            wallets[i] = vm.addr(_wallet(i));
            _link(alice, aliceDid, _wallet(i));
            _link(bob, bobDid, _wallet(i));
            _link(carol, carolDid, _wallet(i));
        }
        _link(dave, daveDid, _wallet(2));
        uint256[] memory dids = new uint256[](4);
        (dids[0], dids[1], dids[2], dids[3]) = (aliceDid, bobDid, carolDid, daveDid);

        vm.prank(alice);
        registry.unlink(aliceDid, wallets[1]); // middle of alice's list, first of the wallet's
        _assertSymmetric(dids, wallets);
        vm.prank(wallets[2]);
        registry.unlink(bobDid, wallets[2]); // middle of the wallet's list
        _assertSymmetric(dids, wallets);
        vm.prank(wallets[0]);
        registry.unlink(aliceDid, wallets[0]); // entry 0 of both lists
        _assertSymmetric(dids, wallets);
        vm.prank(dave);
        registry.unlink(daveDid, wallets[2]); // last of the wallet's list
        _assertSymmetric(dids, wallets);
        assertEq(registry.walletsOf(aliceDid).length, 3);
        assertEq(registry.didsOf(wallets[2]).length, 2);

        // re-linking after removals lands in the right places
        _link(alice, aliceDid, _wallet(1));
        _link(dave, daveDid, _wallet(2));
        _assertSymmetric(dids, wallets);
        // a transfer clears a DID by following its entries' twin pointers, moved around by the removals above
        // (carol's entries moved to the front of wallets 0 and 1)
        vm.prank(carol);
        registry.offerTransfer(carolDid, stranger);
        vm.prank(stranger);
        registry.acceptTransfer(carolDid);
        _assertSymmetric(dids, wallets);
        assertEq(registry.walletsOf(carolDid).length, 0);
        _link(stranger, carolDid, _wallet(4));
        _link(stranger, carolDid, _wallet(2));
        _assertSymmetric(dids, wallets);
        // and everything can be emptied
        for (uint256 i; i < 5; ++i) {
            for (uint256 d; d < 4; ++d) {
                if (registry.isLinked(dids[d], wallets[i])) {
                    vm.prank(wallets[i]);
                    registry.unlink(dids[d], wallets[i]);
                }
            }
            assertEq(registry.didsOf(wallets[i]).length, 0);
        }
        for (uint256 d; d < 4; ++d) {
            assertEq(registry.walletsOf(dids[d]).length, 0);
        }
    }

    // ------------------------------------------------------------------ primary

    function test_setPrimary_ownedAndLinked() public {
        vm.expectEmit(address(registry));
        emit DidLinks.PrimaryChanged(alice, aliceDid);
        vm.prank(alice);
        registry.setPrimary(aliceDid);
        assertEq(registry.primaryOf(alice), aliceDid);
        assertEq(registry.name(_reverseNode(alice)), "alice.send");

        _link(bob, bobDid, carolPk);
        vm.prank(carol);
        registry.setPrimary(bobDid);
        assertEq(registry.primaryOf(carol), bobDid);
        assertEq(registry.name(_reverseNode(carol)), "bob.send");

        // switch and clear
        _link(alice, aliceDid, carolPk);
        vm.prank(carol);
        registry.setPrimary(aliceDid);
        assertEq(registry.name(_reverseNode(carol)), "alice.send");
        vm.prank(carol);
        registry.setPrimary(0);
        assertEq(registry.primaryOf(carol), 0);
        assertEq(registry.name(_reverseNode(carol)), "");
    }

    function test_setPrimary_revertsNotLinkedOrOwned() public {
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinkedOrOwned.selector, bobDid, alice));
        vm.prank(alice);
        registry.setPrimary(bobDid);
        vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinkedOrOwned.selector, 0x636172, carol));
        vm.prank(carol);
        registry.setPrimary(0x636172);
    }

    function test_setPrimary_clearedByUnlink() public {
        _link(alice, aliceDid, carolPk);
        _link(bob, bobDid, carolPk);
        vm.prank(carol);
        registry.setPrimary(aliceDid);
        // unlinking another DID keeps it
        vm.prank(carol);
        registry.unlink(bobDid, carol);
        assertEq(registry.primaryOf(carol), aliceDid);
        vm.expectEmit(address(registry));
        emit DidLinks.WalletUnlinked(aliceDid, carol, alice);
        vm.expectEmit(address(registry));
        emit DidLinks.PrimaryChanged(carol, 0);
        vm.prank(alice);
        registry.unlink(aliceDid, carol);
        assertEq(registry.primaryOf(carol), 0);
        assertEq(registry.name(_reverseNode(carol)), "");
    }

    function testFuzz_setPrimary_onlyLinkedOrOwned(uint8 pick) public {
        _link(alice, aliceDid, carolPk);
        uint256[3] memory candidates = [aliceDid, bobDid, uint256(0x636172)];
        uint256 did = candidates[pick % 3];
        bool allowed = did == aliceDid;
        if (!allowed) {
            vm.expectRevert(abi.encodeWithSelector(DidLinks.NotLinkedOrOwned.selector, did, carol));
        }
        vm.prank(carol);
        registry.setPrimary(did);
        assertEq(registry.primaryOf(carol), allowed ? did : 0);
    }
}
