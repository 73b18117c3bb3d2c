// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {DidTestBase} from "./DidTestBase.sol";
import {DidBase} from "../../contracts/did/DidBase.sol";
import {DidKeys} from "../../contracts/did/DidKeys.sol";

contract DidKeysTest is DidTestBase {
    uint256 internal aliceDid;
    uint256 internal bobDid;
    bytes32 internal constant SIGNING = keccak256("ed25519 public key of alice's phone");
    bytes32 internal constant AGREEMENT = keccak256("x25519 public key of alice's phone");

    function setUp() public override {
        super.setUp();
        aliceDid = _register(alice, "alice");
        bobDid = _register(bob, "bob");
    }

    function _state(bytes32 key)
        internal
        view
        returns (DidKeys.KeyStatus status, uint256 did, DidKeys.KeyType t)
    {
        return registry.keyState(key);
    }

    function test_addKey() public {
        bytes32 c1 = _commitKey(alice, aliceDid, SIGNING, DidKeys.KeyType.Ed25519);
        bytes32 c2 = _commitKey(alice, aliceDid, AGREEMENT, DidKeys.KeyType.X25519);
        assertEq(registry.committedAt(c1), block.timestamp);
        vm.warp(block.timestamp + MIN_AGE);
        vm.expectEmit(address(registry));
        emit DidKeys.KeyAdded(aliceDid, SIGNING, DidKeys.KeyType.Ed25519, 0, "phone");
        vm.prank(alice);
        registry.addKey(aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "phone");
        vm.expectEmit(address(registry));
        emit DidKeys.KeyAdded(aliceDid, AGREEMENT, DidKeys.KeyType.X25519, 0, abi.encode(SIGNING));
        vm.prank(alice);
        registry.addKey(aliceDid, AGREEMENT, DidKeys.KeyType.X25519, abi.encode(SIGNING));
        assertEq(registry.committedAt(c1), 0, "commitment used up");
        assertEq(registry.committedAt(c2), 0, "commitment used up");

        (DidKeys.KeyStatus status, uint256 did, DidKeys.KeyType t) = _state(SIGNING);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Active));
        assertEq(did, aliceDid);
        assertEq(uint8(t), uint8(DidKeys.KeyType.Ed25519));
        (status, did, t) = _state(AGREEMENT);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Active));
        assertEq(uint8(t), uint8(DidKeys.KeyType.X25519));
    }

    function test_keyState_unknownKey() public view {
        (DidKeys.KeyStatus status, uint256 did,) = _state(SIGNING);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.None));
        assertEq(did, 0);
    }

    function test_addKey_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, bob));
        vm.prank(bob);
        registry.addKey(aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "");
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x636172));
        vm.prank(bob);
        registry.addKey(0x636172, SIGNING, DidKeys.KeyType.Ed25519, "");
        vm.expectRevert(DidKeys.ZeroKey.selector);
        vm.prank(alice);
        registry.addKey(aliceDid, bytes32(0), DidKeys.KeyType.Ed25519, "");
    }

    function test_addKey_revertsInvalidKeyType() public {
        vm.prank(alice);
        (bool ok,) = address(registry)
            .call(abi.encodeWithSelector(registry.addKey.selector, aliceDid, SIGNING, uint8(2), bytes("")));
        assertFalse(ok, "key type 2 does not exist");
    }

    /// A key is added once, ever: not twice, not to another DID, not after revocation.
    function test_addKey_revertsKeyAlreadyUsed() public {
        _addKey(alice, aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "");
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, SIGNING));
        vm.prank(alice);
        registry.addKey(aliceDid, SIGNING, DidKeys.KeyType.X25519, "");
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, SIGNING));
        vm.prank(bob);
        registry.addKey(bobDid, SIGNING, DidKeys.KeyType.Ed25519, "");
        vm.prank(alice);
        registry.revokeKey(aliceDid, SIGNING);
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, SIGNING));
        vm.prank(alice);
        registry.addKey(aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "");
    }

    function test_revokeKey() public {
        _addKey(alice, aliceDid, AGREEMENT, DidKeys.KeyType.X25519, "");
        vm.expectEmit(address(registry));
        emit DidKeys.KeyRevoked(aliceDid, AGREEMENT, DidKeys.KeyType.X25519);
        vm.prank(alice);
        registry.revokeKey(aliceDid, AGREEMENT);
        (DidKeys.KeyStatus status, uint256 did, DidKeys.KeyType t) = _state(AGREEMENT);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
        assertEq(did, aliceDid);
        assertEq(uint8(t), uint8(DidKeys.KeyType.X25519));
    }

    function test_revokeKey_reverts() public {
        _addKey(alice, aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "");
        _addKey(bob, bobDid, AGREEMENT, DidKeys.KeyType.X25519, "");
        // not the owner / not registered
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotDidOwner.selector, aliceDid, bob));
        vm.prank(bob);
        registry.revokeKey(aliceDid, SIGNING);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0x636172));
        vm.prank(bob);
        registry.revokeKey(0x636172, SIGNING);
        // unknown key, another DID's key
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyNotActive.selector, aliceDid, keccak256("nope")));
        vm.prank(alice);
        registry.revokeKey(aliceDid, keccak256("nope"));
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyNotActive.selector, aliceDid, AGREEMENT));
        vm.prank(alice);
        registry.revokeKey(aliceDid, AGREEMENT);
        // twice
        vm.prank(alice);
        registry.revokeKey(aliceDid, SIGNING);
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyNotActive.selector, aliceDid, SIGNING));
        vm.prank(alice);
        registry.revokeKey(aliceDid, SIGNING);
    }

    function test_keys_revokedByTransfer() public {
        _addKey(alice, aliceDid, SIGNING, DidKeys.KeyType.Ed25519, "");
        vm.prank(alice);
        registry.offerTransfer(aliceDid, carol);
        vm.prank(carol);
        registry.acceptTransfer(aliceDid);
        (DidKeys.KeyStatus status,,) = _state(SIGNING);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyNotActive.selector, aliceDid, SIGNING));
        vm.prank(carol);
        registry.revokeKey(aliceDid, SIGNING);
        // the new owner's own keys are active
        _addKey(carol, aliceDid, AGREEMENT, DidKeys.KeyType.X25519, "");
        (status,,) = _state(AGREEMENT);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Active));
    }

    function testFuzz_keyLifecycle(bytes32 key, bool agreement, bytes calldata metadata) public {
        vm.assume(key != bytes32(0));
        DidKeys.KeyType t = agreement ? DidKeys.KeyType.X25519 : DidKeys.KeyType.Ed25519;
        _addKey(alice, aliceDid, key, t, metadata);
        (DidKeys.KeyStatus status,, DidKeys.KeyType stored) = _state(key);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Active));
        assertEq(uint8(stored), uint8(t));
        vm.prank(alice);
        registry.revokeKey(aliceDid, key);
        (status,,) = _state(key);
        assertEq(uint8(status), uint8(DidKeys.KeyStatus.Revoked));
        vm.expectRevert(abi.encodeWithSelector(DidKeys.KeyAlreadyUsed.selector, key));
        vm.prank(bob);
        registry.addKey(bobDid, key, t, metadata);
    }
}
