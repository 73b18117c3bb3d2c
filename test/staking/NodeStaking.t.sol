// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {NodeStakingTestBase} from "./NodeStakingTestBase.sol";

/// @notice NodeStaking core: constructor, registration, endpoint updates, top-ups and the views.
contract NodeStakingTest is NodeStakingTestBase {
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
        _assumeValidStrings(endpoint, metadataURI);
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
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    function test_RevertWhen_Register_KeyAlreadyRegisteredBySameOperator() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
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
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    function test_RevertWhen_Register_KeyReusedAfterEjection() public {
        (address nodeKey, uint256 pk) = _registerNode("node", operator, MIN_STAKE);
        _fault(nodeKey, 1, 1 ether, false);
        _assertStatus(nodeKey, NodeStaking.NodeStatus.Ejected);

        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.NodeKeyAlreadyRegistered.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    function testFuzz_RevertWhen_Register_BelowMinStake(uint96 amount) public {
        amount = uint96(bound(amount, 0, MIN_STAKE - 1));
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.StakeBelowMinimum.selector, amount, MIN_STAKE));
        staking.register(nodeKey, amount, consent, "wss://x", "");
    }

    function testFuzz_RevertWhen_Register_ConsentSignedByAnotherKey(uint256 otherPk) public {
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        otherPk = bound(otherPk, 1, SECP256K1_N - 1);
        vm.assume(otherPk != pk);
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(otherPk, operator);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    function testFuzz_RevertWhen_Register_ConsentForAnotherOperator(address intended) public {
        vm.assume(intended != operator);
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        bytes memory consent = _keyConsent(pk, intended); // the key consented to `intended`, not `operator`
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    function test_Register_FrontRunWithStolenConsentFails() public {
        // operator2 sees operator's pending registration and replays the consent for itself.
        (address nodeKey, uint256 pk) = makeAddrAndKey("node");
        bytes memory consent = _keyConsent(pk, operator);
        _fundAndApprove(operator2, MIN_STAKE);
        vm.prank(operator2);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");

        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
        assertEq(staking.getNode(nodeKey).operator, operator);
    }

    function testFuzz_RevertWhen_Register_MalformedConsent(bytes calldata consent) public {
        vm.assume(consent.length != 65);
        (address nodeKey,) = makeAddrAndKey("node");
        _fundAndApprove(operator, MIN_STAKE);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(NodeStaking.InvalidNodeKeySignature.selector, nodeKey));
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
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
        staking.register(nodeKey, MIN_STAKE, consent, "wss://x", "");
    }

    // ================================================================ updateEndpoint

    function testFuzz_UpdateEndpoint(string calldata endpoint, string calldata metadataURI) public {
        _assumeValidStrings(endpoint, metadataURI);
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
}
