// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {Merkle} from "../utils/Merkle.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {LicenseRewards} from "../../contracts/watchdog/LicenseRewards.sol";
import {LicenseRewardsTestBase} from "./LicenseRewardsTestBase.sol";
import {ZeroOwnerLicense} from "./mocks/MockLicense.sol";

contract LicenseRewardsTest is LicenseRewardsTestBase {
    uint256 internal constant E = LICENSE_EMISSION;

    function setUp() public override {
        super.setUp();
        license.mint(alice, 1);
        license.mint(bob, 2);
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public view {
        assertEq(address(rewards.token()), address(token));
        assertEq(address(rewards.settlement()), address(settlement));
        assertEq(address(rewards.license()), address(license));
        assertEq(rewards.firstEpoch(), 1);
        assertEq(rewards.halvingIntervalEpochs(), HALVING);
        assertEq(rewards.initialEpochEmission(), LICENSE_EMISSION);
        assertEq(rewards.LICENSE_REWARD_TAG(), keccak256("SendingNetwork.LicenseReward"));
        assertEq(rewards.totalPaid(), 0);
        assertEq(rewards.claimed(1), 0);
        assertEq(rewards.emittedSoFar(), 0);
        assertEq(rewards.unpaidEmitted(), 0);
    }

    function test_constructor_poolIsTheTokensLicenseAllocation() public view {
        assertEq(rewards.pool(), POOL);
        assertEq(rewards.pool(), token.LICENSE_POOL_SUPPLY());
        assertEq(token.balanceOf(address(rewards)), POOL);
        assertEq(token.balanceOf(licensePool), POOL);
    }

    function test_constructor_defaultScheduleSpreadsThePool() public view {
        // 120M / (2 · 730) per epoch, halving every 730 epochs: Σ = 730 · (2E − popcount(E))
        assertEq(LICENSE_EMISSION, 82_191_780_821_917_808_219_178);
        assertEq(rewards.scheduleTotal(), _closedFormTotal(HALVING, LICENSE_EMISSION));
        assertEq(rewards.scheduleTotal(), 119_999_999_999_999_999_999_978_710);
        assertEq(POOL - rewards.scheduleTotal(), 21_290, "dust left in the pool forever");
        assertEq(rewards.emittedUpTo(type(uint32).max), rewards.scheduleTotal());
    }

    function test_RevertWhen_constructor_zeroParameter() public {
        LicenseRewards.Config memory cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION);
        cfg.token = address(0);
        _expectInvalid(cfg, "token");
        cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION);
        cfg.settlement = address(0);
        _expectInvalid(cfg, "settlement");
        cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION);
        cfg.license = address(0);
        _expectInvalid(cfg, "license");
        _expectInvalid(_rewardsConfig(0, HALVING, LICENSE_EMISSION), "firstEpoch");
        _expectInvalid(_rewardsConfig(1, 0, LICENSE_EMISSION), "halvingIntervalEpochs");
        _expectInvalid(_rewardsConfig(1, HALVING, 0), "initialEpochEmission");
    }

    function _expectInvalid(LicenseRewards.Config memory cfg, string memory what) internal {
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.InvalidParameter.selector, what));
        new LicenseRewards(cfg);
    }

    function test_RevertWhen_constructor_poolNotMintedHere() public {
        // the deploy script mispredicted the address: nothing was minted to it
        LicenseRewards.Config memory cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION);
        uint256 total = _closedFormTotal(HALVING, LICENSE_EMISSION);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.ScheduleExceedsPool.selector, total, 0));
        new LicenseRewards(cfg);
    }

    function test_RevertWhen_constructor_scheduleExceedsPool() public {
        LicenseRewards.Config memory cfg = _rewardsConfig(5, 10, 1000 ether);
        uint256 total = _closedFormTotal(10, 1000 ether);
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        _fund(predicted, total - 1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.ScheduleExceedsPool.selector, total, total - 1));
        new LicenseRewards(cfg);
        // fully funded, it deploys (the failed creation used up a nonce: predict again)
        predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        _fund(predicted, total);
        LicenseRewards r = new LicenseRewards(cfg);
        assertEq(address(r), predicted);
        assertEq(r.pool(), total);
        assertEq(r.scheduleTotal(), total);
    }

    function test_RevertWhen_constructor_rateSlightlyAboveThePoolsSeries() public {
        // E + 100 wei per epoch would emit 730 · (2(E+100) − popcount(E+100)) > 120M
        LicenseRewards.Config memory cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION + 100);
        uint256 total = _closedFormTotal(HALVING, LICENSE_EMISSION + 100);
        assertGt(total, POOL);
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        _fund(predicted, POOL);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.ScheduleExceedsPool.selector, total, POOL));
        new LicenseRewards(cfg);
    }

    /// The schedule total, computed period by period with the last period clipped at the uint32 horizon.
    function testFuzz_constructor_scheduleTotal(uint32 firstEpoch, uint32 interval, uint96 initial) public {
        firstEpoch = uint32(bound(firstEpoch, 1, type(uint32).max));
        interval = uint32(bound(interval, 1, type(uint32).max));
        initial = uint96(bound(initial, 1, type(uint96).max));
        uint256 expected;
        uint256 horizon = type(uint32).max;
        for (uint256 p; (uint256(initial) >> p) != 0; ++p) {
            uint256 start = uint256(firstEpoch) + p * interval;
            if (start > horizon) break;
            uint256 end = start + interval - 1;
            if (end > horizon) end = horizon;
            expected += (uint256(initial) >> p) * (end - start + 1);
        }
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        deal(address(token), predicted, expected);
        LicenseRewards r = new LicenseRewards(_rewardsConfig(firstEpoch, interval, initial));
        assertEq(r.scheduleTotal(), expected);
        assertEq(r.pool(), expected);
        assertEq(r.emittedUpTo(type(uint32).max), expected);
    }

    // ------------------------------------------------------------------ schedule

    function test_epochEmission_halvingSchedule() public view {
        assertEq(rewards.epochEmission(0), 0);
        assertEq(rewards.epochEmission(1), E);
        assertEq(rewards.epochEmission(730), E);
        assertEq(rewards.epochEmission(731), E / 2);
        assertEq(rewards.epochEmission(1460), E / 2);
        assertEq(rewards.epochEmission(1461), E / 4);
        assertEq(rewards.epochEmission(730 * 10 + 1), E >> 10);
        assertEq(rewards.epochEmission(730 * 77), E >> 76);
        assertEq(rewards.epochEmission(730 * 77 + 1), 0, "E < 2^77");
        assertEq(rewards.epochEmission(type(uint32).max), 0);
    }

    function test_epochEmission_startsAtFirstEpoch() public {
        LicenseRewards r = _deployRewards(_rewardsConfig(10, 3, 1000 ether), POOL);
        assertEq(r.epochEmission(0), 0);
        assertEq(r.epochEmission(9), 0);
        assertEq(r.epochEmission(10), 1000 ether);
        assertEq(r.epochEmission(12), 1000 ether);
        assertEq(r.epochEmission(13), 500 ether);
        assertEq(r.epochEmission(16), 250 ether);
        assertEq(r.emittedUpTo(9), 0);
        assertEq(r.emittedUpTo(10), 1000 ether);
        assertEq(r.emittedUpTo(12), 3000 ether);
        assertEq(r.emittedUpTo(14), 4000 ether);
        assertEq(r.emittedUpTo(16), 4750 ether);
    }

    function test_emittedUpTo_values() public view {
        assertEq(rewards.emittedUpTo(0), 0);
        assertEq(rewards.emittedUpTo(1), E);
        assertEq(rewards.emittedUpTo(2), 2 * E);
        assertEq(rewards.emittedUpTo(730), 730 * E);
        assertEq(rewards.emittedUpTo(731), 730 * E + E / 2);
        assertEq(rewards.emittedUpTo(1460), 730 * E + 730 * (E / 2));
        assertEq(rewards.emittedUpTo(1461), 730 * E + 730 * (E / 2) + E / 4);
    }

    function testFuzz_emittedUpTo_matchesEpochByEpochSum(
        uint32 firstEpoch,
        uint32 interval,
        uint96 initial,
        uint32 epoch
    ) public {
        firstEpoch = uint32(bound(firstEpoch, 1, 50));
        interval = uint32(bound(interval, 1, 20));
        initial = uint96(bound(initial, 1, type(uint96).max));
        epoch = uint32(bound(epoch, 0, 600));
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        deal(address(token), predicted, uint256(type(uint96).max) * 2 * interval);
        LicenseRewards r = new LicenseRewards(_rewardsConfig(firstEpoch, interval, initial));
        assertEq(r.emittedUpTo(epoch), _referenceEmitted(epoch, firstEpoch, interval, initial));
    }

    /// Each epoch adds exactly its emission, the sum never passes the schedule total, at any epoch.
    function testFuzz_emittedUpTo_incrementIsEpochEmission(uint32 epoch, uint32 interval) public {
        epoch = uint32(bound(epoch, 0, type(uint32).max - 1));
        interval = uint32(bound(interval, 1, 1000));
        uint96 initial = 1_000_000 ether + 12_345;
        LicenseRewards r =
            _deployRewards(_rewardsConfig(3, interval, initial), _closedFormTotal(interval, initial));
        LicenseRewards[2] memory instances = [rewards, r];
        for (uint256 k; k < 2; ++k) {
            LicenseRewards x = instances[k];
            uint256 here = x.emittedUpTo(epoch);
            assertEq(x.emittedUpTo(epoch + 1) - here, x.epochEmission(epoch + 1));
            assertLe(here, x.scheduleTotal());
            assertLe(x.scheduleTotal(), x.pool());
        }
    }

    function test_emittedUpTo_boundedGasAfterEveryHalving() public {
        // one halving per epoch: the sum walks all 90 halvings of the rate and stops
        uint96 initial = type(uint96).max >> 6;
        LicenseRewards r = _deployRewards(_rewardsConfig(1, 1, initial), _closedFormTotal(1, initial));
        uint256 before = gasleft();
        uint256 total = r.emittedUpTo(type(uint32).max);
        uint256 used = before - gasleft();
        assertEq(total, r.scheduleTotal());
        assertLt(used, 12_000, "O(halvings), at most 96 iterations");
        emit log_named_uint("emittedUpTo gas after 90 halvings", used);
    }

    function test_emittedSoFar_followsTheFinalizedEpoch() public {
        bytes32[] memory leaves = _one(1, 10 ether);
        assertEq(rewards.emittedSoFar(), 0);
        _submit(_header(1, Merkle.root(leaves), 0, 0));
        assertEq(rewards.emittedSoFar(), 0, "pending epochs emit nothing yet");
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        assertEq(rewards.emittedSoFar(), E);
        assertEq(rewards.unpaidEmitted(), E);
        rewards.claim(1, 10 ether, Merkle.proof(leaves, 0));
        assertEq(rewards.unpaidEmitted(), E - 10 ether);
        _finalize(2, leaves);
        assertEq(rewards.emittedSoFar(), 2 * E);
        assertEq(rewards.unpaidEmitted(), 2 * E - 10 ether);
    }

    // ------------------------------------------------------------------ claim

    function test_claim_paysTheCurrentOwner() public {
        bytes32[] memory leaves = _two(1, 100 ether, 2, 50 ether);
        _finalize(1, leaves);
        vm.expectEmit(true, true, true, true, address(rewards));
        emit LicenseRewards.LicenseRewardClaimed(1, alice, 100 ether, 100 ether);
        vm.prank(keeper);
        uint256 paid = rewards.claim(1, 100 ether, Merkle.proof(leaves, 0));
        assertEq(paid, 100 ether);
        assertEq(token.balanceOf(alice), 100 ether);
        assertEq(token.balanceOf(keeper), 0, "the caller gets nothing");
        assertEq(rewards.claimed(1), 100 ether);
        assertEq(rewards.totalPaid(), 100 ether);
        assertEq(token.balanceOf(address(rewards)), POOL - 100 ether);

        rewards.claim(2, 50 ether, Merkle.proof(leaves, 1));
        assertEq(token.balanceOf(bob), 50 ether);
        assertEq(rewards.totalPaid(), 150 ether);
    }

    function test_claim_paysTheDifference() public {
        bytes32[] memory l1 = _one(1, 100 ether);
        _finalize(1, l1);
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        bytes32[] memory l2 = _one(1, 250 ether);
        _finalize(2, l2);
        vm.expectEmit(true, true, true, true, address(rewards));
        emit LicenseRewards.LicenseRewardClaimed(1, alice, 150 ether, 250 ether);
        assertEq(rewards.claim(1, 250 ether, Merkle.proof(l2, 0)), 150 ether);
        assertEq(token.balanceOf(alice), 250 ether);
        assertEq(rewards.claimed(1), 250 ether);
        assertEq(rewards.totalPaid(), 250 ether);
    }

    function test_claim_unclaimedEpochsAccumulate() public {
        _finalize(1, _one(1, 100 ether));
        _finalize(2, _one(1, 180 ether));
        bytes32[] memory l3 = _one(1, 300 ether);
        _finalize(3, l3);
        assertEq(rewards.claim(1, 300 ether, Merkle.proof(l3, 0)), 300 ether);
        assertEq(token.balanceOf(alice), 300 ether);
    }

    function test_claim_rewardsFollowTheNFT() public {
        bytes32[] memory l1 = _one(1, 100 ether);
        _finalize(1, l1);
        // alice sells the license before claiming: the unclaimed 100 go with it
        vm.prank(alice);
        license.transferFrom(alice, bob, 1);
        vm.expectEmit(true, true, true, true, address(rewards));
        emit LicenseRewards.LicenseRewardClaimed(1, bob, 100 ether, 100 ether);
        vm.prank(alice);
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        assertEq(token.balanceOf(bob), 100 ether);
        assertEq(token.balanceOf(alice), 0);

        // bob sells it on to carol; what accrues afterwards is carol's
        vm.prank(bob);
        license.transferFrom(bob, carol, 1);
        bytes32[] memory l2 = _one(1, 180 ether);
        _finalize(2, l2);
        rewards.claim(1, 180 ether, Merkle.proof(l2, 0));
        assertEq(token.balanceOf(carol), 80 ether);
        assertEq(token.balanceOf(bob), 100 ether);
        assertEq(rewards.claimed(1), 180 ether);
    }

    function testFuzz_claim_followsTheOwner(address newOwner, uint256 c1, uint256 c2) public {
        vm.assume(newOwner != address(0) && newOwner != address(rewards) && newOwner != alice);
        c1 = bound(c1, 1, E);
        c2 = bound(c2, c1 + 1, 2 * E);
        bytes32[] memory l1 = _one(1, c1);
        _finalize(1, l1);
        rewards.claim(1, c1, Merkle.proof(l1, 0));
        vm.prank(alice);
        license.transferFrom(alice, newOwner, 1);
        uint256 before = token.balanceOf(newOwner);
        bytes32[] memory l2 = _one(1, c2);
        _finalize(2, l2);
        rewards.claim(1, c2, Merkle.proof(l2, 0));
        assertEq(token.balanceOf(alice), c1);
        assertEq(token.balanceOf(newOwner) - before, c2 - c1);
        assertEq(rewards.totalPaid(), c2);
    }

    function testFuzz_claim_anyoneMayCall(address caller, uint256 cumulative) public {
        vm.assume(caller != alice && caller != address(rewards));
        cumulative = bound(cumulative, 1, E);
        bytes32[] memory leaves = _one(1, cumulative);
        _finalize(1, leaves);
        uint256 callerBefore = token.balanceOf(caller);
        vm.prank(caller);
        rewards.claim(1, cumulative, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(alice), cumulative);
        assertEq(token.balanceOf(caller), callerBefore);
    }

    function testFuzz_claim_paysTheDifference(uint256 c1, uint256 c2) public {
        c1 = bound(c1, 1, E);
        c2 = bound(c2, c1 + 1, 2 * E);
        bytes32[] memory l1 = _two(1, c1, 2, 0);
        _finalize(1, l1);
        assertEq(rewards.claim(1, c1, Merkle.proof(l1, 0)), c1);
        bytes32[] memory l2 = _two(1, c2, 2, 0);
        _finalize(2, l2);
        assertEq(rewards.claim(1, c2, Merkle.proof(l2, 0)), c2 - c1);
        assertEq(token.balanceOf(alice), c2);
        assertEq(rewards.claimed(1), c2);
        assertEq(rewards.totalPaid(), c2);
        assertEq(token.balanceOf(address(rewards)) + rewards.totalPaid(), POOL);
    }

    // ------------------------------------------------------------------ one tree, two leaf types

    /// Account leaves and license leaves share the guardian-signed tree; each contract pays its own kind.
    function test_claim_mixedTree_bothContractsPayTheirOwnLeaves() public {
        (bytes32[] memory leaves, EpochSettlementTreeIndex memory ix) = _mixedTree();
        _finalize(1, leaves, 100 ether);
        settlement.claim(alice, 70 ether, Merkle.proof(leaves, ix.aliceAccount));
        settlement.claim(bob, 30 ether, Merkle.proof(leaves, ix.bobAccount));
        rewards.claim(1, 100 ether, Merkle.proof(leaves, ix.license1));
        rewards.claim(2, 40 ether, Merkle.proof(leaves, ix.license2));
        assertEq(token.balanceOf(alice), 170 ether);
        assertEq(token.balanceOf(bob), 70 ether);
        assertEq(settlement.totalClaimed(), 100 ether);
        assertEq(rewards.totalPaid(), 140 ether);
    }

    function test_RevertWhen_claim_accountLeafUsedAsLicenseLeaf() public {
        (bytes32[] memory leaves, EpochSettlementTreeIndex memory ix) = _mixedTree();
        _finalize(1, leaves, 100 ether);
        uint256 aliceAsId = uint256(uint160(alice));
        license.mint(alice, aliceAsId); // the token exists: only the leaf type stops the claim
        bytes32[] memory proof = Merkle.proof(leaves, ix.aliceAccount);
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, aliceAsId, 70 ether)
        );
        rewards.claim(aliceAsId, 70 ether, proof);
    }

    function test_RevertWhen_settlementClaim_licenseLeafUsedAsAccountLeaf() public {
        (bytes32[] memory leaves, EpochSettlementTreeIndex memory ix) = _mixedTree();
        _finalize(1, leaves, 100 ether);
        bytes32[] memory proof = Merkle.proof(leaves, ix.license1);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, address(1), 100 ether)
        );
        settlement.claim(address(1), 100 ether, proof);
        // not even with the tag or the token id in the account word
        address tagAccount = address(uint160(uint256(TAG)));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.InvalidRewardProof.selector, tagAccount, 1));
        settlement.claim(tagAccount, 1, proof);
    }

    /// No (tokenId, cumulative) verifies with an account leaf's proof: the preimages differ in length.
    function testFuzz_RevertWhen_claim_accountLeafNeverVerifies(
        address account,
        uint256 amount,
        uint256 tokenId,
        uint256 cumulative
    ) public {
        address[] memory accounts = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (accounts[0], amounts[0]) = (account, amount);
        uint256[] memory ids = new uint256[](1);
        bytes32[] memory leaves = _mixedLeaves(ids, new uint256[](1), accounts, amounts);
        _finalize(1, leaves);
        bytes32[] memory proof = Merkle.proof(leaves, 1);
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, tokenId, cumulative)
        );
        rewards.claim(tokenId, cumulative, proof);
    }

    struct EpochSettlementTreeIndex {
        uint256 license1;
        uint256 license2;
        uint256 aliceAccount;
        uint256 bobAccount;
    }

    /// License 1 (alice's) 100, license 2 (bob's) 40; accounts alice 70, bob 30.
    function _mixedTree()
        internal
        view
        returns (bytes32[] memory leaves, EpochSettlementTreeIndex memory ix)
    {
        uint256[] memory ids = new uint256[](2);
        uint256[] memory cums = new uint256[](2);
        (ids[0], ids[1], cums[0], cums[1]) = (1, 2, 100 ether, 40 ether);
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1], amounts[0], amounts[1]) = (alice, bob, 70 ether, 30 ether);
        leaves = _mixedLeaves(ids, cums, accounts, amounts);
        ix = EpochSettlementTreeIndex(0, 1, 2, 3);
    }

    // ------------------------------------------------------------------ claim: rejections

    function test_RevertWhen_claim_noFinalizedEpoch() public {
        bytes32[] memory leaves = _one(1, 100 ether);
        vm.expectRevert(LicenseRewards.NoFinalizedEpoch.selector);
        rewards.claim(1, 100 ether, Merkle.proof(leaves, 0));
        // submitted but still in its dispute window
        _submit(_header(1, Merkle.root(leaves), 0, 0));
        vm.expectRevert(LicenseRewards.NoFinalizedEpoch.selector);
        rewards.claim(1, 100 ether, Merkle.proof(leaves, 0));
    }

    function test_RevertWhen_claim_invalidProof() public {
        bytes32[] memory leaves = _two(1, 100 ether, 2, 50 ether);
        _finalize(1, leaves);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        // another cumulative
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 101 ether)
        );
        rewards.claim(1, 101 ether, proof);
        // another token id with license 1's proof
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 2, 100 ether)
        );
        rewards.claim(2, 100 ether, proof);
        // no proof, a truncated proof, a tampered proof
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 100 ether)
        );
        rewards.claim(1, 100 ether, new bytes32[](0));
        bytes32[] memory truncated = new bytes32[](proof.length - 1);
        for (uint256 i; i < truncated.length; ++i) {
            truncated[i] = proof[i];
        }
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 100 ether)
        );
        rewards.claim(1, 100 ether, truncated);
        proof[0] = bytes32(uint256(proof[0]) ^ 1);
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 100 ether)
        );
        rewards.claim(1, 100 ether, proof);
        assertEq(rewards.totalPaid(), 0);
    }

    function testFuzz_RevertWhen_claim_forgedLeaf(uint256 tokenId, uint256 cumulative, bytes32 sibling)
        public
    {
        vm.assume(!(tokenId == 1 && cumulative == 100 ether) && !(tokenId == 2 && cumulative == 50 ether));
        bytes32[] memory leaves = _two(1, 100 ether, 2, 50 ether);
        _finalize(1, leaves);
        bytes32[] memory proof = Merkle.proof(leaves, 0);
        proof[0] = sibling;
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, tokenId, cumulative)
        );
        rewards.claim(tokenId, cumulative, proof);
    }

    function test_RevertWhen_claim_pendingOrSupersededRoot() public {
        bytes32[] memory l1 = _one(1, 100 ether);
        _finalize(1, l1);
        bytes32[] memory l2 = _one(1, 150 ether);
        _submit(_header(2, Merkle.root(l2), 0, 0));
        // epoch 2 is pending: its root does not count yet
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 150 ether)
        );
        rewards.claim(1, 150 ether, Merkle.proof(l2, 0));
        vm.warp(block.timestamp + DISPUTE_WINDOW);
        settlement.finalizeEpochs();
        // now epoch 1's root is superseded
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.InvalidLicenseRewardProof.selector, 1, 100 ether)
        );
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        rewards.claim(1, 150 ether, Merkle.proof(l2, 0));
        assertEq(token.balanceOf(alice), 150 ether);
    }

    function test_RevertWhen_claim_nothingToClaim() public {
        bytes32[] memory l1 = _two(1, 100 ether, 2, 0);
        _finalize(1, l1);
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        // twice
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.NothingToClaim.selector, 1, 100 ether, 100 ether)
        );
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        // a license listed with nothing earned
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.NothingToClaim.selector, 2, 0, 0));
        rewards.claim(2, 0, Merkle.proof(l1, 1));
        // a later root lists a lower cumulative (a wrong tree): nothing is paid, nothing is taken back
        bytes32[] memory l2 = _one(1, 90 ether);
        _finalize(2, l2);
        vm.expectRevert(
            abi.encodeWithSelector(LicenseRewards.NothingToClaim.selector, 1, 90 ether, 100 ether)
        );
        rewards.claim(1, 90 ether, Merkle.proof(l2, 0));
        assertEq(rewards.claimed(1), 100 ether);
        assertEq(token.balanceOf(alice), 100 ether);
    }

    /// A wrong tree (or a compromised quorum) cannot pay licenses more than the schedule has emitted.
    function test_RevertWhen_claim_aboveEmittedSchedule() public {
        bytes32[] memory leaves = _one(1, E + 1);
        _finalize(1, leaves);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, E + 1, E));
        rewards.claim(1, E + 1, Merkle.proof(leaves, 0));
        // once another epoch has emitted, the same leaf fits
        _finalize(2, leaves);
        rewards.claim(1, E + 1, Merkle.proof(leaves, 0));
        assertEq(rewards.totalPaid(), E + 1);
    }

    /// A wrong tree with an absurd cumulative is refused with the named error, not an overflow panic.
    function test_RevertWhen_claim_cumulativeNearUint256Max() public {
        bytes32[] memory l1 = _one(1, 10 ether);
        _finalize(1, l1);
        rewards.claim(1, 10 ether, Merkle.proof(l1, 0));
        bytes32[] memory l2 = _two(1, type(uint256).max, 2, type(uint256).max);
        _finalize(2, l2);
        vm.expectRevert(
            abi.encodeWithSelector(
                LicenseRewards.PayoutExceedsEmitted.selector, type(uint256).max - 10 ether, 2 * E - 10 ether
            )
        );
        rewards.claim(1, type(uint256).max, Merkle.proof(l2, 0));
        vm.expectRevert(
            abi.encodeWithSelector(
                LicenseRewards.PayoutExceedsEmitted.selector, type(uint256).max, 2 * E - 10 ether
            )
        );
        rewards.claim(2, type(uint256).max, Merkle.proof(l2, 1));
    }

    function test_claim_exactlyTheEmittedAmount() public {
        bytes32[] memory leaves = _two(1, E / 2, 2, E - E / 2);
        _finalize(1, leaves);
        rewards.claim(1, E / 2, Merkle.proof(leaves, 0));
        rewards.claim(2, E - E / 2, Merkle.proof(leaves, 1));
        assertEq(rewards.totalPaid(), E);
        assertEq(rewards.unpaidEmitted(), 0);
    }

    function test_RevertWhen_claim_licensesTogetherAboveSchedule() public {
        uint256 each = (E * 6) / 10;
        bytes32[] memory leaves = _two(1, each, 2, each);
        _finalize(1, leaves);
        rewards.claim(1, each, Merkle.proof(leaves, 0));
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, each, E - each));
        rewards.claim(2, each, Merkle.proof(leaves, 1));
        assertEq(token.balanceOf(bob), 0);
    }

    function test_RevertWhen_claim_beforeTheScheduleStarts() public {
        LicenseRewards r = _deployRewards(_rewardsConfig(3, 730, 1000 ether), POOL);
        bytes32[] memory leaves = _one(1, 100 ether);
        _finalize(1, leaves);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, 100 ether, 0));
        r.claim(1, 100 ether, Merkle.proof(leaves, 0));
        _finalize(2, leaves);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, 100 ether, 0));
        r.claim(1, 100 ether, Merkle.proof(leaves, 0));
        _finalize(3, leaves);
        r.claim(1, 100 ether, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(alice), 100 ether);
    }

    function test_RevertWhen_claim_nonexistentLicense() public {
        bytes32[] memory leaves = _two(1, 10 ether, 99, 10 ether);
        _finalize(1, leaves);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.LicenseNotFound.selector, 99));
        rewards.claim(99, 10 ether, Merkle.proof(leaves, 1));
        // a burned license is gone too; its rewards stay in the pool
        license.burn(1);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.LicenseNotFound.selector, 1));
        rewards.claim(1, 10 ether, Merkle.proof(leaves, 0));
        assertEq(rewards.totalPaid(), 0);
        assertEq(rewards.claimed(1), 0);
        // minted later, it can claim what its leaf says
        license.mint(carol, 99);
        rewards.claim(99, 10 ether, Merkle.proof(leaves, 1));
        assertEq(token.balanceOf(carol), 10 ether);
    }

    /// A cancelled (or expired) sale voids every license: nothing more is paid, rewards accrued before the
    /// cancellation included; what was paid before stays paid, the rest stays in the pool.
    function test_RevertWhen_claim_voidLicense_accruedForfeited() public {
        bytes32[] memory l1 = _two(1, 100 ether, 2, 40 ether);
        _finalize(1, l1);
        rewards.claim(1, 100 ether, Merkle.proof(l1, 0));
        bytes32[] memory l2 = _two(1, 250 ether, 2, 90 ether);
        _finalize(2, l2);
        license.setVoided(true);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.LicenseVoid.selector, 1));
        rewards.claim(1, 250 ether, Merkle.proof(l2, 0));
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.LicenseVoid.selector, 2));
        rewards.claim(2, 90 ether, Merkle.proof(l2, 1));
        assertEq(token.balanceOf(alice), 100 ether, "paid before the cancellation stays paid");
        assertEq(token.balanceOf(bob), 0);
        assertEq(rewards.totalPaid(), 100 ether);
        assertEq(token.balanceOf(address(rewards)), POOL - 100 ether, "forfeited rewards stay in the pool");
    }

    function test_RevertWhen_claim_licenseReportsZeroOwner() public {
        ZeroOwnerLicense odd = new ZeroOwnerLicense();
        LicenseRewards.Config memory cfg = _rewardsConfig(1, HALVING, LICENSE_EMISSION);
        cfg.license = address(odd);
        LicenseRewards r = _deployRewards(cfg, POOL);
        bytes32[] memory leaves = _one(5, 10 ether);
        _finalize(1, leaves);
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.LicenseNotFound.selector, 5));
        r.claim(5, 10 ether, Merkle.proof(leaves, 0));
        odd.set(5, bob);
        r.claim(5, 10 ether, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(bob), 10 ether);
    }

    // ------------------------------------------------------------------ late epochs (settlement mocked)

    function test_claim_lateEpochAfterHalvings() public {
        uint32 epoch = 10_000; // 13 halvings in
        uint256 emitted = rewards.emittedUpTo(epoch);
        assertEq(emitted, _referenceEmitted(epoch, 1, HALVING, LICENSE_EMISSION));
        bytes32[] memory leaves = _two(1, emitted, 2, 1);
        _mockClaimable(epoch, Merkle.root(leaves));
        assertEq(rewards.emittedSoFar(), emitted);
        rewards.claim(1, emitted, Merkle.proof(leaves, 0));
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, 1, 0));
        rewards.claim(2, 1, Merkle.proof(leaves, 1));
    }

    /// Even after every epoch, payouts stop at the schedule total, which the constructor made ≤ the pool.
    function test_claim_wholeScheduleThenNothingMore() public {
        uint96 initial = 1000 ether;
        uint256 total = _closedFormTotal(1, initial);
        LicenseRewards r = _deployRewards(_rewardsConfig(1, 1, initial), total);
        bytes32[] memory leaves = _two(1, total, 2, 1);
        _mockClaimable(type(uint32).max, Merkle.root(leaves));
        r.claim(1, total, Merkle.proof(leaves, 0));
        assertEq(token.balanceOf(address(r)), 0, "the pool is empty");
        assertEq(r.totalPaid(), r.pool());
        vm.expectRevert(abi.encodeWithSelector(LicenseRewards.PayoutExceedsEmitted.selector, 1, 0));
        r.claim(2, 1, Merkle.proof(leaves, 1));
    }

    /// However three licenses' cumulatives are set, payouts never pass the emitted schedule.
    function testFuzz_claim_neverAboveEmitted(uint32 epoch, uint256[3] memory cums) public {
        epoch = uint32(bound(epoch, 1, 5000));
        uint256 emitted = rewards.emittedUpTo(epoch);
        license.mint(carol, 3);
        uint256[] memory ids = new uint256[](3);
        uint256[] memory cs = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            ids[i] = i + 1;
            cs[i] = bound(cums[i], 1, emitted);
        }
        bytes32[] memory leaves = _licenseLeaves(ids, cs);
        _mockClaimable(epoch, Merkle.root(leaves));
        uint256 paid;
        for (uint256 i; i < 3; ++i) {
            if (paid + cs[i] > emitted) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        LicenseRewards.PayoutExceedsEmitted.selector, cs[i], emitted - paid
                    )
                );
                rewards.claim(ids[i], cs[i], Merkle.proof(leaves, i));
            } else {
                rewards.claim(ids[i], cs[i], Merkle.proof(leaves, i));
                paid += cs[i];
            }
            assertEq(rewards.totalPaid(), paid);
            assertLe(rewards.totalPaid(), emitted);
        }
    }

    // ------------------------------------------------------------------ leaf

    function test_licenseRewardLeaf_standardEncoding() public view {
        bytes32 leaf = rewards.licenseRewardLeaf(1, 100 ether);
        assertEq(leaf, keccak256(bytes.concat(keccak256(abi.encode(TAG, uint256(1), uint256(100 ether))))));
        assertTrue(leaf != Merkle.rewardLeaf(address(1), 100 ether));
    }

    /// The same vector keepers/test/merkle.test.ts checks for `licenseRewardLeaf` in TypeScript.
    function test_licenseRewardLeaf_knownVector() public view {
        assertEq(
            rewards.LICENSE_REWARD_TAG(), 0xe9f6902005c31da4baabbb257da1a2ca65421b61936ca1efd29de6ffbd760936
        );
        assertEq(
            rewards.licenseRewardLeaf(1, 100 ether),
            0xa0e4cd9ef6f84a759354443cf90c52448ecdfc6d5d68c43da04f6a75733d5b2e
        );
    }

    // ------------------------------------------------------------------ gas

    /// Execution gas of a license claim with a 20-deep proof (a 2^20-leaf tree), first and repeat.
    /// (Whole-transaction figures: bench/gas/licenseRewards.ts.)
    /// forge-config: default.isolate = true
    function test_gas_claim_20deepProof() public {
        (bytes32 root1, bytes32[] memory proof1) = _deepProof(1, 100 ether, 20);
        _finalize(1, _rootOnly(root1));
        rewards.claim(1, 100 ether, proof1);
        Vm.Gas memory first = vm.lastCallGas();
        (bytes32 root2, bytes32[] memory proof2) = _deepProof(1, 200 ether, 20);
        _finalize(2, _rootOnly(root2));
        rewards.claim(1, 200 ether, proof2);
        Vm.Gas memory repeat = vm.lastCallGas();
        emit log_named_uint("claim, first for the license and its owner (execution gas)", first.gasTotalUsed);
        emit log_named_uint("claim, repeat (execution gas)", repeat.gasTotalUsed);
        assertEq(token.balanceOf(alice), 200 ether);
    }

    /// @dev A root that `licenseLeaf(tokenId, cumulative)` reaches through `depth` pseudo-random siblings.
    function _deepProof(uint256 tokenId, uint256 cumulative, uint256 depth)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        proof = new bytes32[](depth);
        root = keccak256(bytes.concat(keccak256(abi.encode(TAG, tokenId, cumulative))));
        for (uint256 i; i < depth; ++i) {
            proof[i] = keccak256(abi.encode("sibling", cumulative, i));
            root = Merkle.hashPair(root, proof[i]);
        }
    }

    /// @dev `_finalize` takes leaves; a single "leaf" is its own root.
    function _rootOnly(bytes32 root) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](1);
        leaves[0] = root;
    }
}
