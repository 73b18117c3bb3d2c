// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {NodeStakingInvariantTest} from "../NodeStaking.invariants.t.sol";
import {console} from "forge-std/console.sol";
contract StatsTest is NodeStakingInvariantTest {
    function afterInvariant() public view {
        string[11] memory k = ["register","increaseStake","unbondAll","unbondPartial","withdraw","warp","advanceEpoch","fault","faultStrike","equivocation","sweep"];
        string memory line;
        for (uint256 i; i < k.length; ++i) line = string.concat(line, k[i], "=", vm.toString(handler.calls(bytes32(bytes(k[i])))), " ");
        console.log(line, "ejections", handler.ghost_ejections());
        console.log("slashed", handler.ghost_slashed() / 1 ether, "nodes", handler.nodeCount());
    }
}
