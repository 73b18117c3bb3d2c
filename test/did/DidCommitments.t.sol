// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidTestBase} from "./DidTestBase.sol";
import {DidBase} from "../../contracts/did/DidBase.sol";
import {DidCommitments} from "../../contracts/did/DidCommitments.sol";
import {DidKeys} from "../../contracts/did/DidKeys.sol";
import {DidNames} from "../../contracts/did/DidNames.sol";
import {DidRegistry} from "../../contracts/did/DidRegistry.sol";

/// @notice Commit–reveal of names and device keys: what a mempool watcher can and cannot do with a
///         registration or a key it reads from a pending transaction, and every refused reveal.
contract DidCommitmentsTest is DidTestBase {
    /// "mallory" watches the mempool: it owns a DID of its own and copies whatever it sees.
    address internal mallory = makeAddr("mallory");
    uint256 internal malloryDid;
    uint256 internal aliceDid;
    bytes32 internal constant DEVICE = keccak256("ed25519 public key of alice's new laptop");

    function setUp() public override {
        super.setUp();
        malloryDid = _register(mallory, "mallory");
        aliceDid = _register(alice, "alice");
    }

    // ------------------------------------------------------------------ the attacks

    /// Alice's `register("satoshi", secret)` sits in the mempool; Mallory reads name and secret from it.
    function test_register_frontRunFromTheMempoolFails() public {
        bytes32 aliceCommitment = _commitName(alice, "satoshi");
        vm.warp(block.timestamp + MIN_AGE);
        bytes32 secret = _secret(alice, "satoshi"); // public once alice's reveal is broadcast

        // replaying alice's reveal from mallory's account: the commitment names alice, not mallory
        bytes32 malloryView = registry.registerCommitment("satoshi", mallory, secret);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.UnknownCommitment.selector, malloryView));
        vm.prank(mallory);
        registry.register("satoshi", secret);
        // committing now and revealing before alice's transaction is mined: too new
        vm.prank(mallory);
        registry.commit(malloryView);
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.CommitmentTooNew.selector, malloryView, block.timestamp + MIN_AGE
            )
        );
        vm.prank(mallory);
        registry.register("satoshi", secret);
        // restarting alice's commitment clock (to delay her) is refused too
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.CommitmentPending.selector,
                aliceCommitment,
                block.timestamp - MIN_AGE + MAX_AGE
            )
        );
        vm.prank(mallory);
        registry.commit(aliceCommitment);

        // alice's reveal is mined: the name is hers
        vm.prank(alice);
        uint256 did = registry.register("satoshi", secret);
        assertEq(registry.ownerOf(did), alice);
        // and mallory's matured commitment is worth nothing
        vm.warp(block.timestamp + MIN_AGE);
        vm.expectRevert(abi.encodeWithSelector(DidRegistry.NameTaken.selector, "satoshi"));
        vm.prank(mallory);
        registry.register("satoshi", secret);
    }

    /// Alice's `addKey(aliceDid, K, Ed25519, …)` sits in the mempool; Mallory tries to bind K to its own DID
    /// first, which would kill K for alice for good (`KeyAlreadyUsed`).
    function test_addKey_frontRunFromTheMempoolFails() public {
        _commitKey(alice, aliceDid, DEVICE, DidKeys.KeyType.Ed25519);
        vm.warp(block.timestamp + MIN_AGE);

        // straight to addKey: mallory has no commitment to this binding
        bytes32 malloryBinding = registry.keyCommitment(malloryDid, DEVICE, DidKeys.KeyType.Ed25519, mallory);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.UnknownCommitment.selector, malloryBinding));
        vm.prank(mallory);
        registry.addKey(malloryDid, DEVICE, DidKeys.KeyType.Ed25519, "");
        // committing after seeing the key: too new while alice's transaction is pending
        vm.prank(mallory);
        registry.commit(malloryBinding);
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.CommitmentTooNew.selector, malloryBinding, block.timestamp + MIN_AGE
            )
        );
        vm.prank(mallory);
        registry.addKey(malloryDid, DEVICE, DidKeys.KeyType.Ed25519, "");
        // as the other key type: no commitment either
        bytes32 asX25519 = registry.keyCommitment(malloryDid, DEVICE, DidKeys.KeyType.X25519, mallory);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.UnknownCommitment.selector, asX25519));
        vm.prank(mallory);
        registry.addKey(malloryDid, DEVICE, DidKeys.KeyType.X25519, "");
        // alice's commitment only serves alice's DID, from alice's account
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, mallory));
        vm.prank(mallory);
        registry.addKey(aliceDid, DEVICE, DidKeys.KeyType.Ed25519, "");

        // alice's transaction is mined: the key is hers
        vm.prank(alice);
        registry.addKey(aliceDid, DEVICE, DidKeys.KeyType.Ed25519, "laptop");
        (DidKeys.KeyStatus status, uint256 did,) = registry.keyState(DEVICE);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Active));
        assertEq(did, aliceDid);
        // mallory's commitment matures too late
        vm.warp(block.timestamp + MIN_AGE);
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, DEVICE));
        vm.prank(mallory);
        registry.addKey(malloryDid, DEVICE, DidKeys.KeyType.Ed25519, "");
    }

    // ------------------------------------------------------------------ bad reveals

    function test_register_revertsTooEarly() public {
        bytes32 c = _commitName(bob, "bobby");
        uint256 usableAt = block.timestamp + MIN_AGE;
        vm.warp(usableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.CommitmentTooNew.selector, c, usableAt));
        vm.prank(bob);
        registry.register("bobby", _secret(bob, "bobby"));
        // same block as the commitment
        bytes32 c2 = _commitName(bob, "bobby-2");
        vm.expectRevert(
            abi.encodeWithSelector(DidCommitments.CommitmentTooNew.selector, c2, block.timestamp + MIN_AGE)
        );
        vm.prank(bob);
        registry.register("bobby-2", _secret(bob, "bobby-2"));
        vm.warp(usableAt); // exactly the minimum age
        vm.prank(bob);
        registry.register("bobby", _secret(bob, "bobby"));
    }

    function test_register_revertsTooLate() public {
        bytes32 c = _commitName(bob, "bobby");
        uint256 expiredAt = block.timestamp + MAX_AGE;
        vm.warp(expiredAt);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.CommitmentTooOld.selector, c, expiredAt));
        vm.prank(bob);
        registry.register("bobby", _secret(bob, "bobby"));
        // a lapsed commitment can be made again, and then used
        _commitName(bob, "bobby");
        vm.warp(block.timestamp + MIN_AGE);
        vm.prank(bob);
        registry.register("bobby", _secret(bob, "bobby"));
    }

    function test_register_lastSecondBeforeExpiry() public {
        _commitName(bob, "bobby");
        vm.warp(block.timestamp + MAX_AGE - 1);
        vm.prank(bob);
        registry.register("bobby", _secret(bob, "bobby"));
    }

    function test_register_revertsWrongSecret() public {
        _commitName(bob, "bobby");
        vm.warp(block.timestamp + MIN_AGE);
        bytes32 wrong = keccak256("not bob's secret");
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.UnknownCommitment.selector, registry.registerCommitment("bobby", bob, wrong)
            )
        );
        vm.prank(bob);
        registry.register("bobby", wrong);
    }

    /// A commitment names its owner and its name: nobody else uses it, and it registers no other name.
    function test_register_revertsSomeoneElsesCommitment() public {
        _commitName(bob, "bobby");
        vm.warp(block.timestamp + MIN_AGE);
        bytes32 secret = _secret(bob, "bobby");
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.UnknownCommitment.selector, registry.registerCommitment("bobby", carol, secret)
            )
        );
        vm.prank(carol);
        registry.register("bobby", secret);
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.UnknownCommitment.selector, registry.registerCommitment("bobby-2", bob, secret)
            )
        );
        vm.prank(bob);
        registry.register("bobby-2", secret);
    }

    function test_register_revertsWithoutCommitment() public {
        bytes32 c = registry.registerCommitment("bobby", bob, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.UnknownCommitment.selector, c));
        vm.prank(bob);
        registry.register("bobby", bytes32(0));
    }

    /// A key commitment does not register a name and a name commitment adds no key (distinct type hashes).
    function test_commitmentKindsDoNotMix() public {
        bytes32 nameCommitment = _commitName(alice, "alice-2");
        vm.warp(block.timestamp + MIN_AGE);
        bytes32 keyAsName = bytes32(uint256(0x616c6963652d32)); // a "key" equal to the name's id
        bytes32 expected = registry.keyCommitment(aliceDid, keyAsName, DidKeys.KeyType.Ed25519, alice);
        assertTrue(expected != nameCommitment);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.UnknownCommitment.selector, expected));
        vm.prank(alice);
        registry.addKey(aliceDid, keyAsName, DidKeys.KeyType.Ed25519, "");
    }

    function test_addKey_revertsTooEarlyAndTooLate() public {
        bytes32 c = _commitKey(alice, aliceDid, DEVICE, DidKeys.KeyType.X25519);
        uint256 committed = block.timestamp;
        vm.warp(committed + MIN_AGE - 1);
        vm.expectRevert(
            abi.encodeWithSelector(DidCommitments.CommitmentTooNew.selector, c, committed + MIN_AGE)
        );
        vm.prank(alice);
        registry.addKey(aliceDid, DEVICE, DidKeys.KeyType.X25519, "");
        vm.warp(committed + MAX_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(DidCommitments.CommitmentTooOld.selector, c, committed + MAX_AGE)
        );
        vm.prank(alice);
        registry.addKey(aliceDid, DEVICE, DidKeys.KeyType.X25519, "");
    }

    /// A commitment by the DID's previous owner does not serve the new one.
    function test_addKey_commitmentNamesTheOwner() public {
        _commitKey(alice, aliceDid, DEVICE, DidKeys.KeyType.Ed25519);
        vm.prank(alice);
        registry.offerTransfer(aliceDid, bob);
        vm.prank(bob);
        registry.acceptTransfer(aliceDid);
        vm.warp(block.timestamp + MIN_AGE);
        vm.expectRevert(
            abi.encodeWithSelector(
                DidCommitments.UnknownCommitment.selector,
                registry.keyCommitment(aliceDid, DEVICE, DidKeys.KeyType.Ed25519, bob)
            )
        );
        vm.prank(bob);
        registry.addKey(aliceDid, DEVICE, DidKeys.KeyType.Ed25519, "");
    }

    function test_commit_repeatAfterExpiry() public {
        bytes32 c = keccak256("any commitment");
        registry.commit(c);
        uint256 first = block.timestamp;
        vm.warp(first + MAX_AGE - 1);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.CommitmentPending.selector, c, first + MAX_AGE));
        registry.commit(c);
        vm.warp(first + MAX_AGE);
        registry.commit(c);
        assertEq(registry.committedAt(c), first + MAX_AGE);
    }

    // ------------------------------------------------------------------ formats and parameters

    /// The commitments are the documented hashes (docs/did.md; keepers/src/chain/did.ts computes the same).
    function test_commitmentFormats() public view {
        bytes32 secret = keccak256("s");
        assertEq(
            registry.registerCommitment("satoshi", alice, secret),
            keccak256(
                abi.encode(
                    keccak256("RegisterCommitment(uint256 did,address owner,bytes32 secret)"),
                    registry.idOf("satoshi"),
                    alice,
                    secret
                )
            )
        );
        assertEq(
            registry.keyCommitment(aliceDid, DEVICE, DidKeys.KeyType.X25519, alice),
            keccak256(
                abi.encode(
                    keccak256("KeyCommitment(uint256 did,bytes32 key,uint8 keyType,address owner)"),
                    aliceDid,
                    DEVICE,
                    uint8(1),
                    alice
                )
            )
        );
        assertEq(registry.minCommitmentAge(), MIN_AGE);
        assertEq(registry.maxCommitmentAge(), MAX_AGE);
    }

    function test_registerCommitment_revertsInvalidName() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 0, bytes1("S")));
        registry.registerCommitment("Satoshi", alice, bytes32(0));
    }

    function test_constructor_revertsInvalidAges() public {
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.InvalidCommitmentAges.selector, 0, 100));
        new DidRegistry(TLD, 0, 100);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.InvalidCommitmentAges.selector, 100, 100));
        new DidRegistry(TLD, 100, 100);
        vm.expectRevert(abi.encodeWithSelector(DidCommitments.InvalidCommitmentAges.selector, 100, 99));
        new DidRegistry(TLD, 100, 99);
    }

    function testFuzz_register_onlyInTheWindow(uint256 wait) public {
        wait = bound(wait, 0, 2 * MAX_AGE);
        _commitName(bob, "bobby");
        vm.warp(block.timestamp + wait);
        vm.prank(bob);
        (bool ok,) =
            address(registry).call(abi.encodeCall(DidRegistry.register, ("bobby", _secret(bob, "bobby"))));
        assertEq(ok, wait >= MIN_AGE && wait < MAX_AGE);
    }
}
