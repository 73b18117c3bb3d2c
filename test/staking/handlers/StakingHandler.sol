// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../../contracts/libraries/EpochHeaderLib.sol";
import {QuorumSigning} from "../../utils/QuorumSigning.sol";

/// @notice Drives NodeStaking through random sequences of operator actions, settlement faults (any fault epoch,
///         in any order), equivocation proofs, sweeps, donations, time warps and epoch settlement (headers signed
///         by the guardians and finalized on the real EpochSettlement), and keeps ghost accounting and a model
///         of the cap, the strike ring and the withdrawal gate for the invariants.
/// @dev The per-epoch cap is keyed on the settlement clock (`settlement.currentEpoch()`), which only moves with
///      time; fault epochs are random. Every call the handler makes is checked against the model: an expected
///      revert must carry the exact error, and an unexpected revert or success is counted in a ghost.
contract StakingHandler is CommonBase, StdUtils {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_NODES = 6;
    uint96 internal constant MAX_DEPOSIT = 500_000 ether;
    uint256 internal constant RING_SIZE = 4;

    NodeStaking public immutable staking;
    IERC20 public immutable token;
    EpochSettlement public immutable settlement;
    address public immutable finder;
    uint96 internal immutable minStake;

    address[] public operators;
    address[] public nodeKeys;
    mapping(address nodeKey => uint256 pk) internal keyOf;
    uint256 internal nextPk = 0xB0B0;

    address[] internal guardians;
    uint256[] internal guardianKeys;
    /// @notice Last epoch this handler submitted to the settlement.
    uint32 public submitted;

    // ---------------------------------------------------------------- ghosts
    mapping(address nodeKey => mapping(uint32 clockEpoch => uint256)) public ghost_slashedInClockEpoch;
    /// @notice Model of each node's strike ring: the four latest distinct strike epochs, ascending.
    mapping(address nodeKey => uint32[]) internal _modelRing;
    /// @notice Slashes that took more than maxSlashBps of (stake + unbonding + already slashed) in a clock epoch.
    uint256 public ghost_capViolations;
    /// @notice Slashes that returned more than requested.
    uint256 public ghost_overRequested;
    /// @notice Slashes whose amount or revert differed from the model (min(requested, cap left), revert at 0).
    uint256 public ghost_capMismatch;
    /// @notice Strike rings or ejections that differed from the model.
    uint256 public ghost_strikeMismatch;
    /// @notice Withdrawals that succeeded or failed against the model (cooldown + finalized unbonding epoch).
    uint256 public ghost_withdrawMismatch;
    /// @notice Handler-level calls that reverted where the model expected success.
    uint256 public ghost_unexpectedReverts;
    uint256 public ghost_deposited;
    uint256 public ghost_donated;
    uint256 public ghost_withdrawn;
    uint256 public ghost_slashed;
    uint256 public ghost_finderFees;
    uint256 public ghost_swept;
    uint256 public ghost_ejections;
    mapping(bytes32 => uint256) public calls;

    constructor(
        NodeStaking staking_,
        IERC20 token_,
        EpochSettlement settlement_,
        address[] memory guardians_,
        uint256[] memory guardianKeys_
    ) {
        staking = staking_;
        token = token_;
        settlement = settlement_;
        minStake = staking_.minStake();
        guardians = guardians_;
        guardianKeys = guardianKeys_;
        finder = address(uint160(uint256(keccak256("handler.finder"))));
        for (uint256 i; i < 3; ++i) {
            operators.push(address(uint160(uint256(keccak256(abi.encode("handler.operator", i))))));
        }
    }

    function nodeCount() external view returns (uint256) {
        return nodeKeys.length;
    }

    function modelRing(address nodeKey) external view returns (uint32[] memory) {
        return _modelRing[nodeKey];
    }

    // ---------------------------------------------------------------- operator actions

    function register(uint256 operatorSeed, uint96 amount) external {
        if (nodeKeys.length >= MAX_NODES) return;
        address op = operators[operatorSeed % operators.length];
        // half the nodes close to the minimum, so slashes can eject them
        amount = uint96(
            operatorSeed % 2 == 0
                ? bound(amount, minStake, minStake + minStake / 5)
                : bound(amount, minStake, MAX_DEPOSIT)
        );
        uint256 pk = nextPk++;
        address nodeKey = vm.addr(pk);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, staking.nodeKeyConsentDigest(op));

        token.transfer(op, amount);
        vm.startPrank(op);
        token.approve(address(staking), amount);
        staking.register(nodeKey, amount, abi.encodePacked(r, s, v), "wss://node", "ipfs://meta");
        vm.stopPrank();

        nodeKeys.push(nodeKey);
        keyOf[nodeKey] = pk;
        ghost_deposited += amount;
        ++calls["register"];
    }

    function increaseStake(uint256 nodeSeed, uint96 amount) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found || !staking.isActive(nodeKey)) return;
        address op = staking.getNode(nodeKey).operator;
        amount = uint96(bound(amount, 1, MAX_DEPOSIT));

        token.transfer(op, amount);
        vm.startPrank(op);
        token.approve(address(staking), amount);
        staking.increaseStake(nodeKey, amount);
        vm.stopPrank();

        ghost_deposited += amount;
        ++calls["increaseStake"];
    }

    function requestUnbond(uint256 nodeSeed, uint96 amount, bool full) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found || !staking.isActive(nodeKey)) return;
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (full || n.stake == minStake) amount = n.stake;
        else amount = uint96(bound(amount, 1, n.stake - minStake));

        vm.prank(n.operator);
        staking.requestUnbond(nodeKey, amount);
        NodeStaking.Node memory m = staking.getNode(nodeKey);
        if (m.unbondingEpoch != settlement.currentEpoch() || m.unbonding != n.unbonding + amount) {
            ++ghost_withdrawMismatch;
        }
        ++calls[full || amount == n.stake ? bytes32("unbondAll") : bytes32("unbondPartial")];
    }

    function withdraw(uint256 nodeSeed, uint256 warpBy) external {
        vm.warp(block.timestamp + bound(warpBy, 0, uint256(staking.unbondingPeriod())));
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found) return;
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (n.unbonding == 0 || block.timestamp < n.unbondingReleaseAt) return;
        uint32 lastFinalized = settlement.lastFinalizedEpoch();

        uint256 opensAt = staking.faultWindowEnd(nodeKey);
        uint256 before = token.balanceOf(n.operator);
        vm.prank(n.operator);
        try staking.withdraw(nodeKey) {
            if (lastFinalized < n.unbondingEpoch) ++ghost_withdrawMismatch; // withdrew before finalization
            if (block.timestamp < opensAt) ++ghost_withdrawMismatch; // withdrew inside the fault window
            if (token.balanceOf(n.operator) - before != n.unbonding) ++ghost_withdrawMismatch;
            ghost_withdrawn += n.unbonding;
            ++calls["withdraw"];
        } catch (bytes memory err) {
            if (lastFinalized < n.unbondingEpoch) {
                bytes memory expected = abi.encodeWithSelector(
                    NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, n.unbondingEpoch, lastFinalized
                );
                if (keccak256(err) != keccak256(expected)) ++ghost_withdrawMismatch;
                ++calls["withdrawNotFinalized"];
            } else {
                bytes memory expected =
                    abi.encodeWithSelector(NodeStaking.FaultWindowOpen.selector, nodeKey, uint40(opensAt));
                if (block.timestamp >= opensAt || keccak256(err) != keccak256(expected)) {
                    ++ghost_withdrawMismatch;
                }
                ++calls["withdrawFaultWindow"];
            }
        }
    }

    function donate(uint96 amount) external {
        amount = uint96(bound(amount, 1, 10_000 ether));
        token.transfer(address(staking), amount);
        ghost_donated += amount;
        ++calls["donate"];
    }

    // ---------------------------------------------------------------- time and settlement

    function warp(uint256 secondsForward) external {
        vm.warp(block.timestamp + bound(secondsForward, 1, 3 days));
        ++calls["warp"];
    }

    /// @notice Keeps the settlement going: each round finalizes what is due, submits every ended epoch the
    ///         ring has room for, and lets one dispute window pass (so settlement can catch up with the clock).
    function settle(uint256 rounds) external {
        rounds = bound(rounds, 1, 6);
        for (uint256 r; r < rounds; ++r) {
            _finalizeDue();
            while (true) {
                uint32 next = submitted + 1;
                if (block.timestamp < settlement.epochEnd(next)) break;
                if (next - settlement.lastFinalizedEpoch() >= settlement.EPOCH_RING_SIZE()) break;
                _submitEpoch(next);
            }
            vm.warp(block.timestamp + settlement.disputeWindow());
        }
        _finalizeDue();
        ++calls["settle"];
    }

    // ---------------------------------------------------------------- protocol actions

    function applyFault(uint256 nodeSeed, uint256 faultEpochSeed, uint96 amount, bool strike) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found) return;
        uint32 clock = settlement.currentEpoch();
        uint32 faultEpoch = _randomEpoch(faultEpochSeed, clock); // any order
        amount = uint96(bound(amount, 0, 100_000 ether));
        Pre memory pre = _preSlash(nodeKey, clock);

        vm.prank(address(settlement));
        try staking.applyFault(nodeKey, faultEpoch, clock, amount, strike, finder) returns (uint96 slashed) {
            if (slashed > amount) ++ghost_overRequested;
            // should have reverted: the cap of this clock epoch was used up by earlier slashes
            if (amount != 0 && pre.capLeft == 0 && pre.already != 0) ++ghost_capMismatch;
            if (slashed != (amount < pre.capLeft ? amount : pre.capLeft)) ++ghost_capMismatch;
            _recordSlash(nodeKey, clock, slashed, pre);
            _checkStrike(nodeKey, faultEpoch, strike, slashed, pre);
            ++calls[strike ? bytes32("faultStrike") : bytes32("fault")];
        } catch (bytes memory err) {
            _expectCapReached(err, nodeKey, clock, amount, pre);
        }
    }

    function proveEquivocation(uint256 nodeSeed, uint256 epochSeed, bytes32 rootA, bytes32 rootB) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found) return;
        uint32 clock = settlement.currentEpoch();
        uint32 epoch = _randomEpoch(epochSeed, clock);
        if (staking.equivocationProven(nodeKey, epoch)) return;
        if (rootA == rootB) rootB = ~rootA;
        uint256 pk = keyOf[nodeKey];
        NodeStaking.EpochCommitment memory a = NodeStaking.EpochCommitment(epoch, rootA, 100, 4);
        NodeStaking.EpochCommitment memory b = NodeStaking.EpochCommitment(epoch, rootB, 100, 4);
        bytes memory sigA = _sign(pk, staking.commitmentDigest(a));
        bytes memory sigB = _sign(pk, staking.commitmentDigest(b));
        uint96 requested = staking.equivocationSlash();
        Pre memory pre = _preSlash(nodeKey, clock);

        vm.prank(finder);
        try staking.proveEquivocation(a, sigA, b, sigB) returns (uint96 slashed) {
            if (slashed > requested) ++ghost_overRequested;
            if (pre.capLeft == 0 && pre.already != 0) ++ghost_capMismatch; // should have reverted
            if (slashed != (requested < pre.capLeft ? requested : pre.capLeft)) ++ghost_capMismatch;
            _recordSlash(nodeKey, clock, slashed, pre);
            _checkStrike(nodeKey, epoch, true, slashed, pre);
            ++calls["equivocation"];
        } catch (bytes memory err) {
            _expectCapReached(err, nodeKey, clock, requested, pre);
        }
    }

    function sweepSlashed() external {
        uint256 pending = staking.sweepableSlashed();
        if (pending == 0) return;
        staking.sweepSlashed();
        ghost_swept += pending;
        ++calls["sweep"];
    }

    // ---------------------------------------------------------------- internals

    struct Pre {
        uint256 stake;
        uint256 unbonding;
        uint256 already;
        uint256 capLeft;
        bool wasActive;
    }

    function _pick(uint256 seed) internal view returns (address nodeKey, bool found) {
        uint256 count = nodeKeys.length;
        if (count == 0) return (address(0), false);
        return (nodeKeys[seed % count], true);
    }

    /// @dev Fault epochs in random order, mostly recent (so strikes cluster within the window), sometimes any.
    function _randomEpoch(uint256 seed, uint32 clock) internal pure returns (uint32) {
        if (seed % 4 == 0) return uint32(bound(seed >> 2, 1, uint256(clock) + 5));
        uint256 lo = clock > 12 ? clock - 12 : 1;
        return uint32(bound(seed >> 2, lo, uint256(clock) + 2));
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The model's view before a slash: what is left of the clock epoch's cap, from the ghost.
    function _preSlash(address nodeKey, uint32 clock) internal view returns (Pre memory pre) {
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        pre.stake = n.stake;
        pre.unbonding = n.unbonding;
        pre.already = ghost_slashedInClockEpoch[nodeKey][clock];
        uint256 cap = (pre.stake + pre.unbonding + pre.already) * staking.maxSlashBps() / BPS;
        pre.capLeft = cap > pre.already ? cap - pre.already : 0;
        pre.wasActive = n.status == NodeStaking.NodeStatus.Active;
    }

    function _expectCapReached(
        bytes memory err,
        address nodeKey,
        uint32 clock,
        uint96 requested,
        Pre memory pre
    ) internal {
        bytes memory expected = abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock);
        // only a cap used up by earlier slashes of this clock epoch defers a fault; nothing left (withdrawn
        // or dust) slashes nothing instead (issue 12 §2)
        if (requested == 0 || pre.capLeft != 0 || pre.already == 0 || keccak256(err) != keccak256(expected)) {
            ++ghost_unexpectedReverts;
        }
        ++calls["capReached"];
    }

    function _recordSlash(address nodeKey, uint32 clock, uint96 slashed, Pre memory pre) internal {
        // A slash may only take what the cap allows at the time it happens (a withdrawal can shrink the base
        // later, after which less or nothing more can be taken in that clock epoch).
        if (
            slashed != 0
                && pre.already + slashed
                    > (pre.stake + pre.unbonding + pre.already) * staking.maxSlashBps() / BPS
        ) {
            ++ghost_capViolations;
        }
        ghost_slashedInClockEpoch[nodeKey][clock] = pre.already + slashed;
        ghost_slashed += slashed;
        ghost_finderFees += uint256(slashed) * staking.finderFeeBps() / BPS;
        if (pre.wasActive && !staking.isActive(nodeKey)) ++ghost_ejections;
    }

    /// @dev Updates the ring model and checks the stored ring and the node's status against it. Status model:
    ///      an Active node is ejected when its stake falls below the minimum or, on a new strike, when some
    ///      `maxStrikes` of the stored epochs plus the new one span less than the window.
    function _checkStrike(address nodeKey, uint32 epoch, bool strike, uint96 slashed, Pre memory pre)
        internal
    {
        uint32[] storage ring = _modelRing[nodeKey];
        bool isNew = strike;
        if (strike) {
            for (uint256 i; i < ring.length; ++i) {
                if (ring[i] == epoch) isNew = false;
            }
        }
        bool windowHit;
        if (isNew) {
            // insert sorted, check the window over the stored epochs plus the new one, keep the latest four
            ring.push(epoch);
            for (uint256 i = ring.length - 1; i > 0 && ring[i - 1] > ring[i]; --i) {
                (ring[i - 1], ring[i]) = (ring[i], ring[i - 1]);
            }
            windowHit = _someWithinWindow(ring);
            if (ring.length > RING_SIZE) {
                for (uint256 i = 1; i < ring.length; ++i) {
                    ring[i - 1] = ring[i];
                }
                ring.pop();
            }
        }
        uint128 packed;
        for (uint256 i; i < ring.length; ++i) {
            packed |= uint128(uint256(ring[i]) << (32 * i));
        }
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (n.recentStrikeEpochs != packed) ++ghost_strikeMismatch;

        uint256 fromStake = slashed < pre.stake ? slashed : pre.stake;
        bool stakeEject = pre.wasActive && pre.stake - fromStake < minStake;
        bool strikeEject = pre.wasActive && !stakeEject && isNew && windowHit;
        bool expectActive = pre.wasActive && !stakeEject && !strikeEject;
        if ((n.status == NodeStaking.NodeStatus.Active) != expectActive) ++ghost_strikeMismatch;
    }

    /// @dev Brute force: do some `maxStrikes` of `ring` lie within `strikeWindowEpochs`?
    function _someWithinWindow(uint32[] storage ring) internal view returns (bool) {
        uint256 k = staking.maxStrikes();
        uint256 window = staking.strikeWindowEpochs();
        uint256 len = ring.length;
        for (uint256 mask = 1; mask < (1 << len); ++mask) {
            uint256 count;
            uint32 lo = type(uint32).max;
            uint32 hi;
            for (uint256 j; j < len; ++j) {
                if (mask & (1 << j) == 0) continue;
                ++count;
                if (ring[j] < lo) lo = ring[j];
                if (ring[j] > hi) hi = ring[j];
            }
            if (count == k && hi - lo < window) return true;
        }
        return false;
    }

    function _finalizeDue() internal {
        try settlement.finalizeEpochs() {
            ++calls["finalize"];
        } catch (bytes memory err) {
            if (bytes4(err) != EpochSettlement.NothingToFinalize.selector) ++ghost_unexpectedReverts;
        }
    }

    function _submitEpoch(uint32 epoch) internal {
        EpochHeader memory h = QuorumSigning.header(epoch, bytes32(0), 0, 0);
        uint256 bitmap = (uint256(1) << settlement.thresholdFor(uint8(guardians.length))) - 1;
        GuardianQuorum.Signature[] memory sigs =
            QuorumSigning.signDigest(settlement.headerDigest(h), guardianKeys, bitmap);
        settlement.submitEpoch(h, guardians, bitmap, sigs);
        submitted = epoch;
        ++calls["submit"];
    }
}
