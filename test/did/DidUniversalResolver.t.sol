// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {DidTestBase} from "./DidTestBase.sol";
import {DidUniversalResolver} from "../../contracts/did/DidUniversalResolver.sol";
import {
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
} from "../../contracts/did/interfaces/IEnsResolver.sol";

contract DidUniversalResolverTest is DidTestBase {
    uint256 internal aliceDid;
    bytes32 internal aliceNode;
    string[] internal gateways;

    function setUp() public override {
        super.setUp();
        aliceDid = _register(alice, "alice");
        aliceNode = _node("alice");
        gateways.push("x-batch-gateway:true");
    }

    function _resolve(bytes memory name, bytes memory data) internal view returns (bytes memory result) {
        address resolverAddress;
        (result, resolverAddress) = resolver.resolveWithGateways(name, data, gateways);
        assertEq(resolverAddress, address(registry));
    }

    function test_constructor() public view {
        assertEq(address(resolver.registry()), address(registry));
    }

    // ------------------------------------------------------------------ forward

    function test_resolve_addr() public view {
        bytes memory result = _resolve(_dns("alice"), abi.encodeCall(IAddrResolver.addr, (aliceNode)));
        assertEq(abi.decode(result, (address)), alice);
        result = _resolve(_dns("alice"), abi.encodeCall(IAddressResolver.addr, (aliceNode, 60)));
        assertEq(abi.decode(result, (bytes)), abi.encodePacked(alice));
    }

    function test_resolve_textAndContenthash() public {
        vm.startPrank(alice);
        registry.setText(aliceNode, "avatar", "ipfs://avatar");
        registry.setContenthash(aliceNode, hex"e30101");
        registry.setPrimary(aliceDid);
        vm.stopPrank();
        bytes memory result =
            _resolve(_dns("alice"), abi.encodeCall(ITextResolver.text, (aliceNode, "avatar")));
        assertEq(abi.decode(result, (string)), "ipfs://avatar");
        result = _resolve(_dns("alice"), abi.encodeCall(IContentHashResolver.contenthash, (aliceNode)));
        assertEq(abi.decode(result, (bytes)), hex"e30101");
        // name() is passed through too (forward names have no name record)
        result = _resolve(_dns("alice"), abi.encodeCall(INameResolver.name, (aliceNode)));
        assertEq(abi.decode(result, (string)), "");
    }

    function test_resolve_revertsResolverNotFound() public {
        bytes[] memory names = new bytes[](8);
        names[0] = _dns("nobody"); // not registered
        names[1] = abi.encodePacked(uint8(5), "alice", uint8(3), "eth", uint8(0)); // other TLD
        names[2] = abi.encodePacked(uint8(3), "sub", _dns("alice")); // subname
        names[3] = abi.encodePacked(uint8(4), "send", uint8(0)); // the TLD itself
        names[4] = ""; // empty
        names[5] = hex"00"; // root
        names[6] = abi.encodePacked(uint8(40), "alice"); // label longer than the name
        names[7] = abi.encodePacked(uint8(5), "Alice", uint8(4), "send", uint8(0)); // not normalized
        for (uint256 i; i < names.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(DidUniversalResolver.ResolverNotFound.selector, names[i]));
            resolver.resolveWithGateways(names[i], abi.encodeCall(IAddrResolver.addr, (aliceNode)), gateways);
        }
    }

    function test_resolve_revertsUnsupportedProfile() public {
        bytes memory pubkeyCall = abi.encodeWithSignature("pubkey(bytes32)", aliceNode);
        vm.expectRevert(
            abi.encodeWithSelector(
                DidUniversalResolver.UnsupportedResolverProfile.selector, bytes4(0xc8690233)
            )
        );
        resolver.resolveWithGateways(_dns("alice"), pubkeyCall, gateways);
        vm.expectRevert(
            abi.encodeWithSelector(DidUniversalResolver.UnsupportedResolverProfile.selector, bytes4(0))
        );
        resolver.resolveWithGateways(_dns("alice"), "", gateways);
    }

    // ------------------------------------------------------------------ reverse

    function test_reverse() public {
        vm.prank(alice);
        registry.setPrimary(aliceDid);
        (string memory name, address resolverAddress, address reverseResolver) =
            resolver.reverseWithGateways(abi.encodePacked(alice), 60, gateways);
        assertEq(name, "alice.send");
        assertEq(resolverAddress, address(registry));
        assertEq(reverseResolver, address(registry));
        (name,,) = resolver.reverseWithGateways(abi.encodePacked(alice), (1 << 31) | block.chainid, gateways);
        assertEq(name, "alice.send", "this chain's ENSIP-11 coin type");
    }

    function test_reverse_linkedWallet() public {
        _link(alice, aliceDid, carolPk);
        vm.prank(carol);
        registry.setPrimary(aliceDid);
        (string memory name,,) = resolver.reverseWithGateways(abi.encodePacked(carol), 60, gateways);
        assertEq(name, "alice.send");
        vm.prank(carol);
        registry.unlink(aliceDid, carol);
        (name,,) = resolver.reverseWithGateways(abi.encodePacked(carol), 60, gateways);
        assertEq(name, "");
    }

    function test_reverse_noName() public view {
        (string memory name, address resolverAddress, address reverseResolver) =
            resolver.reverseWithGateways(abi.encodePacked(bob), 60, gateways);
        assertEq(name, "");
        assertEq(resolverAddress, address(0));
        assertEq(reverseResolver, address(registry));
    }

    function test_reverse_unsupportedInputs() public {
        vm.prank(alice);
        registry.setPrimary(aliceDid);
        uint256[3] memory coinTypes = [uint256(0), 1 << 31, (1 << 31) | (block.chainid + 1)];
        for (uint256 i; i < coinTypes.length; ++i) {
            (string memory name, address r, address rr) =
                resolver.reverseWithGateways(abi.encodePacked(alice), coinTypes[i], gateways);
            assertEq(name, "");
            assertEq(r, address(0));
            assertEq(rr, address(0));
        }
        (string memory n,,) = resolver.reverseWithGateways(abi.encodePacked(alice, uint8(1)), 60, gateways);
        assertEq(n, "", "21-byte address");
        vm.expectRevert(DidUniversalResolver.EmptyAddress.selector);
        resolver.reverseWithGateways("", 60, gateways);
    }

    // ------------------------------------------------------------------ findResolver, ERC-165

    function test_findResolver() public view {
        (address r, bytes32 node, uint256 offset) = resolver.findResolver(_dns("alice"));
        assertEq(r, address(registry));
        assertEq(node, aliceNode);
        assertEq(offset, 0);
        (r, node,) = resolver.findResolver(_dns("nobody"));
        assertEq(r, address(0));
        assertEq(node, _node("nobody"));
        (r, node,) = resolver.findResolver(abi.encodePacked(uint8(5), "alice", uint8(3), "eth", uint8(0)));
        assertEq(r, address(0));
        assertEq(node, bytes32(0));
    }

    function test_supportsInterface() public view {
        assertTrue(resolver.supportsInterface(type(IERC165).interfaceId));
        assertFalse(resolver.supportsInterface(0xffffffff));
    }
}
