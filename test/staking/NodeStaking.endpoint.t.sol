// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";

/// @notice NodeStaking's bounds on the strings it emits (issue 11, finding 5): the endpoint must be 1 to
///         `MAX_ENDPOINT_BYTES` bytes and the metadata URI at most `MAX_METADATA_URI_BYTES`, counted in UTF-8
///         bytes, on `register` and on `updateEndpoint` alike. Off-chain readers size their bounds from them.
contract NodeStakingEndpointTest is NodeStakingTestBase {
    uint256 internal constant MAX_ENDPOINT = 256;
    uint256 internal constant MAX_METADATA = 1024;

    /// @notice `n` bytes: "ws://" followed by `n - 5` ASCII letters.
    function _ascii(uint256 n) internal pure returns (string memory) {
        bytes memory b = new bytes(n);
        bytes memory prefix = "ws://";
        for (uint256 i; i < n; ++i) {
            b[i] = i < prefix.length ? prefix[i] : bytes1("a");
        }
        return string(b);
    }

    /// @notice Exactly `MAX_ENDPOINT` bytes of UTF-8 with multi-byte characters: "ws://" + 62 × "é" (2 bytes
    ///         each) + 32 × "€" (3 bytes each) + 31 × "a" = 5 + 124 + 96 + 31 = 256 bytes, 130 characters.
    function _multibyte() internal pure returns (string memory s) {
        s = "ws://";
        for (uint256 i; i < 62; ++i) {
            s = string.concat(s, unicode"é");
        }
        for (uint256 i; i < 32; ++i) {
            s = string.concat(s, unicode"€");
        }
        while (bytes(s).length < MAX_ENDPOINT) {
            s = string.concat(s, "a");
        }
    }

    function _registerWith(string memory endpoint, string memory metadataURI)
        internal
        returns (address nodeKey)
    {
        uint256 pk;
        (nodeKey, pk) = makeAddrAndKey("bounded-node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        staking.register(nodeKey, MIN_STAKE, consent, endpoint, metadataURI);
    }

    function _expectRegisterRevert(string memory endpoint, string memory metadataURI, bytes memory reason)
        internal
    {
        (address nodeKey, uint256 pk) = makeAddrAndKey("bounded-node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(reason);
        staking.register(nodeKey, MIN_STAKE, consent, endpoint, metadataURI);
    }

    function test_Constants() public view {
        assertEq(staking.MAX_ENDPOINT_BYTES(), MAX_ENDPOINT);
        assertEq(staking.MAX_METADATA_URI_BYTES(), MAX_METADATA);
    }

    // ================================================================ register

    function test_Register_MaxEndpointAndMetadata() public {
        string memory endpoint = _ascii(MAX_ENDPOINT);
        string memory metadata = _ascii(MAX_METADATA);
        (address nodeKey, uint256 pk) = makeAddrAndKey("bounded-node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeRegistered(nodeKey, operator, MIN_STAKE, endpoint, metadata);
        vm.prank(operator);
        staking.register(nodeKey, MIN_STAKE, consent, endpoint, metadata);
        assertTrue(staking.isActive(nodeKey));
    }

    function test_Register_MaxEndpointMultibyte() public {
        string memory endpoint = _multibyte();
        assertEq(bytes(endpoint).length, MAX_ENDPOINT);
        assertTrue(staking.isActive(_registerWith(endpoint, "")));
    }

    function test_RevertWhen_Register_EmptyEndpoint() public {
        _expectRegisterRevert("", "ipfs://meta", abi.encodeWithSelector(NodeStaking.EmptyEndpoint.selector));
    }

    function testFuzz_RevertWhen_Register_EndpointTooLong(uint256 length) public {
        length = bound(length, MAX_ENDPOINT + 1, 8 * MAX_ENDPOINT);
        _expectRegisterRevert(
            _ascii(length),
            "",
            abi.encodeWithSelector(NodeStaking.EndpointTooLong.selector, length, MAX_ENDPOINT)
        );
    }

    /// @dev The multi-byte maximum plus one 2-byte character: 129 characters' worth of UTF-16 but 258 bytes.
    function test_RevertWhen_Register_MultibyteEndpointOneCharacterTooLong() public {
        string memory endpoint = string.concat(_multibyte(), unicode"é");
        _expectRegisterRevert(
            endpoint,
            "",
            abi.encodeWithSelector(NodeStaking.EndpointTooLong.selector, MAX_ENDPOINT + 2, MAX_ENDPOINT)
        );
    }

    /// @dev The reported attack: a 3,000-character endpoint.
    function test_RevertWhen_Register_ReportedThreeThousandCharacterEndpoint() public {
        _expectRegisterRevert(
            _ascii(3000), "", abi.encodeWithSelector(NodeStaking.EndpointTooLong.selector, 3000, MAX_ENDPOINT)
        );
    }

    function testFuzz_RevertWhen_Register_MetadataTooLong(uint256 length) public {
        length = bound(length, MAX_METADATA + 1, 4 * MAX_METADATA);
        _expectRegisterRevert(
            "wss://node",
            _ascii(length),
            abi.encodeWithSelector(NodeStaking.MetadataURITooLong.selector, length, MAX_METADATA)
        );
    }

    // ================================================================ updateEndpoint

    function test_UpdateEndpoint_MaxEndpointAndMetadata() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        string memory endpoint = _multibyte();
        string memory metadata = _ascii(MAX_METADATA);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEndpointUpdated(nodeKey, endpoint, metadata);
        vm.prank(operator);
        staking.updateEndpoint(nodeKey, endpoint, metadata);
    }

    function test_RevertWhen_UpdateEndpoint_EmptyEndpoint() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.EmptyEndpoint.selector));
        staking.updateEndpoint(nodeKey, "", "");
    }

    function testFuzz_RevertWhen_UpdateEndpoint_EndpointTooLong(uint256 length) public {
        length = bound(length, MAX_ENDPOINT + 1, 8 * MAX_ENDPOINT);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        string memory endpoint = _ascii(length);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.EndpointTooLong.selector, length, MAX_ENDPOINT));
        staking.updateEndpoint(nodeKey, endpoint, "");
    }

    function testFuzz_RevertWhen_UpdateEndpoint_MetadataTooLong(uint256 length) public {
        length = bound(length, MAX_METADATA + 1, 4 * MAX_METADATA);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        string memory metadata = _ascii(length);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.MetadataURITooLong.selector, length, MAX_METADATA));
        staking.updateEndpoint(nodeKey, "wss://node", metadata);
    }

    /// @dev The operator check comes first: a stranger learns nothing from the string bounds.
    function test_RevertWhen_UpdateEndpoint_NotOperatorWithBadEndpoint() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, stranger));
        staking.updateEndpoint(nodeKey, "", "");
    }
}
