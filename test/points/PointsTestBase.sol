// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {Merkle} from "../utils/Merkle.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {LicenseRewards} from "../../contracts/watchdog/LicenseRewards.sol";
import {TestnetPoints} from "../../contracts/points/TestnetPoints.sol";
import {PointsConversion} from "../../contracts/points/PointsConversion.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";
import {MockLicense} from "../watchdog/mocks/MockLicense.sol";

/// @notice A points-mode deployment the way script/Deploy.s.sol makes one with `points.enabled`: SEND (its
///         reward allocations minted to the treasury: there is no SEND escrow in points mode), the points
///         token minted to the predicted points settlement and points license rewards, staking in SEND whose
///         settlement is the points settlement, and the conversion. `token` (of ProtocolTestBase) is SEND,
///         `settlement` the points settlement.
abstract contract PointsTestBase is ProtocolTestBase {
    bytes32 internal constant TAG = keccak256("SendingNetwork.LicenseReward");
    uint256 internal constant SETTLEMENT_POINTS = 430_000_000 ether;
    uint256 internal constant LICENSE_POINTS = 120_000_000 ether;
    uint96 internal constant LICENSE_EMISSION = uint96(LICENSE_POINTS / (2 * uint256(HALVING)));
    /// 0.25 SEND per point.
    uint256 internal constant RATIO = 0.25e18;
    uint32 internal constant LAST_POINTS_EPOCH = 1;
    uint64 internal constant CONVERSION_PERIOD = 90 days;

    TestnetPoints internal points;
    LicenseRewards internal rewards;
    MockLicense internal license;
    PointsConversion internal conversion;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal operatorB = makeAddr("operatorB");
    address internal anyone = makeAddr("anyone");

    function setUp() public virtual override {
        vm.warp(1_800_000_000);
        genesis = uint64(block.timestamp);
        _makeGuardians(GUARDIAN_COUNT);
        license = new MockLicense();
        uint256 nonce = vm.getNonce(address(this)); // SEND's
        address predictedSettlement = vm.computeCreateAddress(address(this), nonce + 3);
        address predictedRewards = vm.computeCreateAddress(address(this), nonce + 4);
        licensePool = treasury;
        token = new SendToken(
            SendToken.Allocations({
                nodeRewards: treasury, licensePool: treasury, guardianRewards: treasury, treasury: treasury
            })
        );
        points = new TestnetPoints(predictedSettlement, SETTLEMENT_POINTS, predictedRewards, LICENSE_POINTS);
        staking = new NodeStaking(_stakingConfig(address(token), predictedSettlement));
        settlement = new EpochSettlement(_settlementConfig(address(points), address(staking)));
        rewards = new LicenseRewards(
            LicenseRewards.Config({
                token: address(points),
                settlement: address(settlement),
                license: address(license),
                firstEpoch: 1,
                halvingIntervalEpochs: HALVING,
                initialEpochEmission: LICENSE_EMISSION
            })
        );
        require(
            address(settlement) == predictedSettlement && address(rewards) == predictedRewards, "prediction"
        );
        conversion = _deployConversion(RATIO, LAST_POINTS_EPOCH);
        vm.label(address(token), "SEND");
        vm.label(address(points), "TestnetPoints");
        vm.label(address(staking), "NodeStaking");
        vm.label(address(settlement), "PointsSettlement");
        vm.label(address(rewards), "PointsLicenseRewards");
        vm.label(address(conversion), "PointsConversion");
    }

    function _deployConversion(uint256 ratio, uint32 lastEpoch) internal returns (PointsConversion) {
        return new PointsConversion(
            address(token),
            address(settlement),
            address(rewards),
            address(staking),
            address(license),
            treasury,
            ratio,
            lastEpoch,
            uint64(block.timestamp) + CONVERSION_PERIOD
        );
    }

    // ---------------------------------------------------------------- leaves and epochs

    function _licenseLeaf(uint256 tokenId, uint256 cumulative) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(TAG, tokenId, cumulative))));
    }

    /// @notice Submits and finalizes epoch `e` with reward root `root` and account total `total`.
    function _finalize(uint32 e, bytes32 root, uint96 total) internal {
        _submitAndFinalize(_header(e, root, total, settlement.emissionCap(e)));
    }

    /// @notice Funds the conversion with `amount` SEND from the treasury.
    function _fundConversion(uint256 amount) internal {
        vm.startPrank(treasury);
        token.approve(address(conversion), amount);
        conversion.fund(amount);
        vm.stopPrank();
    }

    /// @notice Ejects `nodeKey` (staked exactly MIN_STAKE): a finalized fault leaf slashing 1 SEND in `epoch`.
    function _ejectThroughFault(uint32 epoch, address nodeKey, bytes32 rewardRoot, uint96 total) internal {
        bytes32[] memory faultLeaves = new bytes32[](1);
        faultLeaves[0] = Merkle.faultLeaf(epoch, 0, nodeKey, 1 ether, false);
        EpochHeader memory h = _header(epoch, rewardRoot, total, settlement.emissionCap(epoch));
        h.faultRoot = Merkle.root(faultLeaves);
        h.faultCount = 1;
        _submitAndFinalize(h);
        settlement.executeFault(epoch, 0, nodeKey, 1 ether, false, Merkle.proof(faultLeaves, 0));
        require(staking.getNode(nodeKey).status == NodeStaking.NodeStatus.Ejected, "not ejected");
    }
}
