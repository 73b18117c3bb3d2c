// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {WatchDogPresale} from "../../../contracts/watchdog/WatchDogPresale.sol";

/// @notice A 6-decimals stablecoin anyone can mint (tests only).
contract MockStablecoin is ERC20 {
    constructor() ERC20("Mock USD", "mUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice A token that burns 1% of every transfer: the presale must notice it received less than the cost.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee USD", "fUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice A buyer contract that refuses ETH (so change or refunds sent to it fail).
contract EthRejectingBuyer {
    WatchDogPresale internal immutable _presale;

    constructor(WatchDogPresale presale_) {
        _presale = presale_;
    }

    function buyPublic(uint256 quantity, uint256 maxTotalCost) external payable {
        _presale.buyPublic{value: msg.value}(quantity, maxTotalCost);
    }

    function refund(uint256[] calldata tokenIds) external {
        _presale.refund(tokenIds);
    }
}

/// @notice A buyer contract that tries to re-enter the presale when it receives ETH (change or refund) and
///         refuses ERC-721 receipt hooks (a mint must never call `onERC721Received`).
contract ReentrantBuyer {
    WatchDogPresale internal immutable _presale;
    uint256 public receiveCalls;
    bytes public reentryError;
    bool public reentered;
    /// 0: buyPublic, 1: refund, 2: withdrawProceeds
    uint8 public mode;
    uint256[] internal _tokenIds;

    constructor(WatchDogPresale presale_) {
        _presale = presale_;
    }

    function setMode(uint8 mode_, uint256[] calldata tokenIds) external {
        mode = mode_;
        _tokenIds = tokenIds;
    }

    function buyPublic(uint256 quantity, uint256 maxTotalCost) external payable {
        _presale.buyPublic{value: msg.value}(quantity, maxTotalCost);
    }

    function refund(uint256[] calldata tokenIds) external {
        _presale.refund(tokenIds);
    }

    receive() external payable {
        ++receiveCalls;
        if (receiveCalls > 1) return;
        if (mode == 0) {
            try _presale.buyPublic{value: 0}(1, type(uint256).max) {
                reentered = true;
            } catch (bytes memory reason) {
                reentryError = reason;
            }
        } else {
            try _presale.refund(_tokenIds) {
                reentered = true;
            } catch (bytes memory reason) {
                reentryError = reason;
            }
        }
    }

    /// @dev A mint that called this would revert the purchase.
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        revert("onERC721Received must not be called");
    }
}
