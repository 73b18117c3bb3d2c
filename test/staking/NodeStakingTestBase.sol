// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";

/// @notice Set-up and helpers shared by the NodeStaking test files (`NodeStaking.<concern>.t.sol`).
/// @dev The settlement is the real EpochSettlement of the suite: its clock (`currentEpoch`, 1 at genesis, one
///      epoch per `EPOCH` seconds) keys the per-epoch slash cap, and its `lastFinalizedEpoch` gates withdrawals.
///      Faults are applied by pranking the settlement with the clock it would pass.
abstract contract NodeStakingTestBase is ProtocolTestBase {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint96 internal constant MAX_FUZZ_STAKE = 100_000_000 ether;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    address internal operator2 = makeAddr("operator2");
    address internal stranger = makeAddr("stranger");

    /// @notice The settlement clock, computed locally (no external call, so it is safe between a
    ///         `vm.expectRevert`/`vm.expectEmit` and the call it targets).
    ///         `testFuzz_Clock_MatchesSettlement` checks it against `settlement.currentEpoch()`.
    function _clock() internal view returns (uint32) {
        return uint32((block.timestamp - genesis) / EPOCH + 1);
    }

    /// @notice Moves the settlement clock one epoch forward.
    function _nextClockEpoch() internal {
        vm.warp(block.timestamp + EPOCH);
    }

    /// @notice Applies a fault the way the settlement does: with the current settlement-clock epoch.
    function _fault(address nodeKey, uint32 faultEpoch, uint96 amount, bool strike)
        internal
        returns (uint96)
    {
        return _faultAt(nodeKey, faultEpoch, _clock(), amount, strike);
    }

    /// @notice Applies a fault with an explicit settlement-clock epoch.
    function _faultAt(address nodeKey, uint32 faultEpoch, uint32 clock, uint96 amount, bool strike)
        internal
        returns (uint96)
    {
        vm.prank(address(settlement));
        return staking.applyFault(nodeKey, faultEpoch, clock, amount, strike, finder);
    }

    function _strike(address nodeKey, uint32 epoch) internal {
        _fault(nodeKey, epoch, 0, true);
    }

    function _commit(uint32 epoch, bytes32 root)
        internal
        pure
        returns (NodeStaking.EpochCommitment memory c)
    {
        c = NodeStaking.EpochCommitment({epoch: epoch, root: root, totalUnits: 1_000, leafCount: 10});
    }

    struct Proof {
        NodeStaking.EpochCommitment a;
        bytes sigA;
        NodeStaking.EpochCommitment b;
        bytes sigB;
    }

    function _proof(uint256 pk, uint32 epoch, bytes32 rootA, bytes32 rootB)
        internal
        view
        returns (Proof memory p)
    {
        p.a = _commit(epoch, rootA);
        p.b = _commit(epoch, rootB);
        p.sigA = _signCommitment(pk, p.a);
        p.sigB = _signCommitment(pk, p.b);
    }

    /// @notice A proof of `pk` equivocating in `epoch` (two commitments differing in their root).
    function _proof(uint256 pk, uint32 epoch) internal view returns (Proof memory) {
        return _proof(pk, epoch, keccak256("root-a"), keccak256("root-b"));
    }

    function _submitProof(Proof memory p, address caller) internal returns (uint96) {
        vm.prank(caller);
        return staking.proveEquivocation(p.a, p.sigA, p.b, p.sigB);
    }

    /// @notice Proves an equivocation of `pk` in `epoch` as `caller`.
    function _prove(uint256 pk, uint32 epoch, address caller) internal returns (uint96) {
        return _submitProof(_proof(pk, epoch), caller);
    }

    /// @notice Keeps fuzzed endpoint and metadata strings within what `register`/`updateEndpoint` accept.
    function _assumeValidStrings(string calldata endpoint, string calldata metadataURI) internal view {
        vm.assume(bytes(endpoint).length != 0 && bytes(endpoint).length <= staking.MAX_ENDPOINT_BYTES());
        vm.assume(bytes(metadataURI).length <= staking.MAX_METADATA_URI_BYTES());
    }

    function _fundAndApprove(address who, uint256 amount) internal {
        _fund(who, amount);
        vm.prank(who);
        token.approve(address(staking), amount);
    }

    function _config() internal view returns (NodeStaking.Config memory) {
        return _stakingConfig(address(token), address(settlement));
    }

    /// @notice Registers `vm.addr(pk)` on an arbitrary staking deployment.
    function _registerOn(NodeStaking s, uint256 pk, address op, uint96 amount)
        internal
        returns (address nodeKey)
    {
        nodeKey = vm.addr(pk);
        _fund(op, amount);
        (uint8 v, bytes32 r, bytes32 sig) = vm.sign(pk, s.nodeKeyConsentDigest(op));
        vm.startPrank(op);
        token.approve(address(s), amount);
        s.register(nodeKey, amount, abi.encodePacked(r, sig, v), "wss://x", "ipfs://y");
        vm.stopPrank();
    }

    /// @notice Submits and finalizes (empty headers) every epoch after the last finalized one up to
    ///         `target`. Each epoch moves time forward (to its end, then by the dispute window).
    function _finalizeThrough(uint32 target) internal {
        for (uint32 e = settlement.lastFinalizedEpoch() + 1; e <= target; ++e) {
            _submitAndFinalize(_header(e, bytes32(0), 0, 0));
        }
        assertGe(settlement.lastFinalizedEpoch(), target, "finalized");
    }

    /// @notice Makes the node's unbonding withdrawable: finalizes its unbonding epoch and waits out the
    ///         cooldown.
    function _releaseAndFinalize(address nodeKey) internal {
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        _finalizeThrough(n.unbondingEpoch);
        if (block.timestamp < n.unbondingReleaseAt) vm.warp(n.unbondingReleaseAt);
        _passFaultWindow(nodeKey);
    }

    /// @notice Waits out the fault window of the node's unbonding stake (gate 3 of `withdraw`).
    function _passFaultWindow(address nodeKey) internal {
        uint256 opensAt = staking.faultWindowEnd(nodeKey);
        if (vm.getBlockTimestamp() < opensAt) vm.warp(opensAt);
    }

    function _exitAndWithdraw(address nodeKey) internal {
        uint96 stake = staking.getNode(nodeKey).stake;
        vm.prank(operator);
        staking.requestUnbond(nodeKey, stake);
        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
    }

    function _status(address nodeKey) internal view returns (NodeStaking.NodeStatus) {
        return staking.getNode(nodeKey).status;
    }

    function _assertStatus(address nodeKey, NodeStaking.NodeStatus expected) internal view {
        assertEq(uint8(_status(nodeKey)), uint8(expected), "status");
    }

    function _countLogs(Vm.Log[] memory logs, address emitter, bytes32 topic0)
        internal
        pure
        returns (uint256 n)
    {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics[0] == topic0) ++n;
        }
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _boundStake(uint256 amount) internal pure returns (uint96) {
        return uint96(bound(amount, MIN_STAKE, MAX_FUZZ_STAKE));
    }

    /// @notice Slashed stake net of finder fees is exactly `expected`, and it is all that the contract
    ///         holds beyond active and unbonding stake.
    function _assertSweepable(uint256 expected) internal view {
        assertEq(staking.sweepableSlashed(), expected, "sweepable");
        assertEq(
            token.balanceOf(address(staking)),
            staking.totalStaked() + staking.totalUnbonding() + expected,
            "balance == staked + unbonding + sweepable"
        );
    }

    function _fee(uint256 slashed) internal pure returns (uint256) {
        return slashed * FINDER_FEE_BPS / BPS;
    }
}
