// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Bytes} from "@openzeppelin/contracts/utils/Bytes.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title DidNames
/// @notice DID names, their token ids and their ENS nodes.
///         A name is 3 to 24 characters of `[a-z0-9-]`, with no hyphen at either end and no two hyphens in a
///         row (so every name is already in ENS normal form, ENSIP-15). The token id of a name is its ASCII
///         bytes read as a big-endian integer (`"abc"` is `0x616263`): names never contain a zero byte, so
///         the id decodes back to the name and no storage is needed for it. A 24-byte name fits in 192 bits.
library DidNames {
    uint256 internal constant MIN_LENGTH = 3;
    uint256 internal constant MAX_LENGTH = 24;
    /// @dev namehash("addr.reverse") (ENSIP-3).
    bytes32 internal constant ADDR_REVERSE_NODE =
        0x91d1777781884d03a6757a803996e38de2a42967fb37eeaca72729271025a9e2;
    uint256 private constant _HYPHEN = 0x2d;
    /// @dev Bit `c` is set for the bytes `0-9` (0x30-0x39) and `a-z` (0x61-0x7a).
    uint256 private constant _LETTERS_AND_DIGITS = (((1 << 10) - 1) << 0x30) | (((1 << 26) - 1) << 0x61);

    error NameTooShort(uint256 length, uint256 minLength);
    error NameTooLong(uint256 length, uint256 maxLength);
    /// @notice A character outside `[a-z0-9-]` (upper case, `_`, `.`, spaces and non-ASCII bytes included).
    error NameInvalidCharacter(uint256 position, bytes1 character);
    error NameHyphenAtEdge();
    error NameDoubleHyphen(uint256 position);

    /// @notice Checks `label` against the name rules and returns its token id; reverts with the rule broken.
    function toId(bytes memory label) internal pure returns (uint256) {
        uint256 len = label.length;
        if (len < MIN_LENGTH) revert NameTooShort(len, MIN_LENGTH);
        if (len > MAX_LENGTH) revert NameTooLong(len, MAX_LENGTH);
        bytes32 word = bytes32(label); // the name, left-aligned and zero-padded (len <= 24)
        if (word[0] == "-" || word[len - 1] == "-") revert NameHyphenAtEdge();
        bool previousHyphen;
        for (uint256 i; i < len;) {
            uint256 c = uint8(word[i]);
            if (c == _HYPHEN) {
                if (previousHyphen) revert NameDoubleHyphen(i);
                previousHyphen = true;
            } else {
                if ((_LETTERS_AND_DIGITS >> c) & 1 == 0) revert NameInvalidCharacter(i, bytes1(uint8(c)));
                previousHyphen = false;
            }
            unchecked {
                ++i;
            }
        }
        return uint256(word) >> ((32 - len) << 3);
    }

    /// @notice The label a token id encodes (its big-endian bytes without leading zeros). Meaningful only for
    ///         ids produced by `toId`; any other id decodes to a label that was never registered.
    function toLabel(uint256 id) internal pure returns (bytes memory) {
        if (id == 0) return "";
        return Bytes.slice(abi.encodePacked(id), 31 - Math.log256(id));
    }

    /// @notice ENS namehash of `label` under the parent node `parent`.
    function node(bytes32 parent, bytes memory label) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(parent, keccak256(label)));
    }

    /// @notice ENS node of `<lower-case hex of account>.addr.reverse`, the name whose `name()` record is the
    ///         account's primary name (ENSIP-3, ENSIP-19 for coin type 60).
    function reverseNode(address account) internal pure returns (bytes32) {
        return node(ADDR_REVERSE_NODE, Bytes.slice(bytes(Strings.toHexString(account)), 2));
    }
}
