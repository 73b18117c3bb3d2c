// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {GuardianQuorum} from "./GuardianQuorum.sol";
import {INodeStaking} from "../interfaces/INodeStaking.sol";
import {EpochHeader, NodeScore, EpochHeaderLib} from "../libraries/EpochHeaderLib.sol";
import {MerkleRootLib} from "../libraries/MerkleRootLib.sol";
import {FaultBitmap} from "../libraries/FaultBitmap.sol";

/// @title EpochSettlement
/// @notice Settles one epoch per transaction and pays rewards. Keepers submit the header guardians
///         signed (T of M, EIP-712); after the dispute window the epoch is final, its cumulative reward
///         root becomes claimable and its fault leaves executable. Holds the node-reward and guardian
///         allocations in escrow. Records which guardians signed each epoch (a bitmap that later valid
///         signatures extend while the epoch is pending: `addSignatures`), so who is paid as a guardian is
///         read from storage and events, never from calldata. Disputes take M − T + 1 guardian votes (or
///         the owner) and expire to a void after `disputeResolutionPeriod` unless the owner resolves them.
/// @dev O(1) storage per epoch: headers live in a ring of `EPOCH_RING_SIZE` entries whose slots are
///      reused (no fresh storage in steady state); only fault roots, when an epoch has faults, are kept
///      forever. Claims read the reward root of the latest finalized epoch: rewards are cumulative, so
///      the newest finalized root supersedes every older one.
contract EpochSettlement is GuardianQuorum, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    enum EpochStatus {
        None,
        Pending, // submitted, in its dispute window or waiting for an earlier epoch to finalize
        Disputed // M - T + 1 guardians or the owner objected; the owner resolves it, or it expires to void
    }

    /// @notice Lifecycle of an epoch as seen from outside (`epochStatus`).
    enum EpochLifecycle {
        None,
        Pending,
        Disputed,
        Finalized
    }

    struct EpochEntry {
        bytes32 rewardRoot;
        bytes32 scoresCursor; // next expected link of the scores hash chain, SCORES_END when done
        uint32 epoch;
        uint96 totalCumulative;
        uint40 finalizeAt; // while Disputed: when the dispute expires; once finalized late: when (see finalizedBy)
        EpochStatus status;
        uint64 signerBitmap; // bit i: member i of the submission's guardian set signed the header
        uint16 guardianSetId; // low 16 bits of the guardian set id at submission
        bytes32 headerDigest; // EIP-712 digest of the header, for signatures added later
    }

    /// @dev Guardian votes against one submission of an epoch. Votes count only for the submission
    ///      (`finalizeAt`) and guardian set (`guardianSetId`) they were cast against; a stale record reads
    ///      as no votes.
    struct DisputeVotes {
        uint64 voters; // bit i: member i of the set voted
        uint8 count;
        uint40 finalizeAt;
        uint32 guardianSetId;
    }

    /// @dev Everything a claim or a submission reads, in one slot. What has been claimed is derived, not
    ///      stored: claims are the only way tokens leave this contract, so
    ///      claimed = totalFunded - balance (donations outside `fundEscrow` only make it look smaller).
    struct Progress {
        uint32 lastSubmitted;
        uint32 lastFinalized;
        uint96 totalFunded;
        uint96 finalizedCumulative;
    }

    struct Config {
        address owner;
        address token;
        address staking;
        address[] guardians;
        uint64 genesisTime;
        uint64 epochDuration;
        uint64 disputeWindow;
        uint64 disputeResolutionPeriod;
        uint96 initialEpochEmission;
        uint32 halvingIntervalEpochs;
        uint16 guardianShareBps;
    }

    /// @notice Epoch entries kept in the ring: the latest finalized epoch plus up to seven pending ones.
    uint256 public constant EPOCH_RING_SIZE = 8;
    uint256 public constant BPS = 10_000;

    IERC20 public immutable token;
    INodeStaking public immutable staking;
    /// @notice Start of epoch 1; epoch e covers [genesis + (e-1)·duration, genesis + e·duration).
    uint64 public immutable genesisTime;
    uint64 public immutable epochDuration;
    uint64 public immutable disputeWindow;
    /// @notice How long the owner has to resolve a dispute before anyone may void the epoch
    ///         (`expireDispute`).
    uint64 public immutable disputeResolutionPeriod;
    /// @notice Emission cap of epoch 1; halves every `halvingIntervalEpochs` epochs.
    uint96 public immutable initialEpochEmission;
    uint32 public immutable halvingIntervalEpochs;
    /// @notice Share of each epoch's emission paid to guardians (part of the consensus function, which
    ///         guardians run; published here so every implementation reads the same figure).
    uint16 public immutable guardianShareBps;

    /// @dev What a claim reads, in one slot, written at each finalization: the latest finalized reward
    ///      root (its high 192 bits: second preimages cost 2^192, collisions 2^96, and only the guardians
    ///      who build the tree could even try the latter) and the payout floor, the balance that must stay
    ///      in escrow = totalFunded - finalizedCumulative, in units of 1e9 wei rounded down.
    struct ClaimState {
        bytes24 rewardRoot;
        uint64 payoutFloorGwei;
    }

    Progress private _progress;
    ClaimState private _claimState;
    EpochEntry[EPOCH_RING_SIZE] private _ring;
    /// @notice Fault root of every epoch that had faults.
    mapping(uint32 epoch => bytes32) public faultRoots;
    /// @notice Cumulative amount already paid to each account.
    mapping(address account => uint256) public claimed;
    /// @dev Set while a fault leaf is unexecuted (`FaultBitmap`). Set at submission (the submitter pays for
    ///      fresh storage), cleared on execution.
    FaultBitmap private _faultPendingBits;
    /// @dev Guardian dispute votes per epoch (see DisputeVotes).
    mapping(uint32 epoch => DisputeVotes) private _disputeVotes;

    /// @notice The whole signed header and who signed it (bit i: member i of the active guardian set) are
    ///         emitted so indexers, auditors and keepers never need the calldata.
    event EpochSubmitted(
        uint32 indexed epoch,
        EpochHeader header,
        uint40 finalizeAt,
        address indexed submitter,
        uint64 signerBitmap
    );
    /// @notice Valid signatures `added` to a pending epoch; `signerBitmap` is the epoch's bitmap after.
    event SignaturesAdded(uint32 indexed epoch, uint64 added, uint64 signerBitmap, address indexed by);
    event EpochFinalized(uint32 indexed epoch, bytes32 rewardRoot, uint96 totalCumulative);
    /// @notice A guardian's vote against a pending epoch: `votes` of the `needed` so far.
    event DisputeVoteCast(
        uint32 indexed epoch, address indexed guardian, uint8 votes, uint8 needed, string reason
    );
    /// @notice The epoch became Disputed (`by`: the owner, or the guardian whose vote reached M - T + 1).
    event EpochDisputed(uint32 indexed epoch, address indexed by, string reason);
    /// @notice An unresolved dispute passed its resolution period and was voided by `by`.
    event DisputeExpired(uint32 indexed epoch, address indexed by);
    event DisputeResolved(uint32 indexed epoch, bool headerValid);
    event EpochsVoided(uint32 indexed fromEpoch, uint32 indexed toEpoch);
    event EscrowFunded(address indexed from, uint256 amount, uint256 totalFunded);
    event FaultExecuted(
        uint32 indexed epoch, uint32 index, address indexed nodeKey, uint96 requested, bool strike
    );
    event NodeScorePublished(
        uint32 indexed epoch,
        address indexed nodeKey,
        uint32 rank,
        uint32 score,
        uint32 availability,
        uint32 latencyP50Ms,
        uint32 latencyP95Ms,
        uint64 verifiedUnits,
        uint96 reward,
        uint8 faults
    );
    event ScoresFullyPublished(uint32 indexed epoch);

    error InvalidParameter(string what);
    error EpochNotNext(uint32 epoch, uint32 expected);
    error EpochNotEnded(uint32 epoch, uint64 endsAt);
    error TooManyPendingEpochs(uint32 epoch, uint32 lastFinalized);
    error EmissionAboveSchedule(uint96 emission, uint96 cap);
    error CumulativeDecreased(uint96 totalCumulative, uint96 previous);
    error CumulativeExceedsEmission(uint96 increase, uint96 emission);
    error EscrowShortfall(uint256 totalCumulative, uint256 totalFunded);
    error EpochNotPending(uint32 epoch);
    error DisputeWindowClosed(uint32 epoch, uint40 finalizeAt);
    error EpochNotDisputed(uint32 epoch);
    error NothingToFinalize();
    error NoFinalizedEpoch();
    error InvalidRewardProof(address account, uint256 cumulative);
    error NothingToClaim(address account, uint256 cumulative, uint256 alreadyClaimed);
    error PayoutExceedsFinalizedTotal(uint256 balanceAfter, uint256 payoutFloor);
    error ZeroAmount();
    error EpochNotFinalized(uint32 epoch, uint32 lastFinalized);
    error NoFaultsInEpoch(uint32 epoch);
    error InvalidFaultProof(uint32 epoch, uint32 index);
    error FaultAlreadyExecuted(uint32 epoch, uint32 index);
    error FaultCountMismatch(bytes32 faultRoot, uint32 faultCount);
    error ScoresChunkMismatch(uint32 epoch, bytes32 expected, bytes32 provided);
    error ScoresAlreadyPublished(uint32 epoch);
    error EpochNotInRing(uint32 epoch);
    error GuardianSetRotated(uint32 epoch, uint16 submittedSetId, uint32 activeSetId);
    error SignerAlreadyRecorded(uint32 epoch, uint256 overlap);
    error NoSignersAdded(uint32 epoch);
    error AlreadyVoted(uint32 epoch, address guardian);
    error DisputeNotExpired(uint32 epoch, uint40 expiresAt);

    constructor(Config memory config)
        GuardianQuorum(config.owner, config.guardians, config.disputeWindow)
        EIP712("SendingNetwork EpochSettlement", "1")
    {
        if (config.token == address(0)) revert InvalidParameter("token");
        if (config.staking == address(0)) revert InvalidParameter("staking");
        if (config.epochDuration == 0) revert InvalidParameter("epochDuration");
        if (config.disputeWindow == 0) revert InvalidParameter("disputeWindow");
        if (config.disputeResolutionPeriod == 0) revert InvalidParameter("disputeResolutionPeriod");
        if (config.halvingIntervalEpochs == 0) revert InvalidParameter("halvingIntervalEpochs");
        if (config.guardianShareBps > BPS) revert InvalidParameter("guardianShareBps");
        // Unbonding stake must stay slashable for any fault an epoch still in its window may carry.
        if (INodeStaking(config.staking).unbondingPeriod() <= config.disputeWindow) {
            revert InvalidParameter("unbondingPeriod must exceed disputeWindow");
        }
        token = IERC20(config.token);
        staking = INodeStaking(config.staking);
        genesisTime = config.genesisTime;
        epochDuration = config.epochDuration;
        disputeWindow = config.disputeWindow;
        disputeResolutionPeriod = config.disputeResolutionPeriod;
        initialEpochEmission = config.initialEpochEmission;
        halvingIntervalEpochs = config.halvingIntervalEpochs;
        guardianShareBps = config.guardianShareBps;
        // The token mints the node-reward and guardian allocations here before this contract exists.
        uint256 funded = IERC20(config.token).balanceOf(address(this));
        _progress.totalFunded = funded.toUint96();
        emit EscrowFunded(address(0), funded, funded);
    }

    // ---------------------------------------------------------------- settlement

    /// @notice Submits the next epoch's header with at least threshold guardian signatures. Anyone may
    ///         submit (keepers are permissionless); the signatures are the authority.
    /// @param guardians the active guardian set's member list (sorted), checked against its hash.
    /// @param signerBitmap bit i set when member i signed; `signatures` follow in ascending member order.
    ///        Recorded with the header digest: every signer is paid by the next epoch, and further valid
    ///        signatures can be added while the epoch is pending (`addSignatures`).
    /// @dev Also finalizes the oldest pending epoch when its window has passed, so claims keep flowing
    ///      without a separate transaction.
    function submitEpoch(
        EpochHeader calldata header,
        address[] calldata guardians,
        uint256 signerBitmap,
        Signature[] calldata signatures
    ) external {
        Progress memory progress = _progress;
        uint32 epoch = header.epoch;
        if (epoch != progress.lastSubmitted + 1) revert EpochNotNext(epoch, progress.lastSubmitted + 1);
        uint64 endsAt = epochEnd(epoch);
        if (block.timestamp < endsAt) revert EpochNotEnded(epoch, endsAt);

        bytes32 digest = _hashTypedDataV4(EpochHeaderLib.structHash(header));
        uint32 setId = _verifyQuorum(digest, guardians, signerBitmap, signatures);
        _checkEmissionAndEscrow(header, progress.totalFunded);

        // Finalize the oldest pending epoch first if it is due: this frees its ring slot.
        _finalizeNextIfDue(progress);
        if (epoch - progress.lastFinalized >= EPOCH_RING_SIZE) {
            revert TooManyPendingEpochs(epoch, progress.lastFinalized);
        }

        // _verifyQuorum bounded the bitmap by the set size (<= MAX_GUARDIANS = 64)
        uint40 finalizeAt = _storeEntry(header, digest, uint64(signerBitmap), uint16(setId));
        progress.lastSubmitted = epoch;
        _progress = progress;
        emit EpochSubmitted(epoch, header, finalizeAt, msg.sender, uint64(signerBitmap));
    }

    /// @notice Records further guardian signatures over a pending epoch's header (the digest stored at
    ///         submission), so every guardian that signed is paid whoever submitted. Anyone may call.
    /// @param guardians the guardian set's member list (sorted); the set must be the one in force when
    ///        the epoch was submitted.
    /// @param signerBitmap bits of the members whose signatures are added, none already recorded;
    ///        `signatures` follow in ascending member order.
    function addSignatures(
        uint32 epoch,
        address[] calldata guardians,
        uint256 signerBitmap,
        Signature[] calldata signatures
    ) external {
        EpochEntry storage entry = _pendingEntry(epoch);
        if (epoch <= _progress.lastFinalized) revert EpochNotPending(epoch);
        if (signerBitmap == 0) revert NoSignersAdded(epoch);
        _promotePendingIfDue();
        uint32 activeId = _activeSetId();
        uint16 submittedId = entry.guardianSetId;
        if (uint16(activeId) != submittedId) revert GuardianSetRotated(epoch, submittedId, activeId);
        uint64 recorded = entry.signerBitmap;
        if (signerBitmap & recorded != 0) revert SignerAlreadyRecorded(epoch, signerBitmap & recorded);
        _verifySigners(entry.headerDigest, guardians, signerBitmap, signatures, 1);
        recorded |= uint64(signerBitmap);
        entry.signerBitmap = recorded;
        emit SignaturesAdded(epoch, uint64(signerBitmap), recorded, msg.sender);
    }

    /// @notice Finalizes every pending epoch whose dispute window has passed, oldest first, stopping at
    ///         the first one that is not due or is disputed. Anyone may call.
    function finalizeEpochs() external {
        Progress memory progress = _progress;
        if (!_finalizeNextIfDue(progress)) revert NothingToFinalize();
        bool more = true;
        while (more) more = _finalizeNextIfDue(progress);
        _progress = progress;
    }

    /// @notice Objects to a pending epoch before its window ends. The owner's objection disputes it at
    ///         once; an active guardian's is a vote, and the epoch becomes Disputed when M - T + 1
    ///         distinct active guardians voted (3 of 7: more than a faulty minority of M - T). A Disputed
    ///         epoch stops it and every later epoch from finalizing until the owner resolves it or, after
    ///         `disputeResolutionPeriod`, anyone voids it (`expireDispute`).
    function dispute(uint32 epoch, string calldata reason) external {
        bool byOwner = msg.sender == owner();
        EpochEntry storage entry = _pendingEntry(epoch);
        uint40 finalizeAt = entry.finalizeAt;
        if (block.timestamp >= finalizeAt) revert DisputeWindowClosed(epoch, finalizeAt);
        if (!byOwner && !_castVote(epoch, finalizeAt, reason)) return;
        entry.status = EpochStatus.Disputed;
        entry.finalizeAt = (block.timestamp + disputeResolutionPeriod).toUint40();
        emit EpochDisputed(epoch, msg.sender, reason);
    }

    /// @notice Resolves a dispute. Only the owner (governance), also after the resolution period as long as
    ///         nobody expired it. A valid header becomes final-able at once; an invalid one is voided with
    ///         every later epoch, and the keepers resubmit from it.
    function resolveDispute(uint32 epoch, bool headerValid) external onlyOwner {
        EpochEntry storage entry = _ringEntry(epoch);
        if (entry.status != EpochStatus.Disputed) revert EpochNotDisputed(epoch); // voided epochs are None
        emit DisputeResolved(epoch, headerValid);
        if (headerValid) {
            entry.status = EpochStatus.Pending;
            entry.finalizeAt = uint40(block.timestamp);
        } else {
            _voidFrom(epoch);
        }
    }

    /// @notice Voids a disputed epoch (and every later one) the owner did not resolve within
    ///         `disputeResolutionPeriod`, so a header that M - T + 1 guardians object to never finalizes
    ///         without governance; keepers resubmit from it. Anyone may call.
    function expireDispute(uint32 epoch) external {
        EpochEntry storage entry = _ringEntry(epoch);
        if (entry.status != EpochStatus.Disputed) revert EpochNotDisputed(epoch);
        if (block.timestamp < entry.finalizeAt) revert DisputeNotExpired(epoch, entry.finalizeAt);
        emit DisputeExpired(epoch, msg.sender);
        _voidFrom(epoch);
    }

    /// @notice Guardian votes against the current submission of `epoch` (stale votes read as none) and
    ///         how many make it Disputed under the active set.
    function disputeVotes(uint32 epoch) external view returns (uint64 voters, uint8 count, uint8 needed) {
        (GuardianSet memory set,) = activeGuardianSet();
        needed = set.size - set.threshold + 1;
        DisputeVotes memory votes = _disputeVotes[epoch];
        EpochEntry storage entry = _ring[epoch % EPOCH_RING_SIZE];
        if (entry.epoch == epoch && votes.finalizeAt == entry.finalizeAt && votes.guardianSetId == set.id) {
            (voters, count) = (votes.voters, votes.count);
        }
    }

    // ---------------------------------------------------------------- rewards and faults

    /// @notice Pays `account` the difference between `cumulative` (its leaf in the latest finalized
    ///         reward root) and what it was already paid. Anyone may call; tokens go to `account`.
    /// @dev The payout is the SEND `Transfer` from this contract (the only way tokens leave it); no
    ///      separate event. Reverts if total payouts would exceed the finalized cumulative total, so even a
    ///      wrong reward tree cannot pay out more than was emitted.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof) external {
        ClaimState memory state = _claimState;
        if (state.rewardRoot == bytes24(0)) revert NoFinalizedEpoch();
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))));
        if (bytes24(MerkleRootLib.processProofCalldata(proof, leaf)) != state.rewardRoot) {
            revert InvalidRewardProof(account, cumulative);
        }
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(account, cumulative, already);
        claimed[account] = cumulative;
        token.safeTransfer(account, cumulative - already);
        uint256 floor = uint256(state.payoutFloorGwei) * 1e9;
        uint256 balance = token.balanceOf(address(this));
        if (balance < floor) revert PayoutExceedsFinalizedTotal(balance, floor);
    }

    /// @notice Adds `amount` SEND (pulled from the caller) to the reward escrow. Anyone may call.
    function fundEscrow(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Progress memory progress = _progress;
        uint256 totalFunded = progress.totalFunded + amount;
        progress.totalFunded = totalFunded.toUint96();
        _progress = progress;
        if (progress.lastFinalized != 0) _claimState.payoutFloorGwei = _payoutFloorGwei(progress);
        emit EscrowFunded(msg.sender, amount, totalFunded);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Total SEND paid out by claims so far.
    function totalClaimed() external view returns (uint256) {
        return _paidOut(_progress.totalFunded);
    }

    /// @notice Applies fault leaf `index` of a finalized epoch: slashes the node (capped per epoch by
    ///         staking), records a strike if set, and pays the caller the finder's fee. Anyone may call,
    ///         once per leaf.
    /// @dev Leaf: keccak256(bytes.concat(keccak256(abi.encode(epoch, index, nodeKey, amount, strike)))).
    function executeFault(
        uint32 epoch,
        uint32 index,
        address nodeKey,
        uint96 amount,
        bool strike,
        bytes32[] calldata proof
    ) external returns (uint96 slashed) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(epoch, index, nodeKey, amount, strike))));
        _consumeFaultLeaf(epoch, index, leaf, proof);
        emit FaultExecuted(epoch, index, nodeKey, amount, strike);
        slashed = staking.applyFault(nodeKey, epoch, _currentEpoch(), amount, strike, msg.sender);
    }

    /// @notice True while fault leaf `index` of `epoch` has not been executed (and exists).
    function faultPending(uint32 epoch, uint32 index) external view returns (bool) {
        return _faultPendingBits.isPending(epoch, index);
    }

    /// @notice Publishes one chunk of an epoch's per-node scores as events. The chunk must be the next
    ///         link of the hash chain committed by the header's `scoresHash`:
    ///         `cursor == keccak256(abi.encode(keccak256(abi.encode(chunk)), next))`. Anyone may call.
    /// @param next the rest of the chain (`SCORES_END` after the last chunk).
    function publishScores(uint32 epoch, NodeScore[] calldata chunk, bytes32 next) external {
        if (epoch > _progress.lastSubmitted) revert EpochNotInRing(epoch);
        EpochEntry storage entry = _ringEntry(epoch);
        bytes32 cursor = entry.scoresCursor;
        if (cursor == EpochHeaderLib.SCORES_END) revert ScoresAlreadyPublished(epoch);
        bytes32 link = EpochHeaderLib.chunkLink(chunk, next);
        if (link != cursor) revert ScoresChunkMismatch(epoch, cursor, link);
        entry.scoresCursor = next;
        for (uint256 i; i < chunk.length; ++i) {
            NodeScore calldata s = chunk[i];
            emit NodeScorePublished(
                epoch,
                s.nodeKey,
                s.rank,
                s.score,
                s.availability,
                s.latencyP50Ms,
                s.latencyP95Ms,
                s.verifiedUnits,
                s.reward,
                s.faults
            );
        }
        if (next == EpochHeaderLib.SCORES_END) emit ScoresFullyPublished(epoch);
    }

    // ---------------------------------------------------------------- views

    /// @notice Settlement progress: last submitted and finalized epochs, totals claimed and finalized.
    function settlementProgress() external view returns (Progress memory) {
        return _progress;
    }

    /// @notice The stored entry of `epoch` (reverts if its ring slot now holds another epoch).
    function epochEntry(uint32 epoch) external view returns (EpochEntry memory) {
        return _ringEntry(epoch);
    }

    /// @notice The newest finalized epoch (0 before the first).
    function lastFinalizedEpoch() external view returns (uint32) {
        return _progress.lastFinalized;
    }

    /// @notice A time by which `epoch` was finalized (its fault leaves executable), 0 while it is not (or
    ///         for epoch 0): its entry's `finalizeAt` + `epochDuration`. An epoch finalized within one epoch
    ///         duration of its `finalizeAt` (steady state) keeps the scheduled `finalizeAt`; one finalized
    ///         later (after a stall) has the actual finalization time written there. For an epoch no longer
    ///         in the ring, the same bound of the oldest later epoch still there (epochs finalize in order,
    ///         so that is no earlier). NodeStaking measures the fault window of a withdrawal from it; the
    ///         bound only ever lengthens that window.
    function finalizedBy(uint32 epoch) external view returns (uint64) {
        uint32 lastFinalized = _progress.lastFinalized;
        if (epoch == 0 || epoch > lastFinalized) return 0;
        // Epochs more than a ring behind `lastFinalized` were overwritten by finalized successors;
        // `lastFinalized` itself is always in the ring (its slot is reused only by an epoch submitted after
        // a later finalization). So at most EPOCH_RING_SIZE slots are read.
        uint32 e = epoch;
        if (lastFinalized >= EPOCH_RING_SIZE && e <= lastFinalized - EPOCH_RING_SIZE) {
            e = lastFinalized - uint32(EPOCH_RING_SIZE) + 1;
        }
        for (; e < lastFinalized; ++e) {
            EpochEntry storage entry = _ring[e % EPOCH_RING_SIZE];
            if (entry.epoch == e) return entry.finalizeAt + epochDuration;
        }
        return _ring[lastFinalized % EPOCH_RING_SIZE].finalizeAt + epochDuration;
    }

    /// @notice Where `epoch` stands: None (not submitted, or voided), Pending, Disputed or Finalized.
    function epochStatus(uint32 epoch) external view returns (EpochLifecycle) {
        Progress memory progress = _progress;
        if (epoch == 0 || epoch > progress.lastSubmitted) return EpochLifecycle.None;
        if (epoch <= progress.lastFinalized) return EpochLifecycle.Finalized;
        return _ring[epoch % EPOCH_RING_SIZE].status == EpochStatus.Disputed
            ? EpochLifecycle.Disputed
            : EpochLifecycle.Pending;
    }

    /// @notice Reward root that claims are checked against now.
    function claimableRewardRoot() external view returns (uint32 epoch, bytes32 root) {
        epoch = _progress.lastFinalized;
        if (epoch != 0) root = _ring[epoch % EPOCH_RING_SIZE].rewardRoot;
    }

    /// @notice Timestamp at which `epoch` ends and may be submitted.
    function epochEnd(uint32 epoch) public view returns (uint64) {
        return genesisTime + uint64(epoch) * epochDuration;
    }

    /// @notice The epoch in progress at the current block time (0 before genesis).
    function currentEpoch() external view returns (uint32) {
        return _currentEpoch();
    }

    /// @notice Most SEND that `epoch` may emit: the initial emission halved every `halvingIntervalEpochs`.
    function emissionCap(uint32 epoch) public view returns (uint96) {
        if (epoch == 0) return 0;
        uint256 halvings = (uint256(epoch) - 1) / halvingIntervalEpochs;
        return halvings >= 96 ? 0 : initialEpochEmission >> halvings;
    }

    /// @notice EIP-712 digest guardians sign for `header`.
    function headerDigest(EpochHeader calldata header) external view returns (bytes32) {
        return _hashTypedDataV4(EpochHeaderLib.structHash(header));
    }

    // ---------------------------------------------------------------- internals

    /// @dev Circuit breaker: an epoch adds at most its own emission, which is capped by the schedule,
    ///      and the escrow must hold everything owed once it is added.
    function _checkEmissionAndEscrow(EpochHeader calldata header, uint96 totalFunded) private view {
        uint32 epoch = header.epoch;
        uint96 cap = emissionCap(epoch);
        if (header.epochEmission > cap) revert EmissionAboveSchedule(header.epochEmission, cap);
        uint96 previous = epoch == 1 ? 0 : _ring[(epoch - 1) % EPOCH_RING_SIZE].totalCumulative;
        if (header.totalCumulative < previous) revert CumulativeDecreased(header.totalCumulative, previous);
        if (header.totalCumulative - previous > header.epochEmission) {
            revert CumulativeExceedsEmission(header.totalCumulative - previous, header.epochEmission);
        }
        if ((header.faultRoot == bytes32(0)) != (header.faultCount == 0)) {
            revert FaultCountMismatch(header.faultRoot, header.faultCount);
        }
        // balance = funded - claimed, owed = cumulative - claimed: the escrow covers what is owed
        // exactly when everything ever owed is at most everything ever funded.
        if (header.totalCumulative > totalFunded) {
            revert EscrowShortfall(header.totalCumulative, totalFunded);
        }
    }

    function _storeEntry(EpochHeader calldata header, bytes32 digest, uint64 signerBitmap, uint16 setId)
        private
        returns (uint40 finalizeAt)
    {
        finalizeAt = (block.timestamp + disputeWindow).toUint40();
        EpochEntry storage entry = _ring[header.epoch % EPOCH_RING_SIZE];
        entry.rewardRoot = header.rewardRoot;
        entry.scoresCursor = header.scoresHash;
        entry.epoch = header.epoch;
        entry.totalCumulative = header.totalCumulative;
        entry.finalizeAt = finalizeAt;
        entry.status = EpochStatus.Pending;
        entry.signerBitmap = signerBitmap;
        entry.guardianSetId = setId;
        entry.headerDigest = digest;
        if (header.faultCount != 0) _recordFaults(header.epoch, header.faultRoot, header.faultCount);
    }

    /// @dev Reverts unless `leaf` is leaf `index` of finalized `epoch`'s fault tree and still pending;
    ///      then marks it executed.
    function _consumeFaultLeaf(uint32 epoch, uint32 index, bytes32 leaf, bytes32[] calldata proof) private {
        uint32 lastFinalized = _progress.lastFinalized;
        if (epoch > lastFinalized || epoch == 0) revert EpochNotFinalized(epoch, lastFinalized);
        bytes32 root = faultRoots[epoch];
        if (root == bytes32(0)) revert NoFaultsInEpoch(epoch);
        // cleared before the proof is checked: a wrong proof reverts the clearing with everything else
        if (!_faultPendingBits.consume(epoch, index)) revert FaultAlreadyExecuted(epoch, index);
        if (MerkleRootLib.processProofCalldata(proof, leaf) != root) revert InvalidFaultProof(epoch, index);
    }

    /// @dev Records the caller's (an active guardian's) vote against the submission of `epoch` whose window
    ///      ends at `finalizeAt`; true when the votes reached M - T + 1.
    function _castVote(uint32 epoch, uint40 finalizeAt, string calldata reason) private returns (bool) {
        (uint256 index, uint32 setId, uint256 size, uint256 threshold) = _requireGuardian(msg.sender);
        DisputeVotes memory votes = _disputeVotes[epoch];
        if (votes.finalizeAt != finalizeAt || votes.guardianSetId != setId) {
            votes = DisputeVotes(0, 0, finalizeAt, setId);
        }
        uint64 bit = uint64(1 << index);
        if (votes.voters & bit != 0) revert AlreadyVoted(epoch, msg.sender);
        votes.voters |= bit;
        ++votes.count;
        _disputeVotes[epoch] = votes;
        uint8 needed = uint8(size - threshold + 1);
        emit DisputeVoteCast(epoch, msg.sender, votes.count, needed, reason);
        return votes.count >= needed;
    }

    /// @dev Voids `epoch` and every later submitted epoch (their faults forgotten); keepers resubmit from
    ///      `epoch`.
    function _voidFrom(uint32 epoch) private {
        uint32 last = _progress.lastSubmitted;
        for (uint32 e = epoch; e <= last; ++e) {
            _ring[e % EPOCH_RING_SIZE].status = EpochStatus.None;
            if (faultRoots[e] != bytes32(0)) _clearFaults(e);
        }
        _progress.lastSubmitted = epoch - 1;
        emit EpochsVoided(epoch, last);
    }

    /// @dev Forgets the faults of a voided epoch. It was never finalized, so none of its leaves was
    ///      executed: its pending words are exactly the non-zero words from index 0 up.
    function _clearFaults(uint32 epoch) private {
        delete faultRoots[epoch];
        _faultPendingBits.clear(epoch);
    }

    function _recordFaults(uint32 epoch, bytes32 faultRoot, uint32 faultCount) private {
        faultRoots[epoch] = faultRoot;
        _faultPendingBits.setPending(epoch, faultCount);
    }

    /// @dev Advances `progress.lastFinalized` by one if that epoch is pending and its window passed.
    ///      Works on the memory copy; the caller writes it back.
    function _finalizeNextIfDue(Progress memory progress) private returns (bool) {
        uint32 next = progress.lastFinalized + 1;
        if (next > progress.lastSubmitted) return false;
        EpochEntry storage entry = _ring[next % EPOCH_RING_SIZE];
        if (entry.status != EpochStatus.Pending || block.timestamp < entry.finalizeAt) return false;
        progress.lastFinalized = next;
        progress.finalizedCumulative = entry.totalCumulative;
        // `finalizedBy` reads finalizeAt + epochDuration as a time by which the epoch was finalized; only a
        // finalization later than that (after a stall) records its time, so steady state writes nothing.
        if (block.timestamp > uint256(entry.finalizeAt) + epochDuration) {
            entry.finalizeAt = uint40(block.timestamp);
        }
        _claimState = ClaimState(bytes24(entry.rewardRoot), _payoutFloorGwei(progress));
        emit EpochFinalized(next, entry.rewardRoot, entry.totalCumulative);
        return true;
    }

    /// @dev Balance that must stay in escrow once every finalized reward is paid, in 1e9-wei units
    ///      rounded down (so rounding can never block the last claim; it allows < 1e-9 SEND of slack).
    function _payoutFloorGwei(Progress memory progress) private pure returns (uint64) {
        return uint64((uint256(progress.totalFunded) - progress.finalizedCumulative) / 1e9);
    }

    function _currentEpoch() private view returns (uint32) {
        if (block.timestamp < genesisTime) return 0;
        return uint32((block.timestamp - genesisTime) / epochDuration + 1);
    }

    /// @dev Tokens that left through claims; a donation outside `fundEscrow` can only lower it.
    function _paidOut(uint256 totalFunded) private view returns (uint256) {
        uint256 balance = token.balanceOf(address(this));
        return balance >= totalFunded ? 0 : totalFunded - balance;
    }

    function _ringEntry(uint32 epoch) private view returns (EpochEntry storage entry) {
        entry = _ring[epoch % EPOCH_RING_SIZE];
        if (epoch == 0 || entry.epoch != epoch) revert EpochNotInRing(epoch);
    }

    function _pendingEntry(uint32 epoch) private view returns (EpochEntry storage entry) {
        entry = _ringEntry(epoch);
        if (epoch > _progress.lastSubmitted || entry.status != EpochStatus.Pending) {
            revert EpochNotPending(epoch);
        }
    }
}
