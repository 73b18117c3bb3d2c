// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EpochSettlement} from "../settlement/EpochSettlement.sol";
import {NodeStaking} from "../staking/NodeStaking.sol";
import {LicenseRewards} from "../watchdog/LicenseRewards.sol";
import {IVoidableLicense} from "../watchdog/IVoidableLicense.sol";
import {MerkleRootLib} from "../libraries/MerkleRootLib.sol";

/// @title PointsConversion
/// @notice Converts the public testnet's points into SEND, once, at a ratio fixed at deployment. After the
///         points settlement finalized `lastPointsEpoch`, anyone takes the snapshot (`snapshot`): the points
///         reward root of that epoch. Each leaf of that root converts once, until `conversionDeadline`:
///         - a node leaf (`rewardLeaf(nodeKey, points)`; points mode credits nodes by key) pays the node's
///           operator, only if the node key was registered (staked) in `staking` and is not Ejected;
///         - an account leaf of an address that is not a node key (a guardian) pays the account;
///         - a license leaf pays the license's current holder, unless the licenses are void or it was burned.
///         After the deadline anyone may `sweep` the SEND left to the treasury.
/// @dev Anti-Sybil rule (docs/points.md): only points earned by nodes that were staked and never ejected
///      count. `NodeStaking.NodeStatus` tells it apart: a node is Ejected only from Active, and Ejected is
///      final (a key is single-use), so "Ejected now" is exactly "ever ejected"; Active and Exiting (unbonded
///      by its operator) convert.
///      Bounds: node and account conversions together never exceed the snapshot's `totalCumulative` (the
///      guardian-signed sum of the account leaves, itself capped by the emission schedule), and license
///      conversions never exceed what the points license rewards emitted up to the snapshot epoch, so even a
///      wrong tree signed by a compromised quorum cannot convert more points than were emitted.
///      Funding: the treasury (or anyone) transfers SEND in with `fund`; `requiredFunding()` is what
///      converting every snapshot point needs at most. State is written before every transfer (SafeERC20).
contract PointsConversion {
    using SafeERC20 for IERC20;

    /// @notice Which kind of reward leaf a conversion consumed.
    enum LeafKind {
        Node,
        Account,
        License
    }

    /// @notice Fixed-point scale of `ratio`.
    uint256 public constant RATIO_SCALE = 1e18;
    /// @notice Domain tag of license leaves (`LicenseRewards.LICENSE_REWARD_TAG`).
    bytes32 public constant LICENSE_REWARD_TAG = keccak256("SendingNetwork.LicenseReward");

    IERC20 public immutable sendToken;
    EpochSettlement public immutable pointsSettlement;
    LicenseRewards public immutable licenseRewards;
    NodeStaking public immutable staking;
    IVoidableLicense public immutable license;
    address public immutable treasury;
    /// @notice SEND wei paid per point wei, scaled by `RATIO_SCALE` (1e18 = one SEND per point).
    uint256 public immutable ratio;
    /// @notice The testnet's last points epoch: the snapshot takes its root (or, if it has left the
    ///         settlement's ring, the newest finalized root at snapshot time).
    uint32 public immutable lastPointsEpoch;
    /// @notice Unix time from which conversions revert and `sweep` is open.
    uint64 public immutable conversionDeadline;

    /// @notice The snapshot's reward root (zero before `snapshot`).
    bytes32 public snapshotRoot;
    /// @notice The epoch whose root was taken: `lastPointsEpoch`, or a later one when it had left the ring.
    uint32 public snapshotEpoch;
    /// @notice Sum of the snapshot's account leaves (node and guardian points), from its header.
    uint96 public snapshotTotalCumulative;
    /// @notice License points the schedule emitted up to `snapshotEpoch` (bound of license conversions).
    uint256 public snapshotLicenseEmitted;

    /// @notice SEND received through `fund`.
    uint256 public totalFunded;
    /// @notice SEND paid by conversions.
    uint256 public totalConverted;
    /// @notice SEND sent to the treasury by `sweep`.
    uint256 public totalSwept;
    /// @notice Points converted from node and account leaves (at most `snapshotTotalCumulative`).
    uint256 public accountPointsConverted;
    /// @notice Points converted from license leaves (at most `snapshotLicenseEmitted`).
    uint256 public licensePointsConverted;
    /// @notice Whether the leaf of a node key or account was converted.
    mapping(address account => bool) public accountConverted;
    /// @notice Whether the leaf of a license was converted.
    mapping(uint256 tokenId => bool) public licenseConverted;

    /// @notice The snapshot was taken by `by`: `root` of `epoch`, whose account leaves sum to `totalCumulative`.
    event SnapshotTaken(
        uint32 indexed epoch, bytes32 root, uint96 totalCumulative, uint256 licenseEmitted, address indexed by
    );
    /// @notice A leaf converted: `points` of `id` (the node key or account as uint160, or the license token
    ///         id) paid `amount` SEND to `recipient`.
    event Converted(
        LeafKind indexed kind, uint256 indexed id, address indexed recipient, uint256 points, uint256 amount
    );
    /// @notice `amount` SEND added by `from`.
    event Funded(address indexed from, uint256 amount, uint256 totalFunded);
    /// @notice `amount` SEND returned to the treasury after the deadline.
    event Swept(address indexed treasury, uint256 amount, address indexed by);

    /// @notice A constructor argument is invalid (`what` names it).
    error InvalidParameter(string what);
    /// @notice The snapshot needs `lastPointsEpoch` finalized on the points settlement.
    error SnapshotEpochNotFinalized(uint32 lastPointsEpoch, uint32 lastFinalized);
    /// @notice Reading the epoch's entry failed for another reason than its leaving the ring (`reason`: the
    ///         settlement's revert data, empty when it ran out of gas).
    error EpochEntryUnreadable(uint32 epoch, bytes reason);
    /// @notice `snapshot` was already taken.
    error SnapshotAlreadyTaken(uint32 epoch, bytes32 root);
    /// @notice No snapshot yet: nothing converts before `snapshot`.
    error SnapshotNotTaken();
    /// @notice The conversion closed at `deadline` (conversions, `fund` and `snapshot` revert from then on).
    error ConversionClosed(uint64 deadline);
    /// @notice `sweep` opens at `deadline`.
    error ConversionOpen(uint64 deadline);
    /// @notice `(account, points)` is not an account leaf of the snapshot root.
    error InvalidPointsProof(address account, uint256 points);
    /// @notice `(tokenId, points)` is not a license leaf of the snapshot root.
    error InvalidLicensePointsProof(uint256 tokenId, uint256 points);
    /// @notice The leaf of this node key or account was already converted.
    error AlreadyConverted(address account);
    /// @notice The leaf of this license was already converted.
    error LicenseAlreadyConverted(uint256 tokenId);
    /// @notice The node key was never registered in staking (an account leaf: `convertAccount`).
    error NodeNotRegistered(address nodeKey);
    /// @notice The node was ejected by the protocol: its points do not convert (anti-Sybil rule).
    error NodeEjected(address nodeKey);
    /// @notice The account is a registered node key: its leaf converts only through `convertNode`.
    error AccountIsNodeKey(address account);
    /// @notice The license does not exist (never minted, or burned): nobody to pay.
    error LicenseNotFound(uint256 tokenId);
    /// @notice The licenses are void (their sale was cancelled or expired): their points do not convert.
    error LicenseVoid(uint256 tokenId);
    /// @notice The leaf holds zero points (or converts to zero SEND at the ratio).
    error NothingToConvert(uint256 points);
    /// @notice The leaf's `points` exceed what is left of the snapshot's bound for its kind (`available`):
    ///         the tree holds more than was emitted.
    error PointsExceedSnapshot(uint256 points, uint256 available);
    /// @notice The epoch's reward root is zero (nobody has earned points): nothing to snapshot yet.
    error EmptyPointsRoot(uint32 epoch);
    /// @notice The contract holds `balance` SEND, less than the `amount` due: the treasury must `fund` it.
    error InsufficientFunding(uint256 amount, uint256 balance);
    /// @notice `fund` or `sweep` with nothing to move.
    error ZeroAmount();

    /// @param sendToken_ the SEND token paid out.
    /// @param pointsSettlement_ the points-mode `EpochSettlement` (pays `TestnetPoints`, not SEND).
    /// @param licenseRewards_ the points-mode `LicenseRewards` over the same settlement and token.
    /// @param staking_ the `NodeStaking` of the points settlement (its `staking()`).
    /// @param license_ the WatchDog license of `licenseRewards_` (its `license()`).
    /// @param treasury_ where `sweep` sends what is left after the deadline.
    /// @param ratio_ SEND wei per point wei, scaled by 1e18; immutable.
    /// @param lastPointsEpoch_ the testnet's last points epoch.
    /// @param conversionDeadline_ unix time at which conversion closes.
    /// @dev Staking and license are derivable from the settlement and license rewards; they are passed and
    ///      checked so a deployment names every contract it trusts and a mismatch fails at deployment.
    constructor(
        address sendToken_,
        address pointsSettlement_,
        address licenseRewards_,
        address staking_,
        address license_,
        address treasury_,
        uint256 ratio_,
        uint32 lastPointsEpoch_,
        uint64 conversionDeadline_
    ) {
        if (sendToken_ == address(0)) revert InvalidParameter("sendToken");
        if (pointsSettlement_ == address(0)) revert InvalidParameter("pointsSettlement");
        if (licenseRewards_ == address(0)) revert InvalidParameter("licenseRewards");
        if (treasury_ == address(0)) revert InvalidParameter("treasury");
        if (ratio_ == 0) revert InvalidParameter("ratio");
        if (lastPointsEpoch_ == 0) revert InvalidParameter("lastPointsEpoch");
        if (conversionDeadline_ <= block.timestamp) revert InvalidParameter("conversionDeadline");
        EpochSettlement settlement = EpochSettlement(pointsSettlement_);
        LicenseRewards rewards = LicenseRewards(licenseRewards_);
        address points = address(settlement.token());
        if (points == sendToken_) revert InvalidParameter("pointsSettlement pays SEND");
        if (address(settlement.staking()) != staking_) revert InvalidParameter("staking");
        if (address(rewards.settlement()) != pointsSettlement_) {
            revert InvalidParameter("licenseRewards.settlement");
        }
        if (address(rewards.token()) != points) revert InvalidParameter("licenseRewards.token");
        if (address(rewards.license()) != license_) revert InvalidParameter("license");
        sendToken = IERC20(sendToken_);
        pointsSettlement = settlement;
        licenseRewards = rewards;
        staking = NodeStaking(staking_);
        license = IVoidableLicense(license_);
        treasury = treasury_;
        ratio = ratio_;
        lastPointsEpoch = lastPointsEpoch_;
        conversionDeadline = conversionDeadline_;
    }

    // ---------------------------------------------------------------- snapshot and funding

    /// @notice Fixes the points root to convert against, once, after the points settlement finalized
    ///         `lastPointsEpoch`. Anyone may call. The root is that epoch's, read from the settlement's ring
    ///         of 8 entries; if the epoch has already left the ring (more than 7 later epochs submitted), it is
    ///         the newest finalized root at this call, and `snapshotEpoch` records which epoch that is (the
    ///         testnet should stop settling points after `lastPointsEpoch`, or call this within 8 epochs).
    function snapshot() external {
        if (block.timestamp >= conversionDeadline) revert ConversionClosed(conversionDeadline);
        if (snapshotRoot != bytes32(0)) revert SnapshotAlreadyTaken(snapshotEpoch, snapshotRoot);
        uint32 lastFinalized = pointsSettlement.lastFinalizedEpoch();
        if (lastFinalized < lastPointsEpoch) {
            revert SnapshotEpochNotFinalized(lastPointsEpoch, lastFinalized);
        }
        uint32 epoch = lastPointsEpoch;
        EpochSettlement.EpochEntry memory entry;
        try pointsSettlement.epochEntry(epoch) returns (EpochSettlement.EpochEntry memory e) {
            entry = e;
        } catch (bytes memory reason) {
            // only "rotated out of the ring" falls back (anything else, e.g. out of gas, is passed on):
            // the newest finalized epoch is always in the ring
            if (bytes4(reason) != EpochSettlement.EpochNotInRing.selector) {
                revert EpochEntryUnreadable(epoch, reason);
            }
            epoch = lastFinalized;
            entry = pointsSettlement.epochEntry(epoch);
        }
        // An epoch at or below lastFinalized in the ring is final (voiding only touches pending epochs).
        // A root of zero (nobody ever earned) leaves nothing to convert; the snapshot stays open then.
        if (entry.rewardRoot == bytes32(0)) revert EmptyPointsRoot(epoch);
        uint256 licenseEmitted = licenseRewards.emittedUpTo(epoch);
        snapshotRoot = entry.rewardRoot;
        snapshotEpoch = epoch;
        snapshotTotalCumulative = entry.totalCumulative;
        snapshotLicenseEmitted = licenseEmitted;
        emit SnapshotTaken(epoch, entry.rewardRoot, entry.totalCumulative, licenseEmitted, msg.sender);
    }

    /// @notice Adds `amount` SEND (pulled from the caller, normally the treasury) to the conversion funds.
    ///         Anyone may call, until the deadline.
    function fund(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (block.timestamp >= conversionDeadline) revert ConversionClosed(conversionDeadline);
        uint256 funded = totalFunded + amount;
        totalFunded = funded;
        emit Funded(msg.sender, amount, funded);
        sendToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice After the deadline, sends every SEND this contract holds to the treasury. Anyone may call.
    function sweep() external {
        if (block.timestamp < conversionDeadline) revert ConversionOpen(conversionDeadline);
        uint256 amount = sendToken.balanceOf(address(this));
        if (amount == 0) revert ZeroAmount();
        totalSwept += amount;
        emit Swept(treasury, amount, msg.sender);
        sendToken.safeTransfer(treasury, amount);
    }

    // ---------------------------------------------------------------- conversions

    /// @notice Converts node `nodeKey`'s points (its leaf `rewardLeaf(nodeKey, points)` in the snapshot root)
    ///         and pays the SEND to the node's operator. Anyone may call; once per node. The node must have
    ///         been registered (staked) in `staking` and not ejected.
    /// @return amount the SEND paid.
    function convertNode(address nodeKey, uint256 points, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        _checkAccountLeaf(nodeKey, points, proof);
        NodeStaking.Node memory node = staking.getNode(nodeKey);
        if (node.status == NodeStaking.NodeStatus.None) revert NodeNotRegistered(nodeKey);
        if (node.status == NodeStaking.NodeStatus.Ejected) revert NodeEjected(nodeKey);
        amount = _consumeAccountLeaf(nodeKey, points);
        emit Converted(LeafKind.Node, uint160(nodeKey), node.operator, points, amount);
        sendToken.safeTransfer(node.operator, amount);
    }

    /// @notice Converts the points of `account`, an account leaf that is not a node key (a guardian's), and
    ///         pays them to `account`. Anyone may call; once per account.
    /// @return amount the SEND paid.
    function convertAccount(address account, uint256 points, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        _checkAccountLeaf(account, points, proof);
        if (staking.getNode(account).status != NodeStaking.NodeStatus.None) revert AccountIsNodeKey(account);
        amount = _consumeAccountLeaf(account, points);
        emit Converted(LeafKind.Account, uint160(account), account, points, amount);
        sendToken.safeTransfer(account, amount);
    }

    /// @notice Converts license `tokenId`'s points (its license leaf in the snapshot root) and pays the
    ///         license's current holder. Anyone may call; once per license. Nothing for a burned license or
    ///         once the licenses are void.
    /// @return amount the SEND paid.
    function convertLicense(uint256 tokenId, uint256 points, bytes32[] calldata proof)
        external
        returns (uint256 amount)
    {
        bytes32 root = _openRoot();
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(LICENSE_REWARD_TAG, tokenId, points))));
        if (MerkleRootLib.processProofCalldata(proof, leaf) != root) {
            revert InvalidLicensePointsProof(tokenId, points);
        }
        if (licenseConverted[tokenId]) revert LicenseAlreadyConverted(tokenId);
        address holder = _ownerOf(tokenId);
        if (license.voided()) revert LicenseVoid(tokenId);
        uint256 already = licensePointsConverted;
        // already <= bound always, so the comparison cannot overflow however large a wrong leaf is
        if (points > snapshotLicenseEmitted - already) {
            revert PointsExceedSnapshot(points, snapshotLicenseEmitted - already);
        }
        amount = _pay(points);
        licenseConverted[tokenId] = true;
        licensePointsConverted = already + points;
        emit Converted(LeafKind.License, tokenId, holder, points, amount);
        sendToken.safeTransfer(holder, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice SEND due for `points`: points × ratio / 1e18, rounded down (full 512-bit intermediate).
    function sendFor(uint256 points) public view returns (uint256) {
        return Math.mulDiv(points, ratio, RATIO_SCALE);
    }

    /// @notice Most SEND converting every snapshot point can take (0 before the snapshot): the ratio applied
    ///         to the snapshot's account total and the license emission up to the snapshot epoch. Per-leaf
    ///         rounding only lowers what is actually paid.
    function requiredFunding() external view returns (uint256) {
        return sendFor(uint256(snapshotTotalCumulative) + snapshotLicenseEmitted);
    }

    /// @notice The reward leaf of an account (node key or guardian) with `points`, as the settlement hashes it.
    function accountLeaf(address account, uint256 points) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, points))));
    }

    // ---------------------------------------------------------------- internals

    function _openRoot() private view returns (bytes32 root) {
        if (block.timestamp >= conversionDeadline) revert ConversionClosed(conversionDeadline);
        root = snapshotRoot;
        if (root == bytes32(0)) revert SnapshotNotTaken();
    }

    function _checkAccountLeaf(address account, uint256 points, bytes32[] calldata proof) private view {
        bytes32 root = _openRoot();
        if (MerkleRootLib.processProofCalldata(proof, accountLeaf(account, points)) != root) {
            revert InvalidPointsProof(account, points);
        }
        if (accountConverted[account]) revert AlreadyConverted(account);
    }

    /// @dev Marks `account`'s leaf converted and books its points against the snapshot's account total.
    function _consumeAccountLeaf(address account, uint256 points) private returns (uint256 amount) {
        uint256 already = accountPointsConverted;
        uint256 bound = snapshotTotalCumulative;
        if (points > bound - already) revert PointsExceedSnapshot(points, bound - already);
        amount = _pay(points);
        accountConverted[account] = true;
        accountPointsConverted = already + points;
    }

    /// @dev The SEND for `points`, booked as converted; reverts when it is zero or not held.
    function _pay(uint256 points) private returns (uint256 amount) {
        amount = sendFor(points);
        if (amount == 0) revert NothingToConvert(points);
        uint256 balance = sendToken.balanceOf(address(this));
        if (amount > balance) revert InsufficientFunding(amount, balance);
        totalConverted += amount;
    }

    /// @dev The license's holder; a nonexistent (or burned) token reverts with `LicenseNotFound`, also for an
    ///      ERC-721 that returns the zero address instead of reverting.
    function _ownerOf(uint256 tokenId) private view returns (address holder) {
        try license.ownerOf(tokenId) returns (address o) {
            holder = o;
        } catch {
            revert LicenseNotFound(tokenId);
        }
        if (holder == address(0)) revert LicenseNotFound(tokenId);
    }
}
