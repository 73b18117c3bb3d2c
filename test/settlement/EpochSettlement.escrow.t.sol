// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Merkle} from "../utils/Merkle.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement emission schedule and escrow: the circuit breaker on `submitEpoch` and
///         `fundEscrow`.
contract EpochSettlementEscrowTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ submitEpoch: emission and escrow

    function testFuzz_RevertWhen_submitEpoch_emissionAboveSchedule(uint96 emission) public {
        emission = uint96(bound(emission, uint256(INITIAL_EMISSION) + 1, type(uint96).max));
        EpochHeader memory h = _header(1, keccak256("r"), 0, emission);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.EmissionAboveSchedule.selector, emission, INITIAL_EMISSION)
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_submitEpoch_emissionAndIncreaseWithinSchedule(
        uint96 first,
        uint96 emission,
        uint96 increase
    ) public {
        first = uint96(bound(first, 0, INITIAL_EMISSION));
        emission = uint96(bound(emission, 0, INITIAL_EMISSION));
        increase = uint96(bound(increase, 0, emission));
        _submit(_header(1, keccak256("r1"), first, INITIAL_EMISSION));
        _submit(_header(2, keccak256("r2"), first + increase, emission));
        assertEq(settlement.epochEntry(2).totalCumulative, first + increase);
    }

    function testFuzz_RevertWhen_submitEpoch_cumulativeDecreased(uint96 first, uint96 second) public {
        first = uint96(bound(first, 1, INITIAL_EMISSION));
        second = uint96(bound(second, 0, first - 1));
        _submit(_header(1, keccak256("r1"), first, INITIAL_EMISSION));
        EpochHeader memory h = _header(2, keccak256("r2"), second, INITIAL_EMISSION);
        vm.warp(genesis + 2 * EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.CumulativeDecreased.selector, second, first));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_cumulativeExceedsEmission(
        uint96 first,
        uint96 emission,
        uint96 increase
    ) public {
        first = uint96(bound(first, 0, INITIAL_EMISSION));
        emission = uint96(bound(emission, 0, INITIAL_EMISSION - 1));
        increase = uint96(bound(increase, uint256(emission) + 1, INITIAL_EMISSION));
        _submit(_header(1, keccak256("r1"), first, INITIAL_EMISSION));
        EpochHeader memory h = _header(2, keccak256("r2"), first + increase, emission);
        vm.warp(genesis + 2 * EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.CumulativeExceedsEmission.selector, increase, emission)
        );
        _trySubmit(h, bitmap, sigs);
    }

    function test_RevertWhen_submitEpoch_firstEpochCumulativeExceedsEmission() public {
        EpochHeader memory h = _header(1, keccak256("r"), 101 ether, 100 ether);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.CumulativeExceedsEmission.selector, 101 ether, 100 ether)
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_escrowShortfall(uint96 excess) public {
        _redeploy(1_000_000_000 ether, HALVING);
        excess = uint96(bound(excess, 1, 500_000_000 ether));
        uint96 total = uint96(ESCROW) + excess;
        EpochHeader memory h = _header(1, keccak256("r"), total, total);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.EscrowShortfall.selector, uint256(total), ESCROW)
        );
        _trySubmit(h, bitmap, sigs);
        // exactly the escrow is fine
        h.totalCumulative = uint96(ESCROW);
        _submit(h);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function testFuzz_submitEpoch_escrowCheckIgnoresClaims(uint96 aliceAmount, uint96 excess) public {
        _redeploy(1_000_000_000 ether, HALVING);
        aliceAmount = uint96(bound(aliceAmount, 1, ESCROW - 1));
        excess = uint96(bound(excess, 1, 100_000_000 ether));
        (EpochHeader memory h1, bytes32[] memory leaves) =
            _aliceBob(1, aliceAmount, ESCROW - aliceAmount, 500_000_000 ether);
        _submitAndFinalize(h1);
        settlement.claim(alice, aliceAmount, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(address(settlement)), ESCROW - aliceAmount);
        assertEq(settlement.totalClaimed(), aliceAmount);

        // everything ever owed vs everything ever funded: claims change neither side
        EpochHeader memory h2 = _header(2, keccak256("r2"), uint96(ESCROW) + excess, 500_000_000 ether);
        vm.warp(settlement.epochEnd(2));
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h2, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.EscrowShortfall.selector, ESCROW + excess, ESCROW)
        );
        _trySubmit(h2, bitmap, sigs);
        // the escrow total itself still fits
        h2.totalCumulative = uint96(ESCROW);
        _submit(h2);
        assertEq(settlement.settlementProgress().lastSubmitted, 2);
    }

    function testFuzz_submitEpoch_fundEscrowCoversShortfall(uint96 excess) public {
        _redeploy(1_000_000_000 ether, HALVING);
        excess = uint96(bound(excess, 1, 100_000_000 ether));
        uint96 total = uint96(ESCROW) + excess;
        EpochHeader memory h = _header(1, keccak256("r"), total, total);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);

        // a plain transfer is a donation, not funding: the check still fails
        _fund(address(settlement), excess);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EscrowShortfall.selector, total, ESCROW));
        _trySubmit(h, bitmap, sigs);

        // one wei short after funding
        _fund(carol, excess);
        vm.startPrank(carol);
        token.approve(address(settlement), excess);
        if (excess > 1) {
            settlement.fundEscrow(excess - 1);
            vm.stopPrank();
            vm.expectRevert(
                abi.encodeWithSelector(EpochSettlement.EscrowShortfall.selector, total, total - 1)
            );
            _trySubmit(h, bitmap, sigs);
            vm.prank(carol);
            settlement.fundEscrow(1);
        } else {
            settlement.fundEscrow(excess);
            vm.stopPrank();
        }
        assertEq(settlement.settlementProgress().totalFunded, total);
        _trySubmit(h, bitmap, sigs);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function test_RevertWhen_submitEpoch_emissionAboveHalvedSchedule() public {
        _redeploy(INITIAL_EMISSION, 2);
        _submit(_header(1, keccak256("r1"), INITIAL_EMISSION, INITIAL_EMISSION));
        _submit(_header(2, keccak256("r2"), 2 * INITIAL_EMISSION, INITIAL_EMISSION));
        // epoch 3 starts the second halving interval
        EpochHeader memory h = _header(3, keccak256("r3"), 2 * INITIAL_EMISSION, INITIAL_EMISSION / 2 + 1);
        vm.warp(settlement.epochEnd(3));
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(
                EpochSettlement.EmissionAboveSchedule.selector, INITIAL_EMISSION / 2 + 1, INITIAL_EMISSION / 2
            )
        );
        _trySubmit(h, bitmap, sigs);
        h.epochEmission = INITIAL_EMISSION / 2;
        _submit(h);
    }

    // ------------------------------------------------------------------ fundEscrow

    function testFuzz_fundEscrow_pullsTokensAndRaisesFunded(uint96 amount, address funder) public {
        amount = uint96(bound(amount, 1, 100_000_000 ether));
        vm.assume(funder != address(0) && funder != address(settlement) && funder != treasury);
        _fund(funder, amount);
        vm.prank(funder);
        token.approve(address(settlement), amount);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EscrowFunded(funder, amount, ESCROW + amount);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(funder, address(settlement), amount);
        vm.prank(funder);
        settlement.fundEscrow(amount);

        assertEq(token.balanceOf(funder), 0);
        assertEq(token.balanceOf(address(settlement)), ESCROW + amount);
        assertEq(settlement.settlementProgress().totalFunded, ESCROW + amount);
        assertEq(settlement.totalClaimed(), 0);
        assertEq(token.allowance(funder, address(settlement)), 0);
    }

    function test_fundEscrow_afterClaimsKeepsConservation() public {
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h);
        settlement.claim(alice, 60 ether, Merkle.proof(leaves, 0));
        _fund(carol, 1_000 ether);
        vm.startPrank(carol);
        token.approve(address(settlement), 1_000 ether);
        settlement.fundEscrow(250 ether);
        settlement.fundEscrow(750 ether);
        vm.stopPrank();
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.totalFunded, ESCROW + 1_000 ether);
        assertEq(settlement.totalClaimed(), 60 ether);
        assertEq(token.balanceOf(address(settlement)) + settlement.totalClaimed(), p.totalFunded);
    }

    function test_RevertWhen_fundEscrow_zeroAmount() public {
        vm.expectRevert(EpochSettlement.ZeroAmount.selector);
        vm.prank(treasury);
        settlement.fundEscrow(0);
    }

    function testFuzz_RevertWhen_fundEscrow_withoutAllowance(uint96 amount, uint96 allowance) public {
        amount = uint96(bound(amount, 1, 1_000_000 ether));
        allowance = uint96(bound(allowance, 0, amount - 1));
        vm.startPrank(treasury);
        token.approve(address(settlement), allowance);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(settlement), allowance, amount
            )
        );
        settlement.fundEscrow(amount);
        vm.stopPrank();
        assertEq(settlement.settlementProgress().totalFunded, ESCROW);
    }

    function test_RevertWhen_fundEscrow_withoutBalance() public {
        vm.startPrank(carol);
        token.approve(address(settlement), 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, carol, 0, 1 ether)
        );
        settlement.fundEscrow(1 ether);
        vm.stopPrank();
    }

    function testFuzz_RevertWhen_fundEscrow_totalAboveUint96(uint256 amount) public {
        amount = bound(amount, uint256(type(uint96).max) - ESCROW + 1, type(uint256).max - ESCROW);
        vm.expectRevert(
            abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 96, ESCROW + amount)
        );
        vm.prank(treasury);
        settlement.fundEscrow(amount);
    }
}
