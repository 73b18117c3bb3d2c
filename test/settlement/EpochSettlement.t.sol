// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Merkle} from "../utils/Merkle.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement core: constructor, `submitEpoch` (happy paths, ordering and timing, the pending
///         limit and auto-finalization), `finalizeEpochs` and the views.
contract EpochSettlementTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public view {
        assertEq(address(settlement.token()), address(token));
        assertEq(address(settlement.staking()), address(staking));
        assertEq(settlement.genesisTime(), genesis);
        assertEq(settlement.epochDuration(), EPOCH);
        assertEq(settlement.disputeWindow(), DISPUTE_WINDOW);
        assertEq(settlement.initialEpochEmission(), INITIAL_EMISSION);
        assertEq(settlement.halvingIntervalEpochs(), HALVING);
        assertEq(settlement.guardianShareBps(), GUARDIAN_SHARE_BPS);
        assertEq(settlement.rotationDelay(), DISPUTE_WINDOW);
        assertEq(settlement.owner(), owner);
        assertEq(settlement.EPOCH_RING_SIZE(), 8);
        assertEq(settlement.BPS(), 10_000);
        assertEq(token.balanceOf(address(settlement)), ESCROW);
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 0);
        assertEq(p.lastFinalized, 0);
        assertEq(p.totalFunded, ESCROW);
        assertEq(p.finalizedCumulative, 0);
        assertEq(settlement.totalClaimed(), 0);
        assertEq(settlement.lastFinalizedEpoch(), 0);
    }

    function test_constructor_recordsPremintedBalanceAsFunded() public {
        // the token mints both escrow allocations to the settlement's address before it exists
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        SendToken t = new SendToken(
            SendToken.Allocations({
                nodeRewards: predicted,
                licensePool: licensePool,
                guardianRewards: predicted,
                treasury: treasury
            })
        );
        assertEq(t.balanceOf(predicted), ESCROW);
        vm.expectEmit(true, true, true, true, predicted);
        emit EpochSettlement.EscrowFunded(address(0), ESCROW, ESCROW);
        EpochSettlement s = new EpochSettlement(_settlementConfig(address(t), address(staking)));
        assertEq(address(s), predicted);
        assertEq(s.settlementProgress().totalFunded, ESCROW);
        assertEq(s.totalClaimed(), 0);
    }

    function test_constructor_emptyEscrow() public {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        vm.expectEmit(true, true, true, true, predicted);
        emit EpochSettlement.EscrowFunded(address(0), 0, 0);
        EpochSettlement s = new EpochSettlement(_settlementConfig(address(token), address(staking)));
        assertEq(s.settlementProgress().totalFunded, 0);
        assertEq(s.totalClaimed(), 0);
        // nothing is funded, so no reward total fits
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(s, h, 0x1F);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EscrowShortfall.selector, 100 ether, 0));
        vm.prank(keeper);
        s.submitEpoch(h, guardians, 0x1F, sigs);
    }

    function test_RevertWhen_constructor_balanceAboveUint96() public {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        uint256 huge = uint256(type(uint96).max) + 1;
        vm.mockCall(address(token), abi.encodeCall(IERC20.balanceOf, (predicted)), abi.encode(huge));
        vm.expectRevert(abi.encodeWithSelector(SafeCast.SafeCastOverflowedUintDowncast.selector, 96, huge));
        new EpochSettlement(_settlementConfig(address(token), address(staking)));
    }

    function _expectInvalidParameter(EpochSettlement.Config memory cfg, string memory what) internal {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidParameter.selector, what));
        new EpochSettlement(cfg);
    }

    function test_RevertWhen_constructor_invalidParameters() public {
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.token = address(0);
        _expectInvalidParameter(cfg, "token");

        cfg = _settlementConfig(address(token), address(staking));
        cfg.staking = address(0);
        _expectInvalidParameter(cfg, "staking");

        cfg = _settlementConfig(address(token), address(staking));
        cfg.epochDuration = 0;
        _expectInvalidParameter(cfg, "epochDuration");

        cfg = _settlementConfig(address(token), address(staking));
        cfg.disputeWindow = 0;
        _expectInvalidParameter(cfg, "disputeWindow");

        cfg = _settlementConfig(address(token), address(staking));
        cfg.disputeResolutionPeriod = 0;
        _expectInvalidParameter(cfg, "disputeResolutionPeriod");

        cfg = _settlementConfig(address(token), address(staking));
        cfg.halvingIntervalEpochs = 0;
        _expectInvalidParameter(cfg, "halvingIntervalEpochs");
    }

    function testFuzz_RevertWhen_constructor_guardianShareAboveBps(uint16 bps) public {
        bps = uint16(bound(bps, 10_001, type(uint16).max));
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.guardianShareBps = bps;
        _expectInvalidParameter(cfg, "guardianShareBps");
        cfg.guardianShareBps = 10_000; // the maximum itself is fine
        assertEq(new EpochSettlement(cfg).guardianShareBps(), 10_000);
    }

    function testFuzz_RevertWhen_constructor_unbondingNotAboveDisputeWindow(uint64 unbonding, uint64 window)
        public
    {
        unbonding = uint64(bound(unbonding, 1, 365 days));
        window = uint64(bound(window, unbonding, type(uint64).max));
        NodeStaking.Config memory sc = _stakingConfig(address(token), address(1));
        sc.unbondingPeriod = unbonding;
        NodeStaking shortStaking = new NodeStaking(sc);
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(shortStaking));
        cfg.disputeWindow = window;
        _expectInvalidParameter(cfg, "unbondingPeriod must exceed disputeWindow");
    }

    function testFuzz_constructor_acceptsUnbondingAboveDisputeWindow(uint64 window) public {
        window = uint64(bound(window, 1, UNBONDING - 1));
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.disputeWindow = window;
        EpochSettlement s = new EpochSettlement(cfg);
        assertEq(s.disputeWindow(), window);
        assertEq(s.rotationDelay(), window);
    }

    function test_RevertWhen_constructor_zeroOwner() public {
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.owner = address(0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new EpochSettlement(cfg);
    }

    // ------------------------------------------------------------------ submitEpoch: happy paths

    function test_submitEpoch_fiveOfSeven() public {
        EpochHeader memory h = _withFaults(_h(1), keccak256("faults"), 3);
        h.scoresHash = keccak256("scores");
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        assertEq(bitmap, 0x1F);

        uint40 finalizeAt = uint40(block.timestamp + DISPUTE_WINDOW);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochSubmitted(1, h, finalizeAt, keeper, 0x1F);
        _trySubmit(h, bitmap, sigs);

        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(1);
        assertEq(entry.rewardRoot, h.rewardRoot);
        assertEq(entry.scoresCursor, h.scoresHash);
        assertEq(entry.epoch, 1);
        assertEq(entry.totalCumulative, h.totalCumulative);
        assertEq(entry.finalizeAt, finalizeAt);
        assertEq(uint8(entry.status), uint8(EpochSettlement.EpochStatus.Pending));
        assertEq(entry.signerBitmap, 0x1F);
        assertEq(entry.guardianSetId, 1);
        assertEq(entry.headerDigest, settlement.headerDigest(h));
        assertEq(settlement.faultRoots(1), h.faultRoot);
        // leaves 0..faultCount-1 are pending, nothing beyond
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
        assertTrue(settlement.faultPending(1, 2));
        assertFalse(settlement.faultPending(1, 3));
        assertFalse(settlement.faultPending(2, 0));
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 1);
        assertEq(p.lastFinalized, 0);
        assertEq(p.totalFunded, ESCROW);
        assertEq(p.finalizedCumulative, 0);
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Pending);
        // nothing moves on submission
        assertEq(token.balanceOf(address(settlement)), ESCROW);
    }

    function test_submitEpoch_sevenOfSeven() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 7);
        assertEq(bitmap, 0x7F);
        _trySubmit(h, bitmap, sigs);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
        assertEq(settlement.faultRoots(1), bytes32(0));
    }

    function testFuzz_submitEpoch_anyQuorumSubsetAnySubmitter(uint256 bitmap, address submitter, uint256 late)
        public
    {
        bitmap &= 0x7F;
        for (uint256 i; _popCount(bitmap) < 5; ++i) {
            bitmap |= 1 << i;
        }
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH + bound(late, 0, 365 days));
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, bitmap);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochSubmitted(
            1, h, uint40(block.timestamp + DISPUTE_WINDOW), submitter, uint64(bitmap)
        );
        vm.prank(submitter);
        settlement.submitEpoch(h, guardians, bitmap, sigs);
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function testFuzz_submitEpoch_sequentialEpochs(uint8 n) public {
        n = uint8(bound(n, 1, 20));
        for (uint32 e = 1; e <= n; ++e) {
            _submit(_h(e));
            vm.warp(block.timestamp + DISPUTE_WINDOW);
        }
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, n);
        // every submission finalized the previous epoch (its window had passed)
        assertEq(p.lastFinalized, n - 1);
        assertEq(p.finalizedCumulative, uint96(n - 1) * 100 ether);
    }

    // ------------------------------------------------------------------ submitEpoch: ordering and timing

    function test_RevertWhen_submitEpoch_replaysSameEpoch() public {
        EpochHeader memory h = _h(1);
        _submit(h);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotNext.selector, 1, 2));
        _trySubmit(h, bitmap, sigs);
        // even once the epoch is finalized
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotNext.selector, 1, 2));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_notNext(uint32 epoch) public {
        vm.assume(epoch != 1);
        EpochHeader memory h = _header(epoch, keccak256("r"), 100 ether, 100 ether);
        vm.warp(genesis + EPOCH * 1000);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotNext.selector, epoch, 1));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_notEnded(uint256 t) public {
        t = bound(t, 0, genesis + EPOCH - 1);
        vm.warp(t);
        EpochHeader memory h = _h(1);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotEnded.selector, 1, genesis + EPOCH));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_laterEpochNotEnded(uint8 n, uint256 t) public {
        n = uint8(bound(n, 1, 6));
        _submitRange(1, n);
        uint64 endsAt = genesis + EPOCH * (uint64(n) + 1);
        vm.warp(bound(t, block.timestamp, endsAt - 1));
        EpochHeader memory h = _h(n + 1);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotEnded.selector, n + 1, endsAt));
        _trySubmit(h, bitmap, sigs);
        vm.warp(endsAt);
        _trySubmit(h, bitmap, sigs);
    }

    // ------------------------------------------------------------------ submitEpoch: pending limit, auto-finalize

    function test_RevertWhen_submitEpoch_tooManyPending() public {
        vm.warp(settlement.epochEnd(8));
        _submitRange(1, 7); // all submitted now, none due
        EpochHeader memory h = _h(8);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.TooManyPendingEpochs.selector, 8, 0));
        _trySubmit(h, bitmap, sigs);

        // once epoch 1 is due, the submission finalizes it and fits
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochFinalized(1, _h(1).rewardRoot, 100 ether);
        _trySubmit(h, bitmap, sigs);
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 8);
        assertEq(p.lastFinalized, 1);
        // epoch 1 still holds the claim root; epoch 8 reused slot 0
        assertEq(settlement.epochEntry(8).epoch, 8);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.epochEntry(0);
    }

    function test_RevertWhen_submitEpoch_tooManyPendingBehindDispute() public {
        _submit(_h(1));
        _disputeByGuardians(1, "bad");
        _submitRange(2, 7);
        EpochHeader memory h = _h(8);
        vm.warp(settlement.epochEnd(8) + 30 days);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.TooManyPendingEpochs.selector, 8, 0));
        _trySubmit(h, bitmap, sigs);
    }

    function test_submitEpoch_autoFinalizesOneDueEpoch() public {
        vm.warp(settlement.epochEnd(3));
        _submitRange(1, 2);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        // both 1 and 2 are due; submitting 3 finalizes exactly one
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochFinalized(1, _h(1).rewardRoot, 100 ether);
        _submit(_h(3));
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastFinalized, 1);
        assertEq(p.finalizedCumulative, 100 ether);
        assertEq(p.lastSubmitted, 3);
    }

    function testFuzz_submitEpoch_doesNotFinalizeBeforeWindow(uint256 wait) public {
        vm.warp(settlement.epochEnd(3));
        _submit(_h(1));
        vm.warp(block.timestamp + bound(wait, 0, DISPUTE_WINDOW - 1));
        _submit(_h(2));
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 2);
        assertEq(p.lastFinalized, 0);
        assertEq(p.finalizedCumulative, 0);
    }

    function test_RevertWhen_finalizeEpochs_nothingSubmitted() public {
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
    }

    function testFuzz_finalizeEpochs_exactlyAtWindowEnd(uint256 early) public {
        _submit(_h(1));
        uint256 finalizeAt = settlement.epochEntry(1).finalizeAt;
        vm.warp(finalizeAt - bound(early, 1, DISPUTE_WINDOW));
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
        vm.warp(finalizeAt);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochFinalized(1, _h(1).rewardRoot, 100 ether);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 1);
        // nothing more to do
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
    }

    function test_finalizeEpochs_severalInOrder() public {
        vm.warp(settlement.epochEnd(4));
        _submitRange(1, 4);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        for (uint32 e = 1; e <= 4; ++e) {
            vm.expectEmit(true, true, true, true, address(settlement));
            emit EpochSettlement.EpochFinalized(e, _h(e).rewardRoot, uint96(e) * 100 ether);
        }
        settlement.finalizeEpochs();
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastFinalized, 4);
        assertEq(p.finalizedCumulative, 400 ether);
        (uint32 e_, bytes32 root) = settlement.claimableRewardRoot();
        assertEq(e_, 4);
        assertEq(root, _h(4).rewardRoot);
    }

    function test_finalizeEpochs_stopsAtFirstNotDue() public {
        vm.warp(settlement.epochEnd(3));
        uint256 t = block.timestamp;
        _submit(_h(1));
        vm.warp(t + 10 hours);
        _submit(_h(2));
        vm.warp(t + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 1);
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
        vm.warp(t + 10 hours + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 2);
        assertEq(settlement.settlementProgress().finalizedCumulative, 200 ether);
    }

    function test_finalizeEpochs_stopsAtDisputed() public {
        vm.warp(settlement.epochEnd(3));
        _submitRange(1, 3);
        vm.prank(owner);
        settlement.dispute(2, "suspicious");
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 1);
        vm.warp(block.timestamp + 100 days);
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
    }

    // ------------------------------------------------------------------ views

    function test_currentEpoch() public {
        assertEq(settlement.currentEpoch(), 1);
        vm.warp(genesis - 1);
        assertEq(settlement.currentEpoch(), 0);
        vm.warp(genesis + EPOCH - 1);
        assertEq(settlement.currentEpoch(), 1);
        vm.warp(genesis + EPOCH);
        assertEq(settlement.currentEpoch(), 2);
    }

    function testFuzz_currentEpoch(uint256 t) public {
        t = bound(t, genesis, genesis + uint256(EPOCH) * 1_000_000);
        vm.warp(t);
        uint32 e = settlement.currentEpoch();
        // the current epoch has started and not ended
        assertLe(settlement.epochEnd(e - 1), t);
        assertGt(settlement.epochEnd(e), t);
    }

    function testFuzz_epochEnd(uint32 e) public view {
        assertEq(settlement.epochEnd(e), genesis + uint256(e) * EPOCH);
    }

    function test_emissionCap_halvingBoundaries() public view {
        assertEq(settlement.emissionCap(1), INITIAL_EMISSION);
        assertEq(settlement.emissionCap(HALVING), INITIAL_EMISSION);
        assertEq(settlement.emissionCap(HALVING + 1), INITIAL_EMISSION / 2);
        assertEq(settlement.emissionCap(2 * HALVING), INITIAL_EMISSION / 2);
        assertEq(settlement.emissionCap(2 * HALVING + 1), INITIAL_EMISSION / 4);
        assertEq(settlement.emissionCap(type(uint32).max), 0);
    }

    function testFuzz_emissionCap_halvesEveryInterval(uint32 e) public view {
        e = uint32(bound(e, 1, type(uint32).max - HALVING));
        assertEq(settlement.emissionCap(e + HALVING), settlement.emissionCap(e) / 2);
        // constant within an interval
        uint32 start = (e - 1) / HALVING * HALVING + 1;
        assertEq(settlement.emissionCap(e), settlement.emissionCap(start));
        assertLe(settlement.emissionCap(e), INITIAL_EMISSION);
    }

    function test_emissionCap_reachesZeroAfter96Halvings() public {
        _redeploy(type(uint96).max, 1);
        assertEq(settlement.emissionCap(1), type(uint96).max);
        assertEq(settlement.emissionCap(96), 1); // 95 halvings
        assertEq(settlement.emissionCap(97), 0); // 96 halvings
        assertEq(settlement.emissionCap(type(uint32).max), 0);
    }

    /// @dev Epoch 0 does not exist: it may emit nothing (the view used to underflow).
    function test_emissionCap_epochZeroIsZero() public {
        assertEq(settlement.emissionCap(0), 0);
        _redeploy(type(uint96).max, 1);
        assertEq(settlement.emissionCap(0), 0);
    }

    function test_lastFinalizedEpoch() public {
        assertEq(settlement.lastFinalizedEpoch(), 0);
        _submit(_h(1));
        assertEq(settlement.lastFinalizedEpoch(), 0);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 1);
        vm.warp(settlement.epochEnd(3));
        _submitRange(2, 3);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 3);
        assertEq(settlement.lastFinalizedEpoch(), settlement.settlementProgress().lastFinalized);
    }

    function test_epochStatus_everyState() public {
        // never submitted (and epoch 0, which never exists)
        _assertLifecycle(0, EpochSettlement.EpochLifecycle.None);
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.None);
        vm.warp(settlement.epochEnd(4));
        _submitRange(1, 4);
        for (uint32 e = 1; e <= 4; ++e) {
            _assertLifecycle(e, EpochSettlement.EpochLifecycle.Pending);
        }
        _assertLifecycle(5, EpochSettlement.EpochLifecycle.None);
        _assertLifecycle(type(uint32).max, EpochSettlement.EpochLifecycle.None);
        _assertLifecycle(0, EpochSettlement.EpochLifecycle.None);

        vm.startPrank(owner);
        settlement.dispute(2, "x");
        settlement.dispute(4, "y");
        vm.stopPrank();
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Disputed);
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.Disputed);

        // window over: 1 finalizes, 2 holds back 3 (Pending, not Disputed) and 4
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Disputed);
        _assertLifecycle(3, EpochSettlement.EpochLifecycle.Pending);
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.Disputed);
        _assertLifecycle(0, EpochSettlement.EpochLifecycle.None);

        // valid: 2 and 3 finalize; invalid: 4 is voided
        vm.startPrank(owner);
        settlement.resolveDispute(2, true);
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Pending);
        settlement.resolveDispute(4, false);
        vm.stopPrank();
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.None);
        settlement.finalizeEpochs();
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Finalized);
        _assertLifecycle(3, EpochSettlement.EpochLifecycle.Finalized);
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.None);

        // resubmitted: Pending again, then Finalized
        _submit(_h(4));
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.Pending);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        _assertLifecycle(4, EpochSettlement.EpochLifecycle.Finalized);

        // finalized epochs stay Finalized after the ring reuses their slots
        for (uint32 e = 5; e <= 13; ++e) {
            _submitAndFinalize(_h(e));
        }
        for (uint32 e = 1; e <= 13; ++e) {
            _assertLifecycle(e, EpochSettlement.EpochLifecycle.Finalized);
        }
        _assertLifecycle(14, EpochSettlement.EpochLifecycle.None);
    }

    function testFuzz_epochStatus_matchesProgress(uint8 submitted, uint8 finalized, uint32 probe) public {
        submitted = uint8(bound(submitted, 0, 7));
        finalized = uint8(bound(finalized, 0, submitted));
        vm.warp(settlement.epochEnd(submitted));
        for (uint32 e = 1; e <= submitted; ++e) {
            _submit(_h(e));
            if (e == finalized) {
                vm.warp(block.timestamp + DISPUTE_WINDOW);
                settlement.finalizeEpochs();
            }
        }
        // epochs up to `finalized` finalized together; later ones submitted after that are pending
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastFinalized, finalized);
        probe = uint32(bound(probe, 0, uint256(submitted) + 2));
        EpochSettlement.EpochLifecycle expected = probe == 0 || probe > submitted
            ? EpochSettlement.EpochLifecycle.None
            : probe <= finalized
                ? EpochSettlement.EpochLifecycle.Finalized
                : EpochSettlement.EpochLifecycle.Pending;
        _assertLifecycle(probe, expected);
    }

    function test_claimableRewardRoot() public {
        (uint32 e, bytes32 root) = settlement.claimableRewardRoot();
        assertEq(e, 0);
        assertEq(root, bytes32(0));
        _submit(_h(1));
        (e, root) = settlement.claimableRewardRoot();
        assertEq(e, 0);
        assertEq(root, bytes32(0));
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        (e, root) = settlement.claimableRewardRoot();
        assertEq(e, 1);
        assertEq(root, _h(1).rewardRoot);
    }

    function test_RevertWhen_epochEntry_notInRing() public {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.epochEntry(0);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.epochEntry(1);
        for (uint32 e = 1; e <= 9; ++e) {
            _submitAndFinalize(_h(e));
        }
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.epochEntry(1);
        for (uint32 e = 2; e <= 9; ++e) {
            assertEq(settlement.epochEntry(e).epoch, e);
        }
    }

    function test_settlementProgress() public {
        (EpochHeader memory h1, bytes32[] memory l1) = _aliceBob(1, 60 ether, 40 ether, 100 ether);
        _submitAndFinalize(h1);
        _submit(_h(2));
        settlement.claim(alice, 60 ether, Merkle.proof(l1, 0));
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 2);
        assertEq(p.lastFinalized, 1);
        assertEq(p.totalFunded, ESCROW);
        assertEq(p.finalizedCumulative, 100 ether);
        assertEq(settlement.totalClaimed(), 60 ether);
    }

    function testFuzz_headerDigest_isEip712(EpochHeader memory h) public view {
        bytes32 typeHash = keccak256(
            "EpochHeader(uint32 epoch,uint32 consensusVersion,uint32 faultCount,uint96 totalCumulative,"
            "uint96 epochEmission,bytes32 rewardRoot,bytes32 faultRoot,bytes32 scoresHash,bytes32 dataHash,"
            "bytes32 seed)"
        );
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(typeHash, h.epoch, h.consensusVersion, h.faultCount, h.totalCumulative),
                abi.encode(h.epochEmission, h.rewardRoot, h.faultRoot, h.scoresHash, h.dataHash, h.seed)
            )
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("SendingNetwork EpochSettlement"),
                keccak256("1"),
                block.chainid,
                address(settlement)
            )
        );
        assertEq(settlement.headerDigest(h), keccak256(abi.encodePacked(hex"1901", domain, structHash)));
    }

    function testFuzz_headerDigest_everyFieldIsSigned(EpochHeader memory h, uint8 field) public view {
        bytes32 before = settlement.headerDigest(h);
        field = uint8(bound(field, 0, 9));
        if (field == 0) h.epoch ^= 1;
        else if (field == 1) h.consensusVersion ^= 1;
        else if (field == 2) h.faultCount ^= 1;
        else if (field == 3) h.totalCumulative ^= 1;
        else if (field == 4) h.epochEmission ^= 1;
        else if (field == 5) h.rewardRoot ^= bytes32(uint256(1));
        else if (field == 6) h.faultRoot ^= bytes32(uint256(1));
        else if (field == 7) h.scoresHash ^= bytes32(uint256(1));
        else if (field == 8) h.dataHash ^= bytes32(uint256(1));
        else h.seed ^= bytes32(uint256(1));
        assertTrue(settlement.headerDigest(h) != before);
    }
}
