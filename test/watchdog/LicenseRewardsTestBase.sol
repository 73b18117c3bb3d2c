// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {LicenseRewards} from "../../contracts/watchdog/LicenseRewards.sol";
import {MockLicense} from "./mocks/MockLicense.sol";

/// @notice The settlement stack of `ProtocolTestBase`, deployed the way the deploy script will deploy it with
///         license rewards: the token mints the 12% license pool to the predicted `LicenseRewards`
///         address, which is deployed after the settlement. The license is a mock ERC-721.
abstract contract LicenseRewardsTestBase is ProtocolTestBase {
    bytes32 internal constant TAG = keccak256("SendingNetwork.LicenseReward");
    uint256 internal constant POOL = 120_000_000 ether;
    /// Default schedule: the settlement's halving interval, and the rate whose geometric series is the pool.
    uint32 internal constant LICENSE_HALVING = HALVING;
    uint96 internal constant LICENSE_EMISSION = uint96(POOL / (2 * uint256(HALVING)));

    MockLicense internal license;
    LicenseRewards internal rewards;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public virtual override {
        vm.warp(1_800_000_000);
        genesis = uint64(block.timestamp);
        _makeGuardians(GUARDIAN_COUNT);
        license = new MockLicense();
        uint256 nonce = vm.getNonce(address(this)); // the token's
        address predictedStaking = vm.computeCreateAddress(address(this), nonce + 1);
        address predictedSettlement = vm.computeCreateAddress(address(this), nonce + 2);
        address predictedRewards = vm.computeCreateAddress(address(this), nonce + 3);
        licensePool = predictedRewards;
        token = new SendToken(
            SendToken.Allocations({
                nodeRewards: predictedSettlement,
                licensePool: predictedRewards,
                guardianRewards: predictedSettlement,
                treasury: treasury
            })
        );
        staking = new NodeStaking(_stakingConfig(address(token), predictedSettlement));
        settlement = new EpochSettlement(_settlementConfig(address(token), address(staking)));
        rewards = new LicenseRewards(_rewardsConfig(1, LICENSE_HALVING, LICENSE_EMISSION));
        require(
            address(staking) == predictedStaking && address(settlement) == predictedSettlement
                && address(rewards) == predictedRewards,
            "prediction"
        );
        vm.label(address(token), "SEND");
        vm.label(address(staking), "NodeStaking");
        vm.label(address(settlement), "EpochSettlement");
        vm.label(address(rewards), "LicenseRewards");
        vm.label(address(license), "MockLicense");
    }

    // ---------------------------------------------------------------- deployment helpers

    function _rewardsConfig(uint32 firstEpoch, uint32 interval, uint96 initial)
        internal
        view
        returns (LicenseRewards.Config memory)
    {
        return LicenseRewards.Config({
            token: address(token),
            settlement: address(settlement),
            license: address(license),
            firstEpoch: firstEpoch,
            halvingIntervalEpochs: interval,
            initialEpochEmission: initial
        });
    }

    /// @notice A further LicenseRewards over the same settlement and license, its pool (`pool` SEND) sent
    ///         to its predicted address before deployment: from the treasury, or conjured with `deal` when
    ///         larger than the treasury (schedule tests with very large rates).
    function _deployRewards(LicenseRewards.Config memory cfg, uint256 pool)
        internal
        returns (LicenseRewards r)
    {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        if (pool <= token.balanceOf(treasury)) _fund(predicted, pool);
        else deal(address(token), predicted, pool);
        r = new LicenseRewards(cfg);
        require(address(r) == predicted, "prediction");
    }

    // ---------------------------------------------------------------- schedule reference

    /// @notice Σ of epochEmission over epochs 1..epoch, epoch by epoch (reference for the O(halvings) sum).
    function _referenceEmitted(uint32 epoch, uint32 firstEpoch, uint32 interval, uint96 initial)
        internal
        pure
        returns (uint256 total)
    {
        for (uint256 e = firstEpoch; e <= epoch; ++e) {
            total += uint256(initial) >> ((e - firstEpoch) / interval);
        }
    }

    /// @notice Everything a schedule ever emits: interval · Σ_i (initial >> i) = interval · (2·initial −
    ///         popcount(initial)), when the uint32 epochs outlast the halvings.
    function _closedFormTotal(uint32 interval, uint96 initial) internal pure returns (uint256) {
        uint256 pop;
        for (uint256 x = initial; x != 0; x &= x - 1) {
            ++pop;
        }
        return uint256(interval) * (2 * uint256(initial) - pop);
    }

    // ---------------------------------------------------------------- trees and epochs

    function _licenseLeaf(uint256 tokenId, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(TAG, tokenId, cumulative))));
    }

    /// @notice Leaves of a reward tree: license leaves first, then account leaves.
    function _mixedLeaves(
        uint256[] memory tokenIds,
        uint256[] memory licenseCumulatives,
        address[] memory accounts,
        uint256[] memory accountCumulatives
    ) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](tokenIds.length + accounts.length);
        for (uint256 i; i < tokenIds.length; ++i) {
            leaves[i] = _licenseLeaf(tokenIds[i], licenseCumulatives[i]);
        }
        for (uint256 i; i < accounts.length; ++i) {
            leaves[tokenIds.length + i] = Merkle.rewardLeaf(accounts[i], accountCumulatives[i]);
        }
    }

    /// @notice Leaves of a tree holding only license leaves, plus one account leaf paying nothing (a real
    ///         tree always has account leaves; it also keeps single-license trees two leaves wide).
    function _licenseLeaves(uint256[] memory tokenIds, uint256[] memory cumulatives)
        internal
        view
        returns (bytes32[] memory)
    {
        address[] memory accounts = new address[](1);
        accounts[0] = carol;
        return _mixedLeaves(tokenIds, cumulatives, accounts, new uint256[](1));
    }

    function _one(uint256 tokenId, uint256 cumulative) internal view returns (bytes32[] memory) {
        return _two(tokenId, cumulative, type(uint256).max, 0);
    }

    /// @notice Tree with license leaves (id1, c1) and (id2, c2) and a zero account leaf.
    function _two(uint256 id1, uint256 c1, uint256 id2, uint256 c2) internal view returns (bytes32[] memory) {
        uint256[] memory ids = new uint256[](2);
        uint256[] memory cums = new uint256[](2);
        (ids[0], ids[1]) = (id1, id2);
        (cums[0], cums[1]) = (c1, c2);
        return _licenseLeaves(ids, cums);
    }

    /// @notice Submits epoch `e` paying accounts nothing new (their total `accountTotal`) under `leaves`'
    ///         root, and finalizes it after the dispute window.
    function _finalize(uint32 e, bytes32[] memory leaves, uint96 accountTotal) internal {
        _submitAndFinalize(_header(e, Merkle.root(leaves), accountTotal, settlement.emissionCap(e)));
    }

    function _finalize(uint32 e, bytes32[] memory leaves) internal {
        _finalize(e, leaves, 0);
    }

    /// @notice Finalizes epochs from..to with the same tree.
    function _finalizeRange(uint32 from, uint32 to, bytes32[] memory leaves) internal {
        for (uint32 e = from; e <= to; ++e) {
            _finalize(e, leaves);
        }
    }

    /// @notice Makes `epoch` and `root` what the settlement reports as claimable (for schedule tests at
    ///         epochs too late to reach by submitting every epoch).
    function _mockClaimable(uint32 epoch, bytes32 root) internal {
        vm.mockCall(
            address(settlement),
            abi.encodeWithSelector(EpochSettlement.claimableRewardRoot.selector),
            abi.encode(epoch, root)
        );
        vm.mockCall(
            address(settlement),
            abi.encodeWithSelector(EpochSettlement.lastFinalizedEpoch.selector),
            abi.encode(epoch)
        );
    }
}
