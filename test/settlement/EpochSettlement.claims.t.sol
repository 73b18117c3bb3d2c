// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Merkle} from "../utils/Merkle.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement reward claims against the latest finalized root, bounded by the payout floor.
contract EpochSettlementClaimsTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ claim

    function test_RevertWhen_claim_noFinalizedEpoch() public {
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.expectRevert(EpochSettlement.NoFinalizedEpoch.selector);
        settlement.claim(alice, 60 ether, proof);
        _submit(h);
        vm.expectRevert(EpochSettlement.NoFinalizedEpoch.selector);
        settlement.claim(alice, 60 ether, proof);
    }

    function testFuzz_claim_paysExactCumulative(uint96 a, uint96 b, address caller) public {
        a = uint96(bound(a, 1, INITIAL_EMISSION - 1));
        b = uint96(bound(b, 1, INITIAL_EMISSION - a));
        vm.assume(caller != address(settlement));
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, a, b, INITIAL_EMISSION);
        _submitAndFinalize(h);

        // the SEND transfer is the only record of the payout
        vm.recordLogs();
        vm.prank(caller); // anyone may claim; tokens go to the account
        settlement.claim(alice, a, Merkle.proof(leaves, 0));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "claim emits exactly one event");
        assertEq(logs[0].emitter, address(token));
        assertEq(logs[0].topics[0], IERC20.Transfer.selector);
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(address(settlement)))));
        assertEq(logs[0].topics[2], bytes32(uint256(uint160(alice))));
        assertEq(abi.decode(logs[0].data, (uint256)), a);

        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(settlement), bob, b);
        settlement.claim(bob, b, Merkle.proof(leaves, 1));

        assertEq(token.balanceOf(alice), a);
        assertEq(token.balanceOf(bob), b);
        assertEq(token.balanceOf(address(settlement)), ESCROW - a - b);
        assertEq(settlement.claimed(alice), a);
        assertEq(settlement.claimed(bob), b);
        assertEq(settlement.totalClaimed(), uint256(a) + b);
        // claims do not touch the funded total
        assertEq(settlement.settlementProgress().totalFunded, ESCROW);
    }

    function testFuzz_RevertWhen_claim_invalidProof(uint256 wrongAmount, address wrongAccount) public {
        vm.assume(wrongAmount != 60 ether);
        vm.assume(wrongAccount != alice);
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, alice, wrongAmount)
        );
        settlement.claim(alice, wrongAmount, proof);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, wrongAccount, 60 ether)
        );
        settlement.claim(wrongAccount, 60 ether, proof);
        // bob's proof for alice's leaf
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, alice, 60 ether));
        settlement.claim(alice, 60 ether, Merkle.proof(leaves, 1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, alice, 60 ether));
        settlement.claim(alice, 60 ether, new bytes32[](0));
    }

    function test_RevertWhen_claim_nothingToClaim() public {
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h);
        settlement.claim(alice, 60 ether, Merkle.proof(leaves, 0));
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.NothingToClaim.selector, alice, 60 ether, 60 ether)
        );
        settlement.claim(alice, 60 ether, Merkle.proof(leaves, 0));
    }

    function test_RevertWhen_claim_zeroLeaf() public {
        (EpochHeader memory h, bytes32[] memory leaves) = _aliceBob(1, 0, 40 ether, 100 ether);
        _submitAndFinalize(h);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NothingToClaim.selector, alice, 0, 0));
        settlement.claim(alice, 0, Merkle.proof(leaves, 0));
    }

    function test_RevertWhen_claim_cumulativeBelowAlreadyClaimed() public {
        (EpochHeader memory h1, bytes32[] memory l1) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h1);
        settlement.claim(alice, 60 ether, Merkle.proof(l1, 0));
        // a later (malformed) tree gives alice less than she already has
        (EpochHeader memory h2, bytes32[] memory l2) = _aliceBob(2, 50 ether, 150 ether, 100 ether);
        _submitAndFinalize(h2);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.NothingToClaim.selector, alice, 50 ether, 60 ether)
        );
        settlement.claim(alice, 50 ether, Merkle.proof(l2, 0));
    }

    function testFuzz_claim_repeatPaysDifference(uint96 first, uint96 extra) public {
        first = uint96(bound(first, 1, INITIAL_EMISSION / 2));
        extra = uint96(bound(extra, 1, INITIAL_EMISSION / 2));
        (EpochHeader memory h1, bytes32[] memory l1) = _aliceBob(1, first, 0, INITIAL_EMISSION);
        _submitAndFinalize(h1);
        settlement.claim(alice, first, Merkle.proof(l1, 0));

        (EpochHeader memory h2, bytes32[] memory l2) = _aliceBob(2, first + extra, 0, INITIAL_EMISSION);
        _submitAndFinalize(h2);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(settlement), alice, extra);
        settlement.claim(alice, first + extra, Merkle.proof(l2, 0));
        assertEq(token.balanceOf(alice), uint256(first) + extra);
        assertEq(settlement.claimed(alice), uint256(first) + extra);
        assertEq(settlement.totalClaimed(), uint256(first) + extra);
    }

    function test_claim_onlyAgainstLatestFinalizedRoot() public {
        (EpochHeader memory h1, bytes32[] memory l1) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h1);
        (EpochHeader memory h2, bytes32[] memory l2) = _aliceBob(2, 130 ether, 70 ether, 100 ether);
        _submit(h2);

        // epoch 2 is pending: its root is not claimable yet
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, alice, 130 ether));
        settlement.claim(alice, 130 ether, Merkle.proof(l2, 0));
        (uint32 e, bytes32 root) = settlement.claimableRewardRoot();
        assertEq(e, 1);
        assertEq(root, h1.rewardRoot);
        settlement.claim(bob, 40 ether, Merkle.proof(l1, 1));

        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        // now only epoch 2's root counts
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, alice, 60 ether));
        settlement.claim(alice, 60 ether, Merkle.proof(l1, 0));
        settlement.claim(alice, 130 ether, Merkle.proof(l2, 0));
        settlement.claim(bob, 70 ether, Merkle.proof(l2, 1));
        assertEq(token.balanceOf(alice), 130 ether);
        assertEq(token.balanceOf(bob), 70 ether);
        assertEq(settlement.totalClaimed(), 200 ether);
        assertEq(token.balanceOf(address(settlement)), ESCROW - 200 ether);
    }

    function test_RevertWhen_claim_exceedsFinalizedTotal() public {
        // malicious tree: leaves sum to 200 but the header says 150
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (alice, bob);
        (amounts[0], amounts[1]) = (100 ether, 100 ether);
        (bytes32[] memory leaves, bytes32 root) = _rewardTree(accounts, amounts);
        _submitAndFinalize(_header(1, root, 150 ether, 150 ether));

        settlement.claim(alice, 100 ether, Merkle.proof(leaves, 0));
        // the payout floor (escrow that must remain) is ESCROW - 150; paying bob would leave ESCROW - 200
        vm.expectRevert(
            abi.encodeWithSelector(
                EpochSettlement.PayoutExceedsFinalizedTotal.selector, ESCROW - 200 ether, ESCROW - 150 ether
            )
        );
        settlement.claim(bob, 100 ether, Merkle.proof(leaves, 1));
        assertEq(token.balanceOf(bob), 0);
        assertEq(settlement.claimed(bob), 0);
        assertEq(settlement.totalClaimed(), 100 ether);
        // the reverted claim moved nothing
        assertEq(token.balanceOf(address(settlement)), ESCROW - 100 ether);
    }

    function testFuzz_RevertWhen_claim_exceedsFinalizedTotalByOneWei(uint96 total) public {
        // totals that are whole multiples of 1e9 wei: the stored payout floor is exact
        total = uint96(bound(total, 1, INITIAL_EMISSION / 1e9) * 1e9);
        // one leaf worth a wei more than the header's total
        bytes32 leaf = Merkle.rewardLeaf(alice, uint256(total) + 1);
        _submitAndFinalize(_header(1, leaf, total, INITIAL_EMISSION));
        vm.expectRevert(
            abi.encodeWithSelector(
                EpochSettlement.PayoutExceedsFinalizedTotal.selector, ESCROW - total - 1, ESCROW - total
            )
        );
        settlement.claim(alice, uint256(total) + 1, new bytes32[](0));
        assertEq(settlement.totalClaimed(), 0);
    }

    /// @dev The payout floor is stored in 1e9-wei units rounded down, so payouts may exceed the finalized
    ///      total by less than 1e9 wei (1e-9 SEND) when the total is not a multiple of 1e9, never more.
    function testFuzz_claim_floorRoundingSlackBelowOneGwei(uint96 total, uint256 excess) public {
        total = uint96(bound(total, 1e9, INITIAL_EMISSION));
        uint256 slack = (ESCROW - total) % 1e9;
        excess = bound(excess, slack + 1, 10 * 1e9);
        bytes32 within = Merkle.rewardLeaf(alice, uint256(total) + slack);
        bytes32 beyond = Merkle.rewardLeaf(bob, uint256(total) + excess);
        bytes32 root = Merkle.hashPair(within, beyond);
        _submitAndFinalize(_header(1, root, total, INITIAL_EMISSION));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = within;
        vm.expectRevert(
            abi.encodeWithSelector(
                EpochSettlement.PayoutExceedsFinalizedTotal.selector,
                ESCROW - total - excess,
                ESCROW - total - slack
            )
        );
        settlement.claim(bob, uint256(total) + excess, proof);
        proof[0] = beyond;
        settlement.claim(alice, uint256(total) + slack, proof);
        assertEq(settlement.totalClaimed(), uint256(total) + slack);
        assertLt(slack, 1e9);
    }

    /// @dev Documents the trade-off of deriving `totalClaimed` from the balance: SEND sent straight to the
    ///      settlement (not through `fundEscrow`) is not counted as funding, so `totalClaimed` reads lower
    ///      by the donation (never below 0) and the payout cap is loosened by exactly the donated amount.
    ///      The funded escrow still covers everything finalized and unclaimed.
    function test_claim_donationLowersDerivedTotalClaimed() public {
        // a wrong tree: leaves sum to 220 SEND + 1 wei, the header says 150
        address[] memory accounts = new address[](3);
        uint256[] memory amounts = new uint256[](3);
        (accounts[0], accounts[1], accounts[2]) = (alice, bob, carol);
        (amounts[0], amounts[1], amounts[2]) = (100 ether, 120 ether, 1);
        (bytes32[] memory leaves, bytes32 root) = _rewardTree(accounts, amounts);
        _submitAndFinalize(_header(1, root, 150 ether, 150 ether));

        _fund(address(settlement), 70 ether); // donation
        assertEq(settlement.totalClaimed(), 0, "balance above funded reads as nothing claimed");
        settlement.claim(alice, 100 ether, Merkle.proof(leaves, 0));
        assertEq(settlement.totalClaimed(), 30 ether);
        // 220 paid against a finalized 150: allowed because 70 were donated on top of the escrow
        settlement.claim(bob, 120 ether, Merkle.proof(leaves, 1));
        assertEq(settlement.totalClaimed(), 150 ether);
        assertEq(token.balanceOf(address(settlement)), ESCROW + 70 ether - 220 ether);
        assertEq(settlement.settlementProgress().totalFunded, ESCROW);
        // but not a wei beyond the donation
        vm.expectRevert(
            abi.encodeWithSelector(
                EpochSettlement.PayoutExceedsFinalizedTotal.selector,
                ESCROW - 150 ether - 1,
                ESCROW - 150 ether
            )
        );
        settlement.claim(carol, 1, Merkle.proof(leaves, 2));
        // what is finalized and unclaimed (by the derived books) stays covered
        assertGe(token.balanceOf(address(settlement)), 150 ether - settlement.totalClaimed());
    }
}
