// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Merkle} from "../../utils/Merkle.sol";
import {SendToken} from "../../../contracts/token/SendToken.sol";
import {EpochSettlement} from "../../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../../contracts/libraries/EpochHeaderLib.sol";
import {QuorumSigning} from "../../utils/QuorumSigning.sol";
import {LicenseRewards} from "../../../contracts/watchdog/LicenseRewards.sol";
import {MockLicense} from "../mocks/MockLicense.sol";

/// @notice Drives LicenseRewards through the real settlement: really-signed epochs whose reward tree holds
///         license leaves next to an account leaf (mostly honest trees; sometimes a wrong tree that hands
///         licenses more than the schedule emitted), finalization with or without delay, claims with real
///         proofs by random callers, claims against stale roots, and license transfers. Ghost state
///         records what each license and each holder was paid.
contract LicenseRewardsHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant LICENSES = 4;
    uint256 public constant HOLDERS = 3;
    bytes32 internal constant TAG = keccak256("SendingNetwork.LicenseReward");

    SendToken public immutable token;
    EpochSettlement public immutable settlement;
    LicenseRewards public immutable rewards;
    MockLicense public immutable license;
    address public immutable account; // the account leaf sharing the tree

    address[] internal _guardians;
    uint256[] internal _guardianKeys;
    address[HOLDERS] public holders;

    /// Cumulative of each license (token ids 1..LICENSES) and of the account in each submitted epoch.
    mapping(uint32 epoch => uint256[LICENSES]) internal _cumulative;
    mapping(uint32 epoch => uint256) internal _accountCumulative;

    // ---------------------------------------------------------------- ghost state

    /// Highest cumulative successfully claimed per license, and the sum of amounts paid for it.
    mapping(uint256 tokenId => uint256) public ghostHighestClaimed;
    mapping(uint256 tokenId => uint256) public ghostPaidTo;
    /// SEND each holder received through claims (balance deltas).
    mapping(address holder => uint256) public ghostReceived;
    uint256 public ghostTotalPaid;
    /// Claims that reverted for a reason other than the expected ones.
    uint256 public ghostUnexpectedReverts;
    /// Claims against a root that is not the latest finalized one that were accepted.
    uint256 public ghostStaleAccepted;
    /// Claims refused because they would pass the emitted schedule.
    uint256 public ghostCapped;
    /// A successful claim paid someone other than the license's owner at that moment.
    uint256 public ghostPaidNonOwner;

    mapping(bytes32 action => uint256) public calls;

    constructor(
        EpochSettlement settlement_,
        LicenseRewards rewards_,
        MockLicense license_,
        SendToken token_,
        address[] memory guardians_,
        uint256[] memory guardianKeys_
    ) {
        settlement = settlement_;
        rewards = rewards_;
        license = license_;
        token = token_;
        _guardians = guardians_;
        _guardianKeys = guardianKeys_;
        account = makeAddr("account");
        for (uint256 i; i < HOLDERS; ++i) {
            holders[i] = makeAddr(string.concat("holder", vm.toString(i)));
        }
        for (uint256 id = 1; id <= LICENSES; ++id) {
            license_.mint(holders[id % HOLDERS], id);
        }
    }

    // ---------------------------------------------------------------- views for invariants

    function cumulativeOf(uint32 epoch, uint256 tokenId) public view returns (uint256) {
        return _cumulative[epoch][tokenId - 1];
    }

    // ---------------------------------------------------------------- actions

    /// @notice Submits the next epoch. Honest trees give the licenses together at most the epoch's license
    ///         emission; one in eight is a wrong tree that hands them up to twice everything emitted so
    ///         far, which the contract must cap. Finalizes right away when `finalizeNow`.
    function submitEpoch(uint256 seed, bool finalizeNow) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        uint32 e = p.lastSubmitted + 1;
        if (e - p.lastFinalized >= 8) {
            // ring full: let the oldest pending epoch's window pass so this submission finalizes it
            vm.warp(_max(block.timestamp, settlement.epochEntry(p.lastFinalized + 1).finalizeAt));
        }
        uint64 endsAt = settlement.epochEnd(e);
        if (block.timestamp < endsAt) vm.warp(endsAt);

        bool greedy = uint256(keccak256(abi.encode(seed, "greedy"))) % 8 == 0;
        // honest: the licenses share at most this epoch's emission; greedy: each may get up to half of
        // everything emitted so far (plus 1 SEND, so even epochs before the schedule starts over-allocate)
        uint256 perLicense =
            greedy ? rewards.emittedUpTo(e) / 2 + 1 ether : rewards.epochEmission(e) / LICENSES;
        for (uint256 i; i < LICENSES; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, "license", i)));
            // a license whose WatchDog did not do its work this epoch earns nothing
            uint256 inc = r % 3 == 0 ? 0 : (r >> 8) % (perLicense + 1);
            _cumulative[e][i] = (e == 1 ? 0 : _cumulative[e - 1][i]) + inc;
        }
        uint96 cap = settlement.emissionCap(e);
        uint256 accountInc = uint256(keccak256(abi.encode(seed, "account"))) % (uint256(cap) + 1);
        _accountCumulative[e] = (e == 1 ? 0 : _accountCumulative[e - 1]) + accountInc;

        EpochHeader memory h =
            QuorumSigning.header(e, Merkle.root(_leaves(e)), uint96(_accountCumulative[e]), cap);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _signQuorum(h, seed);
        settlement.submitEpoch(h, _guardians, bitmap, sigs);
        calls[greedy ? bytes32("submitGreedy") : bytes32("submitHonest")]++;

        if (finalizeNow) _finalizeDue();
    }

    function warp(uint256 secs) external {
        calls["warp"]++;
        vm.warp(block.timestamp + _bound(secs, 1, 2 days));
    }

    function finalize() external {
        calls["finalize"]++;
        _finalizeDue();
    }

    /// @notice A random caller claims for a random license against the latest finalized root. Succeeds,
    ///         or reverts only with NothingToClaim or PayoutExceedsEmitted, exactly when expected.
    function claim(uint256 seed, address caller) external {
        uint32 lf = settlement.lastFinalizedEpoch();
        if (lf == 0) return;
        uint256 i = seed % LICENSES;
        uint256 tokenId = i + 1;
        uint256 cumulative = _cumulative[lf][i];
        bytes32[] memory proof = Merkle.proof(_leaves(lf), i);
        address owner = license.ownerOf(tokenId);
        uint256 already = rewards.claimed(tokenId);
        uint256 paidAfter = rewards.totalPaid() + (cumulative > already ? cumulative - already : 0);
        uint256 ownerBefore = token.balanceOf(owner);
        vm.prank(caller);
        try rewards.claim(tokenId, cumulative, proof) returns (uint256 amount) {
            calls["claim"]++;
            uint256 received = token.balanceOf(owner) - ownerBefore;
            if (received != amount) ghostPaidNonOwner++;
            ghostReceived[owner] += received;
            ghostPaidTo[tokenId] += amount;
            ghostTotalPaid += amount;
            if (cumulative > ghostHighestClaimed[tokenId]) ghostHighestClaimed[tokenId] = cumulative;
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            if (cumulative <= already) {
                if (selector != LicenseRewards.NothingToClaim.selector) ghostUnexpectedReverts++;
                calls["claimNothing"]++;
            } else if (paidAfter > rewards.emittedUpTo(lf)) {
                if (selector != LicenseRewards.PayoutExceedsEmitted.selector) ghostUnexpectedReverts++;
                ghostCapped++;
                calls["claimCapped"]++;
            } else {
                ghostUnexpectedReverts++;
            }
        }
    }

    /// @notice Claims with the proof of an older epoch whose leaf differs from the latest finalized one;
    ///         the contract must refuse.
    function claimStale(uint256 seed) external {
        uint32 lf = settlement.lastFinalizedEpoch();
        if (lf < 2) return;
        uint32 old = uint32(_bound(seed, 1, lf - 1));
        uint256 i = (seed >> 32) % LICENSES;
        if (_cumulative[old][i] == _cumulative[lf][i]) return; // the same leaf is still in the latest tree
        calls["claimStale"]++;
        try rewards.claim(i + 1, _cumulative[old][i], Merkle.proof(_leaves(old), i)) {
            ghostStaleAccepted++;
        } catch {}
    }

    /// @notice The owner of a random license sends it to another holder: what it has not claimed goes too.
    function transferLicense(uint256 seed) external {
        uint256 tokenId = seed % LICENSES + 1;
        address from = license.ownerOf(tokenId);
        address to = holders[(seed >> 8) % HOLDERS];
        if (to == from) return;
        calls["transfer"]++;
        vm.prank(from);
        license.transferFrom(from, to, tokenId);
    }

    /// @notice The account leaf in the same tree is paid by the settlement, not by license rewards.
    function claimAccount() external {
        uint32 lf = settlement.lastFinalizedEpoch();
        if (lf == 0 || _accountCumulative[lf] <= settlement.claimed(account)) return;
        calls["claimAccount"]++;
        settlement.claim(account, _accountCumulative[lf], Merkle.proof(_leaves(lf), LICENSES));
    }

    // ---------------------------------------------------------------- internals

    function _finalizeDue() internal {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        if (p.lastFinalized == p.lastSubmitted) return;
        EpochSettlement.EpochEntry memory next = settlement.epochEntry(p.lastFinalized + 1);
        vm.warp(_max(block.timestamp, next.finalizeAt));
        settlement.finalizeEpochs();
    }

    /// @dev License leaves (token ids 1..LICENSES) at indices 0..LICENSES-1, the account leaf last.
    function _leaves(uint32 e) internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](LICENSES + 1);
        for (uint256 i; i < LICENSES; ++i) {
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(TAG, i + 1, _cumulative[e][i]))));
        }
        leaves[LICENSES] = Merkle.rewardLeaf(account, _accountCumulative[e]);
    }

    /// @dev Five of the seven guardians, a different five depending on `seed`.
    function _signQuorum(EpochHeader memory h, uint256 seed)
        internal
        view
        returns (uint256 bitmap, GuardianQuorum.Signature[] memory sigs)
    {
        uint256 skipA = seed % 7;
        uint256 skipB = (skipA + 1 + (seed >> 8) % 6) % 7;
        bitmap = 0x7F & ~((uint256(1) << skipA) | (uint256(1) << skipB));
        sigs = QuorumSigning.signDigest(settlement.headerDigest(h), _guardianKeys, bitmap);
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
