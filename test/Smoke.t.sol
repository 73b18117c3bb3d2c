// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ProtocolTestBase} from "./utils/ProtocolTestBase.sol";
import {EpochHeader} from "../contracts/libraries/EpochHeaderLib.sol";
import {Merkle} from "./utils/Merkle.sol";

contract SmokeTest is ProtocolTestBase {
    function test_registerSubmitClaim() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        assertEq(staking.totalStaked(), MIN_STAKE);
        assertTrue(staking.isActive(nodeKey));

        address[] memory accounts = new address[](3);
        uint256[] memory amounts = new uint256[](3);
        accounts[0] = operator;
        amounts[0] = 100 ether;
        accounts[1] = makeAddr("b");
        amounts[1] = 50 ether;
        accounts[2] = makeAddr("c");
        amounts[2] = 25 ether;
        (bytes32[] memory leaves, bytes32 root) = _rewardTree(accounts, amounts);
        _submitAndFinalize(_header(1, root, 175 ether, 175 ether));
        settlement.claim(operator, 100 ether, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(operator), 100 ether);
    }
}
