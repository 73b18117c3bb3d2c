// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console2} from "forge-std/Script.sol";
import {stdJson} from "forge-std/StdJson.sol";
import {SendToken} from "../contracts/token/SendToken.sol";
import {NodeStaking} from "../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../contracts/settlement/EpochSettlement.sol";

/// @title Deploy
/// @notice Deploys and wires the protocol on any chain from a JSON config and writes the address book
///         `deployments/<chainId>.json` that keepers, the subgraph and the CLI read.
/// @dev Usage: `DEPLOY_CONFIG=config/devnet.json forge script script/Deploy.s.sol --rpc-url $RPC
///      --private-key $KEY --broadcast`. The token mints into contracts that do not exist yet, so their
///      addresses are predicted from the deployer's nonce (token, staking, settlement, in that order).
contract Deploy is Script {
    using stdJson for string;

    struct Deployment {
        SendToken token;
        NodeStaking staking;
        EpochSettlement settlement;
        uint256 startBlock;
    }

    /// @notice The deployer's nonce moved between prediction and deployment (another transaction?).
    error AddressPredictionFailed();

    function run() external returns (Deployment memory d) {
        string memory path = vm.envOr("DEPLOY_CONFIG", string("config/devnet.json"));
        string memory config = vm.readFile(path);
        address deployer = msg.sender;
        address owner = config.keyExists(".owner") ? config.readAddress(".owner") : deployer;
        address treasury = config.readAddress(".treasury");
        address licensePool = config.keyExists(".licensePool") ? config.readAddress(".licensePool") : treasury;

        uint64 nonce = vm.getNonce(deployer);
        address predictedStaking = vm.computeCreateAddress(deployer, nonce + 1);
        address predictedSettlement = vm.computeCreateAddress(deployer, nonce + 2);
        d.startBlock = block.number;

        vm.startBroadcast();
        d.token = new SendToken(
            SendToken.Allocations({
                nodeRewards: predictedSettlement,
                licensePool: licensePool,
                guardianRewards: predictedSettlement,
                treasury: treasury
            })
        );
        d.staking = new NodeStaking(_stakingConfig(config, address(d.token), predictedSettlement, treasury));
        d.settlement = new EpochSettlement(_settlementConfig(config, owner, address(d.token), address(d.staking)));
        vm.stopBroadcast();

        if (address(d.staking) != predictedStaking || address(d.settlement) != predictedSettlement) {
            revert AddressPredictionFailed();
        }
        _writeAddressBook(d, deployer, owner, path);
    }

    function _stakingConfig(string memory config, address token, address settlement, address treasury)
        internal
        pure
        returns (NodeStaking.Config memory)
    {
        return NodeStaking.Config({
            token: token,
            settlement: settlement,
            treasury: treasury,
            minStake: uint96(config.readUint(".staking.minStake")),
            unbondingPeriod: uint64(config.readUint(".staking.unbondingPeriodSeconds")),
            maxSlashBps: uint16(config.readUint(".staking.maxSlashBps")),
            finderFeeBps: uint16(config.readUint(".staking.finderFeeBps")),
            equivocationSlash: uint96(config.readUint(".staking.equivocationSlash")),
            maxStrikes: uint8(config.readUint(".staking.maxStrikes")),
            strikeWindowEpochs: uint32(config.readUint(".staking.strikeWindowEpochs"))
        });
    }

    function _settlementConfig(string memory config, address owner, address token, address staking)
        internal
        view
        returns (EpochSettlement.Config memory)
    {
        uint256 genesis = config.readUint(".settlement.genesisTime");
        return EpochSettlement.Config({
            owner: owner,
            token: token,
            staking: staking,
            guardians: _sorted(config.readAddressArray(".guardians")),
            genesisTime: uint64(genesis == 0 ? block.timestamp : genesis),
            epochDuration: uint64(config.readUint(".settlement.epochDurationSeconds")),
            disputeWindow: uint64(config.readUint(".settlement.disputeWindowSeconds")),
            initialEpochEmission: uint96(config.readUint(".settlement.initialEpochEmission")),
            halvingIntervalEpochs: uint32(config.readUint(".settlement.halvingIntervalEpochs")),
            guardianShareBps: uint16(config.readUint(".settlement.guardianShareBps"))
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

    function _writeAddressBook(Deployment memory d, address deployer, address owner, string memory configPath)
        internal
    {
        string memory contracts = "contracts";
        contracts.serialize("SendToken", address(d.token));
        contracts.serialize("NodeStaking", address(d.staking));
        string memory contractsJson = contracts.serialize("EpochSettlement", address(d.settlement));

        string memory book = "book";
        book.serialize("chainId", block.chainid);
        book.serialize("startBlock", d.startBlock);
        book.serialize("deployer", deployer);
        book.serialize("owner", owner);
        book.serialize("config", configPath);
        book.serialize("genesisTime", uint256(d.settlement.genesisTime()));
        book.serialize("epochDurationSeconds", uint256(d.settlement.epochDuration()));
        book.serialize("disputeWindowSeconds", uint256(d.settlement.disputeWindow()));
        string memory json = book.serialize("contracts", contractsJson);

        string memory out = vm.envOr(
            "ADDRESS_BOOK", string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json")
        );
        vm.writeJson(json, out);
        // solhint-disable-next-line no-console
        console2.log("address book:", out);
        // solhint-disable-next-line no-console
        console2.log(json);
    }
}
