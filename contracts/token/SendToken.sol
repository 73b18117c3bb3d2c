// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title SendToken
/// @notice The SEND token: a fixed supply of 1,000,000,000 SEND minted once, at deployment, into the
///         protocol's named allocations. There is no mint function, no owner and no pause.
/// @dev ERC-20 with EIP-2612 permit so stakers can approve and stake in one transaction.
contract SendToken is ERC20, ERC20Permit {
    /// @notice Recipients of the four allocations minted at deployment.
    struct Allocations {
        address nodeRewards; // EpochSettlement escrow: edge-node rewards per epoch
        address licensePool; // WatchDog license reward pool (12% of supply)
        address guardianRewards; // guardians' fixed share of each epoch, paid through settlement
        address treasury; // protocol treasury (ecosystem, liquidity, team vesting contracts)
    }

    uint256 public constant TOTAL_SUPPLY = 1_000_000_000 ether;
    uint256 public constant NODE_REWARDS_SUPPLY = 400_000_000 ether; // 40%
    uint256 public constant LICENSE_POOL_SUPPLY = 120_000_000 ether; // 12%
    uint256 public constant GUARDIAN_REWARDS_SUPPLY = 30_000_000 ether; // 3%
    uint256 public constant TREASURY_SUPPLY =
        TOTAL_SUPPLY - NODE_REWARDS_SUPPLY - LICENSE_POOL_SUPPLY - GUARDIAN_REWARDS_SUPPLY; // 45%

    /// @notice Emitted once per allocation at deployment so indexers can label the holders.
    event AllocationMinted(bytes32 indexed allocation, address indexed recipient, uint256 amount);

    /// @notice An allocation recipient was the zero address.
    error ZeroAllocationRecipient(bytes32 allocation);

    /// @param allocations recipients of the node-reward, license-pool, guardian and treasury supplies.
    constructor(Allocations memory allocations)
        ERC20("SendingNetwork", "SEND")
        ERC20Permit("SendingNetwork")
    {
        _mintAllocation("NODE_REWARDS", allocations.nodeRewards, NODE_REWARDS_SUPPLY);
        _mintAllocation("LICENSE_POOL", allocations.licensePool, LICENSE_POOL_SUPPLY);
        _mintAllocation("GUARDIAN_REWARDS", allocations.guardianRewards, GUARDIAN_REWARDS_SUPPLY);
        _mintAllocation("TREASURY", allocations.treasury, TREASURY_SUPPLY);
    }

    function _mintAllocation(bytes32 allocation, address recipient, uint256 amount) private {
        if (recipient == address(0)) revert ZeroAllocationRecipient(allocation);
        _mint(recipient, amount);
        emit AllocationMinted(allocation, recipient, amount);
    }
}
