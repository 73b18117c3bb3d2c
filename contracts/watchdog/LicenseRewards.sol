// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IEpochSettlementView} from "../interfaces/IEpochSettlementView.sol";
import {MerkleRootLib} from "../libraries/MerkleRootLib.sol";
import {IVoidableLicense} from "./IVoidableLicense.sol";

/// @title LicenseRewards
/// @notice Holds the WatchDog license pool (12% of SEND, minted here by the token at deployment) and pays
///         each license its cumulative reward, by token id, to whoever owns the license NFT when the claim
///         is made: rewards follow the NFT.
/// @dev Per-license cumulative rewards live in the settlement's guardian-signed reward tree, next to the
///      account leaves, as leaves of their own type:
///      `keccak256(bytes.concat(keccak256(abi.encode(LICENSE_REWARD_TAG, tokenId, cumulative))))`.
///      The 96-byte preimage can never equal an account leaf's 64-byte `(address, uint256)` preimage, so
///      neither contract accepts the other's leaves. Claims are checked against the latest finalized
///      reward root (rewards are cumulative: the newest root supersedes all older ones). The pool is
///      streamed per epoch on an immutable halving schedule; total payouts never exceed what the schedule
///      has emitted up to the latest finalized epoch, which bounds what even a wrong tree can pay.
///      Licenses of a failed sale (`IVoidableLicense.voided`) are paid nothing from then on, rewards they
///      accrued before included: their holders get their full price back from the presale, and a sale that
///      never stood earns no share of the pool. What they were paid before stays paid; their unpaid rewards
///      stay in this contract, unpaid. A burned (refunded) license is paid nothing either (no owner).
contract LicenseRewards {
    using SafeERC20 for IERC20;

    struct Config {
        address token; // SEND
        address settlement; // EpochSettlement: the finalized reward root
        address license; // the WatchDog license ERC-721
        uint32 firstEpoch; // first settlement epoch that emits license rewards (>= 1)
        uint32 halvingIntervalEpochs; // the per-epoch emission halves every this many epochs
        uint96 initialEpochEmission; // license emission of epochs firstEpoch .. firstEpoch + interval - 1
    }

    /// @notice Domain tag of license leaves: the first word of their 96-byte preimage.
    bytes32 public constant LICENSE_REWARD_TAG = keccak256("SendingNetwork.LicenseReward");

    IERC20 public immutable token;
    IEpochSettlementView public immutable settlement;
    IVoidableLicense public immutable license;
    /// @notice SEND held at deployment: the license pool the token minted here.
    uint256 public immutable pool;
    /// @notice Everything the schedule will ever emit, over all uint32 epochs (at most `pool`).
    uint256 public immutable scheduleTotal;
    uint32 public immutable firstEpoch;
    uint32 public immutable halvingIntervalEpochs;
    uint96 public immutable initialEpochEmission;

    /// @notice SEND paid out by claims so far, over all licenses.
    uint256 public totalPaid;
    /// @notice Cumulative reward already paid out for each license (to whoever owned it at each claim).
    mapping(uint256 tokenId => uint256) public claimed;

    /// @notice `amount` SEND paid to `owner`, the license's owner at the time of the claim, raising what
    ///         the license has been paid to `cumulative`.
    event LicenseRewardClaimed(
        uint256 indexed tokenId, address indexed owner, uint256 amount, uint256 cumulative
    );

    /// @notice A constructor argument is zero (an address, the first epoch, the interval or the emission).
    error InvalidParameter(string what);
    /// @notice The schedule would emit more than the pool holds (is the pool minted to this address?).
    error ScheduleExceedsPool(uint256 scheduleTotal, uint256 pool);
    /// @notice No settlement epoch is finalized yet, so there is no reward root to claim against.
    error NoFinalizedEpoch();
    /// @notice `(tokenId, cumulative)` is not a license leaf of the latest finalized reward root.
    error InvalidLicenseRewardProof(uint256 tokenId, uint256 cumulative);
    /// @notice The proved cumulative is not above what the license has already been paid.
    error NothingToClaim(uint256 tokenId, uint256 cumulative, uint256 alreadyClaimed);
    /// @notice Paying `amount` would take total license payouts above what the schedule has emitted up to
    ///         the latest finalized epoch; `available` is what is emitted and not yet paid.
    error PayoutExceedsEmitted(uint256 amount, uint256 available);
    /// @notice The license does not exist (never minted, or burned): nobody to pay.
    error LicenseNotFound(uint256 tokenId);
    /// @notice The licenses are void (their sale was cancelled or expired unfinalized): nothing is paid.
    error LicenseVoid(uint256 tokenId);

    /// @dev The token must already hold the pool at this address (the deploy script predicts it).
    constructor(Config memory config) {
        if (config.token == address(0)) revert InvalidParameter("token");
        if (config.settlement == address(0)) revert InvalidParameter("settlement");
        if (config.license == address(0)) revert InvalidParameter("license");
        if (config.firstEpoch == 0) revert InvalidParameter("firstEpoch");
        if (config.halvingIntervalEpochs == 0) revert InvalidParameter("halvingIntervalEpochs");
        if (config.initialEpochEmission == 0) revert InvalidParameter("initialEpochEmission");
        token = IERC20(config.token);
        settlement = IEpochSettlementView(config.settlement);
        license = IVoidableLicense(config.license);
        firstEpoch = config.firstEpoch;
        halvingIntervalEpochs = config.halvingIntervalEpochs;
        initialEpochEmission = config.initialEpochEmission;
        uint256 total = _emittedUpTo(
            type(uint32).max, config.firstEpoch, config.halvingIntervalEpochs, config.initialEpochEmission
        );
        uint256 funded = IERC20(config.token).balanceOf(address(this));
        if (total > funded) revert ScheduleExceedsPool(total, funded);
        pool = funded;
        scheduleTotal = total;
    }

    /// @notice Pays the current owner of license `tokenId` the difference between `cumulative` (its license
    ///         leaf in the latest finalized reward root) and what the license was already paid. Anyone may
    ///         call; tokens go to `license.ownerOf(tokenId)`. Nothing for a burned license
    ///         (`LicenseNotFound`) or once the licenses are void (`LicenseVoid`), accrued rewards included.
    /// @return amount the SEND paid.
    function claim(uint256 tokenId, uint256 cumulative, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        (uint32 epoch, bytes32 root) = settlement.claimableRewardRoot();
        if (epoch == 0) revert NoFinalizedEpoch();
        if (MerkleRootLib.processProofCalldata(proof, licenseRewardLeaf(tokenId, cumulative)) != root) {
            revert InvalidLicenseRewardProof(tokenId, cumulative);
        }
        uint256 already = claimed[tokenId];
        if (cumulative <= already) revert NothingToClaim(tokenId, cumulative, already);
        amount = cumulative - already;
        uint256 paid = totalPaid;
        // emitted >= paid always (every payout was checked against an emission that never decreases), and
        // comparing with the headroom cannot overflow however large a wrong tree's cumulative is
        uint256 available = emittedUpTo(epoch) - paid;
        if (amount > available) revert PayoutExceedsEmitted(amount, available);
        address owner = _ownerOf(tokenId);
        if (license.voided()) revert LicenseVoid(tokenId);
        claimed[tokenId] = cumulative;
        totalPaid = paid + amount;
        emit LicenseRewardClaimed(tokenId, owner, amount, cumulative);
        token.safeTransfer(owner, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The leaf committing license `tokenId`'s cumulative reward in the settlement's reward tree.
    function licenseRewardLeaf(uint256 tokenId, uint256 cumulative) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(LICENSE_REWARD_TAG, tokenId, cumulative))));
    }

    /// @notice License emission of settlement epoch `epoch`: `initialEpochEmission`, halved every
    ///         `halvingIntervalEpochs` epochs from `firstEpoch` on (0 before `firstEpoch`).
    function epochEmission(uint32 epoch) external view returns (uint256) {
        if (epoch < firstEpoch) return 0;
        return uint256(initialEpochEmission) >> ((epoch - firstEpoch) / halvingIntervalEpochs);
    }

    /// @notice Sum of the license emission of every epoch up to and including `epoch`: the most that
    ///         license claims may ever have paid once `epoch` is finalized. O(halvings so far).
    function emittedUpTo(uint32 epoch) public view returns (uint256) {
        return _emittedUpTo(epoch, firstEpoch, halvingIntervalEpochs, initialEpochEmission);
    }

    /// @notice What the schedule has emitted up to the latest finalized settlement epoch.
    function emittedSoFar() public view returns (uint256) {
        return emittedUpTo(settlement.lastFinalizedEpoch());
    }

    /// @notice Emitted so far and not yet paid: how much more license claims may pay right now.
    function unpaidEmitted() external view returns (uint256) {
        return emittedSoFar() - totalPaid;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Σ of the emission of epochs `from` .. `epoch` (rate `initial`, halving every `interval`): whole
    ///      halving periods at their rate, then the partial period. The loop stops once the rate reaches
    ///      zero, so it runs at most 96 times. No overflow: the result is below 2^96 · 2 · 2^32.
    function _emittedUpTo(uint32 epoch, uint32 from, uint32 interval, uint96 initial)
        private
        pure
        returns (uint256 total)
    {
        if (epoch < from) return 0;
        unchecked {
            uint256 epochs = uint256(epoch) - from + 1;
            uint256 periods = epochs / interval;
            uint256 rate = initial;
            uint256 perEpochSum;
            for (uint256 i; i < periods && rate != 0; ++i) {
                perEpochSum += rate;
                rate >>= 1;
            }
            // `rate` is now the rate of the partial period (0 if the loop ran out of rate first).
            total = perEpochSum * interval + rate * (epochs - periods * interval);
        }
    }

    /// @dev The license's owner; a nonexistent (or burned) token reverts with `LicenseNotFound`, also for
    ///      an ERC-721 that returns the zero address instead of reverting.
    function _ownerOf(uint256 tokenId) private view returns (address owner) {
        try license.ownerOf(tokenId) returns (address o) {
            owner = o;
        } catch {
            revert LicenseNotFound(tokenId);
        }
        if (owner == address(0)) revert LicenseNotFound(tokenId);
    }
}
