// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {PointsTestBase} from "./PointsTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {PointsConversion} from "../../contracts/points/PointsConversion.sol";

/// @notice PointsConversion: the snapshot, node / account / license conversions with every refusal, the
///         deadline and the sweep, the bounds against a wrong tree, and the ratio arithmetic.
contract PointsConversionTest is PointsTestBase {
    uint256 internal constant PA = 40_000 ether; // nodeA, Active
    uint256 internal constant PB = 30_000 ether; // nodeB, ejected in some tests
    uint256 internal constant PC = 10_000 ether; // nodeC, Exiting
    uint256 internal constant PG = 5_000 ether; // guardians[0]
    uint256 internal constant PU = 1_000 ether; // an unregistered key (an account leaf)
    uint256 internal constant PL1 = 20_000 ether; // license 1 (alice)
    uint256 internal constant PL2 = 10_000 ether; // license 2 (bob)
    uint96 internal constant ACCOUNT_TOTAL = uint96(PA + PB + PC + PG + PU);

    address internal nodeA;
    address internal nodeB;
    address internal nodeC;
    address internal guardian;
    address internal unregistered = makeAddr("unregistered");
    bytes32[] internal leaves;

    function setUp() public override {
        super.setUp();
        (nodeA,) = _registerNode("nodeA", operator, 20_000 ether);
        (nodeB,) = _registerNode("nodeB", operatorB, MIN_STAKE);
        (nodeC,) = _registerNode("nodeC", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeC, MIN_STAKE);
        guardian = guardians[0];
        license.mint(alice, 1);
        license.mint(bob, 2);
        leaves.push(Merkle.rewardLeaf(nodeA, PA));
        leaves.push(Merkle.rewardLeaf(nodeB, PB));
        leaves.push(Merkle.rewardLeaf(nodeC, PC));
        leaves.push(Merkle.rewardLeaf(guardian, PG));
        leaves.push(Merkle.rewardLeaf(unregistered, PU));
        leaves.push(_licenseLeaf(1, PL1));
        leaves.push(_licenseLeaf(2, PL2));
    }

    function _root() internal view returns (bytes32) {
        return Merkle.root(leaves);
    }

    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return Merkle.proof(leaves, i);
    }

    /// @notice Epoch 1 finalized with the test tree, the snapshot taken, the conversion fully funded.
    function _ready() internal {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        _fundConversion(conversion.requiredFunding());
    }

    function _send(uint256 pts) internal pure returns (uint256) {
        return pts * RATIO / 1e18;
    }

    // ---------------------------------------------------------------- deployment

    function test_constructor_setsImmutables() public view {
        assertEq(address(conversion.sendToken()), address(token));
        assertEq(address(conversion.pointsSettlement()), address(settlement));
        assertEq(address(conversion.licenseRewards()), address(rewards));
        assertEq(address(conversion.staking()), address(staking));
        assertEq(address(conversion.license()), address(license));
        assertEq(conversion.treasury(), treasury);
        assertEq(conversion.ratio(), RATIO);
        assertEq(conversion.lastPointsEpoch(), LAST_POINTS_EPOCH);
        assertEq(conversion.conversionDeadline(), block.timestamp + CONVERSION_PERIOD);
        assertEq(conversion.snapshotRoot(), bytes32(0));
        assertEq(conversion.requiredFunding(), 0);
    }

    function test_RevertWhen_constructor_invalidParameter() public {
        uint64 deadline = uint64(block.timestamp) + 1;
        address s = address(settlement);
        address r = address(rewards);
        address k = address(staking);
        address l = address(license);
        address t = address(token);
        _expectInvalid("sendToken");
        new PointsConversion(address(0), s, r, k, l, treasury, RATIO, 1, deadline);
        _expectInvalid("pointsSettlement");
        new PointsConversion(t, address(0), r, k, l, treasury, RATIO, 1, deadline);
        _expectInvalid("licenseRewards");
        new PointsConversion(t, s, address(0), k, l, treasury, RATIO, 1, deadline);
        _expectInvalid("treasury");
        new PointsConversion(t, s, r, k, l, address(0), RATIO, 1, deadline);
        _expectInvalid("ratio");
        new PointsConversion(t, s, r, k, l, treasury, 0, 1, deadline);
        _expectInvalid("lastPointsEpoch");
        new PointsConversion(t, s, r, k, l, treasury, RATIO, 0, deadline);
        _expectInvalid("conversionDeadline");
        new PointsConversion(t, s, r, k, l, treasury, RATIO, 1, uint64(block.timestamp));
        _expectInvalid("staking");
        new PointsConversion(t, s, r, address(1), l, treasury, RATIO, 1, deadline);
        _expectInvalid("license");
        new PointsConversion(t, s, r, k, address(1), treasury, RATIO, 1, deadline);
        // a settlement paying SEND is not a points settlement
        _expectInvalid("pointsSettlement pays SEND");
        new PointsConversion(address(points), s, r, k, l, treasury, RATIO, 1, deadline);
    }

    function test_RevertWhen_constructor_licenseRewardsOfAnotherDeployment() public {
        uint64 deadline = uint64(block.timestamp) + 1;
        vm.mockCall(address(rewards), abi.encodeWithSignature("settlement()"), abi.encode(address(1)));
        _expectInvalid("licenseRewards.settlement");
        _deployConversionRaw(deadline);
        vm.clearMockedCalls();
        vm.mockCall(address(rewards), abi.encodeWithSignature("token()"), abi.encode(address(token)));
        _expectInvalid("licenseRewards.token");
        _deployConversionRaw(deadline);
    }

    function _deployConversionRaw(uint64 deadline) internal returns (PointsConversion) {
        return new PointsConversion(
            address(token),
            address(settlement),
            address(rewards),
            address(staking),
            address(license),
            treasury,
            RATIO,
            1,
            deadline
        );
    }

    function test_accountLeaf_isTheSettlementsRewardLeaf() public view {
        assertEq(conversion.accountLeaf(nodeA, PA), Merkle.rewardLeaf(nodeA, PA));
        assertEq(conversion.accountLeaf(nodeA, PA), leaves[0]);
    }

    function _expectInvalid(string memory what) internal {
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.InvalidParameter.selector, what));
    }

    // ---------------------------------------------------------------- snapshot

    function test_snapshot_takesLastPointsEpochRoot() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        uint256 emitted = rewards.emittedUpTo(1);
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.SnapshotTaken(1, _root(), ACCOUNT_TOTAL, emitted, anyone);
        vm.prank(anyone);
        conversion.snapshot();
        assertEq(conversion.snapshotRoot(), _root());
        assertEq(conversion.snapshotEpoch(), 1);
        assertEq(conversion.snapshotTotalCumulative(), ACCOUNT_TOTAL);
        assertEq(conversion.snapshotLicenseEmitted(), emitted);
        assertEq(conversion.requiredFunding(), (uint256(ACCOUNT_TOTAL) + emitted) * RATIO / 1e18);
    }

    function test_snapshot_laterEpochsDoNotMatterWhileInRing() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        _finalize(2, keccak256("later"), ACCOUNT_TOTAL + 1);
        conversion.snapshot();
        assertEq(conversion.snapshotEpoch(), 1);
        assertEq(conversion.snapshotRoot(), _root());
        assertEq(conversion.snapshotTotalCumulative(), ACCOUNT_TOTAL);
    }

    function test_snapshot_rotatedOutOfRingTakesNewestFinalized() public {
        for (uint32 e = 1; e <= 8; ++e) {
            _finalize(e, keccak256(abi.encode("old", e)), e);
        }
        _finalize(9, _root(), ACCOUNT_TOTAL); // epoch 9 reuses epoch 1's slot
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.epochEntry(1);
        conversion.snapshot();
        assertEq(conversion.snapshotEpoch(), 9);
        assertEq(conversion.snapshotRoot(), _root());
        assertEq(conversion.snapshotTotalCumulative(), ACCOUNT_TOTAL);
        assertEq(conversion.snapshotLicenseEmitted(), rewards.emittedUpTo(9));
    }

    function test_RevertWhen_snapshot_entryUnreadableForAnotherReason() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        bytes memory reason = abi.encodeWithSignature("Boom()");
        vm.mockCallRevert(
            address(settlement),
            abi.encodeWithSelector(EpochSettlement.epochEntry.selector, uint32(1)),
            reason
        );
        // not a ring rotation: no fallback to the newest finalized root
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.EpochEntryUnreadable.selector, 1, reason));
        conversion.snapshot();
    }

    function test_RevertWhen_snapshot_lastPointsEpochNotFinalized() public {
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.SnapshotEpochNotFinalized.selector, 1, 0));
        conversion.snapshot();
        _submit(_header(1, _root(), ACCOUNT_TOTAL, settlement.emissionCap(1))); // pending, not final
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.SnapshotEpochNotFinalized.selector, 1, 0));
        conversion.snapshot();
    }

    function test_RevertWhen_snapshot_twice() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.SnapshotAlreadyTaken.selector, 1, _root()));
        conversion.snapshot();
    }

    function test_RevertWhen_snapshot_emptyRoot() public {
        _finalize(1, bytes32(0), 0);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.EmptyPointsRoot.selector, 1));
        conversion.snapshot();
    }

    function test_RevertWhen_snapshot_afterDeadline() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        uint64 deadline = conversion.conversionDeadline();
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionClosed.selector, deadline));
        conversion.snapshot();
    }

    // ---------------------------------------------------------------- nodes

    function test_convertNode_paysOperator() public {
        _ready();
        uint256 before = token.balanceOf(operator);
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.Converted(
            PointsConversion.LeafKind.Node, uint160(nodeA), operator, PA, _send(PA)
        );
        vm.prank(anyone);
        uint256 paid = conversion.convertNode(nodeA, PA, _proof(0));
        assertEq(paid, _send(PA));
        assertEq(paid, 10_000 ether);
        assertEq(token.balanceOf(operator) - before, paid);
        assertEq(token.balanceOf(nodeA), 0);
        assertTrue(conversion.accountConverted(nodeA));
        assertEq(conversion.accountPointsConverted(), PA);
        assertEq(conversion.totalConverted(), paid);
    }

    function test_convertNode_exitingNodeConverts() public {
        _ready();
        assertEq(uint8(staking.getNode(nodeC).status), uint8(NodeStaking.NodeStatus.Exiting));
        uint256 before = token.balanceOf(operator);
        conversion.convertNode(nodeC, PC, _proof(2));
        assertEq(token.balanceOf(operator) - before, _send(PC));
    }

    function test_RevertWhen_convertNode_ejected() public {
        _ejectThroughFault(1, nodeB, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        _fundConversion(conversion.requiredFunding());
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.NodeEjected.selector, nodeB));
        conversion.convertNode(nodeB, PB, _proof(1));
        // nor as an account leaf
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.AccountIsNodeKey.selector, nodeB));
        conversion.convertAccount(nodeB, PB, _proof(1));
        // the other nodes are unaffected
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    function test_RevertWhen_convertNode_notRegistered() public {
        _ready();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.NodeNotRegistered.selector, unregistered));
        conversion.convertNode(unregistered, PU, _proof(4));
    }

    function test_RevertWhen_convertNode_beforeSnapshot() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        vm.expectRevert(PointsConversion.SnapshotNotTaken.selector);
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    function test_RevertWhen_convertNode_twice() public {
        _ready();
        conversion.convertNode(nodeA, PA, _proof(0));
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.AlreadyConverted.selector, nodeA));
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    function test_RevertWhen_convertNode_badProof() public {
        _ready();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.InvalidPointsProof.selector, nodeA, PA + 1));
        conversion.convertNode(nodeA, PA + 1, _proof(0));
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.InvalidPointsProof.selector, nodeA, PA));
        conversion.convertNode(nodeA, PA, _proof(1));
    }

    function test_RevertWhen_convertNode_afterDeadline() public {
        _ready();
        uint64 deadline = conversion.conversionDeadline();
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionClosed.selector, deadline));
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    function test_convertNode_justBeforeDeadline() public {
        _ready();
        vm.warp(conversion.conversionDeadline() - 1);
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    function test_RevertWhen_convertNode_unfunded() public {
        _finalize(1, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        _fundConversion(_send(PA) - 1);
        vm.expectRevert(
            abi.encodeWithSelector(PointsConversion.InsufficientFunding.selector, _send(PA), _send(PA) - 1)
        );
        conversion.convertNode(nodeA, PA, _proof(0));
    }

    // ---------------------------------------------------------------- accounts

    function test_convertAccount_paysGuardian() public {
        _ready();
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.Converted(
            PointsConversion.LeafKind.Account, uint160(guardian), guardian, PG, _send(PG)
        );
        vm.prank(anyone);
        conversion.convertAccount(guardian, PG, _proof(3));
        assertEq(token.balanceOf(guardian), _send(PG));
        assertTrue(conversion.accountConverted(guardian));
    }

    function test_RevertWhen_convertAccount_isNodeKey() public {
        _ready();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.AccountIsNodeKey.selector, nodeA));
        conversion.convertAccount(nodeA, PA, _proof(0));
    }

    function test_RevertWhen_convertAccount_twice() public {
        _ready();
        conversion.convertAccount(unregistered, PU, _proof(4));
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.AlreadyConverted.selector, unregistered));
        conversion.convertAccount(unregistered, PU, _proof(4));
    }

    function test_RevertWhen_convertAccount_badProofOrLicenseLeaf() public {
        _ready();
        vm.expectRevert(
            abi.encodeWithSelector(PointsConversion.InvalidPointsProof.selector, guardian, PG - 1)
        );
        conversion.convertAccount(guardian, PG - 1, _proof(3));
    }

    function test_RevertWhen_convertAccount_beforeSnapshotOrAfterDeadline() public {
        vm.expectRevert(PointsConversion.SnapshotNotTaken.selector);
        conversion.convertAccount(guardian, PG, _proof(3));
        _ready();
        uint64 deadline = conversion.conversionDeadline();
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionClosed.selector, deadline));
        conversion.convertAccount(guardian, PG, _proof(3));
    }

    // ---------------------------------------------------------------- licenses

    function test_convertLicense_paysCurrentHolder() public {
        _ready();
        vm.prank(alice);
        license.transferFrom(alice, bob, 1);
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.Converted(PointsConversion.LeafKind.License, 1, bob, PL1, _send(PL1));
        vm.prank(anyone);
        conversion.convertLicense(1, PL1, _proof(5));
        assertEq(token.balanceOf(bob), _send(PL1));
        assertEq(token.balanceOf(alice), 0);
        assertTrue(conversion.licenseConverted(1));
        assertEq(conversion.licensePointsConverted(), PL1);
    }

    function test_RevertWhen_convertLicense_void() public {
        _ready();
        license.setVoided(true);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.LicenseVoid.selector, 1));
        conversion.convertLicense(1, PL1, _proof(5));
    }

    function test_RevertWhen_convertLicense_burned() public {
        _ready();
        license.burn(2);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.LicenseNotFound.selector, 2));
        conversion.convertLicense(2, PL2, _proof(6));
    }

    function test_RevertWhen_convertLicense_twice() public {
        _ready();
        conversion.convertLicense(2, PL2, _proof(6));
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.LicenseAlreadyConverted.selector, 2));
        conversion.convertLicense(2, PL2, _proof(6));
    }

    function test_RevertWhen_convertLicense_badProofOrAccountLeaf() public {
        _ready();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.InvalidLicensePointsProof.selector, 1, PL2));
        conversion.convertLicense(1, PL2, _proof(5));
        // an account leaf's proof never opens a license leaf
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.InvalidLicensePointsProof.selector, 1, PA));
        conversion.convertLicense(1, PA, _proof(0));
    }

    function test_RevertWhen_convertLicense_beforeSnapshotOrAfterDeadline() public {
        vm.expectRevert(PointsConversion.SnapshotNotTaken.selector);
        conversion.convertLicense(1, PL1, _proof(5));
        _ready();
        uint64 deadline = conversion.conversionDeadline();
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionClosed.selector, deadline));
        conversion.convertLicense(1, PL1, _proof(5));
    }

    // ---------------------------------------------------------------- a wrong tree is bounded

    function test_RevertWhen_accountLeavesExceedSignedTotal() public {
        // the guardians signed a total of 50k while the tree holds 86k: the first leaves convert, then the
        // bound stops the rest
        _finalize(1, _root(), 50_000 ether);
        conversion.snapshot();
        _fundConversion(conversion.requiredFunding());
        conversion.convertNode(nodeA, PA, _proof(0));
        vm.expectRevert(
            abi.encodeWithSelector(PointsConversion.PointsExceedSnapshot.selector, PB, 10_000 ether)
        );
        conversion.convertNode(nodeB, PB, _proof(1));
        conversion.convertNode(nodeC, PC, _proof(2));
        assertEq(conversion.accountPointsConverted(), 50_000 ether);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.PointsExceedSnapshot.selector, PU, 0));
        conversion.convertAccount(unregistered, PU, _proof(4));
    }

    function test_RevertWhen_licenseLeafExceedsEmitted() public {
        uint256 huge = type(uint256).max;
        leaves[5] = _licenseLeaf(1, huge);
        _finalize(1, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        uint256 emitted = conversion.snapshotLicenseEmitted();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.PointsExceedSnapshot.selector, huge, emitted));
        conversion.convertLicense(1, huge, _proof(5));
    }

    // ---------------------------------------------------------------- deadline and sweep

    function test_RevertWhen_sweep_beforeDeadline() public {
        _ready();
        uint64 deadline = conversion.conversionDeadline();
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionOpen.selector, deadline));
        conversion.sweep();
        vm.warp(deadline - 1);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionOpen.selector, deadline));
        conversion.sweep();
    }

    function test_sweep_afterDeadlineReturnsRestToTreasury() public {
        _ready();
        uint256 funded = conversion.totalFunded();
        conversion.convertNode(nodeA, PA, _proof(0));
        conversion.convertLicense(1, PL1, _proof(5));
        uint256 rest = funded - _send(PA) - _send(PL1);
        assertEq(token.balanceOf(address(conversion)), rest);
        vm.warp(conversion.conversionDeadline());
        uint256 before = token.balanceOf(treasury);
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.Swept(treasury, rest, anyone);
        vm.prank(anyone);
        conversion.sweep();
        assertEq(token.balanceOf(treasury) - before, rest);
        assertEq(token.balanceOf(address(conversion)), 0);
        assertEq(conversion.totalSwept(), rest);
        assertEq(conversion.totalConverted() + conversion.totalSwept(), funded);
        vm.expectRevert(PointsConversion.ZeroAmount.selector);
        conversion.sweep();
    }

    function test_sweep_withoutSnapshot() public {
        _fundConversion(1_000 ether);
        vm.warp(conversion.conversionDeadline());
        uint256 before = token.balanceOf(treasury);
        conversion.sweep();
        assertEq(token.balanceOf(treasury) - before, 1_000 ether);
    }

    function test_RevertWhen_fund_zeroOrAfterDeadline() public {
        vm.expectRevert(PointsConversion.ZeroAmount.selector);
        conversion.fund(0);
        uint64 deadline = conversion.conversionDeadline();
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(PointsConversion.ConversionClosed.selector, deadline));
        conversion.fund(1);
    }

    function test_fund_recordsAndEmits() public {
        vm.startPrank(treasury);
        token.approve(address(conversion), 3 ether);
        vm.expectEmit(true, true, true, true, address(conversion));
        emit PointsConversion.Funded(treasury, 2 ether, 2 ether);
        conversion.fund(2 ether);
        conversion.fund(1 ether);
        vm.stopPrank();
        assertEq(conversion.totalFunded(), 3 ether);
        assertEq(token.balanceOf(address(conversion)), 3 ether);
    }

    // ---------------------------------------------------------------- ratio arithmetic

    function test_sendFor_largeValuesUseFullPrecision() public {
        // points · ratio overflows 256 bits (2^250 · 2^64), the quotient does not: mulDiv is exact
        PointsConversion c = _deployConversion(uint256(1) << 64, 1);
        uint256 pts = 1e18 * (uint256(1) << 190);
        assertEq(c.sendFor(pts), uint256(1) << 254);
        // rounded down
        assertEq(conversion.sendFor(3), 0);
        assertEq(conversion.sendFor(4), 1);
        assertEq(conversion.sendFor(type(uint96).max), uint256(type(uint96).max) / 4);
        // a quotient above 2^256 reverts instead of wrapping
        PointsConversion big = _deployConversion(type(uint256).max, 1);
        vm.expectRevert();
        big.sendFor(2e18);
    }

    function testFuzz_sendFor_matchesReference(uint128 pts, uint128 ratio) public {
        vm.assume(ratio != 0);
        PointsConversion c = _deployConversion(ratio, 1);
        assertEq(c.sendFor(pts), uint256(pts) * ratio / 1e18);
    }

    function test_convert_largeRatio() public {
        // 1e12 SEND per point: the whole snapshot converts to ~1e29 SEND (a test-only token supply)
        uint256 ratio = 1e30;
        conversion = _deployConversion(ratio, 1);
        _finalize(1, _root(), ACCOUNT_TOTAL);
        conversion.snapshot();
        uint256 need = conversion.requiredFunding();
        assertEq(need, Math.mulDiv(uint256(ACCOUNT_TOTAL) + rewards.emittedUpTo(1), ratio, 1e18));
        deal(address(token), address(conversion), need);
        conversion.convertNode(nodeA, PA, _proof(0));
        assertEq(token.balanceOf(operator), PA * 1e12); // its stake is in staking: all of this is conversion
        conversion.convertLicense(1, PL1, _proof(5));
        assertEq(token.balanceOf(alice), PL1 * 1e12);
    }
}
