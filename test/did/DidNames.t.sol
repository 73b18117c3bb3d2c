// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {DidNames} from "../../contracts/did/DidNames.sol";

/// @notice Exposes the library so reverts can be expected on an external call.
contract DidNamesHarness {
    function toId(bytes memory label) external pure returns (uint256) {
        return DidNames.toId(label);
    }

    function toLabel(uint256 id) external pure returns (bytes memory) {
        return DidNames.toLabel(id);
    }

    function node(bytes32 parent, bytes memory label) external pure returns (bytes32) {
        return DidNames.node(parent, label);
    }

    function reverseNode(address account) external pure returns (bytes32) {
        return DidNames.reverseNode(account);
    }
}

contract DidNamesTest is Test {
    DidNamesHarness internal names;

    function setUp() public {
        names = new DidNamesHarness();
    }

    // ------------------------------------------------------------------ reference model

    /// @dev The name rules, written the naive way.
    function _isValid(bytes memory label) internal pure returns (bool) {
        if (label.length < 3 || label.length > 24) return false;
        if (label[0] == "-" || label[label.length - 1] == "-") return false;
        for (uint256 i; i < label.length; ++i) {
            bytes1 c = label[i];
            bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-";
            if (!ok) return false;
            if (c == "-" && i > 0 && label[i - 1] == "-") return false;
        }
        return true;
    }

    /// @dev A valid name of `len` (3..24) characters drawn from `seed`.
    function _validName(uint256 seed, uint256 len) internal pure returns (bytes memory label) {
        bytes memory alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
        label = new bytes(len);
        for (uint256 i; i < len; ++i) {
            uint256 pick = uint256(keccak256(abi.encode(seed, i))) % alphabet.length;
            bytes1 c = alphabet[pick];
            bool edge = i == 0 || i == len - 1;
            if (c == "-" && (edge || label[i - 1] == "-")) c = "x";
            label[i] = c;
        }
    }

    // ------------------------------------------------------------------ toId: accepted names

    function test_toId_isTheBigEndianBytes() public view {
        assertEq(names.toId("abc"), 0x616263);
        assertEq(names.toId("a-1"), 0x612d31);
        assertEq(names.toId("satoshi-2009"), uint256(uint96(bytes12("satoshi-2009"))));
        assertEq(
            names.toId("abcdefghijklmnopqrstuvwx"), uint256(uint192(bytes24("abcdefghijklmnopqrstuvwx")))
        );
    }

    function test_toId_boundsInclusive() public view {
        names.toId("abc");
        names.toId("012345678901234567890123");
        names.toId("0-9");
    }

    function testFuzz_toId_validNamesRoundTrip(uint256 seed, uint256 len) public view {
        len = bound(len, 3, 24);
        bytes memory label = _validName(seed, len);
        uint256 id = names.toId(label);
        assertLt(id, 1 << 192, "id fits 192 bits");
        assertEq(names.toLabel(id), label, "label decodes back");
    }

    /// Any byte string is either rejected or accepted exactly when the naive rules say so, and then round-trips.
    function testFuzz_toId_agreesWithReferenceRules(bytes memory label) public view {
        try names.toId(label) returns (uint256 id) {
            assertTrue(_isValid(label), "accepted an invalid name");
            assertEq(names.toLabel(id), label);
        } catch {
            assertFalse(_isValid(label), "rejected a valid name");
        }
    }

    /// Printable-ASCII strings of valid length hit the character and hyphen rules far more often than random bytes.
    function testFuzz_toId_agreesWithReferenceRules_ascii(uint256 seed, uint256 len) public view {
        len = bound(len, 3, 24);
        bytes memory label = new bytes(len);
        for (uint256 i; i < len; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // half hyphens and name characters, half any printable ASCII
            label[i] = r & 1 == 0 ? bytes("ab-z9-")[(r >> 1) % 6] : bytes1(uint8(0x20 + (r >> 1) % 95));
        }
        try names.toId(label) returns (uint256 id) {
            assertTrue(_isValid(label), "accepted an invalid name");
            assertEq(names.toLabel(id), label);
        } catch {
            assertFalse(_isValid(label), "rejected a valid name");
        }
    }

    function testFuzz_toId_distinctNamesDistinctIds(uint256 seedA, uint256 seedB, uint256 lenA, uint256 lenB)
        public
        view
    {
        bytes memory a = _validName(seedA, bound(lenA, 3, 24));
        bytes memory b = _validName(seedB, bound(lenB, 3, 24));
        vm.assume(keccak256(a) != keccak256(b));
        assertTrue(names.toId(a) != names.toId(b));
    }

    // ------------------------------------------------------------------ toId: each rejection

    function test_toId_revertsTooShort() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooShort.selector, 2, 3));
        names.toId("ab");
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooShort.selector, 0, 3));
        names.toId("");
    }

    function test_toId_revertsTooLong() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooLong.selector, 25, 24));
        names.toId("abcdefghijklmnopqrstuvwxy");
    }

    function testFuzz_toId_revertsTooLong(bytes memory label) public {
        vm.assume(label.length > 24);
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameTooLong.selector, label.length, 24));
        names.toId(label);
    }

    function test_toId_revertsHyphenAtEdge() public {
        vm.expectRevert(DidNames.NameHyphenAtEdge.selector);
        names.toId("-abc");
        vm.expectRevert(DidNames.NameHyphenAtEdge.selector);
        names.toId("abc-");
    }

    function test_toId_revertsDoubleHyphen() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameDoubleHyphen.selector, 2));
        names.toId("a--b");
        // the ENSIP-15 "xn--" shape is one of them
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameDoubleHyphen.selector, 3));
        names.toId("xn--abc");
    }

    function test_toId_revertsInvalidCharacter() public {
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 0, bytes1("A")));
        names.toId("Alice");
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 3, bytes1("_")));
        names.toId("bob_x");
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 1, bytes1(".")));
        names.toId("a.send");
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 1, bytes1(0x00)));
        names.toId(hex"61006263");
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, 1, bytes1(0xc3)));
        names.toId(unicode"aé");
    }

    function testFuzz_toId_revertsOnAnyInvalidByte(uint256 seed, uint256 len, uint256 pos, uint8 bad) public {
        len = bound(len, 3, 24);
        pos = bound(pos, 0, len - 1);
        bool allowed = (bad >= 0x61 && bad <= 0x7a) || (bad >= 0x30 && bad <= 0x39) || bad == 0x2d;
        vm.assume(!allowed);
        bytes memory label = _validName(seed, len);
        label[pos] = bytes1(bad);
        vm.expectRevert(abi.encodeWithSelector(DidNames.NameInvalidCharacter.selector, pos, bytes1(bad)));
        names.toId(label);
    }

    // ------------------------------------------------------------------ toLabel, node, reverseNode

    function test_toLabel_zeroIsEmpty() public view {
        assertEq(names.toLabel(0), "");
        assertEq(names.toLabel(0x61), "a");
        assertEq(names.toLabel(type(uint256).max).length, 32);
    }

    function test_node_isEnsNamehash() public view {
        bytes32 eth = names.node(bytes32(0), "eth");
        // namehash("eth") and namehash("vitalik.eth"), as published by ENS
        assertEq(eth, 0x93cdeb708b7545dc668eb9280176169d1c33cfd8ed6f04690a0bcc88a93fc4ae);
        assertEq(
            names.node(eth, "vitalik"), 0xee6c4522aab0003e8d14cd40a6af439055fd2577951148c14b6cea9a53475835
        );
    }

    function test_reverseNode_addrReverse() public view {
        bytes32 reverse = names.node(bytes32(0), "reverse");
        assertEq(names.node(reverse, "addr"), DidNames.ADDR_REVERSE_NODE);
        address a = 0x8ba1f109551bD432803012645Ac136ddd64DBA72;
        bytes32 expected = names.node(DidNames.ADDR_REVERSE_NODE, "8ba1f109551bd432803012645ac136ddd64dba72");
        assertEq(names.reverseNode(a), expected);
    }
}
