// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {TestSuite} from "../../utils/TestSuite.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";
import {StakingHandler} from "../handlers/StakingHandler.sol";
import {console} from "forge-std/console.sol";
contract ReproTest is TestSuite {
    function test_repro() public {
        StakingHandler h = new StakingHandler(staking, token, address(settlement));
        _fund(address(h), 100_000_000 ether);
        h.register(6377565869889039, 2);
        h.register(115792089237316195423570985008687907853269984665640564039457584007913129639933, 3560726792247);
        h.applyFault(1209600, 7431, false);
        h.register(12448, 4089780508);
        h.withdraw(10581461694280077, 565823849718719089017604529983347893112040573343880996798111);
        address k = h.nodeKeys(127752794145685515 % 3);
        NodeStaking.Node memory n = staking.getNode(k);
        console.log("idx", 127752794145685515 % 3, n.stake, n.unbonding);
        console.log("last", n.lastSlashEpoch, n.slashedInLastSlashEpoch);
        console.log("ghost", h.ghost_slashedInEpoch(k, 1), staking.slashCapRemaining(k, 1));
        h.applyFault(127752794145685515, 63385813472739218578, true);
        n = staking.getNode(k);
        console.log("after", n.stake, n.slashedInLastSlashEpoch);
        console.log("viol", h.ghost_capViolations());
    }
}
