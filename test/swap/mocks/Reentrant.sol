// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A one-shot re-entry: when armed, the next hook calls `target` with `payload`. With `swallow` the
///         failure is recorded and execution continues; without it the inner revert is bubbled up.
abstract contract Reentry {
    address public reentryTarget;
    bytes public reentryPayload;
    bool public swallow;
    bool public armed;
    uint256 public reentryAttempts;
    bool public lastReentrySucceeded;
    bytes public lastReentryReturnData;

    function arm(address target, bytes calldata payload, bool swallow_) external {
        (reentryTarget, reentryPayload, swallow, armed) = (target, payload, swallow_, true);
    }

    function _reenter() internal {
        if (!armed) return;
        armed = false;
        ++reentryAttempts;
        (bool ok, bytes memory data) = reentryTarget.call(reentryPayload);
        lastReentrySucceeded = ok;
        lastReentryReturnData = data;
        if (!ok && !swallow) {
            assembly ("memory-safe") {
                revert(add(data, 0x20), mload(data))
            }
        }
    }
}

/// @notice ERC-20 that calls back into an armed target in the middle of every transfer.
contract ReentrantERC20 is ERC20, Reentry {
    constructor() ERC20("Reentrant", "REN") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && to != address(0)) _reenter();
    }
}

/// @notice ERC-721 that calls back into an armed target in the middle of every transfer (before the receiver
///         hook).
contract ReentrantERC721 is ERC721, Reentry {
    constructor() ERC721("Reentrant NFT", "RNFT") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0)) _reenter();
    }
}

/// @notice A smart-contract account: ERC-1271 signatures by its owner key, receives ETH and ERC-721s, and can
///         re-enter from its ETH and ERC-721 receiver hooks when armed. `exec` lets tests act through it.
contract SmartWallet is IERC1271, IERC721Receiver, Reentry {
    address public immutable owner;
    bool public rejectEth;
    bool public acceptAnySignature;

    constructor(address owner_) {
        owner = owner_;
    }

    function setRejectEth(bool reject) external {
        rejectEth = reject;
    }

    function setAcceptAnySignature(bool accept) external {
        acceptAnySignature = accept;
    }

    function exec(address target, uint256 value, bytes calldata data)
        external
        payable
        returns (bytes memory)
    {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (acceptAnySignature) return IERC1271.isValidSignature.selector;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return
            err == ECDSA.RecoverError.NoError && signer == owner
                ? IERC1271.isValidSignature.selector
                : bytes4(0);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _reenter();
        return IERC721Receiver.onERC721Received.selector;
    }

    receive() external payable {
        if (rejectEth) revert();
        _reenter();
    }
}

/// @notice A contract that cannot receive ERC-721s (no receiver hook) and accepts ETH.
contract PlainContract {
    function exec(address target, uint256 value, bytes calldata data)
        external
        payable
        returns (bytes memory)
    {
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {}
}
