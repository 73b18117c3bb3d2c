// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {PointsTestBase} from "./PointsTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {PointsConversion} from "../../contracts/points/PointsConversion.sol";
import {PointsConversionHandler} from "./handlers/PointsConversionHandler.sol";

/// @notice PointsConversion under random snapshots, funding, conversions, time and sweeps. The tree is a
///         wrong one on purpose: its account leaves sum above the signed total and a license leaf above the
///         license emission, so the bounds are exercised; one node is ejected; the ratio is an odd fraction
///         so every conversion rounds.
contract PointsConversionInvariantTest is PointsTestBase {
    uint256 internal constant ODD_RATIO = 333_333_333_333_333_337; // ~0.333 SEND per point
    uint96 internal constant SIGNED_TOTAL = 100_000 ether;

    PointsConversionHandler internal handler;
    address internal ejectedNode;

    function setUp() public override {
        super.setUp();
        conversion = _deployConversion(ODD_RATIO, 1);
        handler = new PointsConversionHandler(token, conversion, staking, license, treasury);

        (address nodeA,) = _registerNode("nodeA", operator, 20_000 ether);
        (address nodeB,) = _registerNode("nodeB", makeAddr("operatorB"), MIN_STAKE);
        (address nodeC,) = _registerNode("nodeC", makeAddr("operatorC"), MIN_STAKE);
        license.mint(alice, 1);
        license.mint(bob, 2);
        license.mint(alice, 3);

        _add(PointsConversion.LeafKind.Node, nodeA, 0, 40_000 ether + 1);
        _add(PointsConversion.LeafKind.Node, nodeB, 0, 30_000 ether + 7); // ejected below
        _add(PointsConversion.LeafKind.Node, nodeC, 0, 25_000 ether + 3);
        _add(PointsConversion.LeafKind.Account, guardians[0], 0, 5_000 ether + 11);
        _add(PointsConversion.LeafKind.Account, guardians[1], 0, 4_999 ether);
        _add(PointsConversion.LeafKind.Account, makeAddr("other"), 0, 30_000 ether); // sum > SIGNED_TOTAL
        _add(PointsConversion.LeafKind.License, address(0), 1, 20_000 ether + 5);
        _add(PointsConversion.LeafKind.License, address(0), 2, 70_000 ether + 9); // sum > emitted(1)
        _add(PointsConversion.LeafKind.License, address(0), 3, 1);
        bytes32[] memory leaves = new bytes32[](handler.leafCount());
        for (uint256 i; i < leaves.length; ++i) {
            leaves[i] = _leafOf(i);
        }
        _ejectThroughFault(1, nodeB, Merkle.root(leaves), SIGNED_TOTAL);
        ejectedNode = nodeB;

        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = PointsConversionHandler.snapshot.selector;
        selectors[1] = PointsConversionHandler.fund.selector;
        selectors[2] = PointsConversionHandler.convert.selector;
        selectors[3] = PointsConversionHandler.warp.selector;
        selectors[4] = PointsConversionHandler.sweep.selector;
        selectors[5] = PointsConversionHandler.voidLicenses.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    bytes32[] internal _leafList;

    function _add(PointsConversion.LeafKind kind, address account, uint256 id, uint256 pts) internal {
        bytes32 leaf = kind == PointsConversion.LeafKind.License
            ? _licenseLeaf(id, pts)
            : Merkle.rewardLeaf(account, pts);
        _leafList.push(leaf);
        handler.addLeaf(kind, account, id, pts, leaf);
    }

    function _leafOf(uint256 i) internal view returns (bytes32) {
        return _leafList[i];
    }

    /// SEND is conserved: what was funded is converted, swept or still held, to the wei.
    function invariant_conservation() public view {
        uint256 balance = token.balanceOf(address(conversion));
        assertEq(conversion.totalFunded(), handler.ghostFunded(), "funded");
        assertEq(conversion.totalConverted(), handler.ghostConverted(), "converted");
        assertEq(conversion.totalSwept(), handler.ghostSwept(), "swept");
        assertEq(
            conversion.totalConverted() + conversion.totalSwept() + balance,
            conversion.totalFunded(),
            "conservation"
        );
    }

    /// SEND out never exceeds the ratio applied to the snapshot points converted, and converted points stay
    /// within the snapshot's bounds however wrong the tree.
    function invariant_paidWithinRatioAndBounds() public view {
        uint256 accountPoints = conversion.accountPointsConverted();
        uint256 licensePoints = conversion.licensePointsConverted();
        assertEq(accountPoints + licensePoints, handler.ghostPointsConverted(), "points booked");
        assertLe(conversion.totalConverted(), conversion.sendFor(accountPoints + licensePoints), "ratio");
        assertLe(accountPoints, conversion.snapshotTotalCumulative(), "account bound");
        assertLe(licensePoints, conversion.snapshotLicenseEmitted(), "license bound");
        assertLe(conversion.totalConverted(), conversion.requiredFunding(), "required funding covers all");
    }

    /// Nothing forbidden was ever accepted, and every refusal was one of the named errors.
    function invariant_refusals() public view {
        assertEq(handler.ghostForbiddenAccepted(), 0, "forbidden conversion accepted");
        assertEq(handler.ghostUnexpectedReverts(), 0, "unexpected revert");
    }

    /// The handler really converts, the bounds really bite on this tree, and the sweep empties the rest.
    function test_handler_convertsBoundsAndSweeps() public {
        handler.convert(0, alice); // before the snapshot: refused
        handler.snapshot();
        for (uint256 k; k < 4; ++k) {
            handler.fund(50_000 ether);
        }
        for (uint256 i; i < handler.leafCount(); ++i) {
            handler.convert(i, bob);
        }
        assertEq(handler.ghostUnexpectedReverts(), 0);
        assertEq(handler.ghostForbiddenAccepted(), 0);
        assertGt(handler.ghostConverted(), 0);
        // nodeB (ejected) and "other" (past the signed total) refused: nodes A, C and both guardians paid
        assertEq(
            conversion.accountPointsConverted(),
            40_000 ether + 1 + 25_000 ether + 3 + 5_000 ether + 11 + 4_999 ether
        );
        assertFalse(conversion.accountConverted(ejectedNode));
        assertFalse(conversion.accountConverted(makeAddr("other")));
        // license 2 is above what is left of the license emission; licenses 1 (and 3: zero SEND) are not
        assertTrue(conversion.licenseConverted(1));
        assertFalse(conversion.licenseConverted(2));
        vm.warp(conversion.conversionDeadline());
        handler.sweep();
        assertEq(token.balanceOf(address(conversion)), 0);
        assertEq(conversion.totalConverted() + conversion.totalSwept(), conversion.totalFunded());
    }
}
