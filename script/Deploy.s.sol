// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {stdJson} from "forge-std/StdJson.sol";
import {SendToken} from "../contracts/token/SendToken.sol";
import {NodeStaking} from "../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../contracts/settlement/EpochSettlement.sol";
import {WatchDogLicense} from "../contracts/watchdog/WatchDogLicense.sol";
import {WatchDogPresale} from "../contracts/watchdog/WatchDogPresale.sol";
import {LicenseRewards} from "../contracts/watchdog/LicenseRewards.sol";
import {DidRegistry} from "../contracts/did/DidRegistry.sol";
import {DidUniversalResolver} from "../contracts/did/DidUniversalResolver.sol";
import {SwapSettlement} from "../contracts/swap/SwapSettlement.sol";
import {TestnetPoints} from "../contracts/points/TestnetPoints.sol";
import {PointsConversion} from "../contracts/points/PointsConversion.sol";
import {DevStablecoin} from "./dev/DevStablecoin.sol";

/// @title Deploy
/// @notice Deploys and wires the whole protocol on any chain from a JSON config and writes the address book
///         `deployments/<chainId>.json` that keepers, the subgraph and the CLI read.
/// @dev Usage: `DEPLOY_CONFIG=config/devnet.json forge script script/Deploy.s.sol --rpc-url $RPC
///      --private-key $KEY --broadcast`. Contracts refer to each other through immutables, so later
///      addresses are predicted from the deployer's nonce (order: license, presale, token, staking,
///      settlement, license rewards, DID registry, DID resolver, swaps) and checked afterwards.
///      Points mode (`points.enabled` in the config; docs/points.md): `TestnetPoints` is deployed first,
///      minted to the predicted settlement and license rewards, which pay it instead of SEND; SEND's
///      node-reward, guardian and license-pool allocations go to the treasury (no SEND escrow exists in a
///      points deployment; the treasury funds the conversion from them); `PointsConversion` is deployed
///      last and left for the treasury to fund (`fund`, `requiredFunding()` after the snapshot). Without
///      a `points` section, or with `enabled: false`, the deployment is exactly the token deployment.
contract Deploy is Script {
    using stdJson for string;

    struct Deployment {
        address paymentToken;
        WatchDogLicense license;
        WatchDogPresale presale;
        SendToken token;
        NodeStaking staking;
        EpochSettlement settlement;
        LicenseRewards licenseRewards;
        DidRegistry didRegistry;
        DidUniversalResolver didResolver;
        SwapSettlement swap;
        uint256 startBlock;
        TestnetPoints points; // points mode only
        PointsConversion pointsConversion; // points mode only
    }

    /// @notice The deployer's nonce moved between prediction and deployment (another transaction?).
    error AddressPredictionFailed(string what);
    /// @notice `parameter` (its config path) breaks the incentive bound `bound` of docs/protocol.md §7.1
    ///         (keepers/src/core/incentives.ts checks the same bounds at keeper start).
    error IncentiveBoundBroken(string parameter, string bound);
    /// @notice The config leaves an address zero that must be set (config/production.json's placeholders).
    error ConfigAddressMissing(string what);

    /// @notice The parameters the incentive bounds involve (docs/protocol.md §7.1).
    struct IncentiveParams {
        uint256 minStake;
        uint256 maxSlashBps;
        uint256 equivocationSlash;
        uint256 fraudSlash;
        uint256 samplesPerNode;
        uint256 initialEpochEmission;
        uint256 guardianShareBps;
    }

    string internal _config;
    address internal _deployer;
    address internal _owner;
    address internal _treasury;
    bool internal _points;

    function run() external returns (Deployment memory d) {
        string memory path = vm.envOr("DEPLOY_CONFIG", string("config/devnet.json"));
        _config = vm.readFile(path);
        _deployer = msg.sender;
        _owner = _config.keyExists(".owner") ? _config.readAddress(".owner") : _deployer;
        _treasury = _config.readAddress(".treasury");
        _points = _config.keyExists(".points") && _config.readBool(".points.enabled");
        d.startBlock = block.number;
        _checkAddresses();
        checkIncentiveBounds(readIncentiveParams(_config));

        vm.startBroadcast();
        d.paymentToken = _config.readAddress(".watchdog.paymentToken");
        if (d.paymentToken == address(0)) d.paymentToken = address(new DevStablecoin());

        uint64 nonce = vm.getNonce(_deployer);
        // points mode deploys the points token first, at `nonce`; everything else follows it
        uint64 first = _points ? nonce + 1 : nonce;
        address[9] memory predicted;
        for (uint256 i; i < predicted.length; ++i) {
            predicted[i] = vm.computeCreateAddress(_deployer, first + i);
        }
        if (_points) d.points = _deployTestnetPoints(predicted[4], predicted[5]);
        d.license = new WatchDogLicense(_licenseConfig(predicted[1]));
        d.presale = new WatchDogPresale(_presaleConfig(address(d.license), d.paymentToken));
        d.token = new SendToken(
            SendToken.Allocations({
                nodeRewards: _points ? _treasury : predicted[4],
                licensePool: _points ? _treasury : predicted[5],
                guardianRewards: _points ? _treasury : predicted[4],
                treasury: _treasury
            })
        );
        // what the settlement and license rewards pay: SEND, or points in points mode
        address rewardToken = _points ? address(d.points) : address(d.token);
        d.staking = new NodeStaking(_stakingConfig(address(d.token), predicted[4]));
        d.settlement = new EpochSettlement(_settlementConfig(rewardToken, address(d.staking)));
        d.licenseRewards =
            new LicenseRewards(_licenseRewardsConfig(rewardToken, address(d.settlement), address(d.license)));
        d.didRegistry = _deployDidRegistry();
        d.didResolver = new DidUniversalResolver(d.didRegistry);
        d.swap = new SwapSettlement();
        if (_points) d.pointsConversion = _deployPointsConversion(d);
        vm.stopBroadcast();

        _checkPrediction("presale", address(d.presale), predicted[1]);
        _checkPrediction("settlement", address(d.settlement), predicted[4]);
        _checkPrediction("licenseRewards", address(d.licenseRewards), predicted[5]);
        _writeAddressBook(d, path);
    }

    /// @notice Reverts `IncentiveBoundBroken` at the first bound of docs/protocol.md §7.1 that `p` breaks:
    ///         both slashes positive (a caught node ends its epoch below zero) and within what the per-epoch
    ///         cap takes from a minimum-stake node (so they land in full), k ≥ 2 samples per node (forging any
    ///         fraction has a lower expected value than honest work), and a positive node share of the
    ///         emission (what a caught node forfeits).
    function checkIncentiveBounds(IncentiveParams memory p) public pure {
        uint256 cap = p.minStake * p.maxSlashBps / 10_000;
        if (p.fraudSlash == 0) revert IncentiveBoundBroken("consensus.fraudSlash", "fraudSlash > 0");
        if (p.fraudSlash > cap) {
            revert IncentiveBoundBroken(
                "consensus.fraudSlash", "fraudSlash <= minStake * maxSlashBps / 10000"
            );
        }
        if (p.equivocationSlash == 0) {
            revert IncentiveBoundBroken("staking.equivocationSlash", "equivocationSlash > 0");
        }
        if (p.equivocationSlash > cap) {
            revert IncentiveBoundBroken(
                "staking.equivocationSlash", "equivocationSlash <= minStake * maxSlashBps / 10000"
            );
        }
        if (p.samplesPerNode < 2) revert IncentiveBoundBroken("consensus.k", "k >= 2");
        if (p.guardianShareBps > 10_000) {
            revert IncentiveBoundBroken("settlement.guardianShareBps", "guardianShareBps <= 10000");
        }
        if (p.initialEpochEmission * (10_000 - p.guardianShareBps) / 10_000 == 0) {
            revert IncentiveBoundBroken(
                "settlement.initialEpochEmission",
                "initialEpochEmission * (10000 - guardianShareBps) / 10000 > 0"
            );
        }
    }

    /// @notice The incentive parameters of a deploy config (JSON text).
    function readIncentiveParams(string memory config) public pure returns (IncentiveParams memory) {
        return IncentiveParams({
            minStake: config.readUint(".staking.minStake"),
            maxSlashBps: config.readUint(".staking.maxSlashBps"),
            equivocationSlash: config.readUint(".staking.equivocationSlash"),
            fraudSlash: config.readUint(".consensus.fraudSlash"),
            samplesPerNode: config.readUint(".consensus.k"),
            initialEpochEmission: config.readUint(".settlement.initialEpochEmission"),
            guardianShareBps: config.readUint(".settlement.guardianShareBps")
        });
    }

    function _checkAddresses() internal view {
        if (_treasury == address(0)) revert ConfigAddressMissing("treasury");
        address[] memory guardians = _config.readAddressArray(".guardians");
        for (uint256 i; i < guardians.length; ++i) {
            if (guardians[i] == address(0)) revert ConfigAddressMissing("guardians");
        }
    }

    function _licenseRewardsConfig(address token, address settlement, address license)
        internal
        view
        returns (LicenseRewards.Config memory)
    {
        return LicenseRewards.Config({
            token: token,
            settlement: settlement,
            license: license,
            firstEpoch: uint32(_config.readUint(".licenseRewards.firstEpoch")),
            halvingIntervalEpochs: uint32(_config.readUint(".licenseRewards.halvingIntervalEpochs")),
            initialEpochEmission: uint96(_config.readUint(".licenseRewards.initialEpochEmission"))
        });
    }

    /// @dev Points minted to the points settlement and license rewards: the SEND allocations they stand in
    ///      for (node rewards + guardians: 430M; the license pool: 120M), so the same emission schedules fit.
    function _deployTestnetPoints(address settlement, address licenseRewards)
        internal
        returns (TestnetPoints)
    {
        return new TestnetPoints(settlement, 430_000_000 ether, licenseRewards, 120_000_000 ether);
    }

    /// @dev `points.ratio`: SEND wei per point wei scaled by 1e18; `points.lastPointsEpoch`;
    ///      `points.conversionDeadlineOffsetSeconds`: the deadline is that long after the end of the last
    ///      points epoch (so it can never precede it).
    function _deployPointsConversion(Deployment memory d) internal returns (PointsConversion) {
        uint32 lastEpoch = uint32(_config.readUint(".points.lastPointsEpoch"));
        uint256 deadline = uint256(d.settlement.epochEnd(lastEpoch))
            + _config.readUint(".points.conversionDeadlineOffsetSeconds");
        return new PointsConversion(
            address(d.token),
            address(d.settlement),
            address(d.licenseRewards),
            address(d.staking),
            address(d.license),
            _treasury,
            _config.readUint(".points.ratio"),
            lastEpoch,
            uint64(deadline)
        );
    }

    function _checkPrediction(string memory what, address actual, address predicted) internal pure {
        if (actual != predicted) revert AddressPredictionFailed(what);
    }

    function _licenseConfig(address presale) internal view returns (WatchDogLicense.Config memory) {
        return WatchDogLicense.Config({
            name: _config.readString(".watchdog.name"),
            symbol: _config.readString(".watchdog.symbol"),
            baseURI: _config.readString(".watchdog.baseURI"),
            owner: _owner,
            minter: presale,
            unlockTime: uint64(block.timestamp + _config.readUint(".watchdog.unlockDelaySeconds")),
            maxUnlockTime: uint64(block.timestamp + _config.readUint(".watchdog.maxUnlockDelaySeconds"))
        });
    }

    function _presaleConfig(address license, address paymentToken)
        internal
        view
        returns (WatchDogPresale.Config memory c)
    {
        c.owner = _owner;
        c.license = license;
        c.paymentToken = paymentToken;
        c.treasury = _treasury;
        c.supply = uint32(_config.readUint(".watchdog.supply"));
        uint256[] memory starts = _config.readUintArray(".watchdog.tierStarts");
        uint256[] memory ethPrices = _config.readUintArray(".watchdog.tierEthPrices");
        uint256[] memory tokenPrices = _config.readUintArray(".watchdog.tierTokenPrices");
        c.tiers = new WatchDogPresale.Tier[](starts.length);
        for (uint256 i; i < starts.length; ++i) {
            c.tiers[i] = WatchDogPresale.Tier(uint32(starts[i]), uint96(ethPrices[i]), uint96(tokenPrices[i]));
        }
        if (_config.keyExists(".watchdog.allowlist")) {
            uint256 start = block.timestamp + _config.readUint(".watchdog.allowlist.startOffsetSeconds");
            c.allowlist = WatchDogPresale.AllowlistPhase({
                start: uint40(start),
                end: uint40(start + _config.readUint(".watchdog.allowlist.durationSeconds")),
                reserve: uint32(_config.readUint(".watchdog.allowlist.reserve")),
                merkleRoot: _config.readBytes32(".watchdog.allowlist.merkleRoot")
            });
        }
        uint256 publicStart = block.timestamp + _config.readUint(".watchdog.publicStartOffsetSeconds");
        c.publicPhase = WatchDogPresale.PublicPhase({
            start: uint40(publicStart),
            end: uint40(publicStart + _config.readUint(".watchdog.publicDurationSeconds")),
            walletCap: uint32(_config.readUint(".watchdog.publicWalletCap")),
            txCap: uint32(_config.readUint(".watchdog.publicTxCap"))
        });
        // buyers never depend on the owner: self-refunds from this time if the sale is still neither
        // finalized nor cancelled, refunds until the deadline (then the rest goes to the treasury)
        c.selfRefundTime = uint40(block.timestamp + _config.readUint(".watchdog.selfRefundOffsetSeconds"));
        c.refundDeadline = uint40(block.timestamp + _config.readUint(".watchdog.refundDeadlineOffsetSeconds"));
    }

    function _stakingConfig(address token, address settlement)
        internal
        view
        returns (NodeStaking.Config memory)
    {
        return NodeStaking.Config({
            token: token,
            settlement: settlement,
            treasury: _treasury,
            minStake: uint96(_config.readUint(".staking.minStake")),
            unbondingPeriod: uint64(_config.readUint(".staking.unbondingPeriodSeconds")),
            maxSlashBps: uint16(_config.readUint(".staking.maxSlashBps")),
            finderFeeBps: uint16(_config.readUint(".staking.finderFeeBps")),
            equivocationSlash: uint96(_config.readUint(".staking.equivocationSlash")),
            maxStrikes: uint8(_config.readUint(".staking.maxStrikes")),
            strikeWindowEpochs: uint32(_config.readUint(".staking.strikeWindowEpochs"))
        });
    }

    function _settlementConfig(address token, address staking)
        internal
        view
        returns (EpochSettlement.Config memory)
    {
        uint256 genesis = _config.readUint(".settlement.genesisTime");
        return EpochSettlement.Config({
            owner: _owner,
            token: token,
            staking: staking,
            guardians: _sorted(_config.readAddressArray(".guardians")),
            genesisTime: uint64(genesis == 0 ? block.timestamp : genesis),
            epochDuration: uint64(_config.readUint(".settlement.epochDurationSeconds")),
            disputeWindow: uint64(_config.readUint(".settlement.disputeWindowSeconds")),
            disputeResolutionPeriod: uint64(_config.readUint(".settlement.disputeResolutionSeconds")),
            initialEpochEmission: uint96(_config.readUint(".settlement.initialEpochEmission")),
            halvingIntervalEpochs: uint32(_config.readUint(".settlement.halvingIntervalEpochs")),
            guardianShareBps: uint16(_config.readUint(".settlement.guardianShareBps"))
        });
    }

    /// @dev The guardian set must be sorted ascending; configs may list it in any order.
    function _sorted(address[] memory list) internal pure returns (address[] memory) {
        for (uint256 i = 1; i < list.length; ++i) {
            address key = list[i];
            uint256 j = i;
            while (j > 0 && list[j - 1] > key) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = key;
        }
        return list;
    }

    function _writeAddressBook(Deployment memory d, string memory configPath) internal {
        string memory contracts = "contracts";
        contracts.serialize("SendToken", address(d.token));
        contracts.serialize("NodeStaking", address(d.staking));
        contracts.serialize("EpochSettlement", address(d.settlement));
        contracts.serialize("WatchDogLicense", address(d.license));
        contracts.serialize("WatchDogPresale", address(d.presale));
        contracts.serialize("LicenseRewards", address(d.licenseRewards));
        contracts.serialize("PaymentToken", d.paymentToken);
        contracts.serialize("DidRegistry", address(d.didRegistry));
        contracts.serialize("DidUniversalResolver", address(d.didResolver));
        if (_points) {
            contracts.serialize("TestnetPoints", address(d.points));
            contracts.serialize("PointsConversion", address(d.pointsConversion));
        }
        string memory contractsJson = contracts.serialize("SwapSettlement", address(d.swap));

        string memory book = "book";
        book.serialize("chainId", block.chainid);
        book.serialize("startBlock", d.startBlock);
        book.serialize("deployer", _deployer);
        book.serialize("owner", _owner);
        book.serialize("config", configPath);
        book.serialize("genesisTime", uint256(d.settlement.genesisTime()));
        book.serialize("epochDurationSeconds", uint256(d.settlement.epochDuration()));
        book.serialize("disputeWindowSeconds", uint256(d.settlement.disputeWindow()));
        string memory json = book.serialize("contracts", contractsJson);

        string memory out = vm.envOr(
            "ADDRESS_BOOK",
            string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json")
        );
        vm.writeJson(json, out);
        // solhint-disable-next-line no-console
        console2.log("address book:", out);
        // solhint-disable-next-line no-console
        console2.log(json);
    }

    /// @dev The DID registry from `.did`: its TLD and commitment window (`minCommitmentAgeSeconds`,
    ///      `maxCommitmentAgeSeconds`; absent: 60 s and 1 day, as ENS's controller).
    function _deployDidRegistry() internal returns (DidRegistry) {
        uint256 minAge = _config.keyExists(".did.minCommitmentAgeSeconds")
            ? _config.readUint(".did.minCommitmentAgeSeconds")
            : 60;
        uint256 maxAge = _config.keyExists(".did.maxCommitmentAgeSeconds")
            ? _config.readUint(".did.maxCommitmentAgeSeconds")
            : 1 days;
        return new DidRegistry(_config.readString(".did.tld"), minAge, maxAge);
    }
}
