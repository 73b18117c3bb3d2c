// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";

/// @notice Unit and fuzz tests for every external function and every revert path of NodeStaking.
/// @dev The settlement is the real EpochSettlement of the suite: its clock (`currentEpoch`, 1 at genesis, one
///      epoch per `EPOCH` seconds) keys the per-epoch slash cap, and its `lastFinalizedEpoch` gates withdrawals.
///      Faults are applied by pranking the settlement with the clock it would pass.
contract NodeStakingTest is ProtocolTestBase {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint96 internal constant MAX_FUZZ_STAKE = 100_000_000 ether;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    address internal operator2 = makeAddr("operator2");
    address internal stranger = makeAddr("stranger");

    // ================================================================ helpers

    /// @notice The settlement clock, computed locally (no external call, so it is safe between a
    ///         `vm.expectRevert`/`vm.expectEmit` and the call it targets). `test_Clock_MatchesSettlement`
    ///         checks it against `settlement.currentEpoch()`.
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

    // ================================================================ constructor

    function test_Constructor_SetsParameters() public view {
        assertEq(address(staking.token()), address(token));
        assertEq(staking.settlement(), address(settlement));
        assertEq(staking.treasury(), treasury);
        assertEq(staking.minStake(), MIN_STAKE);
        assertEq(staking.unbondingPeriod(), UNBONDING);
        assertEq(staking.maxSlashBps(), MAX_SLASH_BPS);
        assertEq(staking.finderFeeBps(), FINDER_FEE_BPS);
        assertEq(staking.equivocationSlash(), EQUIVOCATION_SLASH);
        assertEq(staking.maxStrikes(), MAX_STRIKES);
        assertEq(staking.strikeWindowEpochs(), STRIKE_WINDOW);
        assertEq(staking.MAX_STRIKES_LIMIT(), 4);
        assertEq(staking.BPS(), BPS);
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), 0);
        assertEq(staking.sweepableSlashed(), 0);
    }

    function testFuzz_Constructor_AcceptsValidParameters(
        uint96 minStake,
        uint64 unbonding,
        uint16 maxSlashBps,
        uint16 finderFeeBps,
        uint96 equivocationSlash,
        uint8 maxStrikes,
        uint32 window
    ) public {
        NodeStaking.Config memory c = _config();
        c.minStake = uint96(bound(minStake, 1, type(uint96).max));
        c.unbondingPeriod = uint64(bound(unbonding, 1, type(uint64).max));
        c.maxSlashBps = uint16(bound(maxSlashBps, 1, BPS));
        c.finderFeeBps = uint16(bound(finderFeeBps, 0, BPS));
        c.equivocationSlash = equivocationSlash; // any value, including zero
        c.maxStrikes = uint8(bound(maxStrikes, 1, 4));
        c.strikeWindowEpochs = uint32(bound(window, 1, type(uint32).max));
        NodeStaking s = new NodeStaking(c);
        assertEq(s.minStake(), c.minStake);
        assertEq(s.unbondingPeriod(), c.unbondingPeriod);
        assertEq(s.maxSlashBps(), c.maxSlashBps);
        assertEq(s.finderFeeBps(), c.finderFeeBps);
        assertEq(s.equivocationSlash(), c.equivocationSlash);
        assertEq(s.maxStrikes(), c.maxStrikes);
        assertEq(s.strikeWindowEpochs(), c.strikeWindowEpochs);
    }

    function test_RevertWhen_Constructor_ZeroToken() public {
        NodeStaking.Config memory c = _config();
        c.token = address(0);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.ZeroAddress.selector, string("token")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroSettlement() public {
        NodeStaking.Config memory c = _config();
        c.settlement = address(0);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.ZeroAddress.selector, string("settlement")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroTreasury() public {
        NodeStaking.Config memory c = _config();
        c.treasury = address(0);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.ZeroAddress.selector, string("treasury")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroMinStake() public {
        NodeStaking.Config memory c = _config();
        c.minStake = 0;
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("minStake")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroUnbondingPeriod() public {
        NodeStaking.Config memory c = _config();
        c.unbondingPeriod = 0;
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("unbondingPeriod"))
        );
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroMaxSlashBps() public {
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = 0;
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("maxSlashBps")));
        new NodeStaking(c);
    }

    function testFuzz_RevertWhen_Constructor_MaxSlashBpsAboveBps(uint16 bps) public {
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = uint16(bound(bps, BPS + 1, type(uint16).max));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("maxSlashBps")));
        new NodeStaking(c);
    }

    function testFuzz_RevertWhen_Constructor_FinderFeeBpsAboveBps(uint16 bps) public {
        NodeStaking.Config memory c = _config();
        c.finderFeeBps = uint16(bound(bps, BPS + 1, type(uint16).max));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("finderFeeBps")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroMaxStrikes() public {
        NodeStaking.Config memory c = _config();
        c.maxStrikes = 0;
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("maxStrikes")));
        new NodeStaking(c);
    }

    function testFuzz_RevertWhen_Constructor_MaxStrikesAboveLimit(uint8 maxStrikes) public {
        NodeStaking.Config memory c = _config();
        c.maxStrikes = uint8(bound(maxStrikes, 5, type(uint8).max));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("maxStrikes")));
        new NodeStaking(c);
    }

    function test_RevertWhen_Constructor_ZeroStrikeWindow() public {
        NodeStaking.Config memory c = _config();
        c.strikeWindowEpochs = 0;
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("strikeWindowEpochs"))
        );
        new NodeStaking(c);
    }

    // ================================================================ register

    function testFuzz_Register(
        uint256 pk,
        uint96 amount,
        string calldata endpoint,
        string calldata metadataURI
    ) public {
        pk = bound(pk, 1, SECP256K1_N - 1);
        address nodeKey = vm.addr(pk);
        amount = _boundStake(amount);
        _fundAndApprove(operator, amount);
        bytes memory consent = _keyConsent(pk, operator);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeRegistered(nodeKey, operator, amount, endpoint, metadataURI);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(operator, address(staking), amount);
        vm.prank(operator);
        staking.register(nodeKey, amount, consent, endpoint, metadataURI);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.operator, operator);
        assertEq(n.stake, amount);
        assertEq(n.unbonding, 0);
        assertEq(n.unbondingReleaseAt, 0);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
        assertEq(n.lastSlashEpoch, 0);
        assertEq(n.slashedInLastSlashEpoch, 0);
        assertEq(n.recentStrikeEpochs, 0);
        assertEq(n.unbondingEpoch, 0);
        assertTrue(staking.isActive(nodeKey));
        assertEq(staking.totalStaked(), amount);
        assertEq(staking.totalUnbonding(), 0);
        assertEq(token.balanceOf(address(staking)), amount);
        assertEq(token.balanceOf(operator), 0);
    }

    function test_Register_SeveralNodesByOneOperator() public {
        (address a,) = _registerNode("a", operator, MIN_STAKE);
        (address b,) = _registerNode("b", operator, 2 * MIN_STAKE);
        assertEq(staking.getNode(a).operator, operator);
        assertEq(staking.getNode(b).operator, operator);
        assertEq(staking.totalStaked(), 3 * MIN_STAKE);
        assertEq(token.balanceOf(address(staking)), 3 * MIN_STAKE);
    }

    function test_RevertWhen_Register_ZeroNodeKey() public {
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.ZeroAddress.selector, string("nodeKey")));
        staking.register(address(0), MIN_STAKE, new bytes(65), "", "");
    }

    function test_RevertWhen_Register_KeyAlreadyRegistered() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _fundAndApprove(operator2, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator2);
        vm.prank(operator2);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function test_RevertWhen_Register_KeyAlreadyRegisteredBySameOperator() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function test_RevertWhen_Register_KeyReusedAfterExit() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _exitAndWithdraw(nodeKey);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 0);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);

        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function test_RevertWhen_Register_KeyReusedAfterEjection() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1 ether, false);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);

        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function testFuzz_RevertWhen_Register_BelowMinStake(uint96 amount) public {
        amount = uint96(bound(amount, 0, MIN_STAKE - 1));
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.StakeBelowMinimum.selector, amount, MIN_STAKE));
        staking.register(nodeKey, amount, consent, "", "");
    }

    function testFuzz_RevertWhen_Register_ConsentSignedByAnotherKey(uint256 otherPk) public {
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        otherPk = bound(otherPk, 1, SECP256K1_N - 1);
        vm.assume(otherPk != pk);
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(otherPk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function testFuzz_RevertWhen_Register_ConsentForAnotherOperator(address intended) public {
        vm.assume(intended != operator);
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, intended); // the key consented to `intended`, not `operator`
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function test_Register_FrontRunWithStolenConsentFails() public {
        // operator2 sees operator's pending registration and replays the consent for itself.
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        bytes memory consent = _keyConsent(pk, operator);
        _fundAndApprove(operator2, MIN_STAKE);
        vm.prank(operator2);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");

        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
        assertEq(staking.getNode(nodeKey).operator, operator);
    }

    function testFuzz_RevertWhen_Register_MalformedConsent(bytes calldata consent) public {
        vm.assume(consent.length != 65);
        (address nodeKey,) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    function test_RevertWhen_Register_MalleableHighSConsent() public {
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, staking.nodeKeyConsentDigest(operator));
        // (r, n - s, v ^ 1) recovers the same key through ecrecover, but OpenZeppelin rejects high s.
        uint8 flippedV = v == 27 ? uint8(28) : uint8(27);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        bytes memory malleable = abi.encodePacked(r, highS, flippedV);
        assertEq(ecrecover(staking.nodeKeyConsentDigest(operator), flippedV, r, highS), nodeKey);
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, malleable, "", "");
    }

    function test_RevertWhen_Register_ConsentForAnotherDeployment() public {
        NodeStaking other = new NodeStaking(_config());
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, other.nodeKeyConsentDigest(operator));
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, abi.encodePacked(r, s, v), "", "");
    }

    function test_RevertWhen_Register_NotApproved() public {
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        _fund(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(staking), 0, uint256(MIN_STAKE)
            )
        );
        staking.register(nodeKey, MIN_STAKE, consent, "", "");
    }

    // ================================================================ updateEndpoint

    function testFuzz_UpdateEndpoint(string calldata endpoint, string calldata metadataURI) public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEndpointUpdated(nodeKey, endpoint, metadataURI);
        vm.prank(operator);
        staking.updateEndpoint(nodeKey, endpoint, metadataURI);
    }

    function testFuzz_RevertWhen_UpdateEndpoint_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.updateEndpoint(nodeKey, "wss://evil", "");
    }

    function test_RevertWhen_UpdateEndpoint_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.updateEndpoint(nodeKey, "", "");
    }

    /// @dev Previously a reported bug (an Exiting or Ejected node could still announce endpoints); fixed.
    function test_RevertWhen_UpdateEndpoint_NodeExiting() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Exiting
            )
        );
        staking.updateEndpoint(nodeKey, "wss://gone", "");
    }

    function test_RevertWhen_UpdateEndpoint_NodeEjected() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1, false);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Ejected
            )
        );
        staking.updateEndpoint(nodeKey, "wss://gone", "");
    }

    function test_RevertWhen_UpdateEndpoint_ExitedAndWithdrawn() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _exitAndWithdraw(nodeKey);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Exiting
            )
        );
        staking.updateEndpoint(nodeKey, "wss://gone", "");
    }

    // ================================================================ increaseStake

    function testFuzz_IncreaseStake(uint96 initial, uint96 amount) public {
        initial = _boundStake(initial);
        amount = uint96(bound(amount, 1, MAX_FUZZ_STAKE));
        (address nodeKey,) = _registerNode("node", operator, initial);
        _fundAndApprove(operator, amount);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StakeIncreased(nodeKey, amount, initial + amount);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(operator, address(staking), amount);
        vm.prank(operator);
        staking.increaseStake(nodeKey, amount);

        assertEq(staking.getNode(nodeKey).stake, initial + amount);
        assertEq(staking.totalStaked(), uint256(initial) + amount);
        assertEq(token.balanceOf(address(staking)), uint256(initial) + amount);
        assertEq(token.balanceOf(operator), 0);
        assertEq(staking.slashCapRemaining(nodeKey, 1), (uint256(initial) + amount) * MAX_SLASH_BPS / BPS);
    }

    function test_RevertWhen_IncreaseStake_ZeroAmount() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.increaseStake(nodeKey, 0);
    }

    function testFuzz_RevertWhen_IncreaseStake_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.increaseStake(nodeKey, 1 ether);
    }

    function test_RevertWhen_IncreaseStake_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.increaseStake(nodeKey, 1 ether);
    }

    function test_RevertWhen_IncreaseStake_NodeExiting() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Exiting
            )
        );
        staking.increaseStake(nodeKey, MIN_STAKE);
    }

    function test_RevertWhen_IncreaseStake_NodeEjected() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1, false);
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Ejected
            )
        );
        staking.increaseStake(nodeKey, MIN_STAKE);
    }

    // ================================================================ requestUnbond

    function testFuzz_RequestUnbond_Partial(uint96 stake, uint96 amount) public {
        stake = uint96(bound(stake, MIN_STAKE + 1, MAX_FUZZ_STAKE));
        amount = uint96(bound(amount, 1, stake - MIN_STAKE));
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, amount, stake - amount, releaseAt);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, amount);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, stake - amount);
        assertEq(n.unbonding, amount);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1, "settlement clock at genesis");
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
        assertEq(staking.totalStaked(), stake - amount);
        assertEq(staking.totalUnbonding(), amount);
        assertEq(token.balanceOf(address(staking)), stake, "no tokens move on unbond");
    }

    function testFuzz_RequestUnbond_FullExits(uint96 stake) public {
        stake = _boundStake(stake);
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, stake, 0, releaseAt);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, stake);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, stake);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
        assertFalse(staking.isActive(nodeKey));
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), stake);
    }

    function testFuzz_RequestUnbond_RecordsSettlementClockEpoch(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3_650 days);
        (address nodeKey,) = _registerNode("node", operator, 2 * MIN_STAKE);
        vm.warp(block.timestamp + elapsed);
        uint32 expected = uint32(elapsed / EPOCH + 1);
        assertEq(settlement.currentEpoch(), expected);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, expected);
    }

    function testFuzz_RequestUnbond_RestartsCooldown(uint96 first, uint96 second, uint256 elapsed) public {
        uint96 stake = 10 * MIN_STAKE;
        first = uint96(bound(first, 1, 4 * MIN_STAKE));
        second = uint96(bound(second, 1, 4 * MIN_STAKE));
        elapsed = bound(elapsed, 1, UNBONDING - 1);
        (address nodeKey,) = _registerNode("node", operator, stake);

        vm.prank(operator);
        staking.requestUnbond(nodeKey, first);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1);
        uint256 firstRelease = block.timestamp + UNBONDING;
        vm.warp(block.timestamp + elapsed);
        uint40 newRelease = uint40(block.timestamp + UNBONDING);
        uint32 secondEpoch = uint32(elapsed / EPOCH + 1);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, second, stake - first - second, newRelease);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, second);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, first + second);
        assertEq(n.unbondingReleaseAt, newRelease);
        assertEq(n.unbondingEpoch, secondEpoch, "the latest unbond moves the epoch to finalize");
        assertGt(newRelease, firstRelease);

        // the first tranche is not released at its original time any more
        vm.warp(firstRelease);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, newRelease)
        );
        staking.withdraw(nodeKey);

        // with only the first tranche's epoch finalized, a second unbond in a later epoch keeps it locked
        if (secondEpoch > 1) {
            _finalizeThrough(secondEpoch - 1);
            if (block.timestamp < newRelease) vm.warp(newRelease);
            vm.prank(operator);
            vm.expectRevert(
                abi.encodeWithSelector(
                    NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, secondEpoch, secondEpoch - 1
                )
            );
            staking.withdraw(nodeKey);
        }

        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), uint256(first) + second);
    }

    function test_RevertWhen_RequestUnbond_ZeroAmount() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.requestUnbond(nodeKey, 0);
    }

    function testFuzz_RevertWhen_RequestUnbond_ExceedsStake(uint96 stake, uint96 amount) public {
        stake = _boundStake(stake);
        amount = uint96(bound(amount, uint256(stake) + 1, type(uint96).max));
        (address nodeKey,) = _registerNode("node", operator, stake);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondExceedsStake.selector, amount, stake));
        staking.requestUnbond(nodeKey, amount);
    }

    function testFuzz_RevertWhen_RequestUnbond_LeavesBelowMinimum(uint96 stake, uint96 amount) public {
        stake = uint96(bound(stake, MIN_STAKE + 1, MAX_FUZZ_STAKE));
        // 0 < remaining < minStake
        amount = uint96(bound(amount, uint256(stake) - MIN_STAKE + 1, uint256(stake) - 1));
        (address nodeKey,) = _registerNode("node", operator, stake);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.StakeBelowMinimum.selector, stake - amount, MIN_STAKE)
        );
        staking.requestUnbond(nodeKey, amount);
    }

    function testFuzz_RevertWhen_RequestUnbond_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.requestUnbond(nodeKey, MIN_STAKE);
    }

    function test_RevertWhen_RequestUnbond_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.requestUnbond(nodeKey, 1);
    }

    function test_RevertWhen_RequestUnbond_NodeExiting() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Exiting
            )
        );
        staking.requestUnbond(nodeKey, 1);
    }

    function test_RevertWhen_RequestUnbond_NodeEjected() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1, false);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.NodeNotActive.selector, nodeKey, NodeStaking.NodeStatus.Ejected
            )
        );
        staking.requestUnbond(nodeKey, 1);
    }

    // ================================================================ withdraw

    function testFuzz_Withdraw(uint96 stake, uint96 amount, uint256 extra) public {
        stake = uint96(bound(stake, MIN_STAKE, MAX_FUZZ_STAKE));
        (address nodeKey,) = _registerNode("node", operator, stake);
        // partial (leaving >= min) or full
        amount = stake == MIN_STAKE ? stake : uint96(bound(amount, 1, stake - MIN_STAKE));
        extra = bound(extra, 0, 365 days);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, amount);
        vm.warp(block.timestamp + UNBONDING + extra);
        _finalizeThrough(1);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StakeWithdrawn(nodeKey, operator, amount);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), operator, amount);
        vm.prank(operator);
        staking.withdraw(nodeKey);

        assertEq(token.balanceOf(operator), amount);
        assertEq(token.balanceOf(address(staking)), stake - amount);
        assertEq(staking.getNode(nodeKey).unbonding, 0);
        assertEq(staking.getNode(nodeKey).stake, stake - amount);
        assertEq(staking.totalUnbonding(), 0);
        assertEq(staking.totalStaked(), stake - amount);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    function test_Withdraw_ExactlyAtRelease() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        _finalizeThrough(1); // two days in, long before the release

        vm.warp(releaseAt - 1);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, releaseAt));
        staking.withdraw(nodeKey);

        vm.warp(releaseAt);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
    }

    function test_RevertWhen_Withdraw_NothingUnbonding() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    /// @dev Nothing is finalized either: the cooldown is checked first.
    function testFuzz_RevertWhen_Withdraw_NotReleased(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, UNBONDING - 1);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.warp(block.timestamp + elapsed);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.UnbondingNotReleased.selector, nodeKey, releaseAt));
        staking.withdraw(nodeKey);
    }

    function testFuzz_RevertWhen_Withdraw_NotOperator(address caller) public {
        vm.assume(caller != operator);
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        _releaseAndFinalize(nodeKey);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NotNodeOperator.selector, nodeKey, caller));
        staking.withdraw(nodeKey);
    }

    function test_RevertWhen_Withdraw_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.withdraw(nodeKey);
    }

    function test_Withdraw_AfterEjectionReturnsRemainingStake() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        uint96 slashed = _fault(nodeKey, 1, type(uint96).max, false);
        assertEq(slashed, MIN_STAKE / 10);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1, "ejection records the clock epoch");
        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - slashed);
        _assertSweepable(slashed - _fee(slashed));
    }

    function test_RevertWhen_Withdraw_UnbondingFullySlashed() public {
        // maxSlashBps = 100% so one fault can take the whole unbonding balance
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = uint16(BPS);
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);
        vm.prank(operator);
        s.requestUnbond(nodeKey, MIN_STAKE);
        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, MIN_STAKE, false, finder), MIN_STAKE);
        vm.warp(block.timestamp + UNBONDING);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NothingToWithdraw.selector, nodeKey));
        s.withdraw(nodeKey);
    }

    // ================================================================ withdraw: finalization of the unbonding epoch

    function test_RevertWhen_Withdraw_UnbondingEpochNotFinalized() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        vm.warp(block.timestamp + UNBONDING + 365 days); // cooldown long over, nothing ever settled
        assertEq(settlement.lastFinalizedEpoch(), 0);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(1), uint32(0)
            )
        );
        staking.withdraw(nodeKey);
        assertEq(staking.getNode(nodeKey).unbonding, MIN_STAKE, "nothing moved");
        assertEq(token.balanceOf(address(staking)), MIN_STAKE);
    }

    function testFuzz_Withdraw_WaitsForFinalizedUnbondingEpoch(uint256 unbondEpoch, uint256 finalized)
        public
    {
        uint32 u = uint32(bound(unbondEpoch, 1, 12));
        uint32 f = uint32(bound(finalized, 0, 14));
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.warp(genesis + uint256(u - 1) * EPOCH + 1 hours);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, u);

        _finalizeThrough(f);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        if (block.timestamp < releaseAt) vm.warp(releaseAt);
        if (f < u) {
            vm.prank(operator);
            vm.expectRevert(
                abi.encodeWithSelector(NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, u, f)
            );
            staking.withdraw(nodeKey);
            _finalizeThrough(u);
        }
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE);
        assertEq(staking.totalUnbonding(), 0);
    }

    /// @notice Settlement stalls (an epoch is disputed): the cooldown and the later epoch's dispute window both
    ///         pass, yet nothing new is finalized, so the stake stays slashable and locked. Once the dispute is
    ///         resolved and the unbonding epoch finalizes, the withdrawal goes through.
    function test_Withdraw_BlockedWhileSettlementStalls() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _finalizeThrough(2); // time: end of epoch 2 + dispute window = start of epoch 4
        assertEq(settlement.currentEpoch(), 4);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 4);

        _submit(_header(3, bytes32(0), 0, 0));
        vm.prank(guardians[0]);
        settlement.dispute(3, "bad scores");
        _submit(_header(4, bytes32(0), 0, 0));
        vm.warp(block.timestamp + UNBONDING + DISPUTE_WINDOW);
        vm.expectRevert(EpochSettlement.NothingToFinalize.selector);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 2);

        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(4), uint32(2)
            )
        );
        staking.withdraw(nodeKey);

        // a fault found meanwhile can still reach the locked stake
        assertEq(_fault(nodeKey, 3, 100 ether, false), 100 ether);

        vm.prank(owner);
        settlement.resolveDispute(3, true);
        settlement.finalizeEpochs();
        assertEq(settlement.lastFinalizedEpoch(), 4);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StakeWithdrawn(nodeKey, operator, MIN_STAKE - 100 ether);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - 100 ether);
    }

    function test_Withdraw_EjectionWaitsForItsClockEpoch() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.warp(genesis + 4 * EPOCH); // clock epoch 5
        assertEq(_fault(nodeKey, 2, 1 ether, false), 1 ether); // below the minimum: ejected
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.unbondingEpoch, 5);
        assertEq(n.unbondingReleaseAt, uint40(block.timestamp + UNBONDING));

        vm.warp(n.unbondingReleaseAt);
        _finalizeThrough(4);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(5), uint32(4)
            )
        );
        staking.withdraw(nodeKey);

        _finalizeThrough(5);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE - 1 ether);
    }

    function test_Withdraw_LaterUnbondMovesTheEpochToFinalize() public {
        (address nodeKey,) = _registerNode("node", operator, 3 * MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE); // clock epoch 1
        _finalizeThrough(1); // now clock epoch 3
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbondingEpoch, 3);
        assertEq(n.unbonding, 2 * MIN_STAKE);

        vm.warp(n.unbondingReleaseAt);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                NodeStaking.UnbondingEpochNotFinalized.selector, nodeKey, uint32(3), uint32(1)
            )
        );
        staking.withdraw(nodeKey);

        _finalizeThrough(3);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 2 * MIN_STAKE);
        assertEq(staking.getNode(nodeKey).stake, MIN_STAKE);
    }

    /// @notice NOTE (reported as a design observation): the gate only requires the unbonding epoch to be
    ///         finalized, with no grace period after finalization. After a stall longer than the cooldown, the
    ///         operator can finalize and withdraw in the same block, before any finder executes the epoch's
    ///         fault leaves; a fault executed afterwards finds nothing left to slash. This pins down the current
    ///         behaviour.
    function test_Withdraw_SameBlockAsFinalizationAfterStall() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE); // clock epoch 1
        bytes32[] memory leaves = new bytes32[](1);
        leaves[0] = Merkle.faultLeaf(1, 0, nodeKey, 500 ether, false);
        EpochHeader memory h = _header(1, bytes32(0), 0, 0);
        h.faultRoot = Merkle.root(leaves);
        h.faultCount = 1;
        _submit(h);
        vm.prank(guardians[0]);
        settlement.dispute(1, "stall");
        vm.warp(genesis + UNBONDING + 30 days); // cooldown long over
        vm.prank(owner);
        settlement.resolveDispute(1, true);

        // one block: finalize, withdraw everything
        settlement.finalizeEpochs();
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), MIN_STAKE);

        bytes32[] memory proof = Merkle.proof(leaves, 0);
        vm.prank(finder);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, settlement.currentEpoch())
        );
        settlement.executeFault(1, 0, nodeKey, 500 ether, false, proof);
    }

    // ================================================================ applyFault: access

    function testFuzz_RevertWhen_ApplyFault_NotSettlement(address caller) public {
        vm.assume(caller != address(settlement));
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.OnlySettlement.selector, caller));
        staking.applyFault(nodeKey, 1, 1, 1 ether, true, caller);
    }

    function test_RevertWhen_ApplyFault_NotRegistered() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.applyFault(nodeKey, 1, 1, 1 ether, false, finder);
    }

    function test_RevertWhen_ApplyFault_NotRegisteredStrikeOnly() public {
        address nodeKey = makeAddr("nobody");
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, nodeKey));
        staking.applyFault(nodeKey, 1, 1, 0, true, finder);
    }

    // ================================================================ applyFault: slashing

    function testFuzz_ApplyFault_SlashCappedAtMaxSlashBps(
        uint96 stake,
        uint96 amount,
        uint32 faultEpoch,
        uint32 clock
    ) public {
        stake = _boundStake(stake);
        amount = uint96(bound(amount, 1, type(uint96).max));
        faultEpoch = uint32(bound(faultEpoch, 1, type(uint32).max));
        clock = uint32(bound(clock, 1, type(uint32).max));
        (address nodeKey,) = _registerNode("node", operator, stake);

        uint96 cap = uint96(uint256(stake) * MAX_SLASH_BPS / BPS);
        assertEq(staking.slashCapRemaining(nodeKey, clock), cap);
        uint96 expected = uint96(_min(amount, cap));
        uint96 fee = uint96(_fee(expected));
        bool ejects = stake - expected < MIN_STAKE;

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, faultEpoch, expected, finder, fee);
        if (ejects) {
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.NodeEjected(nodeKey, faultEpoch, NodeStaking.EjectReason.StakeBelowMinimum);
            vm.expectEmit(true, true, true, true, address(staking));
            emit NodeStaking.UnbondRequested(
                nodeKey, stake - expected, 0, uint40(block.timestamp + UNBONDING)
            );
        }
        if (fee != 0) {
            vm.expectEmit(true, true, true, true, address(token));
            emit IERC20.Transfer(address(staking), finder, fee);
        }
        assertEq(_faultAt(nodeKey, faultEpoch, clock, amount, false), expected);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, clock, "the cap is tracked per settlement-clock epoch");
        assertEq(n.slashedInLastSlashEpoch, expected);
        assertEq(n.recentStrikeEpochs, 0, "no strike requested");
        if (ejects) {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
            assertEq(n.stake, 0);
            assertEq(n.unbonding, stake - expected);
            assertEq(n.unbondingEpoch, 1, "ejection reads the settlement clock");
            assertEq(staking.totalStaked(), 0);
            assertEq(staking.totalUnbonding(), stake - expected);
        } else {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
            assertEq(n.stake, stake - expected);
            assertEq(n.unbonding, 0);
            assertEq(n.unbondingEpoch, 0);
            assertEq(staking.totalStaked(), stake - expected);
            assertEq(staking.totalUnbonding(), 0);
        }
        assertEq(token.balanceOf(finder), fee);
        assertEq(token.balanceOf(address(staking)), stake - fee);
        assertEq(staking.slashCapRemaining(nodeKey, clock), cap - expected);
        _assertSweepable(expected - fee);
    }

    /// @notice Faults of any fault epochs, executed in any order within one settlement-clock epoch, share one
    ///         cap; once it is used up a slashing fault reverts (and stays executable later).
    function testFuzz_ApplyFault_FaultEpochsInAnyOrderShareClockCap(
        uint96 stake,
        uint96[6] memory amounts,
        uint32[6] memory faultEpochs,
        uint256 elapsed
    ) public {
        stake = _boundStake(stake);
        vm.warp(block.timestamp + bound(elapsed, 0, 1_000 days));
        (address nodeKey,) = _registerNode("node", operator, stake);
        uint32 clock = _clock();
        uint256 cap = uint256(stake) * MAX_SLASH_BPS / BPS;
        uint256 total;
        uint256 fees;
        for (uint256 i; i < amounts.length; ++i) {
            uint96 amount = uint96(bound(amounts[i], 1, cap));
            uint32 faultEpoch = uint32(bound(faultEpochs[i], 1, 1_000));
            if (total == cap) {
                vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock));
                _faultAt(nodeKey, faultEpoch, clock, amount, false);
                continue;
            }
            uint256 expected = _min(amount, cap - total);
            assertEq(_faultAt(nodeKey, faultEpoch, clock, amount, false), expected, "slashed");
            total += expected;
            fees += _fee(expected);
            assertEq(staking.slashCapRemaining(nodeKey, clock), cap - total, "cap remaining");
        }
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertLe(total, cap);
        assertEq(uint256(n.stake) + n.unbonding, stake - total);
        assertEq(n.lastSlashEpoch, clock);
        assertEq(n.slashedInLastSlashEpoch, total);
        assertEq(token.balanceOf(finder), fees);
        _assertSweepable(total - fees);
    }

    function test_ApplyFault_SecondSlashInClockEpochCappedAtRemainder() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 7, 6_000 ether, false), 6_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 4_000 ether);
        // another fault epoch, same clock epoch; the base is the stake at the start of the clock epoch:
        // 94k + 6k already slashed
        assertEq(_fault(nodeKey, 8, 6_000 ether, false), 4_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertEq(n.lastSlashEpoch, 1);
        assertEq(n.stake, 90_000 ether);
    }

    function test_RevertWhen_ApplyFault_SlashCapReached() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 3, type(uint96).max, false), 10_000 ether);
        NodeStaking.Node memory before = staking.getNode(nodeKey);
        uint256 finderBefore = token.balanceOf(finder);

        // the whole fault reverts, strike included, so the settlement keeps the leaf executable
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _faultAt(nodeKey, 2, 1, 1, true);

        NodeStaking.Node memory afterwards = staking.getNode(nodeKey);
        assertEq(afterwards.stake, before.stake);
        assertEq(afterwards.slashedInLastSlashEpoch, before.slashedInLastSlashEpoch);
        assertEq(afterwards.recentStrikeEpochs, 0, "no strike recorded");
        assertEq(token.balanceOf(finder), finderBefore);

        // one clock epoch later the same fault goes through
        _nextClockEpoch();
        assertEq(staking.slashCapRemaining(nodeKey, 2), 9_000 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 2, 1, finder, 0);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 1);
        assertEq(_fault(nodeKey, 2, 1, true), 1);
        NodeStaking.Node memory later = staking.getNode(nodeKey);
        assertEq(later.lastSlashEpoch, 2);
        assertEq(later.slashedInLastSlashEpoch, 1);
        assertEq(later.recentStrikeEpochs, 2);
    }

    function test_ApplyFault_StrikeOnlyFaultWhenCapReached() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 3, type(uint96).max, false), 10_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);

        vm.recordLogs();
        assertEq(_fault(nodeKey, 4, 0, true), 0, "a strike-only fault never reverts on the cap");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], NodeStaking.StrikeRecorded.selector);
        assertEq(logs[0].topics[2], bytes32(uint256(4)));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 90_000 ether);
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertEq(n.recentStrikeEpochs, 4);
    }

    function test_ApplyFault_ZeroAmountChangesNothing() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 5, 0, false), 0);
        assertEq(vm.getRecordedLogs().length, 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, MIN_STAKE);
        assertEq(n.lastSlashEpoch, 0, "a zero slash does not touch the epoch tracker");
        assertTrue(staking.isActive(nodeKey));
    }

    function testFuzz_ApplyFault_NewClockEpochResetsCap(
        uint96 stake,
        uint32 clock,
        uint32 gap,
        uint32 faultEpoch
    ) public {
        stake = _boundStake(stake);
        clock = uint32(bound(clock, 1, type(uint32).max - 1));
        gap = uint32(bound(gap, 1, type(uint32).max - clock));
        faultEpoch = uint32(bound(faultEpoch, 1, type(uint32).max));
        (address nodeKey,) = _registerNode("node", operator, stake);

        uint256 cap1 = uint256(stake) * MAX_SLASH_BPS / BPS;
        assertEq(_faultAt(nodeKey, faultEpoch, clock, type(uint96).max, false), cap1);
        assertEq(staking.slashCapRemaining(nodeKey, clock), 0);

        uint32 next = clock + gap;
        // stake + unbonding is unchanged by an ejection, so the new cap is 10% of what is left; what the first
        // fault asked for above its cap is forgiven, not carried over
        uint256 cap2 = (uint256(stake) - cap1) * MAX_SLASH_BPS / BPS;
        assertEq(staking.slashCapRemaining(nodeKey, next), cap2);
        assertEq(_faultAt(nodeKey, faultEpoch, next, type(uint96).max, false), cap2);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, next);
        assertEq(n.slashedInLastSlashEpoch, cap2);
        assertEq(uint256(n.stake) + n.unbonding, stake - cap1 - cap2);
        _assertSweepable(cap1 - _fee(cap1) + cap2 - _fee(cap2));
    }

    function test_ApplyFault_CapIsPerClockEpochNotPerFaultEpoch() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _nextClockEpoch(); // clock epoch 2
        assertEq(_fault(nodeKey, 5, 15_000 ether, false), 10_000 ether);
        assertEq(staking.getNode(nodeKey).lastSlashEpoch, 2);
        assertEq(staking.slashCapRemaining(nodeKey, 2), 0, "clock epoch 2 used up");
        assertEq(staking.slashCapRemaining(nodeKey, 5), 9_000 ether, "fault epoch 5 is not a cap key");
        // a fault of yet another epoch in the same clock epoch is blocked
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(2)));
        _faultAt(nodeKey, 1, 2, 1 ether, false);
    }

    /// @dev Previously a reported bug: the cap was keyed on the fault epoch and only remembered the last one,
    ///      so interleaving fault epochs (5, 4, 5) reset epoch 5's tracker and slashed past `maxSlashBps`.
    ///      Now the cap is per settlement-clock epoch: epoch-5, epoch-4 and epoch-5 faults executed in the
    ///      same clock epoch total exactly 10%.
    function test_ApplyFault_PerEpochCapHoldsWhenEpochsInterleave() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _nextClockEpoch();
        _nextClockEpoch(); // clock epoch 3
        assertEq(_fault(nodeKey, 5, 6_000 ether, false), 6_000 ether); // epoch 5
        assertEq(_fault(nodeKey, 4, 6_000 ether, false), 4_000 ether); // epoch 4: only the rest of the cap
        assertEq(staking.slashCapRemaining(nodeKey, 3), 0);
        // epoch 5 again (an equivocation): the clock epoch's 10% is gone
        Proof memory p = _proof(pk, 5);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(3)));
        _submitProof(p, finder);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 90_000 ether, "exactly 10% slashed in clock epoch 3");
        assertEq(n.slashedInLastSlashEpoch, 10_000 ether);
        assertFalse(staking.equivocationProven(nodeKey, 5));

        // next clock epoch: the proof goes through, under the new cap (10% of 90k)
        _nextClockEpoch();
        assertEq(_submitProof(p, finder), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 5));
        assertEq(staking.slashCapRemaining(nodeKey, 4), 4_000 ether);
        _assertSweepable(15_000 ether - _fee(15_000 ether));
    }

    function test_ApplyFault_SlashesUnbondingAfterStake() public {
        (address nodeKey,) = _registerNode("node", operator, 210_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 200_000 ether); // stake 10k, unbonding 200k
        _nextClockEpoch();
        uint40 newRelease = uint40(block.timestamp + UNBONDING);

        // cap = 10% of 210k = 21k: 10k from stake, then 11k from unbonding; stake 0 < min ejects
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 1, 21_000 ether, finder, 1_050 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 0, 0, newRelease);
        assertEq(_fault(nodeKey, 1, 50_000 ether, false), 21_000 ether);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 189_000 ether);
        assertEq(n.unbondingReleaseAt, newRelease, "ejection restarts the cooldown");
        assertEq(n.unbondingEpoch, 2, "and moves the epoch to finalize");
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), 189_000 ether);
        assertEq(token.balanceOf(finder), 1_050 ether);
        _assertSweepable(19_950 ether);
    }

    function testFuzz_ApplyFault_SplitBetweenStakeAndUnbonding(uint96 stake, uint96 unbond, uint96 amount)
        public
    {
        stake = uint96(bound(stake, MIN_STAKE, 10_000_000 ether));
        unbond = uint96(bound(unbond, 1, 90_000_000 ether));
        amount = uint96(bound(amount, 1, type(uint96).max));
        (address nodeKey,) = _registerNode("node", operator, stake + unbond);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, unbond);

        uint256 expected = _min(amount, (uint256(stake) + unbond) * MAX_SLASH_BPS / BPS);
        uint256 fromStake = _min(expected, stake);
        uint256 fromUnbonding = expected - fromStake;
        assertEq(_fault(nodeKey, 2, amount, false), expected);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        if (stake - fromStake < MIN_STAKE) {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
            assertEq(n.stake, 0);
            assertEq(n.unbonding, stake - fromStake + unbond - fromUnbonding);
        } else {
            assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Active));
            assertEq(n.stake, stake - fromStake);
            assertEq(n.unbonding, unbond - fromUnbonding);
        }
        assertEq(staking.totalStaked(), n.stake);
        assertEq(staking.totalUnbonding(), n.unbonding);
        _assertSweepable(expected - _fee(expected));
    }

    function test_ApplyFault_ExitingNodeSlashedFromUnbondingWithoutEjection() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 50_000 ether);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;

        vm.recordLogs();
        assertEq(_fault(nodeKey, 9, type(uint96).max, false), 5_000 ether);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeSlashed.selector), 1);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
        assertEq(n.unbonding, 45_000 ether);
        assertEq(n.unbondingReleaseAt, releaseAt, "cooldown unchanged");
        assertEq(n.unbondingEpoch, 1, "epoch to finalize unchanged");
        assertEq(staking.totalUnbonding(), 45_000 ether);

        _releaseAndFinalize(nodeKey);
        assertEq(block.timestamp, releaseAt);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 45_000 ether);
    }

    function test_ApplyFault_EjectedNodeStaysSlashable() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        assertEq(_fault(nodeKey, 1, type(uint96).max, false), 1_000 ether);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        // a later finding still reaches the (unbonding) stake in a later clock epoch, with no second ejection
        _nextClockEpoch();
        vm.recordLogs();
        assertEq(_fault(nodeKey, 2, type(uint96).max, false), 900 ether);
        assertEq(_countLogs(vm.getRecordedLogs(), address(staking), NodeStaking.NodeEjected.selector), 0);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 8_100 ether);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        _assertSweepable(1_900 ether - _fee(1_900 ether));
    }

    function test_ApplyFault_EjectionWhenStakeFallsBelowMinimum() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE + 500 ether);
        // 500 ether keeps the node at the minimum: no ejection
        assertEq(_fault(nodeKey, 1, 500 ether, false), 500 ether);
        assertTrue(staking.isActive(nodeKey));
        assertEq(staking.getNode(nodeKey).stake, MIN_STAKE);

        // one more wei (same clock epoch, still within its cap) ejects
        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 1, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, MIN_STAKE - 1, 0, releaseAt);
        assertEq(_fault(nodeKey, 1, 1, false), 1);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.stake, 0);
        assertEq(n.unbonding, MIN_STAKE - 1);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertFalse(staking.isActive(nodeKey));
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), MIN_STAKE - 1);
    }

    function test_ApplyFault_DustSlashPaysNoFinderFee() public {
        (address nodeKey,) = _registerNode("node", operator, 20_000 ether);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 1, 19, false), 19); // 19 * 5% rounds down to 0
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(token), IERC20.Transfer.selector), 0);
        assertEq(token.balanceOf(finder), 0);
        _assertSweepable(19);
    }

    function testFuzz_ApplyFault_FinderFee(uint16 feeBps, uint96 amount, address finder_) public {
        vm.assume(finder_ != address(0));
        feeBps = uint16(bound(feeBps, 0, BPS));
        NodeStaking.Config memory c = _config();
        c.finderFeeBps = feeBps;
        NodeStaking s = new NodeStaking(c);
        vm.assume(finder_ != address(s));
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, 100_000 ether);
        amount = uint96(bound(amount, 1, 10_000 ether));
        uint256 finderBefore = token.balanceOf(finder_);

        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, amount, false, finder_), amount);

        uint256 fee = uint256(amount) * feeBps / BPS;
        assertEq(token.balanceOf(finder_) - finderBefore, fee);
        assertEq(s.sweepableSlashed(), amount - fee);
        assertEq(token.balanceOf(address(s)), 100_000 ether - fee);
    }

    function testFuzz_ApplyFault_MaxSlashBpsConfig(uint16 maxSlashBps, uint96 stake) public {
        maxSlashBps = uint16(bound(maxSlashBps, 1, BPS));
        stake = _boundStake(stake);
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = maxSlashBps;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, stake);
        uint256 cap = uint256(stake) * maxSlashBps / BPS;
        assertEq(s.slashCapRemaining(nodeKey, 1), cap);
        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder), cap);
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        s.applyFault(nodeKey, 2, 1, 1, false, finder);
    }

    /// @notice `slashedInLastSlashEpoch` is a uint88: the cap is clamped so it can never overflow.
    function test_ApplyFault_CapClampedToUint88() public {
        NodeStaking.Config memory c = _config();
        c.maxSlashBps = uint16(BPS);
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("whale");
        uint96 stake = 400_000_000 ether; // > 2^88 - 1 wei (~309.5M SEND)
        address nodeKey = _registerOn(s, pk, operator, stake);
        uint96 maxStorable = type(uint88).max;
        assertEq(s.slashCapRemaining(nodeKey, 1), maxStorable);

        vm.prank(address(settlement));
        assertEq(s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder), maxStorable);
        NodeStaking.Node memory n = s.getNode(nodeKey);
        assertEq(n.slashedInLastSlashEpoch, maxStorable);
        assertEq(n.stake, stake - maxStorable);
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);
        vm.prank(address(settlement));
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        s.applyFault(nodeKey, 1, 1, 1, false, finder);

        // the next clock epoch's cap is the whole (smaller) remainder
        assertEq(s.slashCapRemaining(nodeKey, 2), stake - maxStorable);
    }

    /// @notice A node with nothing left (exited and withdrawn) has a zero cap: a slashing fault against it reverts
    ///         (and stays pending in the settlement for good), while a strike-only fault is still recorded.
    function test_RevertWhen_ApplyFault_NodeFullyWithdrawn() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _exitAndWithdraw(nodeKey);
        uint32 clock = _clock();
        assertEq(staking.slashCapRemaining(nodeKey, clock), 0);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock));
        _faultAt(nodeKey, 1, clock, 1, true);
        assertEq(_fault(nodeKey, 1, 0, true), 0);
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 1);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
    }

    /// @notice Registration writes every slot a node's first (non-ejecting) slash and strike touch, so that
    ///         slash writes no slot that was zero before.
    function test_ApplyFault_FirstSlashWritesNoFreshSlot() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        uint256 snap = vm.snapshotState();
        vm.record();
        assertEq(_fault(nodeKey, 1, 1_000 ether, true), 1_000 ether);
        (, bytes32[] memory writes) = vm.accesses(address(staking));
        vm.revertToState(snap);
        assertGt(writes.length, 0);
        for (uint256 i; i < writes.length; ++i) {
            assertTrue(vm.load(address(staking), writes[i]) != bytes32(0), "slash wrote a fresh slot");
        }
    }

    // ================================================================ strikes

    function test_Strikes_ThreeWithinWindowEject() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        _strike(nodeKey, 1);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 2);
        _strike(nodeKey, 2);
        assertTrue(staking.isActive(nodeKey));

        uint40 releaseAt = uint40(block.timestamp + UNBONDING);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 50_000 ether, 0, releaseAt);
        _strike(nodeKey, 3);

        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 50_000 ether);
        assertEq(n.unbondingReleaseAt, releaseAt);
        assertEq(n.unbondingEpoch, 1);
        assertEq(n.recentStrikeEpochs, (uint128(3) << 64) | (uint128(2) << 32) | 1);
        assertEq(staking.totalStaked(), 0);
        assertEq(staking.totalUnbonding(), 50_000 ether);
        assertEq(token.balanceOf(address(staking)), 50_000 ether, "strikes alone move no tokens");
    }

    function testFuzz_Strikes_WithinWindowEjectInAnyOrder(uint32 start, uint8 d1, uint8 d2, uint8 order)
        public
    {
        // three distinct epochs (a repeated epoch is not a new strike) spanning d1 + d2 < window
        d1 = uint8(bound(d1, 1, STRIKE_WINDOW - 2));
        d2 = uint8(bound(d2, 1, STRIKE_WINDOW - 1 - d1));
        start = uint32(bound(start, 1, type(uint32).max - STRIKE_WINDOW));
        uint32[3] memory e = [start, start + d1, start + d1 + d2];
        // one of the 6 permutations
        uint256 p = bound(order, 0, 5);
        uint32[3] memory seq = p == 0
            ? [e[0], e[1], e[2]]
            : p == 1
                ? [e[0], e[2], e[1]]
                : p == 2
                    ? [e[1], e[0], e[2]]
                    : p == 3 ? [e[1], e[2], e[0]] : p == 4 ? [e[2], e[0], e[1]] : [e[2], e[1], e[0]];

        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        _strike(nodeKey, seq[0]);
        _strike(nodeKey, seq[1]);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, seq[2], 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, seq[2], NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, seq[2]);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function testFuzz_Strikes_SpreadBeyondWindowDoNotEject(uint32 start, uint32 mid, uint32 span) public {
        span = uint32(bound(span, STRIKE_WINDOW, 1_000_000));
        start = uint32(bound(start, 1, type(uint32).max - span));
        mid = uint32(bound(mid, start + 1, start + span - 1)); // three distinct epochs
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        _strike(nodeKey, start);
        _strike(nodeKey, mid);
        vm.recordLogs();
        _strike(nodeKey, start + span);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        assertEq(logs.length, 1);
        (uint8 inWindow) = abi.decode(logs[0].data, (uint8));
        // the new strike plus each other stored strike less than a window away from it
        assertEq(inWindow, start + span - mid < STRIKE_WINDOW ? 2 : 1, "strikes in window");
        assertTrue(staking.isActive(nodeKey));
        assertEq(staking.getNode(nodeKey).stake, 50_000 ether);
    }

    function test_Strikes_WindowBoundary() public {
        (address a,) = _registerNode("a", operator, MIN_STAKE);
        _strike(a, 1);
        _strike(a, 5);
        _strike(a, 10); // span 9 < 10
        _assertStatus(a, NodeStaking.NodeStatus.Ejected);

        (address b,) = _registerNode("b", operator, MIN_STAKE);
        _strike(b, 1);
        _strike(b, 5);
        _strike(b, 11); // span 10: not within 10 consecutive epochs
        _assertStatus(b, NodeStaking.NodeStatus.Active);
    }

    function test_Strikes_OutOfOrderEpochs() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 7, 1);
        _strike(nodeKey, 7);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 2);
        _strike(nodeKey, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 5, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 5, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 5);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function test_Strikes_OnlyLatestStrikesCount() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 1);
        _strike(nodeKey, 11);
        _strike(nodeKey, 21);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 22, 2); // 22 and 21; 11 is 11 epochs away
        _strike(nodeKey, 22); // 1, 11, 21, 22: no three within 10 epochs
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 23, 3);
        _strike(nodeKey, 23); // 21, 22, 23 within the window; 1 drops out of the ring
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        // the ring keeps the four latest strike epochs, ascending from the low lane
        assertEq(
            staking.getNode(nodeKey).recentStrikeEpochs,
            (uint128(23) << 96) | (uint128(22) << 64) | (uint128(21) << 32) | 11
        );
    }

    function test_Strikes_SameEpochCountedOnce() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 4);
        vm.recordLogs();
        _strike(nodeKey, 4);
        _strike(nodeKey, 4);
        assertEq(vm.getRecordedLogs().length, 0, "a repeated strike epoch is ignored silently");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 4);
        assertTrue(staking.isActive(nodeKey));

        // also when the repeated epoch is not the newest in the ring
        _strike(nodeKey, 9);
        vm.recordLogs();
        _strike(nodeKey, 4);
        assertEq(vm.getRecordedLogs().length, 0);
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, (uint128(9) << 32) | 4);
        assertTrue(staking.isActive(nodeKey));

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 5, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 5, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 5);
    }

    function test_Strikes_RepeatedEpochWithSlashStillSlashes() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 4, 1_000 ether, true);
        vm.recordLogs();
        assertEq(_fault(nodeKey, 4, 1_000 ether, true), 1_000 ether);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeSlashed.selector), 1);
        assertEq(_countLogs(logs, address(staking), NodeStaking.StrikeRecorded.selector), 0);
        assertEq(staking.getNode(nodeKey).stake, 98_000 ether);
    }

    function test_Strikes_NonActiveNodeIsNotEjectedAgain() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, MIN_STAKE);
        uint40 releaseAt = staking.getNode(nodeKey).unbondingReleaseAt;
        vm.warp(block.timestamp + 1 days);
        vm.recordLogs();
        _strike(nodeKey, 1);
        _strike(nodeKey, 2);
        _strike(nodeKey, 3);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(_countLogs(logs, address(staking), NodeStaking.StrikeRecorded.selector), 3);
        assertEq(_countLogs(logs, address(staking), NodeStaking.NodeEjected.selector), 0);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Exiting);
        assertEq(staking.getNode(nodeKey).unbondingReleaseAt, releaseAt, "cooldown not restarted");
    }

    function test_Strikes_WithSlashInSameFault() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 1, 1_000 ether, true);
        _fault(nodeKey, 2, 1_000 ether, true);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 3, 1_000 ether, finder, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.UnbondRequested(nodeKey, 97_000 ether, 0, uint40(block.timestamp + UNBONDING));
        assertEq(_fault(nodeKey, 3, 1_000 ether, true), 1_000 ether);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 97_000 ether);
        assertEq(n.unbondingEpoch, 1);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
    }

    function testFuzz_Strikes_MaxStrikesConfig(uint8 maxStrikes, uint32 start) public {
        maxStrikes = uint8(bound(maxStrikes, 1, 4));
        start = uint32(bound(start, 1, 1_000_000));
        NodeStaking.Config memory c = _config();
        c.maxStrikes = maxStrikes;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);
        for (uint32 i; i < maxStrikes; ++i) {
            assertTrue(s.isActive(nodeKey), "active before the last strike");
            uint8 expectedInWindow = uint8(i + 1);
            vm.expectEmit(true, true, true, true, address(s));
            emit NodeStaking.StrikeRecorded(nodeKey, start + i, expectedInWindow);
            vm.prank(address(settlement));
            s.applyFault(nodeKey, start + i, 1, 0, true, finder);
        }
        assertFalse(s.isActive(nodeKey));
        assertEq(uint8(s.getNode(nodeKey).status), uint8(NodeStaking.NodeStatus.Ejected));
    }

    /// @dev Previously a reported bug: only the last `maxStrikes` executed strikes were inspected, so executing
    ///      strikes for epochs 1, 20, 2, 3 never ejected although 1, 2, 3 lie in one window. Fixed.
    function test_Strikes_OrderOfExecutionDoesNotMatter() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        _strike(nodeKey, 1);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 20, 1);
        _strike(nodeKey, 20);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 2);
        _strike(nodeKey, 2);
        assertTrue(staking.isActive(nodeKey));
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 3);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    /// @notice The ring keeps the four LATEST strike epochs and the window is checked before the oldest is
    ///         dropped: a strike executed late still counts against its in-window neighbours, even after
    ///         later strikes were executed in between.
    function test_Strikes_LateStrikeStillCountsAfterLaterOnes() public {
        (address nodeKey,) = _registerNode("node", operator, MIN_STAKE);
        _strike(nodeKey, 1);
        _strike(nodeKey, 2);
        _strike(nodeKey, 50);
        _strike(nodeKey, 60);
        assertTrue(staking.isActive(nodeKey));
        // 1, 2 and 3 lie within the window: ejected, whatever was executed in between
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 3, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _strike(nodeKey, 3);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        // the ring now holds the latest four: 2, 3, 50, 60
        assertEq(
            staking.getNode(nodeKey).recentStrikeEpochs,
            (uint128(60) << 96) | (uint128(50) << 64) | (uint128(3) << 32) | 2
        );
        // a strike older than all four stored is still checked against them, then dropped
        (address other,) = _registerNode("other", operator, MIN_STAKE);
        _strike(other, 20);
        _strike(other, 30);
        _strike(other, 40);
        _strike(other, 50);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(other, 5, 1);
        _strike(other, 5);
        assertTrue(staking.isActive(other));
        assertEq(
            staking.getNode(other).recentStrikeEpochs,
            (uint128(50) << 96) | (uint128(40) << 64) | (uint128(30) << 32) | 20
        );
    }

    /// @notice Differential check of `_recordStrike` against a brute-force model: the ring keeps the four
    ///         latest distinct strike epochs; a new strike ejects an Active node when some `maxStrikes` of the
    ///         ring plus the new one span less than the window; `strikesInWindow` counts the new strike and
    ///         every ring epoch less than a window away from it; the ring is stored ascending.
    function testFuzz_Strikes_MatchModel(uint8[8] memory raw, uint8 maxStrikes) public {
        maxStrikes = uint8(bound(maxStrikes, 1, 4));
        NodeStaking.Config memory c = _config();
        c.maxStrikes = maxStrikes;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, MIN_STAKE);

        uint32[] memory ring = new uint32[](0); // ascending
        bool active = true;
        for (uint256 i; i < raw.length; ++i) {
            uint32 e = uint32(bound(raw[i], 1, 40));
            bool known;
            for (uint256 j; j < ring.length; ++j) {
                if (ring[j] == e) known = true;
            }
            vm.recordLogs();
            vm.prank(address(settlement));
            s.applyFault(nodeKey, e, 1, 0, true, finder);
            Vm.Log[] memory logs = vm.getRecordedLogs();
            if (known) {
                assertEq(logs.length, 0, "repeat ignored");
                continue;
            }
            uint32[] memory candidates = _insertSorted(ring, e);
            uint8 inWindow;
            for (uint256 j; j < candidates.length; ++j) {
                uint32 d = candidates[j] > e ? candidates[j] - e : e - candidates[j];
                if (d < STRIKE_WINDOW) ++inWindow;
            }
            bool ejects = active && _someSubsetWithinWindow(candidates, maxStrikes);
            ring = _latestFour(candidates);
            assertEq(logs[0].topics[0], NodeStaking.StrikeRecorded.selector);
            assertEq(logs[0].topics[2], bytes32(uint256(e)));
            assertEq(abi.decode(logs[0].data, (uint8)), inWindow, "strikesInWindow");
            assertEq(_countLogs(logs, address(s), NodeStaking.NodeEjected.selector), ejects ? 1 : 0, "eject");
            if (ejects) active = false;
            assertEq(s.isActive(nodeKey), active);
            uint128 packed;
            for (uint256 j; j < ring.length; ++j) {
                packed |= uint128(uint256(ring[j]) << (32 * j));
            }
            assertEq(s.getNode(nodeKey).recentStrikeEpochs, packed, "ring");
        }
    }

    function _insertSorted(uint32[] memory ring, uint32 e) internal pure returns (uint32[] memory out) {
        out = new uint32[](ring.length + 1);
        uint256 k;
        bool placed;
        for (uint256 j; j < ring.length; ++j) {
            if (!placed && e < ring[j]) {
                out[k++] = e;
                placed = true;
            }
            out[k++] = ring[j];
        }
        if (!placed) out[k] = e;
    }

    function _latestFour(uint32[] memory sorted) internal pure returns (uint32[] memory out) {
        uint256 drop = sorted.length > 4 ? sorted.length - 4 : 0;
        out = new uint32[](sorted.length - drop);
        for (uint256 j; j < out.length; ++j) {
            out[j] = sorted[j + drop];
        }
    }

    /// @dev Brute force over all subsets of exactly `k` ring epochs.
    function _someSubsetWithinWindow(uint32[] memory ring, uint8 k) internal pure returns (bool) {
        for (uint256 mask = 1; mask < (1 << ring.length); ++mask) {
            uint256 count;
            uint32 lo = type(uint32).max;
            uint32 hi;
            for (uint256 j; j < ring.length; ++j) {
                if (mask & (1 << j) == 0) continue;
                ++count;
                if (ring[j] < lo) lo = ring[j];
                if (ring[j] > hi) hi = ring[j];
            }
            if (count == k && hi - lo < STRIKE_WINDOW) return true;
        }
        return false;
    }

    // ================================================================ proveEquivocation

    function testFuzz_ProveEquivocation(
        uint96 stake,
        uint32 epoch,
        bytes32 rootA,
        bytes32 rootB,
        address caller,
        uint256 elapsed
    ) public {
        vm.assume(rootA != rootB);
        assumeNotForgeAddress(caller);
        vm.assume(caller != address(0) && caller != address(staking));
        stake = uint96(bound(stake, 60_000 ether, MAX_FUZZ_STAKE)); // the 5k slash stays under the 10% cap
        epoch = uint32(bound(epoch, 1, type(uint32).max));
        vm.warp(block.timestamp + bound(elapsed, 0, 3_650 days));
        (address nodeKey, uint256 pk) = _registerNode("node", operator, stake);
        Proof memory p = _proof(pk, epoch, rootA, rootB);
        uint256 callerBefore = token.balanceOf(caller);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.EquivocationProven(nodeKey, epoch, caller);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, epoch, EQUIVOCATION_SLASH, caller, 250 ether); // 5% fee
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), caller, 250 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, epoch, 1);
        assertEq(_submitProof(p, caller), EQUIVOCATION_SLASH);

        assertEq(token.balanceOf(caller) - callerBefore, 250 ether);
        _assertProven(nodeKey, stake, epoch);
    }

    function _assertProven(address nodeKey, uint96 stake, uint32 epoch) internal view {
        assertTrue(staking.equivocationProven(nodeKey, epoch));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, stake - EQUIVOCATION_SLASH);
        assertEq(n.recentStrikeEpochs, epoch);
        assertEq(n.lastSlashEpoch, _clock(), "the cap is keyed on the settlement clock, not the proven epoch");
        assertEq(n.slashedInLastSlashEpoch, EQUIVOCATION_SLASH);
        assertEq(settlement.currentEpoch(), _clock());
        assertEq(
            staking.slashCapRemaining(nodeKey, _clock()),
            uint256(stake) * MAX_SLASH_BPS / BPS - EQUIVOCATION_SLASH
        );
        assertTrue(staking.isActive(nodeKey));
        _assertSweepable(EQUIVOCATION_SLASH - 250 ether);
    }

    function testFuzz_ProveEquivocation_AnyFieldDiffers(uint8 field, uint128 units, uint64 leaves) public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        NodeStaking.EpochCommitment memory a = _commit(8, keccak256("r"));
        NodeStaking.EpochCommitment memory b = _commit(8, keccak256("r"));
        if (bound(field, 0, 1) == 0) {
            vm.assume(units != a.totalUnits);
            b.totalUnits = units;
        } else {
            vm.assume(leaves != a.leafCount);
            b.leafCount = leaves;
        }
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.prank(finder);
        assertEq(staking.proveEquivocation(a, sigA, b, sigB), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 8));
    }

    function test_ProveEquivocation_MinimumStakeNodeEjected() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        Proof memory p = _proof(pk, 2);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 2, 1_000 ether, stranger, 50 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 2, NodeStaking.EjectReason.StakeBelowMinimum);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 2, 1);
        assertEq(_submitProof(p, stranger), 1_000 ether); // capped at 10% of 10k
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
        assertEq(staking.getNode(nodeKey).unbondingEpoch, 1);
        assertEq(token.balanceOf(stranger), 50 ether);
    }

    function test_ProveEquivocation_ThreeEpochsEjectByStrikes() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _prove(pk, 1, finder); // clock 1: 5k of a 10k cap
        _nextClockEpoch();
        _prove(pk, 2, finder); // clock 2: 5k of a 9.5k cap
        assertTrue(staking.isActive(nodeKey));
        _nextClockEpoch();
        Proof memory p = _proof(pk, 3);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeEjected(nodeKey, 3, NodeStaking.EjectReason.TooManyStrikes);
        _submitProof(p, finder); // clock 3: 5k of a 9k cap
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Ejected));
        assertEq(n.unbonding, 85_000 ether);
        assertEq(n.unbondingEpoch, 3);
        assertEq(token.balanceOf(finder), 750 ether);
        _assertSweepable(14_250 ether);
    }

    function test_ProveEquivocation_ThreeEpochsInOneClockEpochHitTheCap() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        assertEq(_prove(pk, 1, finder), 5_000 ether);
        assertEq(_prove(pk, 2, finder), 5_000 ether);
        Proof memory p = _proof(pk, 3);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _submitProof(p, finder);
        assertTrue(staking.isActive(nodeKey), "the third strike was not recorded");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, (uint128(2) << 32) | 1);
        _nextClockEpoch();
        assertEq(_submitProof(p, finder), 5_000 ether);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);
    }

    function test_ProveEquivocation_SharesClockCapWithFaults() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        assertEq(_fault(nodeKey, 6, 8_000 ether, false), 8_000 ether);
        // a different epoch, the same clock epoch: only the rest of the cap
        assertEq(_prove(pk, 7, stranger), 2_000 ether, "only the rest of the clock epoch's cap");
        assertEq(staking.slashCapRemaining(nodeKey, 1), 0);
        assertEq(token.balanceOf(stranger), 100 ether);
    }

    function test_RevertWhen_ProveEquivocation_SlashCapReached() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _fault(nodeKey, 6, type(uint96).max, false);
        Proof memory p = _proof(pk, 6);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, uint32(1)));
        _submitProof(p, stranger);
        assertFalse(staking.equivocationProven(nodeKey, 6), "the proof can be submitted again later");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 0);
        assertEq(token.balanceOf(stranger), 0);

        _nextClockEpoch();
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.EquivocationProven(nodeKey, 6, stranger);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 6, EQUIVOCATION_SLASH, stranger, 250 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 6, 1);
        assertEq(_submitProof(p, stranger), EQUIVOCATION_SLASH);
        assertTrue(staking.equivocationProven(nodeKey, 6));
        assertEq(staking.getNode(nodeKey).lastSlashEpoch, 2);
    }

    /// @notice With `equivocationSlash == 0` a proof is strike-only: it never hits the cap.
    function test_ProveEquivocation_ZeroSlashIsStrikeOnly() public {
        NodeStaking.Config memory c = _config();
        c.equivocationSlash = 0;
        NodeStaking s = new NodeStaking(c);
        (, uint256 pk) = makeAddrAndKey("node");
        address nodeKey = _registerOn(s, pk, operator, 100_000 ether);
        vm.prank(address(settlement));
        s.applyFault(nodeKey, 1, 1, type(uint96).max, false, finder); // cap used up
        assertEq(s.slashCapRemaining(nodeKey, 1), 0);

        NodeStaking.EpochCommitment memory a = _commit(4, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(4, keccak256("b"));
        (uint8 va, bytes32 ra, bytes32 sa) = vm.sign(pk, s.commitmentDigest(a));
        (uint8 vb, bytes32 rb, bytes32 sb) = vm.sign(pk, s.commitmentDigest(b));
        vm.recordLogs();
        vm.prank(stranger);
        assertEq(s.proveEquivocation(a, abi.encodePacked(ra, sa, va), b, abi.encodePacked(rb, sb, vb)), 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2);
        assertEq(logs[0].topics[0], NodeStaking.EquivocationProven.selector);
        assertEq(logs[1].topics[0], NodeStaking.StrikeRecorded.selector);
        assertTrue(s.equivocationProven(nodeKey, 4));
        assertEq(s.getNode(nodeKey).recentStrikeEpochs, 4);
        assertEq(s.getNode(nodeKey).stake, 90_000 ether);
    }

    function test_ProveEquivocation_UsesSettlementClock() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        vm.warp(genesis + 8 * EPOCH); // clock epoch 9
        assertEq(_prove(pk, 3, finder), EQUIVOCATION_SLASH);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.lastSlashEpoch, 9);
        assertEq(staking.slashCapRemaining(nodeKey, 9), 5_000 ether);
        assertEq(staking.slashCapRemaining(nodeKey, 3), 9_500 ether, "the proven epoch is not the cap key");
    }

    function test_ProveEquivocation_ExitingNode() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 100_000 ether);
        assertEq(_prove(pk, 1, finder), EQUIVOCATION_SLASH);
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.unbonding, 95_000 ether);
        assertEq(n.unbondingEpoch, 1, "a slash does not move the epoch to finalize");
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.Exiting));
    }

    function testFuzz_RevertWhen_ProveEquivocation_EpochMismatch(uint32 epochA, uint32 epochB) public {
        vm.assume(epochA != epochB);
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(epochA, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(epochB, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.CommitmentEpochMismatch.selector, epochA, epochB));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_EpochZero() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(0, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(0, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidParameter.selector, string("epoch")));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_Identical() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(NodeStaking.CommitmentsIdentical.selector);
        staking.proveEquivocation(a, sigA, a, sigA);
    }

    function test_RevertWhen_ProveEquivocation_IdenticalWithDifferentSignatures() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        (, uint256 otherPk) = makeAddrAndKey("other");
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigOther = _signCommitment(otherPk, a);
        vm.expectRevert(NodeStaking.CommitmentsIdentical.selector);
        staking.proveEquivocation(a, sigA, a, sigOther);
    }

    function test_RevertWhen_ProveEquivocation_SignerMismatch() public {
        (address keyA, uint256 pkA) = _registerNode("a", operator, MIN_STAKE);
        (address keyB, uint256 pkB) = _registerNode("b", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pkA, a);
        bytes memory sigB = _signCommitment(pkB, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.CommitmentSignerMismatch.selector, keyA, keyB));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_UnregisteredSigner() public {
        (address key, uint256 pk) = makeAddrAndKey("unregistered");
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeNotRegistered.selector, key));
        staking.proveEquivocation(a, sigA, b, sigB);
    }

    function test_RevertWhen_ProveEquivocation_AlreadyProven() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, 100_000 ether);
        _prove(pk, 1, finder);
        // the same pair again
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("root-a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("root-b"));
        bytes memory sigA = _signCommitment(pk, a);
        bytes memory sigB = _signCommitment(pk, b);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.EquivocationAlreadyProven.selector, nodeKey, uint32(1))
        );
        staking.proveEquivocation(a, sigA, b, sigB);
        // and a different pair for the same epoch
        NodeStaking.EpochCommitment memory c = _commit(1, keccak256("root-c"));
        bytes memory sigC = _signCommitment(pk, c);
        vm.expectRevert(
            abi.encodeWithSelector(NodeStaking.EquivocationAlreadyProven.selector, nodeKey, uint32(1))
        );
        staking.proveEquivocation(a, sigA, c, sigC);
    }

    function testFuzz_RevertWhen_ProveEquivocation_BadSignatureLength(bytes calldata sig) public {
        vm.assume(sig.length != 65);
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, sig.length));
        staking.proveEquivocation(a, sigA, b, sig);
    }

    function test_RevertWhen_ProveEquivocation_InvalidSignature() public {
        (, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        NodeStaking.EpochCommitment memory a = _commit(1, keccak256("a"));
        NodeStaking.EpochCommitment memory b = _commit(1, keccak256("b"));
        bytes memory sigA = _signCommitment(pk, a);
        vm.expectRevert(ECDSA.ECDSAInvalidSignature.selector);
        staking.proveEquivocation(a, sigA, b, new bytes(65)); // r = s = 0, v = 0
    }

    // ================================================================ sweepSlashed

    function test_RevertWhen_SweepSlashed_NothingPending() public {
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function test_RevertWhen_SweepSlashed_OnlyStakeHeld() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 20_000 ether);
        assertEq(staking.sweepableSlashed(), 0, "active and unbonding stake are never sweepable");
        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function testFuzz_SweepSlashed(uint96 amount, address caller) public {
        assumeNotForgeAddress(caller);
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        amount = uint96(bound(amount, 1, 10_000 ether));
        _fault(nodeKey, 1, amount, false);
        uint256 pending = amount - _fee(amount);
        _assertSweepable(pending);
        uint256 treasuryBefore = token.balanceOf(treasury);

        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.SlashedSwept(treasury, pending);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC20.Transfer(address(staking), treasury, pending);
        vm.prank(caller);
        staking.sweepSlashed();

        assertEq(token.balanceOf(treasury) - treasuryBefore, pending);
        assertEq(token.balanceOf(address(staking)), 100_000 ether - amount);
        _assertSweepable(0);

        vm.expectRevert(NodeStaking.ZeroAmount.selector);
        staking.sweepSlashed();
    }

    function test_SweepSlashed_AccumulatesOverNodes() public {
        (address a,) = _registerNode("a", operator, 100_000 ether);
        (, uint256 pkB) = _registerNode("b", operator2, 100_000 ether);
        _fault(a, 1, 2_000 ether, false);
        _prove(pkB, 1, finder);
        // (2,000 + 5,000) * 95%
        _assertSweepable(6_650 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);
        staking.sweepSlashed();
        assertEq(token.balanceOf(treasury) - treasuryBefore, 6_650 ether);
        assertEq(token.balanceOf(address(staking)), 193_000 ether);
        assertEq(staking.totalStaked(), 193_000 ether);
    }

    /// @notice Slashed unbonding stake is swept, and the operator still withdraws exactly what is left.
    function test_SweepSlashed_DoesNotTouchUnbondingStake() public {
        (address nodeKey,) = _registerNode("node", operator, 50_000 ether);
        vm.prank(operator);
        staking.requestUnbond(nodeKey, 50_000 ether);
        assertEq(_fault(nodeKey, 1, 3_000 ether, false), 3_000 ether);
        _assertSweepable(2_850 ether);
        staking.sweepSlashed();
        _assertSweepable(0);
        assertEq(token.balanceOf(address(staking)), 47_000 ether);
        _releaseAndFinalize(nodeKey);
        vm.prank(operator);
        staking.withdraw(nodeKey);
        assertEq(token.balanceOf(operator), 47_000 ether);
        assertEq(token.balanceOf(address(staking)), 0);
    }

    /// @notice `sweepableSlashed` is derived from the balance: tokens sent to the contract outside staking
    ///         (donations, mistakes) are swept to the treasury along with slashed stake.
    function testFuzz_SweepSlashed_IncludesDirectTransfers(uint96 donation) public {
        donation = uint96(bound(donation, 1, 1_000_000 ether));
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        _fund(address(staking), donation);
        _assertSweepable(donation);
        _fault(nodeKey, 1, 1_000 ether, false);
        _assertSweepable(uint256(donation) + 950 ether);
        uint256 treasuryBefore = token.balanceOf(treasury);
        staking.sweepSlashed();
        assertEq(token.balanceOf(treasury) - treasuryBefore, uint256(donation) + 950 ether);
        assertEq(token.balanceOf(address(staking)), 99_000 ether);
        assertEq(staking.totalStaked(), 99_000 ether);
    }

    // ================================================================ views

    function test_GetNode_Unregistered() public {
        NodeStaking.Node memory n = staking.getNode(makeAddr("nobody"));
        assertEq(n.operator, address(0));
        assertEq(n.stake, 0);
        assertEq(n.unbonding, 0);
        assertEq(n.unbondingReleaseAt, 0);
        assertEq(uint8(n.status), uint8(NodeStaking.NodeStatus.None));
        assertEq(n.lastSlashEpoch, 0);
        assertEq(n.slashedInLastSlashEpoch, 0);
        assertEq(n.recentStrikeEpochs, 0);
        assertEq(n.unbondingEpoch, 0);
    }

    function testFuzz_Clock_MatchesSettlement(uint256 elapsed) public {
        vm.warp(block.timestamp + bound(elapsed, 0, 100_000 days));
        assertEq(_clock(), settlement.currentEpoch());
    }

    function test_IsActive_EveryStatus() public {
        assertFalse(staking.isActive(makeAddr("nobody")));
        (address active,) = _registerNode("active", operator, MIN_STAKE);
        assertTrue(staking.isActive(active));
        (address exiting,) = _registerNode("exiting", operator, MIN_STAKE);
        vm.prank(operator);
        staking.requestUnbond(exiting, MIN_STAKE);
        assertFalse(staking.isActive(exiting));
        (address ejected,) = _registerNode("ejected", operator, MIN_STAKE);
        _fault(ejected, 1, 1, false);
        assertFalse(staking.isActive(ejected));
        assertTrue(staking.isActive(active));
    }

    function testFuzz_SlashCapRemaining(uint96 stake, uint96 unbond, uint32 epoch) public {
        stake = uint96(bound(stake, MIN_STAKE, 10_000_000 ether));
        unbond = uint96(bound(unbond, 0, 10_000_000 ether));
        epoch = uint32(bound(epoch, 1, type(uint32).max));
        assertEq(staking.slashCapRemaining(makeAddr("nobody"), epoch), 0);
        (address nodeKey,) = _registerNode("node", operator, stake + unbond);
        if (unbond != 0) {
            vm.prank(operator);
            staking.requestUnbond(nodeKey, unbond);
        }
        // unbonding stake counts towards the base: it stays slashable
        assertEq(staking.slashCapRemaining(nodeKey, epoch), (uint256(stake) + unbond) * MAX_SLASH_BPS / BPS);
    }

    function test_TypehashesAndConstants() public view {
        assertEq(
            staking.EPOCH_COMMITMENT_TYPEHASH(),
            keccak256("EpochCommitment(uint32 epoch,bytes32 root,uint128 totalUnits,uint64 leafCount)")
        );
        assertEq(staking.NODE_KEY_CONSENT_TYPEHASH(), keccak256("NodeKeyConsent(address operator)"));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            staking.eip712Domain();
        assertEq(name, "SendingNetwork NodeStaking");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(staking));
    }

    function _domainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("SendingNetwork NodeStaking"),
                keccak256("1"),
                block.chainid,
                address(staking)
            )
        );
    }

    function testFuzz_NodeKeyConsentDigest(address op) public view {
        bytes32 expected = keccak256(
            abi.encodePacked(
                "\x19\x01",
                _domainSeparator(),
                keccak256(abi.encode(keccak256("NodeKeyConsent(address operator)"), op))
            )
        );
        assertEq(staking.nodeKeyConsentDigest(op), expected);
    }

    function testFuzz_CommitmentDigest(uint32 epoch, bytes32 root, uint128 units, uint64 count) public view {
        NodeStaking.EpochCommitment memory c =
            NodeStaking.EpochCommitment({epoch: epoch, root: root, totalUnits: units, leafCount: count});
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("EpochCommitment(uint32 epoch,bytes32 root,uint128 totalUnits,uint64 leafCount)"),
                epoch,
                root,
                units,
                count
            )
        );
        assertEq(
            staking.commitmentDigest(c),
            keccak256(abi.encodePacked("\x19\x01", _domainSeparator(), structHash))
        );
    }

    function test_EquivocationProvenDefaultsFalse() public {
        assertFalse(staking.equivocationProven(makeAddr("nobody"), 1));
    }

    // ================================================================ end to end through EpochSettlement

    /// @notice Fault leaves of two finalized epochs executed through the settlement in interleaved order: one
    ///         clock epoch's cap holds across them, the capped-out leaf reverts and stays pending, and it
    ///         executes in the next clock epoch.
    function test_ExecuteFault_ClockCapAcrossFaultEpochsThroughSettlement() public {
        (address nodeKey,) = _registerNode("node", operator, 100_000 ether);
        bytes32[] memory leaves1 = new bytes32[](2);
        leaves1[0] = Merkle.faultLeaf(1, 0, nodeKey, 6_000 ether, false);
        leaves1[1] = Merkle.faultLeaf(1, 1, nodeKey, 6_000 ether, true);
        bytes32[] memory leaves2 = new bytes32[](1);
        leaves2[0] = Merkle.faultLeaf(2, 0, nodeKey, 6_000 ether, false);

        EpochHeader memory h1 = _header(1, bytes32(0), 0, 0);
        h1.faultRoot = Merkle.root(leaves1);
        h1.faultCount = 2;
        _submitAndFinalize(h1);
        EpochHeader memory h2 = _header(2, bytes32(0), 0, 0);
        h2.faultRoot = Merkle.root(leaves2);
        h2.faultCount = 1;
        _submitAndFinalize(h2);
        uint32 clock = settlement.currentEpoch();
        assertEq(clock, 4);

        // the newer epoch first, then the older one: together exactly 10% of the stake
        vm.prank(finder);
        assertEq(
            settlement.executeFault(2, 0, nodeKey, 6_000 ether, false, Merkle.proof(leaves2, 0)), 6_000 ether
        );
        vm.prank(finder);
        assertEq(
            settlement.executeFault(1, 0, nodeKey, 6_000 ether, false, Merkle.proof(leaves1, 0)), 4_000 ether
        );
        assertEq(staking.getNode(nodeKey).stake, 90_000 ether);

        bytes32[] memory proof11 = Merkle.proof(leaves1, 1);
        vm.prank(finder);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.SlashCapReached.selector, nodeKey, clock));
        settlement.executeFault(1, 1, nodeKey, 6_000 ether, true, proof11);
        assertTrue(settlement.faultPending(1, 1), "still executable");
        assertEq(staking.getNode(nodeKey).recentStrikeEpochs, 0);

        _nextClockEpoch();
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.NodeSlashed(nodeKey, 1, 6_000 ether, finder, 300 ether);
        vm.expectEmit(true, true, true, true, address(staking));
        emit NodeStaking.StrikeRecorded(nodeKey, 1, 1);
        vm.prank(finder);
        assertEq(settlement.executeFault(1, 1, nodeKey, 6_000 ether, true, proof11), 6_000 ether);
        assertFalse(settlement.faultPending(1, 1));
        NodeStaking.Node memory n = staking.getNode(nodeKey);
        assertEq(n.stake, 84_000 ether);
        assertEq(n.lastSlashEpoch, clock + 1);
        assertEq(n.recentStrikeEpochs, 1);
        assertEq(token.balanceOf(finder), 800 ether);
        _assertSweepable(16_000 ether - 800 ether);
    }
}
