// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevStablecoin
/// @notice A 6-decimal dollar token for local devnets only, standing in for the stablecoin the WatchDog
///         presale accepts. Anyone may mint: it has no value. Never deployed where a config names a real
///         stablecoin.
contract DevStablecoin is ERC20 {
    constructor() ERC20("Devnet USD", "dUSD") {}

    /// @notice Mints `amount` to `to`. Anyone may call (devnet only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
