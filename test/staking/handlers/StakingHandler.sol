// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";

/// @notice Drives NodeStaking through random sequences of operator actions, settlement faults, equivocation
///         proofs, sweeps and time warps, and keeps ghost accounting for the invariants.
/// @dev Slashes use a global epoch that only moves forward (`advanceEpoch`). The contract tracks the per-epoch
///      cap for the last slashed epoch only, so slashing an OLDER epoch in between breaks the cap (reported as
///      a contract bug, see test_ApplyFault_PerEpochCapHoldsWhenEpochsInterleave); with forward-only epochs the
///      cap must hold exactly.
contract StakingHandler is CommonBase, StdUtils {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_NODES = 10;
    uint96 internal constant MAX_DEPOSIT = 500_000 ether;

    NodeStaking public immutable staking;
    IERC20 public immutable token;
    address public immutable settlement;
    address public immutable finder;
    uint96 internal immutable minStake;

    address[] public operators;
    address[] public nodeKeys;
    mapping(address nodeKey => uint256 pk) internal keyOf;
    uint256 internal nextPk = 0xB0B0;

    /// @notice Epoch used by faults and equivocations; only moves forward.
    uint32 public currentEpoch = 1;

    // ---------------------------------------------------------------- ghosts
    mapping(address nodeKey => mapping(uint32 epoch => uint256)) public ghost_slashedInEpoch;
    /// @notice Slashes that took more than maxSlashBps of (stake + unbonding + already slashed) for the epoch.
    uint256 public ghost_capViolations;
    /// @notice Slashes that returned more than requested.
    uint256 public ghost_overRequested;
    uint256 public ghost_deposited;
    uint256 public ghost_withdrawn;
    uint256 public ghost_slashed;
    uint256 public ghost_finderFees;
    uint256 public ghost_swept;
    uint256 public ghost_ejections;
    mapping(bytes32 => uint256) public calls;

    constructor(NodeStaking staking_, IERC20 token_, address settlement_) {
        staking = staking_;
        token = token_;
        settlement = settlement_;
        minStake = staking_.minStake();
        finder = address(uint160(uint256(keccak256("handler.finder"))));
        for (uint256 i; i < 3; ++i) {
            operators.push(address(uint160(uint256(keccak256(abi.encode("handler.operator", i))))));
        }
    }

    function nodeCount() external view returns (uint256) {
        return nodeKeys.length;
    }

    // ---------------------------------------------------------------- operator actions

    function register(uint256 operatorSeed, uint96 amount) external {
        if (nodeKeys.length >= MAX_NODES) return;
        address op = operators[operatorSeed % operators.length];
        amount = uint96(bound(amount, minStake, MAX_DEPOSIT));
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
        ++calls[full || amount == n.stake ? bytes32("unbondAll") : bytes32("unbondPartial")];
    }

    function withdraw(uint256 nodeSeed, uint256 warpBy) external {
        vm.warp(block.timestamp + bound(warpBy, 0, 2 * uint256(staking.unbondingPeriod())));
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found) return;
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (n.unbonding == 0 || block.timestamp < n.unbondingReleaseAt) return;

        uint256 before = token.balanceOf(n.operator);
        vm.prank(n.operator);
        staking.withdraw(nodeKey);
        require(token.balanceOf(n.operator) - before == n.unbonding, "withdrawn amount");

        ghost_withdrawn += n.unbonding;
        ++calls["withdraw"];
    }

    function warp(uint256 secondsForward) external {
        vm.warp(block.timestamp + bound(secondsForward, 1, 3 days));
        ++calls["warp"];
    }

    function advanceEpoch(uint256 epochs) external {
        currentEpoch += uint32(bound(epochs, 1, 12));
        ++calls["advanceEpoch"];
    }

    // ---------------------------------------------------------------- protocol actions

    function applyFault(uint256 nodeSeed, uint96 amount, bool strike) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found) return;
        amount = uint96(bound(amount, 0, 100_000 ether));
        (uint256 base, uint256 already, bool wasActive) = _preSlash(nodeKey);

        vm.prank(settlement);
        uint96 slashed = staking.applyFault(nodeKey, currentEpoch, amount, strike, finder);

        if (slashed > amount) ++ghost_overRequested;
        _recordSlash(nodeKey, slashed, base, already, wasActive);
        ++calls[strike ? bytes32("faultStrike") : bytes32("fault")];
    }

    function proveEquivocation(uint256 nodeSeed, bytes32 rootA, bytes32 rootB) external {
        (address nodeKey, bool found) = _pick(nodeSeed);
        if (!found || staking.equivocationProven(nodeKey, currentEpoch)) return;
        if (rootA == rootB) rootB = ~rootA;
        uint256 pk = keyOf[nodeKey];
        NodeStaking.EpochCommitment memory a = NodeStaking.EpochCommitment(currentEpoch, rootA, 100, 4);
        NodeStaking.EpochCommitment memory b = NodeStaking.EpochCommitment(currentEpoch, rootB, 100, 4);
        bytes memory sigA = _sign(pk, staking.commitmentDigest(a));
        bytes memory sigB = _sign(pk, staking.commitmentDigest(b));
        (uint256 base, uint256 already, bool wasActive) = _preSlash(nodeKey);

        vm.prank(finder);
        uint96 slashed = staking.proveEquivocation(a, sigA, b, sigB);

        if (slashed > staking.equivocationSlash()) ++ghost_overRequested;
        _recordSlash(nodeKey, slashed, base, already, wasActive);
        ++calls["equivocation"];
    }

    function sweepSlashed() external {
        uint256 pending = staking.slashedPendingSweep();
        if (pending == 0) return;
        staking.sweepSlashed();
        ghost_swept += pending;
        ++calls["sweep"];
    }

    // ---------------------------------------------------------------- internals

    function _pick(uint256 seed) internal view returns (address nodeKey, bool found) {
        uint256 count = nodeKeys.length;
        if (count == 0) return (address(0), false);
        return (nodeKeys[seed % count], true);
    }

    function _sign(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _preSlash(address nodeKey)
        internal
        view
        returns (uint256 base, uint256 already, bool wasActive)
    {
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        already = ghost_slashedInEpoch[nodeKey][currentEpoch];
        base = uint256(n.stake) + n.unbonding + already;
        wasActive = n.status == NodeStaking.NodeStatus.Active;
    }

    function _recordSlash(address nodeKey, uint96 slashed, uint256 base, uint256 already, bool wasActive)
        internal
    {
        // A slash may only take what the cap allows at the time it happens (a withdrawal can shrink the base
        // later, after which nothing more can be taken for that epoch).
        if (slashed != 0 && already + slashed > base * staking.maxSlashBps() / BPS) ++ghost_capViolations;
        ghost_slashedInEpoch[nodeKey][currentEpoch] = already + slashed;
        ghost_slashed += slashed;
        ghost_finderFees += uint256(slashed) * staking.finderFeeBps() / BPS;
        if (wasActive && !staking.isActive(nodeKey)) ++ghost_ejections;
    }
}
