// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {PointsTestBase} from "./PointsTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {TestnetPoints} from "../../contracts/points/TestnetPoints.sol";

/// @notice TestnetPoints: minted once to the two points escrows, paid out by their ordinary claims, and never
///         transferable between holders (nor back into an escrow).
contract TestnetPointsTest is PointsTestBase {
    function test_metadataAndSupply() public view {
        assertEq(points.name(), "SendingNetwork Testnet Points");
        assertEq(points.symbol(), "SNPT");
        assertEq(points.decimals(), 18);
        assertEq(points.totalSupply(), SETTLEMENT_POINTS + LICENSE_POINTS);
        assertEq(points.balanceOf(address(settlement)), SETTLEMENT_POINTS);
        assertEq(points.balanceOf(address(rewards)), LICENSE_POINTS);
        assertEq(points.settlementEscrow(), address(settlement));
        assertEq(points.licenseEscrow(), address(rewards));
        // the escrows see their points as their funding, exactly as SEND in a token deployment
        assertEq(settlement.settlementProgress().totalFunded, SETTLEMENT_POINTS);
        assertEq(rewards.pool(), LICENSE_POINTS);
        // and no SEND sits in them
        assertEq(token.balanceOf(address(settlement)), 0);
        assertEq(token.balanceOf(address(rewards)), 0);
    }

    function test_RevertWhen_constructor_zeroEscrow() public {
        vm.expectRevert(abi.encodeWithSelector(TestnetPoints.ZeroAddress.selector, "settlementEscrow"));
        new TestnetPoints(address(0), 1, address(1), 1);
        vm.expectRevert(abi.encodeWithSelector(TestnetPoints.ZeroAddress.selector, "licenseEscrow"));
        new TestnetPoints(address(1), 1, address(0), 1);
    }

    /// @notice Claims from both escrows pay points; the holders cannot move them on.
    function test_claimsPayButHoldersCannotTransfer() public {
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = Merkle.rewardLeaf(alice, 100 ether);
        leaves[1] = _licenseLeaf(7, 50 ether);
        _finalize(1, Merkle.root(leaves), 100 ether);
        settlement.claim(alice, 100 ether, Merkle.proof(leaves, 0));
        license.mint(bob, 7);
        rewards.claim(7, 50 ether, Merkle.proof(leaves, 1));
        assertEq(points.balanceOf(alice), 100 ether);
        assertEq(points.balanceOf(bob), 50 ether);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(TestnetPoints.PointsNotTransferable.selector, alice, bob));
        points.transfer(bob, 1);

        // approvals change nothing
        vm.prank(alice);
        points.approve(anyone, 100 ether);
        vm.prank(anyone);
        vm.expectRevert(abi.encodeWithSelector(TestnetPoints.PointsNotTransferable.selector, alice, anyone));
        points.transferFrom(alice, anyone, 1);

        // nor back into an escrow: fundEscrow cannot take points
        vm.startPrank(bob);
        points.approve(address(settlement), 50 ether);
        vm.expectRevert(
            abi.encodeWithSelector(TestnetPoints.PointsNotTransferable.selector, bob, address(settlement))
        );
        settlement.fundEscrow(50 ether);
        vm.stopPrank();
        assertEq(points.balanceOf(alice), 100 ether);
        assertEq(points.balanceOf(bob), 50 ether);
    }

    function testFuzz_RevertWhen_transfer_betweenHolders(address from, address to, uint256 amount) public {
        vm.assume(from != address(settlement) && from != address(rewards) && from != address(0));
        vm.assume(to != address(0));
        deal(address(points), from, amount); // holdings conjured by the test: still frozen
        vm.prank(from);
        vm.expectRevert(abi.encodeWithSelector(TestnetPoints.PointsNotTransferable.selector, from, to));
        points.transfer(to, amount);
    }

    /// @notice An escrow's own transfers are its claims; the token does not single them out further.
    function test_escrowTransfersPass() public {
        vm.prank(address(settlement));
        points.transfer(alice, 1 ether);
        assertEq(points.balanceOf(alice), 1 ether);
        vm.prank(address(rewards));
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector,
                address(rewards),
                LICENSE_POINTS,
                LICENSE_POINTS + 1
            )
        );
        points.transfer(alice, LICENSE_POINTS + 1);
    }
}
