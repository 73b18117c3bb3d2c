// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {LicenseRewards} from "../../contracts/watchdog/LicenseRewards.sol";
import {LicenseRewardsTestBase} from "./LicenseRewardsTestBase.sol";
import {LicenseRewardsHandler} from "./handlers/LicenseRewardsHandler.sol";

/// @notice License rewards driven through the real settlement. A short schedule (1,000 SEND per epoch from
///         epoch 2, halving every 4 epochs, the pool exactly the schedule's total) makes halvings, the
///         emission cap and wrong trees that over-allocate all happen within one run.
contract LicenseRewardsInvariantTest is LicenseRewardsTestBase {
    uint96 internal constant INV_EMISSION = 1_000 ether;
    uint32 internal constant INV_HALVING = 4;
    uint32 internal constant INV_FIRST_EPOCH = 2;

    LicenseRewardsHandler internal handler;
    LicenseRewards internal r;
    uint256 internal treasuryAfterSetup;

    function setUp() public override {
        super.setUp();
        r = _deployRewards(
            _rewardsConfig(INV_FIRST_EPOCH, INV_HALVING, INV_EMISSION),
            _closedFormTotal(INV_HALVING, INV_EMISSION)
        );
        handler = new LicenseRewardsHandler(settlement, r, license, token, guardians, guardianKeys);

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = LicenseRewardsHandler.submitEpoch.selector;
        selectors[1] = LicenseRewardsHandler.warp.selector;
        selectors[2] = LicenseRewardsHandler.finalize.selector;
        selectors[3] = LicenseRewardsHandler.claim.selector;
        selectors[4] = LicenseRewardsHandler.claimStale.selector;
        selectors[5] = LicenseRewardsHandler.transferLicense.selector;
        selectors[6] = LicenseRewardsHandler.claimAccount.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// Total paid never exceeds the pool nor what the schedule emitted up to the latest finalized epoch.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_totalPaidWithinPoolAndEmitted() public view {
        uint256 paid = r.totalPaid();
        uint256 emitted = r.emittedUpTo(settlement.lastFinalizedEpoch());
        assertLe(paid, r.pool(), "paid > pool");
        assertLe(paid, emitted, "paid > emitted so far");
        assertLe(emitted, r.scheduleTotal(), "emitted > schedule total");
        assertLe(r.scheduleTotal(), r.pool(), "schedule total > pool");
        assertEq(r.emittedSoFar(), emitted);
        assertEq(r.unpaidEmitted(), emitted - paid);
    }

    /// Tokens leave the pool only through claims, and the books say exactly how many.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_poolConservation() public view {
        assertEq(token.balanceOf(address(r)) + r.totalPaid(), r.pool(), "balance + paid != pool");
        assertEq(r.totalPaid(), handler.ghostTotalPaid(), "totalPaid != sum of claim payouts");
        uint256 received;
        for (uint256 k; k < handler.HOLDERS(); ++k) {
            address holder = handler.holders(k);
            assertEq(token.balanceOf(holder), handler.ghostReceived(holder), "holder balance != received");
            received += token.balanceOf(holder);
        }
        assertEq(received, r.totalPaid(), "holders received != totalPaid");
    }

    /// What each license was paid is exactly its highest claimed cumulative, and never above its leaf in
    /// the latest finalized tree (the handler's trees only grow).
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_paidPerLicenseIsHighestClaimedCumulative() public view {
        uint32 lf = settlement.lastFinalizedEpoch();
        uint256 sum;
        for (uint256 id = 1; id <= handler.LICENSES(); ++id) {
            uint256 claimed = r.claimed(id);
            assertEq(claimed, handler.ghostHighestClaimed(id), "claimed != highest claimed cumulative");
            assertEq(claimed, handler.ghostPaidTo(id), "claimed != paid for the license");
            assertLe(claimed, lf == 0 ? 0 : handler.cumulativeOf(lf, id), "claimed > finalized cumulative");
            sum += claimed;
        }
        assertEq(sum, r.totalPaid(), "sum of claimed != totalPaid");
    }

    /// Every claim paid the license's owner of the moment; no stale root was accepted; claims reverted
    /// only as expected (nothing new, or above the emitted schedule).
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_claimsBehave() public view {
        assertEq(handler.ghostPaidNonOwner(), 0, "a claim paid someone else");
        assertEq(handler.ghostStaleAccepted(), 0, "a superseded root was accepted");
        assertEq(handler.ghostUnexpectedReverts(), 0, "a claim reverted unexpectedly");
    }

    /// The default deployment is untouched by the handler (it drives a second instance).
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_defaultInstanceUntouched() public view {
        assertEq(rewards.totalPaid(), 0);
        assertEq(token.balanceOf(address(rewards)), POOL);
    }

    /// The handler really reaches the cap: after a wrong (greedy) tree, claiming every license hits
    /// PayoutExceedsEmitted, and every invariant still holds.
    function test_handler_wrongTreeIsCapped() public {
        uint256 seed;
        for (uint256 k; k < 4; ++k) {
            handler.submitEpoch(seed = _seed(false, seed + 1), true);
        }
        for (uint256 k; k < 3; ++k) {
            handler.submitEpoch(seed = _seed(true, seed + 1), true);
        }
        for (uint256 i; i < 4; ++i) {
            handler.claim(i, address(this));
        }
        assertGt(handler.ghostCapped(), 0, "no claim was capped");
        assertEq(handler.calls("submitGreedy"), 3);
        invariant_totalPaidWithinPoolAndEmitted();
        invariant_poolConservation();
        invariant_paidPerLicenseIsHighestClaimedCumulative();
        invariant_claimsBehave();
    }

    /// @dev The first seed from `from` on that makes the handler build a greedy (or an honest) tree.
    function _seed(bool greedy, uint256 from) internal pure returns (uint256 seed) {
        for (seed = from; (uint256(keccak256(abi.encode(seed, "greedy"))) % 8 == 0) != greedy; ++seed) {}
    }

    function afterInvariant() external view {
        console.log("honest", handler.calls("submitHonest"), "greedy", handler.calls("submitGreedy"));
        console.log("claim", handler.calls("claim"), "capped", handler.ghostCapped());
        console.log("nothing", handler.calls("claimNothing"), "stale", handler.calls("claimStale"));
        console.log("transfer", handler.calls("transfer"), "account", handler.calls("claimAccount"));
        console.log("lastFinalized", settlement.lastFinalizedEpoch(), "totalPaid", r.totalPaid());
    }
}
