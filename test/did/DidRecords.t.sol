// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidTestBase} from "./DidTestBase.sol";
import {DidBase} from "../../contracts/did/DidBase.sol";
import {DidRecords} from "../../contracts/did/DidRecords.sol";

contract DidRecordsTest is DidTestBase {
    uint256 internal aliceDid;
    bytes32 internal aliceNode;

    function setUp() public override {
        super.setUp();
        aliceDid = _register(alice, "alice");
        aliceNode = _node("alice");
    }

    // ------------------------------------------------------------------ text

    function test_setText() public {
        vm.expectEmit(address(registry));
        emit DidRecords.TextChanged(aliceNode, "avatar", "avatar", "ipfs://avatar");
        vm.prank(alice);
        registry.setText(aliceNode, "avatar", "ipfs://avatar");
        vm.prank(alice);
        registry.setText(aliceNode, "com.sendingnetwork.profile", "ipfs://profile");
        assertEq(registry.text(aliceNode, "avatar"), "ipfs://avatar");
        assertEq(registry.text(aliceNode, "com.sendingnetwork.profile"), "ipfs://profile");
        assertEq(registry.text(aliceNode, "url"), "");
        // empty value deletes
        vm.prank(alice);
        registry.setText(aliceNode, "avatar", "");
        assertEq(registry.text(aliceNode, "avatar"), "");
    }

    function testFuzz_setText(string calldata key, string calldata value) public {
        vm.prank(alice);
        registry.setText(aliceNode, key, value);
        assertEq(registry.text(aliceNode, key), value);
    }

    function test_setText_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotNodeOwner.selector, aliceNode, bob));
        vm.prank(bob);
        registry.setText(aliceNode, "avatar", "x");
        bytes32 unknown = _node("nobody");
        vm.expectRevert(abi.encodeWithSelector(DidBase.UnknownNode.selector, unknown));
        vm.prank(bob);
        registry.setText(unknown, "avatar", "x");
    }

    // ------------------------------------------------------------------ contenthash (the profile pointer)

    function test_setContenthash() public {
        bytes memory cid = hex"e3010170122029f2d17be6139079dc48696d1f582a8530eb9805b561eda517e22a892c7e3f1f";
        vm.expectEmit(address(registry));
        emit DidRecords.ContenthashChanged(aliceNode, cid);
        vm.prank(alice);
        registry.setContenthash(aliceNode, cid);
        assertEq(registry.contenthash(aliceNode), cid);
        vm.prank(alice);
        registry.setContenthash(aliceNode, "");
        assertEq(registry.contenthash(aliceNode), "");
    }

    function test_setContenthash_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(DidBase.NotNodeOwner.selector, aliceNode, bob));
        vm.prank(bob);
        registry.setContenthash(aliceNode, hex"01");
        bytes32 unknown = _node("nobody");
        vm.expectRevert(abi.encodeWithSelector(DidBase.UnknownNode.selector, unknown));
        vm.prank(alice);
        registry.setContenthash(unknown, hex"01");
    }

    // ------------------------------------------------------------------ addr

    function test_addr() public view {
        assertEq(registry.addr(aliceNode), alice);
        assertEq(registry.addr(_node("nobody")), address(0));
        assertEq(registry.addr(aliceNode, 60), abi.encodePacked(alice));
        assertEq(
            registry.addr(aliceNode, (1 << 31) | block.chainid), abi.encodePacked(alice), "ENSIP-11 own chain"
        );
        assertEq(registry.addr(aliceNode, 0), "", "bitcoin");
        assertEq(registry.addr(aliceNode, (1 << 31) | (block.chainid + 1)), "", "another EVM chain");
        assertEq(registry.addr(_node("nobody"), 60), "");
    }

    function testFuzz_addr_coinTypes(uint256 coinType) public view {
        bool answered = coinType == 60 || coinType == ((1 << 31) | block.chainid);
        assertEq(registry.addr(aliceNode, coinType), answered ? abi.encodePacked(alice) : bytes(""));
    }

    // ------------------------------------------------------------------ name (reverse records)

    function test_name_reverseRecords() public {
        assertEq(registry.name(_reverseNode(alice)), "", "no primary set");
        vm.prank(alice);
        registry.setPrimary(aliceDid);
        assertEq(registry.name(_reverseNode(alice)), "alice.send");
        assertEq(registry.name(aliceNode), "", "forward names have no name record");
        vm.prank(alice);
        registry.setPrimary(0);
        assertEq(registry.name(_reverseNode(alice)), "", "recorded, but no primary");
    }

    function test_name_reverseRecordedOnce() public {
        uint256 other = _register(alice, "alice-work");
        vm.startPrank(alice);
        registry.setPrimary(aliceDid);
        registry.setPrimary(other);
        vm.stopPrank();
        assertEq(registry.name(_reverseNode(alice)), "alice-work.send");
    }
}
