// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

/// @notice A smart-contract wallet that approves (ERC-1271) exactly the digests its owner allowed.
contract MockContractWallet is IERC1271, IERC721Receiver {
    mapping(bytes32 digest => bool) public approved;
    bool public rejectTokens;

    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    function setRejectTokens(bool reject) external {
        rejectTokens = reject;
    }

    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return approved[digest] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external view returns (bytes4) {
        return rejectTokens ? bytes4(0) : IERC721Receiver.onERC721Received.selector;
    }

    /// @dev Lets tests act as this wallet (accept offers, unlink, set a primary).
    function call(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
