// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {INodeStaking, IEpochClock} from "../interfaces/INodeStaking.sol";
import {StrikeRing, StrikeRingLib} from "../libraries/StrikeRing.sol";

/// @title NodeStaking
/// @notice Edge-node registry and SEND stake. Operators register a node under its signing key (the key
///         that signs epoch commitments), stake at least `minStake`, top up, unbond with a cooldown
///         longer than the settlement dispute window, and withdraw. Stake is slashed only by the
///         settlement contract (finalized fault leaves) or by an objective equivocation proof.
/// @dev A node key is single-use: once registered it can never be registered again, so the history of
///      commitments, faults and strikes keyed by it stays unambiguous.
contract NodeStaking is INodeStaking, EIP712 {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    enum NodeStatus {
        None, // never registered
        Active, // staked at or above the minimum, eligible for epochs
        Exiting, // the operator unbonded all stake
        Ejected // removed by the protocol (stake below minimum after a slash, or too many strikes)
    }

    /// @dev Three slots, laid out so that registration writes every slot a slash touches (a node's first
    ///      slash then updates warm, non-zero slots instead of paying for fresh storage):
    ///      (operator, stake) | (status, slash window, strikes) | (unbonding, release time).
    struct Node {
        address operator;
        uint96 stake;
        NodeStatus status;
        uint32 lastSlashEpoch; // settlement-clock epoch of the latest slash (the cap is per clock epoch)
        uint88 slashedInLastSlashEpoch; // clamped: at most 2^88-1 wei (about 309M SEND) per node and epoch
        uint128 recentStrikeEpochs; // a StrikeRing: the four latest strike epochs, ascending from the low lane
        uint96 unbonding;
        uint40 unbondingReleaseAt;
        uint32 unbondingEpoch; // settlement-clock epoch of the latest unbond or ejection
    }

    /// @notice A node's signed statement of its relay work for one epoch (Merkle-sum root over receipts).
    struct EpochCommitment {
        uint32 epoch;
        bytes32 root;
        uint128 totalUnits;
        uint64 leafCount;
    }

    bytes32 public constant EPOCH_COMMITMENT_TYPEHASH =
        keccak256("EpochCommitment(uint32 epoch,bytes32 root,uint128 totalUnits,uint64 leafCount)");
    bytes32 public constant NODE_KEY_CONSENT_TYPEHASH = keccak256("NodeKeyConsent(address operator)");
    uint256 public constant MAX_STRIKES_LIMIT = StrikeRingLib.CAPACITY;
    uint256 public constant BPS = 10_000;
    /// @notice Longest endpoint `register` and `updateEndpoint` accept, in bytes (UTF-8 as sent). Off-chain
    ///         readers (the epoch dataset, keepers, guardians) size their bounds from it.
    uint256 public constant MAX_ENDPOINT_BYTES = 256;
    /// @notice Longest metadata URI `register` and `updateEndpoint` accept, in bytes (UTF-8 as sent).
    uint256 public constant MAX_METADATA_URI_BYTES = 1024;

    IERC20 public immutable token;
    /// @notice The only address allowed to apply faults (EpochSettlement).
    address public immutable settlement;
    /// @notice Receives slashed stake (minus finder fees) through `sweepSlashed`.
    address public immutable treasury;
    uint96 public immutable minStake;
    uint64 public immutable unbondingPeriod;
    /// @notice Largest share of a node's stake that can be slashed for one epoch, in basis points.
    uint16 public immutable maxSlashBps;
    /// @notice Share of each slash paid to whoever executed the fault, in basis points.
    uint16 public immutable finderFeeBps;
    /// @notice Slash requested by a proven equivocation (still subject to the per-epoch cap).
    uint96 public immutable equivocationSlash;
    /// @notice Strikes within `strikeWindowEpochs` consecutive epochs that eject a node.
    uint8 public immutable maxStrikes;
    uint32 public immutable strikeWindowEpochs;

    /// @notice Sum of active stake over all nodes (excludes unbonding stake).
    uint256 public totalStaked;
    /// @notice Sum of stake waiting for its unbonding cooldown over all nodes.
    uint256 public totalUnbonding;

    mapping(address nodeKey => Node) private _nodes;
    mapping(address nodeKey => mapping(uint32 epoch => bool)) public equivocationProven;

    struct Config {
        address token;
        address settlement;
        address treasury;
        uint96 minStake;
        uint64 unbondingPeriod;
        uint16 maxSlashBps;
        uint16 finderFeeBps;
        uint96 equivocationSlash;
        uint8 maxStrikes;
        uint32 strikeWindowEpochs;
    }

    event NodeRegistered(
        address indexed nodeKey, address indexed operator, uint96 stake, string endpoint, string metadataURI
    );
    event NodeEndpointUpdated(address indexed nodeKey, string endpoint, string metadataURI);
    event StakeIncreased(address indexed nodeKey, uint96 amount, uint96 newStake);
    event UnbondRequested(address indexed nodeKey, uint96 amount, uint96 remainingStake, uint40 releaseAt);
    event StakeWithdrawn(address indexed nodeKey, address indexed operator, uint96 amount);
    event NodeSlashed(
        address indexed nodeKey, uint32 indexed epoch, uint96 amount, address indexed finder, uint96 finderFee
    );
    event StrikeRecorded(address indexed nodeKey, uint32 indexed epoch, uint8 strikesInWindow);
    event NodeEjected(address indexed nodeKey, uint32 indexed epoch, EjectReason reason);
    event EquivocationProven(address indexed nodeKey, uint32 indexed epoch, address indexed finder);
    event SlashedSwept(address indexed treasury, uint256 amount);

    enum EjectReason {
        StakeBelowMinimum,
        TooManyStrikes
    }

    error ZeroAddress(string what);
    error InvalidParameter(string what);
    error NodeKeyAlreadyRegistered(address nodeKey);
    error NodeNotRegistered(address nodeKey);
    error NotNodeOperator(address nodeKey, address caller);
    error NodeNotActive(address nodeKey, NodeStatus status);
    error StakeBelowMinimum(uint256 stake, uint256 minStake);
    error ZeroAmount();
    error UnbondExceedsStake(uint256 amount, uint256 stake);
    error NothingToWithdraw(address nodeKey);
    error UnbondingNotReleased(address nodeKey, uint40 releaseAt);
    error UnbondingEpochNotFinalized(address nodeKey, uint32 unbondingEpoch, uint32 lastFinalizedEpoch);
    error InvalidNodeKeySignature(address nodeKey);
    error OnlySettlement(address caller);
    error CommitmentEpochMismatch(uint32 epochA, uint32 epochB);
    error CommitmentsIdentical();
    error CommitmentSignerMismatch(address signerA, address signerB);
    error EquivocationAlreadyProven(address nodeKey, uint32 epoch);
    error SlashCapReached(address nodeKey, uint32 currentEpoch);
    /// @notice Faults of an epoch the stake was bonded in may still be executed: withdrawal opens at
    ///         `opensAt` (see `withdraw`).
    error FaultWindowOpen(address nodeKey, uint40 opensAt);
    /// @notice The endpoint is empty: a node must say where it is reached.
    error EmptyEndpoint();
    /// @notice The endpoint is `length` bytes long, above `MAX_ENDPOINT_BYTES` (`max`).
    error EndpointTooLong(uint256 length, uint256 max);
    /// @notice The metadata URI is `length` bytes long, above `MAX_METADATA_URI_BYTES` (`max`).
    error MetadataURITooLong(uint256 length, uint256 max);

    constructor(Config memory config) EIP712("SendingNetwork NodeStaking", "1") {
        if (config.token == address(0)) revert ZeroAddress("token");
        if (config.settlement == address(0)) revert ZeroAddress("settlement");
        if (config.treasury == address(0)) revert ZeroAddress("treasury");
        if (config.minStake == 0) revert InvalidParameter("minStake");
        if (config.unbondingPeriod == 0) revert InvalidParameter("unbondingPeriod");
        if (config.maxSlashBps == 0 || config.maxSlashBps > BPS) revert InvalidParameter("maxSlashBps");
        if (config.finderFeeBps > BPS) revert InvalidParameter("finderFeeBps");
        if (config.maxStrikes == 0 || config.maxStrikes > MAX_STRIKES_LIMIT) {
            revert InvalidParameter("maxStrikes");
        }
        if (config.strikeWindowEpochs == 0) revert InvalidParameter("strikeWindowEpochs");
        token = IERC20(config.token);
        settlement = config.settlement;
        treasury = config.treasury;
        minStake = config.minStake;
        unbondingPeriod = config.unbondingPeriod;
        maxSlashBps = config.maxSlashBps;
        finderFeeBps = config.finderFeeBps;
        equivocationSlash = config.equivocationSlash;
        maxStrikes = config.maxStrikes;
        strikeWindowEpochs = config.strikeWindowEpochs;
    }

    // ---------------------------------------------------------------- operators

    /// @notice Registers a new edge node owned by the caller and stakes `amount` SEND (pulled from the
    ///         caller, who must have approved this contract).
    /// @param nodeKey the node's signing key; `keyConsent` is its EIP-712 `NodeKeyConsent(caller)`
    ///        signature, so nobody can squat another node's key.
    /// @param endpoint where clients and keepers reach the node (e.g. `wss://…`), emitted only; 1 to
    ///        `MAX_ENDPOINT_BYTES` bytes (`EmptyEndpoint`, `EndpointTooLong`).
    /// @param metadataURI operator metadata (region, contact), emitted only; at most `MAX_METADATA_URI_BYTES`
    ///        bytes (`MetadataURITooLong`), may be empty.
    function register(
        address nodeKey,
        uint96 amount,
        bytes calldata keyConsent,
        string calldata endpoint,
        string calldata metadataURI
    ) external {
        if (nodeKey == address(0)) revert ZeroAddress("nodeKey");
        Node storage node = _nodes[nodeKey];
        if (node.status != NodeStatus.None) revert NodeKeyAlreadyRegistered(nodeKey);
        if (amount < minStake) revert StakeBelowMinimum(amount, minStake);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(NODE_KEY_CONSENT_TYPEHASH, msg.sender)));
        (address signer,,) = ECDSA.tryRecoverCalldata(digest, keyConsent);
        if (signer != nodeKey) revert InvalidNodeKeySignature(nodeKey);
        _checkEndpoint(endpoint, metadataURI);

        node.operator = msg.sender;
        node.stake = amount;
        node.status = NodeStatus.Active;
        totalStaked += amount;
        emit NodeRegistered(nodeKey, msg.sender, amount, endpoint, metadataURI);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Updates the endpoint and metadata of an Active node. Only its operator. Same bounds as
    ///         `register`: a non-empty endpoint of at most `MAX_ENDPOINT_BYTES` bytes, a metadata URI of at
    ///         most `MAX_METADATA_URI_BYTES` bytes.
    function updateEndpoint(address nodeKey, string calldata endpoint, string calldata metadataURI) external {
        Node storage node = _requireOperator(nodeKey);
        if (node.status != NodeStatus.Active) revert NodeNotActive(nodeKey, node.status);
        _checkEndpoint(endpoint, metadataURI);
        emit NodeEndpointUpdated(nodeKey, endpoint, metadataURI);
    }

    /// @notice Adds `amount` SEND to an Active node's stake. Only its operator.
    function increaseStake(address nodeKey, uint96 amount) external {
        Node storage node = _requireOperator(nodeKey);
        if (amount == 0) revert ZeroAmount();
        if (node.status != NodeStatus.Active) revert NodeNotActive(nodeKey, node.status);
        uint96 newStake = node.stake + amount;
        node.stake = newStake;
        totalStaked += amount;
        emit StakeIncreased(nodeKey, amount, newStake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts the cooldown on `amount` of an Active node's stake. Unbonding all of it exits the
    ///         node; a partial unbond must leave at least `minStake`. The cooldown restarts for everything
    ///         already unbonding. Unbonding stake stays slashable until withdrawn. Only its operator.
    function requestUnbond(address nodeKey, uint96 amount) external {
        Node storage node = _requireOperator(nodeKey);
        if (amount == 0) revert ZeroAmount();
        if (node.status != NodeStatus.Active) revert NodeNotActive(nodeKey, node.status);
        uint96 stake = node.stake;
        if (amount > stake) revert UnbondExceedsStake(amount, stake);
        uint96 remaining = stake - amount;
        if (remaining == 0) node.status = NodeStatus.Exiting;
        else if (remaining < minStake) revert StakeBelowMinimum(remaining, minStake);
        uint40 releaseAt = _moveToUnbonding(node, amount);
        emit UnbondRequested(nodeKey, amount, remaining, releaseAt);
    }

    /// @notice Sends all unbonded stake to the node's operator. Only its operator. Three gates, in order:
    ///         1. the cooldown has passed (`UnbondingNotReleased`);
    ///         2. every epoch the stake was bonded in is finalized: the unbonding epoch (the clock epoch of
    ///            the latest unbond or ejection) and so every earlier one (`UnbondingEpochNotFinalized`);
    ///         3. the fault window is over (`FaultWindowOpen`): one epoch duration has passed since a
    ///            time by which the unbonding epoch was finalized (`settlement.finalizedBy`, at most one
    ///            epoch duration after the actual finalization), so every fault leaf of those
    ///            epochs has been executable for a whole epoch (keepers run their fault stage every epoch and
    ///            anyone may execute for the finder's fee); and if the node was slashed in clock epoch c,
    ///            not before clock epoch c + 2 begins, so a fault deferred by c's slash cap gets the whole of
    ///            c + 1 (each slash extends this).
    /// @dev Gate 3 closes the race of issue 12 §2: with only gate 2, finalization made the fault executable
    ///      and the stake withdrawable at the same moment, and an operator contract could finalize a
    ///      stalled epoch and withdraw in one transaction, leaving the fault nothing to slash. A time window
    ///      and not an epoch count, because after a stall several epochs can finalize in one transaction.
    function withdraw(address nodeKey) external {
        Node storage node = _requireOperator(nodeKey);
        uint96 amount = node.unbonding;
        if (amount == 0) revert NothingToWithdraw(nodeKey);
        if (block.timestamp < node.unbondingReleaseAt) {
            revert UnbondingNotReleased(nodeKey, node.unbondingReleaseAt);
        }
        uint32 unbondingEpoch = node.unbondingEpoch;
        uint32 lastFinalized = IEpochClock(settlement).lastFinalizedEpoch();
        if (lastFinalized < unbondingEpoch) {
            revert UnbondingEpochNotFinalized(nodeKey, unbondingEpoch, lastFinalized);
        }
        uint256 opensAt = _faultWindowEnd(node);
        if (block.timestamp < opensAt) revert FaultWindowOpen(nodeKey, opensAt.toUint40());
        node.unbonding = 0;
        totalUnbonding -= amount;
        emit StakeWithdrawn(nodeKey, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- faults

    /// @inheritdoc INodeStaking
    /// @dev Only the settlement contract, after verifying a finalized fault leaf.
    function applyFault(
        address nodeKey,
        uint32 faultEpoch,
        uint32 currentEpoch,
        uint96 amount,
        bool strike,
        address finder
    ) external returns (uint96 slashed) {
        if (msg.sender != settlement) revert OnlySettlement(msg.sender);
        Node storage node = _nodes[nodeKey];
        if (node.status == NodeStatus.None) revert NodeNotRegistered(nodeKey);
        slashed = _slash(node, nodeKey, faultEpoch, currentEpoch, amount, finder);
        if (strike) _recordStrike(node, nodeKey, faultEpoch);
    }

    /// @notice Proves that a node signed two different commitments for the same epoch, an objective fault.
    ///         Anyone may call; the node is slashed `equivocationSlash` (per-epoch cap applies), gets a
    ///         strike, and the caller receives the finder's fee. Once per node and epoch.
    function proveEquivocation(
        EpochCommitment calldata a,
        bytes calldata signatureA,
        EpochCommitment calldata b,
        bytes calldata signatureB
    ) external returns (uint96 slashed) {
        if (a.epoch != b.epoch) revert CommitmentEpochMismatch(a.epoch, b.epoch);
        if (a.epoch == 0) revert InvalidParameter("epoch");
        bytes32 digestA = commitmentDigest(a);
        bytes32 digestB = commitmentDigest(b);
        if (digestA == digestB) revert CommitmentsIdentical();
        address signerA = ECDSA.recoverCalldata(digestA, signatureA);
        address signerB = ECDSA.recoverCalldata(digestB, signatureB);
        if (signerA != signerB) revert CommitmentSignerMismatch(signerA, signerB);
        Node storage node = _nodes[signerA];
        if (node.status == NodeStatus.None) revert NodeNotRegistered(signerA);
        if (equivocationProven[signerA][a.epoch]) revert EquivocationAlreadyProven(signerA, a.epoch);
        equivocationProven[signerA][a.epoch] = true;
        emit EquivocationProven(signerA, a.epoch, msg.sender);
        uint32 currentEpoch = IEpochClock(settlement).currentEpoch();
        slashed = _slash(node, signerA, a.epoch, currentEpoch, equivocationSlash, msg.sender);
        _recordStrike(node, signerA, a.epoch);
    }

    /// @notice Sends slashed stake (net of finder fees) to the treasury. Anyone may call.
    function sweepSlashed() external {
        uint256 amount = sweepableSlashed();
        if (amount == 0) revert ZeroAmount();
        emit SlashedSwept(treasury, amount);
        token.safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice Slashed stake (net of finder fees) waiting to be swept: whatever this contract holds beyond
    ///         active and unbonding stake. Derived, so slashing pays no storage write for it.
    function sweepableSlashed() public view returns (uint256) {
        return token.balanceOf(address(this)) - totalStaked - totalUnbonding;
    }

    /// @notice Everything stored about a node.
    function getNode(address nodeKey) external view returns (Node memory) {
        return _nodes[nodeKey];
    }

    /// @notice True when the node is Active (eligible for epochs).
    function isActive(address nodeKey) external view returns (bool) {
        return _nodes[nodeKey].status == NodeStatus.Active;
    }

    /// @notice EIP-712 digest a node key signs for an epoch commitment.
    function commitmentDigest(EpochCommitment calldata c) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(EPOCH_COMMITMENT_TYPEHASH, c.epoch, c.root, c.totalUnits, c.leafCount))
        );
    }

    /// @notice EIP-712 digest a node key signs to consent to registration by `operator`.
    function nodeKeyConsentDigest(address operator) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(NODE_KEY_CONSENT_TYPEHASH, operator)));
    }

    /// @notice When the fault window of a node's unbonding stake ends (gate 3 of `withdraw`), assuming its
    ///         unbonding epoch is finalized; 0 when no window applies.
    function faultWindowEnd(address nodeKey) external view returns (uint256) {
        return _faultWindowEnd(_nodes[nodeKey]);
    }

    /// @notice Largest amount that can still be slashed from `nodeKey` during settlement-clock epoch
    ///         `currentEpoch`.
    function slashCapRemaining(address nodeKey, uint32 currentEpoch) external view returns (uint96) {
        return _slashCapRemaining(_nodes[nodeKey], currentEpoch);
    }

    // ---------------------------------------------------------------- internals

    function _requireOperator(address nodeKey) private view returns (Node storage node) {
        node = _nodes[nodeKey];
        if (node.status == NodeStatus.None) revert NodeNotRegistered(nodeKey);
        if (node.operator != msg.sender) revert NotNodeOperator(nodeKey, msg.sender);
    }

    /// @dev The strings are only emitted, but every off-chain reader of the events parses them with bounds
    ///      sized from these constants, so nothing longer may ever be emitted.
    function _checkEndpoint(string calldata endpoint, string calldata metadataURI) private pure {
        uint256 length = bytes(endpoint).length;
        if (length == 0) revert EmptyEndpoint();
        if (length > MAX_ENDPOINT_BYTES) revert EndpointTooLong(length, MAX_ENDPOINT_BYTES);
        length = bytes(metadataURI).length;
        if (length > MAX_METADATA_URI_BYTES) revert MetadataURITooLong(length, MAX_METADATA_URI_BYTES);
    }

    /// @dev Gate 3 of `withdraw`: the later of (finalization of the unbonding epoch + one epoch) and (start
    ///      of the clock epoch after the one following the latest slash). Epoch 0 (before genesis) bonded
    ///      nothing.
    function _faultWindowEnd(Node storage node) private view returns (uint256 opensAt) {
        IEpochClock clock = IEpochClock(settlement);
        uint32 unbondingEpoch = node.unbondingEpoch;
        if (unbondingEpoch != 0) {
            uint64 finalizedBy = clock.finalizedBy(unbondingEpoch);
            if (finalizedBy != 0) opensAt = uint256(finalizedBy) + clock.epochDuration();
        }
        uint32 lastSlashEpoch = node.lastSlashEpoch;
        if (lastSlashEpoch != 0) {
            uint256 afterNext = clock.epochEnd(lastSlashEpoch + 1);
            if (afterNext > opensAt) opensAt = afterNext;
        }
    }

    function _moveToUnbonding(Node storage node, uint96 amount) private returns (uint40 releaseAt) {
        releaseAt = (block.timestamp + unbondingPeriod).toUint40();
        node.stake -= amount;
        node.unbonding += amount;
        node.unbondingReleaseAt = releaseAt;
        node.unbondingEpoch = IEpochClock(settlement).currentEpoch();
        totalStaked -= amount;
        totalUnbonding += amount;
    }

    function _slashCapRemaining(Node storage node, uint32 epoch) private view returns (uint96) {
        uint256 already = node.lastSlashEpoch == epoch ? node.slashedInLastSlashEpoch : 0;
        uint256 base = uint256(node.stake) + node.unbonding + already;
        uint256 cap = base * maxSlashBps / BPS;
        uint256 storable = type(uint88).max - already; // keeps slashedInLastSlashEpoch within uint88
        if (cap > already + storable) cap = already + storable;
        return cap > already ? uint96(cap - already) : 0;
    }

    /// @dev Takes up to `requested` from active stake first, then from unbonding stake. The cap is per
    ///      epoch of the settlement clock (time only moves forward, so the order in which faults of
    ///      different epochs are executed cannot stretch it); what exceeds it is forgiven. Reverts only
    ///      when earlier slashes of this clock epoch used the cap up, so the fault stays executable in the
    ///      next one (`withdraw` stays closed meanwhile). When nothing is left to slash (the stake was
    ///      withdrawn or slashed away, or is dust whose cap rounds to zero) it slashes nothing and returns
    ///      0: the caller still records the strike, so no fault can revert for good.
    function _slash(
        Node storage node,
        address nodeKey,
        uint32 faultEpoch,
        uint32 currentEpoch,
        uint96 requested,
        address finder
    ) private returns (uint96 slashed) {
        if (requested == 0) return 0;
        uint96 capLeft = _slashCapRemaining(node, currentEpoch);
        if (capLeft == 0) {
            if (node.lastSlashEpoch == currentEpoch && node.slashedInLastSlashEpoch != 0) {
                revert SlashCapReached(nodeKey, currentEpoch);
            }
            return 0;
        }
        slashed = requested < capLeft ? requested : capLeft;

        if (node.lastSlashEpoch == currentEpoch) {
            node.slashedInLastSlashEpoch += uint88(slashed); // fits: the cap is clamped to uint88
        } else {
            node.lastSlashEpoch = currentEpoch;
            node.slashedInLastSlashEpoch = uint88(slashed);
        }
        uint96 stake = node.stake;
        uint96 fromStake = slashed < stake ? slashed : stake;
        uint96 fromUnbonding = slashed - fromStake; // cap guarantees this fits in `unbonding`
        node.stake = stake - fromStake;
        totalStaked -= fromStake;
        if (fromUnbonding != 0) {
            node.unbonding -= fromUnbonding;
            totalUnbonding -= fromUnbonding;
        }

        uint96 finderFee = uint96(uint256(slashed) * finderFeeBps / BPS);
        emit NodeSlashed(nodeKey, faultEpoch, slashed, finder, finderFee);

        if (node.status == NodeStatus.Active && node.stake < minStake) {
            _eject(node, nodeKey, faultEpoch, EjectReason.StakeBelowMinimum);
        }
        if (finderFee != 0) token.safeTransfer(finder, finderFee);
    }

    /// @dev Keeps the four latest distinct strike epochs (by epoch, not by execution order; a second
    ///      strike for a stored epoch is ignored) and ejects when any `maxStrikes` of them, together with
    ///      the new one, lie within `strikeWindowEpochs` consecutive epochs. The check runs before the
    ///      oldest is dropped, so executing an old strike late still counts against its neighbours.
    function _recordStrike(Node storage node, address nodeKey, uint32 epoch) private {
        (bool known, StrikeRing ring, bool eject, uint8 inWindow) =
            StrikeRing.wrap(node.recentStrikeEpochs).add(epoch, maxStrikes, strikeWindowEpochs);
        if (known) return; // already counted
        node.recentStrikeEpochs = StrikeRing.unwrap(ring);
        emit StrikeRecorded(nodeKey, epoch, inWindow);
        if (eject && node.status == NodeStatus.Active) {
            _eject(node, nodeKey, epoch, EjectReason.TooManyStrikes);
        }
    }

    /// @dev Ejected stake goes through the normal cooldown, so it stays slashable for later findings.
    function _eject(Node storage node, address nodeKey, uint32 epoch, EjectReason reason) private {
        node.status = NodeStatus.Ejected;
        uint96 stake = node.stake;
        uint40 releaseAt = _moveToUnbonding(node, stake);
        emit NodeEjected(nodeKey, epoch, reason);
        emit UnbondRequested(nodeKey, stake, 0, releaseAt);
    }
}
