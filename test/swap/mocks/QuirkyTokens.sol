// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC-20 that keeps `feeBps` of every transfer (burned): the recipient gets less than sent.
contract FeeOnTransferERC20 is ERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) ERC20("Fee", "FEE") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

/// @notice ERC-20 whose transfers return false instead of reverting.
contract FalseReturningERC20 is ERC20 {
    constructor() ERC20("False", "FLS") {}

    function transferFrom(address, address, uint256) public pure override returns (bool) {
        return false;
    }
}

/// @notice "ERC-721" whose transfers silently do nothing (like a token with a permissive fallback) and whose
///         `ownerOf` always names `stuckOwner`.
contract NoopERC721 {
    address public immutable stuckOwner;

    constructor(address stuckOwner_) {
        stuckOwner = stuckOwner_;
    }

    function safeTransferFrom(address, address, uint256) external pure {}

    function ownerOf(uint256) external view returns (address) {
        return stuckOwner;
    }
}
