// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Deploy} from "../../script/Deploy.s.sol";

/// @notice The deploy script refuses a parameter set that breaks an incentive bound (docs/protocol.md §7.1),
///         naming the parameter and the bound, and accepts the devnet and production configs.
contract DeployIncentivesTest is Test {
    Deploy internal deploy;

    function setUp() public {
        deploy = new Deploy();
    }

    function _config(string memory name) internal view returns (Deploy.IncentiveParams memory) {
        return deploy.readIncentiveParams(vm.readFile(string.concat("config/", name)));
    }

    function _expect(string memory parameter, string memory bound) internal {
        vm.expectRevert(abi.encodeWithSelector(Deploy.IncentiveBoundBroken.selector, parameter, bound));
    }

    function test_devnetAndProductionConfigsPass() public view {
        Deploy.IncentiveParams memory devnet = _config("devnet.json");
        Deploy.IncentiveParams memory production = _config("production.json");
        deploy.checkIncentiveBounds(devnet);
        deploy.checkIncentiveBounds(production);
        assertEq(devnet.fraudSlash, 1_000e18);
        assertEq(production.minStake, 100_000e18);
    }

    function test_slashesMustBePositive() public {
        Deploy.IncentiveParams memory p = _config("devnet.json");
        p.fraudSlash = 0;
        _expect("consensus.fraudSlash", "fraudSlash > 0");
        deploy.checkIncentiveBounds(p);
        p = _config("devnet.json");
        p.equivocationSlash = 0;
        _expect("staking.equivocationSlash", "equivocationSlash > 0");
        deploy.checkIncentiveBounds(p);
    }

    function test_slashesMustFitTheCapOfAMinimumStake() public {
        Deploy.IncentiveParams memory p = _config("devnet.json");
        p.fraudSlash = p.minStake * p.maxSlashBps / 10_000 + 1;
        _expect("consensus.fraudSlash", "fraudSlash <= minStake * maxSlashBps / 10000");
        deploy.checkIncentiveBounds(p);
        // the same slash is accepted once the stake minimum (or the cap) makes room for it
        p.minStake += 10_000e18;
        deploy.checkIncentiveBounds(p);
        p = _config("devnet.json");
        p.maxSlashBps = 500; // halves the cap: the devnet's 1,000 SEND slashes no longer land in full
        _expect("consensus.fraudSlash", "fraudSlash <= minStake * maxSlashBps / 10000");
        deploy.checkIncentiveBounds(p);
        p = _config("devnet.json");
        p.equivocationSlash = p.minStake;
        _expect("staking.equivocationSlash", "equivocationSlash <= minStake * maxSlashBps / 10000");
        deploy.checkIncentiveBounds(p);
    }

    function test_samplesAndEmission() public {
        Deploy.IncentiveParams memory p = _config("devnet.json");
        p.samplesPerNode = 1;
        _expect("consensus.k", "k >= 2");
        deploy.checkIncentiveBounds(p);
        p = _config("devnet.json");
        p.guardianShareBps = 10_000;
        _expect(
            "settlement.initialEpochEmission", "initialEpochEmission * (10000 - guardianShareBps) / 10000 > 0"
        );
        deploy.checkIncentiveBounds(p);
        p.guardianShareBps = 10_001;
        _expect("settlement.guardianShareBps", "guardianShareBps <= 10000");
        deploy.checkIncentiveBounds(p);
        p = _config("devnet.json");
        p.initialEpochEmission = 0;
        _expect(
            "settlement.initialEpochEmission", "initialEpochEmission * (10000 - guardianShareBps) / 10000 > 0"
        );
        deploy.checkIncentiveBounds(p);
    }

    /// @notice Any set the script accepts lands a positive slash in full on a minimum-stake node.
    function testFuzz_acceptedSetsLandAPositiveSlash(
        uint96 minStake,
        uint16 maxSlashBps,
        uint96 fraudSlash,
        uint96 equivocationSlash,
        uint8 k
    ) public view {
        Deploy.IncentiveParams memory p = _config("devnet.json");
        p.minStake = minStake;
        p.maxSlashBps = bound(maxSlashBps, 0, 10_000);
        p.fraudSlash = fraudSlash;
        p.equivocationSlash = equivocationSlash;
        p.samplesPerNode = k;
        try deploy.checkIncentiveBounds(p) {
            uint256 cap = p.minStake * p.maxSlashBps / 10_000;
            assertGt(p.fraudSlash, 0);
            assertGt(p.equivocationSlash, 0);
            assertLe(p.fraudSlash, cap);
            assertLe(p.equivocationSlash, cap);
            assertGe(p.samplesPerNode, 2);
        } catch {}
    }
}
