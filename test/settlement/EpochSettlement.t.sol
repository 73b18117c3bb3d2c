// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {QuorumSigning} from "../utils/QuorumSigning.sol";
import {Merkle} from "../utils/Merkle.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader, NodeScore, EpochHeaderLib} from "../../contracts/libraries/EpochHeaderLib.sol";

contract EpochSettlementTest is ProtocolTestBase {
    uint256 internal constant ESCROW = 430_000_000 ether;
    bytes32 internal constant SCORES_END = bytes32(uint256(1));

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    // ------------------------------------------------------------------ helpers

    /// @dev Header of epoch `e` with a dummy reward root and a total growing 100 SEND per epoch.
    function _h(uint32 e) internal pure returns (EpochHeader memory) {
        return _header(e, keccak256(abi.encode("root", e)), uint96(e) * 100 ether, 100 ether);
    }

    function _submitRange(uint32 from, uint32 to) internal {
        for (uint32 e = from; e <= to; ++e) {
            _submit(_h(e));
        }
    }

    /// @dev Reward tree paying alice `a` and bob `b`; header total is a + b.
    function _aliceBob(uint32 e, uint256 a, uint256 b, uint96 emission)
        internal
        view
        returns (EpochHeader memory h, bytes32[] memory leaves)
    {
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (alice, bob);
        (amounts[0], amounts[1]) = (a, b);
        bytes32 root;
        (leaves, root) = _rewardTree(accounts, amounts);
        h = _header(e, root, uint96(a + b), emission);
    }

    function _sigsFor(EpochSettlement s, EpochHeader memory h, uint256 bitmap)
        internal
        view
        returns (GuardianQuorum.Signature[] memory)
    {
        return QuorumSigning.signDigest(s.headerDigest(h), guardianKeys, bitmap);
    }

    function _trySubmit(EpochHeader memory h, uint256 bitmap, GuardianQuorum.Signature[] memory sigs)
        internal
    {
        vm.prank(keeper);
        settlement.submitEpoch(h, guardians, bitmap, sigs);
    }

    function _status(uint32 e) internal view returns (EpochSettlement.EpochStatus) {
        return settlement.epochEntry(e).status;
    }

    function _popCount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) {
            ++c;
        }
    }

    /// @dev Deploys a fresh token + staking + settlement with custom emission parameters and points the
    ///      suite's `token`, `staking` and `settlement` at it.
    function _redeploy(uint96 initialEmission, uint32 halving) internal {
        address predictedSettlement = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
        token = new SendToken(
            SendToken.Allocations({
                nodeRewards: predictedSettlement,
                licensePool: licensePool,
                guardianRewards: predictedSettlement,
                treasury: treasury
            })
        );
        staking = new NodeStaking(_stakingConfig(address(token), predictedSettlement));
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.initialEpochEmission = initialEmission;
        cfg.halvingIntervalEpochs = halving;
        settlement = new EpochSettlement(cfg);
        assertEq(address(settlement), predictedSettlement);
    }

    function _faultTree(uint32 e, address[] memory nodes, uint96[] memory amounts, bool[] memory strikes)
        internal
        pure
        returns (bytes32[] memory leaves, bytes32 root)
    {
        leaves = new bytes32[](nodes.length);
        for (uint256 i; i < nodes.length; ++i) {
            leaves[i] = Merkle.faultLeaf(e, uint32(i), nodes[i], amounts[i], strikes[i]);
        }
        root = Merkle.root(leaves);
    }

    /// @dev `h` with a fault tree of `count` leaves under `root`.
    function _withFaults(EpochHeader memory h, bytes32 root, uint32 count)
        internal
        pure
        returns (EpochHeader memory)
    {
        h.faultRoot = root;
        h.faultCount = count;
        return h;
    }

    /// @dev `h` with a single fault leaf (index 0) against `node`; the root is the leaf itself.
    function _withOneFault(EpochHeader memory h, address node, uint96 amount, bool strike)
        internal
        pure
        returns (EpochHeader memory)
    {
        return _withFaults(h, Merkle.faultLeaf(h.epoch, 0, node, amount, strike), 1);
    }

    function _assertLifecycle(uint32 e, EpochSettlement.EpochLifecycle expected) internal view {
        assertEq(uint8(settlement.epochStatus(e)), uint8(expected), "epochStatus");
    }

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
        emit EpochSettlement.EpochSubmitted(1, h, finalizeAt, keeper);
        _trySubmit(h, bitmap, sigs);

        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(1);
        assertEq(entry.rewardRoot, h.rewardRoot);
        assertEq(entry.scoresCursor, h.scoresHash);
        assertEq(entry.epoch, 1);
        assertEq(entry.totalCumulative, h.totalCumulative);
        assertEq(entry.finalizeAt, finalizeAt);
        assertEq(uint8(entry.status), uint8(EpochSettlement.EpochStatus.Pending));
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

    function test_submitEpoch_withoutFaultsRecordsNothing() public {
        _submit(_h(1));
        assertEq(settlement.faultRoots(1), bytes32(0));
        assertFalse(settlement.faultPending(1, 0));
    }

    function testFuzz_submitEpoch_setsExactlyFaultCountPendingBits(uint32 count, uint32 probe) public {
        count = uint32(bound(count, 1, 1_100)); // up to five 256-bit words
        EpochHeader memory h = _withFaults(_h(1), keccak256("faults"), count);
        _submit(h);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, count - 1));
        assertFalse(settlement.faultPending(1, count));
        assertEq(settlement.faultPending(1, probe), probe < count);
        // no bleed into the neighbouring epochs' words
        assertFalse(settlement.faultPending(0, probe));
        assertFalse(settlement.faultPending(2, probe));
    }

    function test_submitEpoch_faultCountWordBoundaries() public {
        uint32[5] memory counts = [uint32(1), 255, 256, 257, 512];
        for (uint32 k; k < counts.length; ++k) {
            uint32 e = k + 1;
            _submit(_withFaults(_h(e), keccak256(abi.encode("faults", e)), counts[k]));
            vm.warp(block.timestamp + DISPUTE_WINDOW);
            assertTrue(settlement.faultPending(e, counts[k] - 1));
            assertFalse(settlement.faultPending(e, counts[k]));
        }
        // 256 fills word 0 exactly and leaves word 1 empty; 257 sets one bit of word 1
        assertTrue(settlement.faultPending(3, 255));
        assertFalse(settlement.faultPending(3, 256));
        assertTrue(settlement.faultPending(4, 256));
        assertFalse(settlement.faultPending(4, 257));
        assertTrue(settlement.faultPending(5, 511));
        assertFalse(settlement.faultPending(5, 512));
        assertFalse(settlement.faultPending(1, 1));
    }

    function testFuzz_RevertWhen_submitEpoch_faultRootWithoutCount(bytes32 root) public {
        vm.assume(root != bytes32(0));
        EpochHeader memory h = _withFaults(_h(1), root, 0);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultCountMismatch.selector, root, 0));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_faultCountWithoutRoot(uint32 count) public {
        count = uint32(bound(count, 1, type(uint32).max));
        EpochHeader memory h = _withFaults(_h(1), bytes32(0), count);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.FaultCountMismatch.selector, bytes32(0), count)
        );
        _trySubmit(h, bitmap, sigs);
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
        emit EpochSettlement.EpochSubmitted(1, h, uint40(block.timestamp + DISPUTE_WINDOW), submitter);
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

    // ------------------------------------------------------------------ submitEpoch: quorum

    function testFuzz_RevertWhen_submitEpoch_wrongGuardianList(uint256 i, address replacement) public {
        i = bound(i, 0, 6);
        vm.assume(replacement != guardians[i]);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        address[] memory list = guardians;
        list[i] = replacement;
        bytes32 expected = keccak256(abi.encodePacked(guardians));
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(list))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, list, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_unsortedOrShortGuardianList(uint256 i) public {
        i = bound(i, 1, 6);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        bytes32 expected = keccak256(abi.encodePacked(guardians));

        address[] memory unsorted = new address[](7);
        for (uint256 k; k < 7; ++k) {
            unsorted[k] = guardians[k];
        }
        (unsorted[i - 1], unsorted[i]) = (unsorted[i], unsorted[i - 1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(unsorted))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, unsorted, bitmap, sigs);

        address[] memory short = new address[](i);
        for (uint256 k; k < i; ++k) {
            short[k] = guardians[k];
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.GuardianListMismatch.selector, expected, keccak256(abi.encodePacked(short))
            )
        );
        vm.prank(keeper);
        settlement.submitEpoch(h, short, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_bitmapOutOfRange(uint256 high) public {
        high = bound(high, 1, type(uint256).max >> 7);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        uint256 bitmap = 0x1F | (high << 7);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignerBitmapOutOfRange.selector, bitmap, 7));
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_quorumNotReached(uint256 bitmap) public {
        bitmap &= 0x7F;
        // keep at most four signers
        for (uint256 i = 7; _popCount(bitmap) > 4; --i) {
            bitmap &= ~(uint256(1) << (i - 1));
        }
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, bitmap);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, sigs.length, 5));
        _trySubmit(h, bitmap, sigs);
    }

    function test_RevertWhen_submitEpoch_fourSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 4);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, 4, 5));
        _trySubmit(h, bitmap, sigs);
        // a bitmap claiming five signers does not help
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.QuorumNotReached.selector, 4, 5));
        _trySubmit(h, 0x1F, sigs);
    }

    function test_RevertWhen_submitEpoch_bitmapHasMoreBitsThanSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        // bits 0..5 set: the five signatures match members 0..4, member 5's bit is left over
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 6));
        _trySubmit(h, 0x3F, sigs);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 7));
        _trySubmit(h, 0x7F, sigs);
    }

    function test_RevertWhen_submitEpoch_bitmapHasFewerBitsThanSignatures() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 4));
        _trySubmit(h, 0x0F, sigs);
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 0));
        _trySubmit(h, 0, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signatureByNonMember(uint256 outsiderKey, uint256 slot) public {
        outsiderKey = bound(outsiderKey, 1, SECP256K1_ORDER - 1);
        address outsider = vm.addr(outsiderKey);
        slot = bound(slot, 0, 4);
        for (uint256 k; k < 7; ++k) {
            vm.assume(outsider != guardians[k]);
        }
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        (bytes32 r, bytes32 vs) = vm.signCompact(outsiderKey, settlement.headerDigest(h));
        sigs[slot] = GuardianQuorum.Signature(r, vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, slot, guardians[slot], outsider
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signatureOverAnotherHeader(uint96 otherTotal) public {
        vm.assume(otherTotal != 100 ether);
        EpochHeader memory h = _h(1);
        EpochHeader memory other = _h(1);
        other.totalCumulative = otherTotal;
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(other, 5);
        address recovered = ECDSA.recover(settlement.headerDigest(h), sigs[0].r, sigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function testFuzz_RevertWhen_submitEpoch_signedForAnotherChain(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        vm.chainId(chainId);
        address recovered = ECDSA.recover(settlement.headerDigest(h), sigs[0].r, sigs[0].vs);
        assertTrue(recovered != guardians[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, bitmap, sigs);
        // signatures made for this chain are accepted
        _trySubmit(h, bitmap, _sigsFor(settlement, h, bitmap));
        assertEq(settlement.settlementProgress().lastSubmitted, 1);
    }

    function test_RevertWhen_submitEpoch_signedForAnotherSettlement() public {
        EpochSettlement other = new EpochSettlement(_settlementConfig(address(token), address(staking)));
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        assertTrue(other.headerDigest(h) != settlement.headerDigest(h));
        GuardianQuorum.Signature[] memory sigs = _sigsFor(settlement, h, 0x1F);
        address recovered = ECDSA.recover(other.headerDigest(h), sigs[0].r, sigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        vm.prank(keeper);
        other.submitEpoch(h, guardians, 0x1F, sigs);
        // and the reverse direction
        GuardianQuorum.Signature[] memory otherSigs = _sigsFor(other, h, 0x1F);
        recovered = ECDSA.recover(settlement.headerDigest(h), otherSigs[0].r, otherSigs[0].vs);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], recovered
            )
        );
        _trySubmit(h, 0x1F, otherSigs);
    }

    function test_RevertWhen_submitEpoch_sameGuardianTwice() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        // guardian 0's signature in member 1's slot
        sigs[1] = sigs[0];
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 1, guardians[1], guardians[0]
            )
        );
        _trySubmit(h, bitmap, sigs);

        // five copies of one valid signature under a one-bit bitmap
        GuardianQuorum.Signature[] memory five = new GuardianQuorum.Signature[](5);
        for (uint256 i; i < 5; ++i) {
            five[i] = sigs[0];
        }
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.SignatureCountMismatch.selector, 5, 1));
        _trySubmit(h, 0x01, five);
    }

    function test_RevertWhen_submitEpoch_signaturesOutOfOrder() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                GuardianQuorum.InvalidGuardianSignature.selector, 0, guardians[0], guardians[1]
            )
        );
        _trySubmit(h, bitmap, sigs);
    }

    function test_RevertWhen_submitEpoch_malformedSignature() public {
        EpochHeader memory h = _h(1);
        vm.warp(genesis + EPOCH);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _sign(h, 5);
        sigs[2].r = bytes32(0);
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        _trySubmit(h, bitmap, sigs);
    }

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
        vm.prank(guardians[3]);
        settlement.dispute(1, "bad");
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

    // ------------------------------------------------------------------ dispute

    function testFuzz_dispute_byAnyGuardian(uint256 i, string calldata reason) public {
        address g = guardians[bound(i, 0, 6)];
        _submit(_h(1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, g, reason);
        vm.prank(g);
        settlement.dispute(1, reason);
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Disputed));
    }

    function test_dispute_byOwner() public {
        _submit(_h(1));
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochDisputed(1, owner, "gov");
        vm.prank(owner);
        settlement.dispute(1, "gov");
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Disputed));
    }

    function testFuzz_RevertWhen_dispute_notGuardian(address caller) public {
        vm.assume(caller != owner);
        for (uint256 k; k < 7; ++k) {
            vm.assume(caller != guardians[k]);
        }
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(GuardianQuorum.NotGuardian.selector, caller));
        vm.prank(caller);
        settlement.dispute(1, "x");
    }

    function testFuzz_RevertWhen_dispute_windowClosed(uint256 late) public {
        _submit(_h(1));
        uint40 finalizeAt = settlement.epochEntry(1).finalizeAt;
        vm.warp(finalizeAt + bound(late, 0, 365 days));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.DisputeWindowClosed.selector, 1, finalizeAt));
        vm.prank(guardians[0]);
        settlement.dispute(1, "late");
    }

    function test_RevertWhen_dispute_finalizedEpoch() public {
        _submitAndFinalize(_h(1));
        uint40 finalizeAt = settlement.epochEntry(1).finalizeAt;
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.DisputeWindowClosed.selector, 1, finalizeAt));
        vm.prank(owner);
        settlement.dispute(1, "late");
    }

    function test_RevertWhen_dispute_alreadyDisputed() public {
        _submit(_h(1));
        vm.prank(guardians[0]);
        settlement.dispute(1, "a");
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        vm.prank(guardians[1]);
        settlement.dispute(1, "b");
    }

    function testFuzz_RevertWhen_dispute_notSubmitted(uint32 epoch) public {
        vm.assume(epoch != 1);
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, epoch));
        vm.prank(guardians[0]);
        settlement.dispute(epoch, "x");
    }

    function test_RevertWhen_dispute_voidedEpoch() public {
        _submit(_h(1));
        vm.prank(owner);
        settlement.dispute(1, "bad");
        vm.prank(owner);
        settlement.resolveDispute(1, false);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 1));
        vm.prank(owner);
        settlement.dispute(1, "again");
    }

    // ------------------------------------------------------------------ resolveDispute

    function testFuzz_RevertWhen_resolveDispute_notOwner(address caller) public {
        vm.assume(caller != owner);
        _submit(_h(1));
        vm.prank(owner);
        settlement.dispute(1, "x");
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        vm.prank(caller);
        settlement.resolveDispute(1, true);
    }

    function test_RevertWhen_resolveDispute_notDisputed() public {
        _submit(_h(1));
        vm.startPrank(owner);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.resolveDispute(1, true);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 2));
        settlement.resolveDispute(2, false);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.resolveDispute(0, false);
        // resolved once: not disputed any more
        settlement.dispute(1, "x");
        settlement.resolveDispute(1, true);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 1));
        settlement.resolveDispute(1, true);
        vm.stopPrank();
    }

    function test_RevertWhen_resolveDispute_voidedEpoch() public {
        vm.warp(settlement.epochEnd(2));
        _submitRange(1, 2);
        vm.startPrank(owner);
        settlement.dispute(1, "x");
        settlement.dispute(2, "y");
        settlement.resolveDispute(1, false);
        // epoch 2 was voided with epoch 1, even though it was disputed too
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotDisputed.selector, 2));
        settlement.resolveDispute(2, false);
        vm.stopPrank();
    }

    function testFuzz_resolveDispute_validFinalizesNow(uint256 wait) public {
        vm.warp(settlement.epochEnd(2));
        _submitRange(1, 2);
        vm.prank(guardians[2]);
        settlement.dispute(1, "x");
        wait = bound(wait, 0, 2 * DISPUTE_WINDOW);
        vm.warp(block.timestamp + wait);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeResolved(1, true);
        vm.prank(owner);
        settlement.resolveDispute(1, true);
        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(1);
        assertEq(uint8(entry.status), uint8(EpochSettlement.EpochStatus.Pending));
        assertEq(entry.finalizeAt, block.timestamp);

        settlement.finalizeEpochs();
        // epoch 2 (submitted at the same time) follows once its own window passed
        assertEq(settlement.settlementProgress().lastFinalized, wait >= DISPUTE_WINDOW ? 2 : 1);
    }

    function test_resolveDispute_invalidVoidsLaterEpochs() public {
        vm.warp(settlement.epochEnd(4));
        for (uint32 e = 1; e <= 4; ++e) {
            _submit(_withFaults(_h(e), keccak256(abi.encode("faults", e)), 2));
        }
        vm.prank(guardians[6]);
        settlement.dispute(2, "wrong root");
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Disputed);

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.DisputeResolved(2, false);
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.EpochsVoided(2, 4);
        vm.prank(owner);
        settlement.resolveDispute(2, false);

        EpochSettlement.Progress memory p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 1);
        assertEq(p.lastFinalized, 0);
        assertEq(settlement.faultRoots(1), keccak256(abi.encode("faults", uint32(1))));
        for (uint32 e = 2; e <= 4; ++e) {
            assertEq(uint8(_status(e)), uint8(EpochSettlement.EpochStatus.None));
            assertEq(settlement.faultRoots(e), bytes32(0));
            _assertLifecycle(e, EpochSettlement.EpochLifecycle.None);
        }
        assertEq(uint8(_status(1)), uint8(EpochSettlement.EpochStatus.Pending));
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Pending);
        assertTrue(settlement.faultPending(1, 1));

        // voided epochs can no longer be published or disputed
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 3));
        settlement.publishScores(3, new NodeScore[](0), SCORES_END);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotPending.selector, 3));
        vm.prank(owner);
        settlement.dispute(3, "x");

        // keepers resubmit from epoch 2; cumulative continues from epoch 1, not the voided epoch 4
        EpochHeader memory again = _header(2, keccak256("fixed root"), 150 ether, 100 ether);
        _submit(again);
        p = settlement.settlementProgress();
        assertEq(p.lastSubmitted, 2);
        assertEq(settlement.epochEntry(2).rewardRoot, keccak256("fixed root"));
        assertEq(settlement.faultRoots(2), bytes32(0));
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(settlement.settlementProgress().lastFinalized, 2);
        assertEq(settlement.settlementProgress().finalizedCumulative, 150 ether);
        _assertLifecycle(2, EpochSettlement.EpochLifecycle.Finalized);
        _assertLifecycle(3, EpochSettlement.EpochLifecycle.None);
    }

    function test_resolveDispute_voidedFaultTreeReplacedByResubmission() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submit(_withOneFault(_h(1), node, 9_000 ether, false));
        vm.startPrank(owner);
        settlement.dispute(1, "wrong amount");
        settlement.resolveDispute(1, false);
        vm.stopPrank();
        // resubmitted with a corrected tree of two leaves (the voided one had a single leaf)
        address[] memory nodes = new address[](2);
        uint96[] memory amounts = new uint96[](2);
        bool[] memory strikes = new bool[](2);
        (nodes[0], nodes[1]) = (node, node);
        (amounts[0], amounts[1]) = (900 ether, 100 ether);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
        assertEq(settlement.faultRoots(1), root);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
        assertFalse(settlement.faultPending(1, 2));
        // the voided leaf no longer verifies
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, node, 9_000 ether, false, new bytes32[](0));
        assertEq(settlement.executeFault(1, 0, node, 900 ether, false, Merkle.proof(leaves, 0)), 900 ether);
        assertEq(settlement.executeFault(1, 1, node, 100 ether, false, Merkle.proof(leaves, 1)), 100 ether);
        assertEq(staking.getNode(node).stake, 99_000 ether);
    }

    /// @dev Voiding an epoch forgets its fault root and every pending bit it set, so a resubmission with
    ///      fewer faults (here none) leaves no phantom leaves behind.
    function test_resolveDispute_voidClearsFaultPendingBits() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        EpochHeader memory h = _withFaults(_h(1), keccak256("fabricated faults"), 300);
        _submit(h);
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 299));
        vm.startPrank(owner);
        settlement.dispute(1, "fabricated faults");
        settlement.resolveDispute(1, false);
        vm.stopPrank();
        assertFalse(settlement.faultPending(1, 0), "voided leaf 0 still pending");
        assertFalse(settlement.faultPending(1, 299), "voided leaf 299 still pending");

        // resubmitted with one real fault: only leaf 0 exists
        _submitAndFinalize(_withOneFault(_h(1), node, 1 ether, false));
        assertTrue(settlement.faultPending(1, 0));
        assertFalse(settlement.faultPending(1, 1), "leaf 1 of the voided tree still pending");
        assertFalse(settlement.faultPending(1, 299), "leaf 299 of the voided tree still pending");
    }

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

    // ------------------------------------------------------------------ executeFault

    /// @dev Registers nodeA (100k stake) and nodeB (10.5k) and finalizes epoch 1 with fault leaves
    ///      0: (nodeA, amountA, strikeA) and 1: (nodeB, 1,000, strike).
    function _faultEpoch(uint96 amountA, bool strikeA)
        internal
        returns (address nodeA, address nodeB, bytes32[] memory leaves)
    {
        (nodeA,) = _registerNode("nodeA", operator, 100_000 ether);
        (nodeB,) = _registerNode("nodeB", operator, 10_500 ether);
        address[] memory nodes = new address[](2);
        uint96[] memory amounts = new uint96[](2);
        bool[] memory strikes = new bool[](2);
        (nodes[0], nodes[1]) = (nodeA, nodeB);
        (amounts[0], amounts[1]) = (amountA, 1_000 ether);
        (strikes[0], strikes[1]) = (strikeA, true);
        bytes32 root;
        (leaves, root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
    }

    function testFuzz_executeFault_slashesWithCapAndPaysFinder(uint96 amount, bool strike) public {
        amount = uint96(bound(amount, 1, 1_000_000 ether));
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(amount, strike);
        uint96 cap = 10_000 ether; // 10% of 100k
        uint96 expected = amount < cap ? amount : cap;
        uint96 fee = uint96(uint256(expected) * FINDER_FEE_BPS / 10_000);
        uint32 clock = settlement.currentEpoch();
        assertGt(clock, 1);
        assertTrue(settlement.faultPending(1, 0));

        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.FaultExecuted(1, 0, nodeA, amount, strike);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeA, 1, expected, finder, fee);
        if (strike) {
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.StrikeRecorded(nodeA, 1, 1);
        }
        vm.prank(finder);
        uint96 slashed = settlement.executeFault(1, 0, nodeA, amount, strike, Merkle.proof(leaves, 0));

        assertEq(slashed, expected);
        NodeStaking.Node memory n = staking.getNode(nodeA);
        assertEq(n.stake, 100_000 ether - expected);
        // the cap is booked against the settlement clock, not the fault's epoch
        assertEq(n.lastSlashEpoch, clock);
        assertEq(n.slashedInLastSlashEpoch, expected);
        assertEq(staking.slashCapRemaining(nodeA, clock), cap - expected);
        assertEq(token.balanceOf(finder), fee);
        assertEq(staking.sweepableSlashed(), expected - fee);
        assertFalse(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
        assertEq(n.recentStrikeEpochs, strike ? 1 : 0);
        // settlement escrow is untouched
        assertEq(token.balanceOf(address(settlement)), ESCROW);
        assertEq(settlement.settlementProgress().totalFunded, ESCROW);
    }

    function test_executeFault_ejectsBelowMinimum() public {
        (, address nodeB, bytes32[] memory leaves) = _faultEpoch(1, false);
        // nodeB has 10.5k stake (cap 1,050), requested 1k: 9.5k left, below the 10k minimum
        vm.expectEmit(true, true, true, true, address(settlement));
        emit EpochSettlement.FaultExecuted(1, 1, nodeB, 1_000 ether, true);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeB, 1, 1_000 ether, finder, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeB, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.prank(finder);
        uint96 slashed = settlement.executeFault(1, 1, nodeB, 1_000 ether, true, Merkle.proof(leaves, 1));
        assertEq(slashed, 1_000 ether);
        NodeStaking.Node memory n = staking.getNode(nodeB);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 9_500 ether);
        // ejected stake waits for the epoch in progress to be finalized
        assertEq(n.unbondingEpoch, settlement.currentEpoch());
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(token.balanceOf(finder), 50 ether);
        assertFalse(staking.isActive(nodeB));
    }

    function test_executeFault_anyCallerIsTheFinder() public {
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(2_000 ether, false);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeA, 1, 2_000 ether, carol, 100 ether);
        vm.prank(carol);
        settlement.executeFault(1, 0, nodeA, 2_000 ether, false, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(carol), 100 ether);
        assertEq(token.balanceOf(finder), 0);
    }

    function test_RevertWhen_executeFault_alreadyExecuted() public {
        (address nodeA, address nodeB, bytes32[] memory leaves) = _faultEpoch(500 ether, false);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        // also in a later clock epoch, with a fresh cap
        vm.warp(block.timestamp + 10 * EPOCH);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, proof);
        // the other leaf is independent
        settlement.executeFault(1, 1, nodeB, 1_000 ether, true, Merkle.proof(leaves, 1));
        assertFalse(settlement.faultPending(1, 1));
        assertEq(staking.getNode(nodeA).stake, 99_500 ether);
    }

    function testFuzz_RevertWhen_executeFault_indexBeyondFaultCount(uint32 index) public {
        index = uint32(bound(index, 2, type(uint32).max));
        (address nodeA,,) = _faultEpoch(500 ether, false);
        assertFalse(settlement.faultPending(1, index));
        // an index the header did not count has no pending bit (checked before the proof)
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, index));
        settlement.executeFault(1, index, nodeA, 500 ether, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_leafIndexOutsideCountInSignedTree() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        // the tree holds three leaves but the header counts two: leaf 2 is dead
        address[] memory nodes = new address[](3);
        uint96[] memory amounts = new uint96[](3);
        bool[] memory strikes = new bool[](3);
        (nodes[0], nodes[1], nodes[2]) = (node, node, node);
        (amounts[0], amounts[1], amounts[2]) = (1 ether, 2 ether, 3 ether);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 2));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.FaultAlreadyExecuted.selector, 1, 2));
        settlement.executeFault(1, 2, node, 3 ether, false, Merkle.proof(leaves, 2));
        assertEq(settlement.executeFault(1, 1, node, 2 ether, false, Merkle.proof(leaves, 1)), 2 ether);
    }

    function testFuzz_RevertWhen_executeFault_invalidProof(uint96 wrongAmount) public {
        vm.assume(wrongAmount != 500 ether);
        (address nodeA, address nodeB, bytes32[] memory leaves) = _faultEpoch(500 ether, false);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, wrongAmount, false, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, true, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeB, 500 ether, false, proof);
        // leaf 0's content under index 1: the index is part of the leaf
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 1));
        settlement.executeFault(1, 1, nodeA, 500 ether, false, proof);
        // leaf 1 with leaf 0's proof
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 1));
        settlement.executeFault(1, 1, nodeB, 1_000 ether, true, proof);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 1, 0));
        settlement.executeFault(1, 0, nodeA, 500 ether, false, new bytes32[](0));
        assertTrue(settlement.faultPending(1, 0));
        assertTrue(settlement.faultPending(1, 1));
    }

    function test_RevertWhen_executeFault_leafOfAnotherEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submitAndFinalize(_withOneFault(_h(1), node, 1 ether, false));
        _submitAndFinalize(_withOneFault(_h(2), node, 1 ether, false));
        // epoch 1's leaf replayed as epoch 2's: the epoch is part of the leaf
        bytes32[] memory proof = new bytes32[](0);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidFaultProof.selector, 2, 0));
        settlement.executeFault(2, 0, node, 2 ether, false, proof);
        assertEq(settlement.executeFault(1, 0, node, 1 ether, false, proof), 1 ether);
        assertEq(settlement.executeFault(2, 0, node, 1 ether, false, proof), 1 ether);
    }

    function test_RevertWhen_executeFault_epochZeroOrNotFinalized() public {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 0, 0));
        settlement.executeFault(0, 0, address(1), 1, false, new bytes32[](0));

        _submit(_withOneFault(_h(1), address(1), 1, false));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 1, 0));
        settlement.executeFault(1, 0, address(1), 1, false, new bytes32[](0));

        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 0, 1));
        settlement.executeFault(0, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_disputedEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        _submit(_withOneFault(_h(1), node, 1 ether, false));
        vm.prank(owner);
        settlement.dispute(1, "check");
        vm.warp(block.timestamp + 30 days);
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, 1, 0));
        settlement.executeFault(1, 0, node, 1 ether, false, new bytes32[](0));
        assertTrue(settlement.faultPending(1, 0));
    }

    function testFuzz_RevertWhen_executeFault_futureEpoch(uint32 epoch) public {
        epoch = uint32(bound(epoch, 2, type(uint32).max));
        _submitAndFinalize(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotFinalized.selector, epoch, 1));
        settlement.executeFault(epoch, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_noFaultsInEpoch() public {
        _submitAndFinalize(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NoFaultsInEpoch.selector, 1));
        settlement.executeFault(1, 0, address(1), 1, false, new bytes32[](0));
    }

    function test_RevertWhen_executeFault_unregisteredNode() public {
        address ghost = makeAddr("ghost");
        _submitAndFinalize(_withOneFault(_h(1), ghost, 1 ether, false));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, ghost));
        settlement.executeFault(1, 0, ghost, 1 ether, false, new bytes32[](0));
        // the whole transaction reverted: the leaf is still pending
        assertTrue(settlement.faultPending(1, 0));
    }

    function test_executeFault_oldEpochAfterRingWrapped() public {
        (address nodeA,, bytes32[] memory leaves) = _faultEpoch(500 ether, true);
        for (uint32 e = 2; e <= 12; ++e) {
            _submitAndFinalize(_h(e));
        }
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.epochEntry(1);
        _assertLifecycle(1, EpochSettlement.EpochLifecycle.Finalized);
        assertTrue(settlement.faultPending(1, 0));
        uint96 slashed = settlement.executeFault(1, 0, nodeA, 500 ether, true, Merkle.proof(leaves, 0));
        assertEq(slashed, 500 ether);
        assertFalse(settlement.faultPending(1, 0));
    }

    function test_RevertWhen_executeFault_voidedFaultRootResubmittedWithout() public {
        (address nodeA,) = _registerNode("nodeA", operator, 100_000 ether);
        _submitAndFinalize(_h(1));
        _submit(_withOneFault(_h(2), nodeA, 500 ether, false));
        vm.startPrank(owner);
        settlement.dispute(2, "fabricated fault");
        settlement.resolveDispute(2, false);
        vm.stopPrank();
        _submitAndFinalize(_h(2));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.NoFaultsInEpoch.selector, 2));
        settlement.executeFault(2, 0, nodeA, 500 ether, false, new bytes32[](0));
        assertEq(staking.getNode(nodeA).stake, 100_000 ether);
    }

    function test_executeFault_severalLeavesForOneNodeInOneEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        address[] memory nodes = new address[](3);
        uint96[] memory amounts = new uint96[](3);
        bool[] memory strikes = new bool[](3);
        (nodes[0], nodes[1], nodes[2]) = (node, node, node);
        (amounts[0], amounts[1], amounts[2]) = (3_000 ether, 4_000 ether, 0);
        (strikes[0], strikes[1], strikes[2]) = (false, true, true);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 3));
        // any order; each leaf once
        assertEq(settlement.executeFault(1, 2, node, 0, true, Merkle.proof(leaves, 2)), 0);
        assertEq(settlement.executeFault(1, 1, node, 4_000 ether, true, Merkle.proof(leaves, 1)), 4_000 ether);
        assertEq(
            settlement.executeFault(1, 0, node, 3_000 ether, false, Merkle.proof(leaves, 0)), 3_000 ether
        );
        NodeStaking.Node memory n = staking.getNode(node);
        assertEq(n.stake, 93_000 ether);
        assertEq(n.slashedInLastSlashEpoch, 7_000 ether);
        // two strikes for the same epoch count once
        assertEq(n.recentStrikeEpochs, 1);
        for (uint32 i; i < 3; ++i) {
            assertFalse(settlement.faultPending(1, i));
        }
    }

    /// @dev Within one clock epoch the cap is shared by every fault; a leaf arriving after it is used up
    ///      reverts (staying pending) and goes through in a later clock epoch.
    function test_executeFault_capReachedLeafStaysPendingForNextClockEpoch() public {
        (address node,) = _registerNode("node", operator, 100_000 ether);
        address[] memory nodes = new address[](4);
        uint96[] memory amounts = new uint96[](4);
        bool[] memory strikes = new bool[](4);
        (nodes[0], nodes[1], nodes[2], nodes[3]) = (node, node, node, node);
        (amounts[0], amounts[1], amounts[2], amounts[3]) = (8_000 ether, 5_000 ether, 500 ether, 0);
        (strikes[0], strikes[1], strikes[2], strikes[3]) = (false, false, false, true);
        (bytes32[] memory leaves, bytes32 root) = _faultTree(1, nodes, amounts, strikes);
        _submitAndFinalize(_withFaults(_h(1), root, 4));
        uint32 clock = settlement.currentEpoch();

        assertEq(
            settlement.executeFault(1, 0, node, 8_000 ether, false, Merkle.proof(leaves, 0)), 8_000 ether
        );
        // 2,000 of the cap left: the 5,000 leaf is cut to 2,000 and the rest forgiven
        assertEq(
            settlement.executeFault(1, 1, node, 5_000 ether, false, Merkle.proof(leaves, 1)), 2_000 ether
        );
        assertEq(staking.slashCapRemaining(node, clock), 0);
        assertFalse(settlement.faultPending(1, 1));

        // cap used up: the next slash reverts and the leaf stays pending
        bytes32[] memory proof2 = Merkle.proof(leaves, 2);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(1, 2, node, 500 ether, false, proof2);
        assertTrue(settlement.faultPending(1, 2));
        // a strike-only leaf needs no cap
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(node, 1, 1);
        assertEq(settlement.executeFault(1, 3, node, 0, true, Merkle.proof(leaves, 3)), 0);

        // still the same clock epoch one second before it ends
        vm.warp(settlement.epochEnd(clock) - 1);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(1, 2, node, 500 ether, false, proof2);
        // the next clock epoch brings a fresh cap (10% of the 90k left)
        vm.warp(settlement.epochEnd(clock));
        assertEq(settlement.currentEpoch(), clock + 1);
        assertEq(staking.slashCapRemaining(node, clock + 1), 9_000 ether);
        assertEq(settlement.executeFault(1, 2, node, 500 ether, false, proof2), 500 ether);
        assertFalse(settlement.faultPending(1, 2));
        NodeStaking.Node memory n = staking.getNode(node);
        assertEq(n.stake, 89_500 ether);
        assertEq(n.lastSlashEpoch, clock + 1);
        assertEq(n.slashedInLastSlashEpoch, 500 ether);
    }

    function _equivocate(uint256 nodePk, uint32 e) internal returns (uint96) {
        NodeStaking.EpochCommitment memory a = NodeStaking.EpochCommitment(e, keccak256("a"), 10, 1);
        NodeStaking.EpochCommitment memory b = NodeStaking.EpochCommitment(e, keccak256("b"), 10, 1);
        return staking.proveEquivocation(a, _signCommitment(nodePk, a), b, _signCommitment(nodePk, b));
    }

    /// @dev Submits and finalizes epochs 1 and 2, each with one fault leaf (index 0) against `node`.
    function _twoFaultEpochs(address node, uint96 amount1, uint96 amount2) internal {
        _submitAndFinalize(_withOneFault(_h(1), node, amount1, false));
        _submitAndFinalize(_withOneFault(_h(2), node, amount2, false));
    }

    function test_executeFault_perEpochCapSharedWithEquivocation() public {
        (address node, uint256 pk) = _registerNode("capped", operator, 100_000 ether);
        _twoFaultEpochs(node, 10_000 ether, 1_000 ether);
        uint32 clock = settlement.currentEpoch();
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, false, new bytes32[](0)), 10_000 ether);
        // the 10% cap of this clock epoch is used up: an equivocation proof now reverts
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        this.equivocateExternal(pk, 1);
        assertFalse(staking.equivocationProven(node, 1));
        assertEq(staking.getNode(node).stake, 90_000 ether);
    }

    /// @dev External wrapper so `vm.expectRevert` applies to the whole proof (signing happens first).
    function equivocateExternal(uint256 nodePk, uint32 e) external returns (uint96) {
        return _equivocate(nodePk, e);
    }

    /// @dev Was skipped: the cap used to be per fault epoch and only remembered the latest one, so
    ///      executing faults of different epochs in between gave epoch 1 a second 10%. The cap is now per
    ///      settlement-clock epoch (NodeStaking._slash / _slashCapRemaining take `currentEpoch`): whatever
    ///      order faults and equivocations of any epochs are applied in, one clock epoch slashes at most
    ///      10% of the stake.
    function test_executeFault_perEpochCapHoldsAcrossInterleavedEpochs() public {
        (address node, uint256 pk) = _registerNode("capped", operator, 100_000 ether);
        _twoFaultEpochs(node, 10_000 ether, 1_000 ether);
        uint32 clock = settlement.currentEpoch();
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, false, new bytes32[](0)), 10_000 ether);
        // epoch 2's fault and an equivocation of epoch 1 in the same clock epoch: nothing more
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        settlement.executeFault(2, 0, node, 1_000 ether, false, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, clock));
        this.equivocateExternal(pk, 1);
        assertEq(staking.getNode(node).stake, 90_000 ether, "clock epoch slashed above its 10% cap");
        assertTrue(settlement.faultPending(2, 0));

        // next clock epoch: 10% of the 90k left, shared by epoch 2's fault and the equivocation
        vm.warp(settlement.epochEnd(clock));
        assertEq(settlement.executeFault(2, 0, node, 1_000 ether, false, new bytes32[](0)), 1_000 ether);
        assertEq(_equivocate(pk, 1), 5_000 ether);
        assertEq(staking.slashCapRemaining(node, clock + 1), 3_000 ether);
        assertEq(staking.getNode(node).stake, 84_000 ether);
        // and a second equivocation in that clock epoch is cut to what is left
        assertEq(_equivocate(pk, 2), 3_000 ether);
        assertEq(staking.getNode(node).stake, 81_000 ether);
    }

    /// @dev Was a documented design risk: a node could unbond, let its cooldown run out while the epoch
    ///      carrying its fault sat disputed, and withdraw before the fault could be executed. Withdrawal
    ///      now also waits until the settlement has finalized the clock epoch of the unbond.
    function test_executeFault_stakeWithdrawBlockedWhileFinalizationStalled() public {
        (address node,) = _registerNode("runner", operator, 100_000 ether);
        vm.prank(operator);
        staking.requestUnbond(node, 100_000 ether);
        uint32 unbondingEpoch = settlement.currentEpoch();
        assertEq(staking.getNode(node).unbondingEpoch, unbondingEpoch);
        _submit(_withOneFault(_h(1), node, 10_000 ether, true));
        vm.prank(owner);
        settlement.dispute(1, "needs review");

        vm.warp(block.timestamp + UNBONDING);
        assertGe(block.timestamp, staking.getNode(node).unbondingReleaseAt);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.UnbondingEpochNotFinalized.selector, node, unbondingEpoch, 0)
        );
        vm.prank(operator);
        staking.withdraw(node);

        vm.prank(owner);
        settlement.resolveDispute(1, true);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 1);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 0, node, 10_000 ether, true, new bytes32[](0)), 10_000 ether);
        assertEq(staking.getNode(node).unbonding, 90_000 ether);

        vm.prank(operator);
        staking.withdraw(node);
        assertEq(token.balanceOf(operator), 90_000 ether);
        assertEq(token.balanceOf(finder), 500 ether);
    }

    /// @dev Documents a residual race (current behaviour): when the cooldown ran out while finalization
    ///      stalled, the fault becomes executable and the stake withdrawable at the same moment (the
    ///      finalization), and both `finalizeEpochs` and `withdraw` are open to the operator. Whoever acts
    ///      first wins; an operator who bundles finalize + withdraw leaves the fault nothing to slash.
    function test_executeFault_withdrawRacesFaultAtStalledFinalization() public {
        (address node,) = _registerNode("runner", operator, 100_000 ether);
        vm.prank(operator);
        staking.requestUnbond(node, 100_000 ether);
        _submit(_withOneFault(_h(1), node, 10_000 ether, true));
        vm.prank(owner);
        settlement.dispute(1, "needs review");
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(owner);
        settlement.resolveDispute(1, true);

        vm.startPrank(operator);
        settlement.finalizeEpochs();
        staking.withdraw(node);
        vm.stopPrank();
        assertEq(token.balanceOf(operator), 100_000 ether);
        // nothing left to slash: the cap is 10% of zero
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, node, settlement.currentEpoch())
        );
        settlement.executeFault(1, 0, node, 10_000 ether, true, new bytes32[](0));
    }

    // ------------------------------------------------------------------ publishScores

    function _score(uint256 seed) internal pure returns (NodeScore memory s) {
        s.nodeKey = address(uint160(uint256(keccak256(abi.encode("node", seed)))));
        s.rank = uint32(seed + 1);
        s.score = uint32(uint256(keccak256(abi.encode("score", seed))) % 1_000_000);
        s.availability = uint32(990_000 + seed);
        s.latencyP50Ms = uint32(20 + seed);
        s.latencyP95Ms = uint32(80 + seed);
        s.verifiedUnits = uint64(1_000 * (seed + 1));
        s.reward = uint96(seed * 1 ether);
        s.faults = uint8(seed % 4);
    }

    /// @dev Splits `total` scores into `chunks` chunks and returns them with the chain links
    ///      (`links[i]` is the cursor before chunk i, `links[chunks] == SCORES_END`).
    function _chain(uint256 total, uint256 chunks)
        internal
        pure
        returns (NodeScore[][] memory parts, bytes32[] memory links)
    {
        parts = new NodeScore[][](chunks);
        uint256 idx;
        for (uint256 c; c < chunks; ++c) {
            uint256 len = total / chunks + (c < total % chunks ? 1 : 0);
            parts[c] = new NodeScore[](len);
            for (uint256 k; k < len; ++k) {
                parts[c][k] = _score(idx++);
            }
        }
        links = new bytes32[](chunks + 1);
        links[chunks] = SCORES_END;
        for (uint256 c = chunks; c > 0; --c) {
            links[c - 1] = keccak256(abi.encode(keccak256(abi.encode(parts[c - 1])), links[c]));
        }
    }

    function _expectScores(uint32 e, NodeScore[] memory chunk) internal {
        for (uint256 k; k < chunk.length; ++k) {
            NodeScore memory s = chunk[k];
            vm.expectEmit(true, true, true, true, address(settlement));
            emit EpochSettlement.NodeScorePublished(
                e,
                s.nodeKey,
                s.rank,
                s.score,
                s.availability,
                s.latencyP50Ms,
                s.latencyP95Ms,
                s.verifiedUnits,
                s.reward,
                s.faults
            );
        }
    }

    function testFuzz_publishScores_hashChainInOrder(uint8 total, uint8 chunks) public {
        chunks = uint8(bound(chunks, 1, 3));
        total = uint8(bound(total, chunks, 12));
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(total, chunks);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);

        for (uint256 c; c < chunks; ++c) {
            _expectScores(1, parts[c]);
            if (c + 1 == chunks) {
                vm.expectEmit(true, true, true, true, address(settlement));
                emit EpochSettlement.ScoresFullyPublished(1);
            }
            settlement.publishScores(1, parts[c], links[c + 1]);
            assertEq(settlement.epochEntry(1).scoresCursor, links[c + 1]);
        }
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.ScoresAlreadyPublished.selector, 1));
        settlement.publishScores(1, parts[0], links[1]);
    }

    function test_publishScores_partialDoesNotEmitFullyPublished() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(6, 3);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.recordLogs();
        settlement.publishScores(1, parts[0], links[1]);
        assertEq(vm.getRecordedLogs().length, 2); // two NodeScorePublished, no ScoresFullyPublished
    }

    function test_RevertWhen_publishScores_wrongOrder() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(6, 3);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[0], links[1])
        );
        settlement.publishScores(1, parts[1], links[2]);

        settlement.publishScores(1, parts[0], links[1]);
        // chunk 2 before chunk 1
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], links[2])
        );
        settlement.publishScores(1, parts[2], SCORES_END);
        // the right chunk with a wrong `next`
        bytes32 bad = keccak256(abi.encode(keccak256(abi.encode(parts[1])), SCORES_END));
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], bad)
        );
        settlement.publishScores(1, parts[1], SCORES_END);
        // a tampered chunk
        parts[1][0].reward += 1;
        bytes32 tampered = keccak256(abi.encode(keccak256(abi.encode(parts[1])), links[2]));
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], tampered)
        );
        settlement.publishScores(1, parts[1], links[2]);
    }

    function test_RevertWhen_publishScores_headerWithoutScores() public {
        _submit(_h(1)); // scoresHash == SCORES_END
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.ScoresAlreadyPublished.selector, 1));
        settlement.publishScores(1, new NodeScore[](0), SCORES_END);
    }

    function testFuzz_RevertWhen_publishScores_futureEpoch(uint32 epoch) public {
        epoch = uint32(bound(epoch, 2, type(uint32).max));
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, epoch));
        settlement.publishScores(epoch, new NodeScore[](0), SCORES_END);
    }

    function test_RevertWhen_publishScores_epochZero() public {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.publishScores(0, new NodeScore[](0), SCORES_END);
    }

    function test_RevertWhen_publishScores_epochPushedOutOfRing() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(2, 1);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submitAndFinalize(h);
        for (uint32 e = 2; e <= 8; ++e) {
            _submitAndFinalize(_h(e));
        }
        // epoch 8 still leaves slot 1 alone; epoch 9 takes it
        settlement.epochEntry(1);
        _submit(_h(9));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.publishScores(1, parts[0], links[1]);
    }

    function test_publishScores_pendingAndDisputedEpochs() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(3, 1);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.prank(owner);
        settlement.dispute(1, "x");
        _expectScores(1, parts[0]);
        settlement.publishScores(1, parts[0], SCORES_END);
        assertEq(settlement.epochEntry(1).scoresCursor, SCORES_END);
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
