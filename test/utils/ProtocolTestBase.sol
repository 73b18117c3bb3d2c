// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {Merkle} from "./Merkle.sol";
import {QuorumSigning} from "./QuorumSigning.sol";

/// @notice Deploys the whole settlement stack the way script/Deploy.s.sol does, with named actors and
///         helpers that sign real EIP-712 messages with real keys.
abstract contract ProtocolTestBase is Test {
    uint96 internal constant MIN_STAKE = 10_000 ether;
    uint64 internal constant UNBONDING = 14 days;
    uint16 internal constant MAX_SLASH_BPS = 1_000;
    uint16 internal constant FINDER_FEE_BPS = 500;
    uint96 internal constant EQUIVOCATION_SLASH = 5_000 ether;
    uint8 internal constant MAX_STRIKES = 3;
    uint32 internal constant STRIKE_WINDOW = 10;
    uint64 internal constant EPOCH = 1 days;
    uint64 internal constant DISPUTE_WINDOW = 1 days;
    uint64 internal constant DISPUTE_RESOLUTION = 3 days;
    uint96 internal constant INITIAL_EMISSION = 273_972 ether;
    uint32 internal constant HALVING = 730;
    uint16 internal constant GUARDIAN_SHARE_BPS = 500;
    uint256 internal constant GUARDIAN_COUNT = 7;

    SendToken internal token;
    NodeStaking internal staking;
    EpochSettlement internal settlement;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal licensePool = makeAddr("licensePool");
    address internal operator = makeAddr("operator");
    address internal finder = makeAddr("finder");
    address internal keeper = makeAddr("keeper");

    /// Guardian keys and addresses, sorted by address (the order the contract requires).
    uint256[] internal guardianKeys;
    address[] internal guardians;
    uint64 internal genesis;

    function setUp() public virtual {
        vm.warp(1_800_000_000);
        genesis = uint64(block.timestamp);
        _makeGuardians(GUARDIAN_COUNT);
        address predictedStaking = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
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
        settlement = new EpochSettlement(_settlementConfig(address(token), address(staking)));
        require(
            address(staking) == predictedStaking && address(settlement) == predictedSettlement, "prediction"
        );
        vm.label(address(token), "SEND");
        vm.label(address(staking), "NodeStaking");
        vm.label(address(settlement), "EpochSettlement");
    }

    // ---------------------------------------------------------------- config

    function _stakingConfig(address token_, address settlement_)
        internal
        view
        returns (NodeStaking.Config memory)
    {
        return NodeStaking.Config({
            token: token_,
            settlement: settlement_,
            treasury: treasury,
            minStake: MIN_STAKE,
            unbondingPeriod: UNBONDING,
            maxSlashBps: MAX_SLASH_BPS,
            finderFeeBps: FINDER_FEE_BPS,
            equivocationSlash: EQUIVOCATION_SLASH,
            maxStrikes: MAX_STRIKES,
            strikeWindowEpochs: STRIKE_WINDOW
        });
    }

    function _settlementConfig(address token_, address staking_)
        internal
        view
        returns (EpochSettlement.Config memory)
    {
        return EpochSettlement.Config({
            owner: owner,
            token: token_,
            staking: staking_,
            guardians: guardians,
            genesisTime: genesis,
            epochDuration: EPOCH,
            disputeWindow: DISPUTE_WINDOW,
            disputeResolutionPeriod: DISPUTE_RESOLUTION,
            initialEpochEmission: INITIAL_EMISSION,
            halvingIntervalEpochs: HALVING,
            guardianShareBps: GUARDIAN_SHARE_BPS
        });
    }

    function _makeGuardians(uint256 count) internal {
        delete guardianKeys;
        delete guardians;
        for (uint256 i; i < count; ++i) {
            (address a, uint256 k) = makeAddrAndKey(string.concat("guardian", vm.toString(i)));
            guardians.push(a);
            guardianKeys.push(k);
        }
        // insertion sort by address, keys alongside
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = i; j > 0 && guardians[j - 1] > guardians[j]; --j) {
                (guardians[j - 1], guardians[j]) = (guardians[j], guardians[j - 1]);
                (guardianKeys[j - 1], guardianKeys[j]) = (guardianKeys[j], guardianKeys[j - 1]);
            }
        }
    }

    // ---------------------------------------------------------------- nodes

    function _fund(address to, uint256 amount) internal {
        vm.prank(treasury);
        token.transfer(to, amount);
    }

    function _keyConsent(uint256 nodeKeyPk, address operator_) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(nodeKeyPk, staking.nodeKeyConsentDigest(operator_));
        return abi.encodePacked(r, s, v);
    }

    /// @notice Registers a node with a fresh key named `label`, staked `amount` by `operator_`.
    function _registerNode(string memory label, address operator_, uint96 amount)
        internal
        returns (address nodeKey, uint256 nodeKeyPk)
    {
        (nodeKey, nodeKeyPk) = makeAddrAndKey(label);
        _fund(operator_, amount);
        vm.startPrank(operator_);
        token.approve(address(staking), amount);
        staking.register(
            nodeKey, amount, _keyConsent(nodeKeyPk, operator_), "wss://node.example", "ipfs://meta"
        );
        vm.stopPrank();
    }

    function _signCommitment(uint256 nodeKeyPk, NodeStaking.EpochCommitment memory c)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(nodeKeyPk, staking.commitmentDigest(c));
        return abi.encodePacked(r, s, v);
    }

    // ---------------------------------------------------------------- epochs

    /// @notice A header for `epoch` with reward root `rewardRoot`, no faults and no scores.
    function _header(uint32 epoch, bytes32 rewardRoot, uint96 totalCumulative, uint96 emission)
        internal
        pure
        returns (EpochHeader memory)
    {
        return QuorumSigning.header(epoch, rewardRoot, totalCumulative, emission);
    }

    /// @notice Signatures of the first `count` guardians (by sorted index) over `h`, and their bitmap.
    function _sign(EpochHeader memory h, uint256 count)
        internal
        view
        returns (uint256 bitmap, GuardianQuorum.Signature[] memory sigs)
    {
        bitmap = (uint256(1) << count) - 1;
        sigs = QuorumSigning.signDigest(settlement.headerDigest(h), guardianKeys, bitmap);
    }

    /// @notice Warps past the end of `h.epoch` and submits it with 5 of 7 signatures.
    function _submit(EpochHeader memory h) internal {
        uint64 endsAt = settlement.epochEnd(h.epoch);
        if (block.timestamp < endsAt) vm.warp(endsAt);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) =
            _sign(h, settlement.thresholdFor(uint8(guardians.length)));
        vm.prank(keeper);
        settlement.submitEpoch(h, guardians, bitmap, sigs);
    }

    /// @notice Disputes `epoch` by the votes of the first M - T + 1 guardians (the fewest that dispute it).
    function _disputeByGuardians(uint32 epoch, string memory reason) internal {
        uint256 needed = guardians.length - settlement.thresholdFor(uint8(guardians.length)) + 1;
        for (uint256 i; i < needed; ++i) {
            vm.prank(guardians[i]);
            settlement.dispute(epoch, reason);
        }
    }

    /// @notice Submits `h` and finalizes it after the dispute window.
    function _submitAndFinalize(EpochHeader memory h) internal {
        _submit(h);
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
    }

    /// @notice Reward tree over `accounts` with `amounts`: returns leaves and root.
    function _rewardTree(address[] memory accounts, uint256[] memory amounts)
        internal
        pure
        returns (bytes32[] memory leaves, bytes32 root)
    {
        leaves = new bytes32[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            leaves[i] = Merkle.rewardLeaf(accounts[i], amounts[i]);
        }
        root = Merkle.root(leaves);
    }
}
