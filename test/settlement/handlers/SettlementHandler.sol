// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Merkle} from "../../utils/Merkle.sol";
import {QuorumSigning} from "../../utils/QuorumSigning.sol";
import {SendToken} from "../../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader, EpochHeaderLib} from "../../../contracts/libraries/EpochHeaderLib.sol";

/// @notice Drives EpochSettlement with honest, really-signed epochs over a fixed set of accounts, plus
///         time warps, finalization, disputes and their resolution, claims with real proofs and fault
///         execution. Ghost state mirrors what the contract should hold.
contract SettlementHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant ACCOUNTS = 8;
    uint256 public constant NODES = 3;

    SendToken public immutable token;
    NodeStaking public immutable staking;
    EpochSettlement public immutable settlement;
    address public immutable owner;
    address public immutable finder;

    address[] internal _guardians;
    uint256[] internal _guardianKeys;
    address[ACCOUNTS] public accounts;
    address[NODES] public nodes;

    // ---------------------------------------------------------------- ghost state

    /// Cumulative reward of each account in the currently valid submission of an epoch.
    mapping(uint32 epoch => uint256[ACCOUNTS]) internal _cumulative;
    /// Fault leaves of an epoch (amount 0 = no leaf for that node).
    mapping(uint32 epoch => uint96[NODES]) internal _faultAmount;
    mapping(uint32 epoch => bool[NODES]) internal _faultStrike;
    mapping(uint32 epoch => bool) internal _hasFaults;
    /// Fault leaves of an epoch already executed, by node (the leaf index is the node's position among
    /// the nodes with a fault in that epoch).
    mapping(uint32 epoch => bool[NODES]) internal _faultDone;

    uint32 public ghostLastSubmitted;
    /// Successful submissions whose epoch was not the previous one + 1.
    uint256 public ghostSequenceViolations;
    /// Replayed or skipped epochs that the contract accepted.
    uint256 public ghostAcceptedOutOfOrder;
    /// Tokens each account received, measured by balance deltas around claims.
    mapping(address account => uint256) public ghostReceived;
    uint256 public ghostTotalReceived;
    uint256 public ghostTotalSlashed;
    /// Everything put into the escrow: the preminted allocations plus `fundEscrow`.
    uint256 public ghostTotalFunded;
    /// Per node: the settlement-clock epoch of its latest slash, its stake + unbonding before the first
    /// slash of that clock epoch, and what was slashed in it (all slashes go through this handler).
    mapping(address node => uint32) public ghostSlashClock;
    mapping(address node => uint256) public ghostSlashBase;
    mapping(address node => uint256) public ghostSlashedInClock;
    /// Fault leaves skipped because the node's cap for the clock epoch was used up.
    uint256 public ghostCapDeferred;

    /// Signatures recorded through addSignatures.
    uint256 public ghostSignaturesAdded;

    mapping(bytes32 action => uint256) public calls;

    constructor(
        EpochSettlement settlement_,
        NodeStaking staking_,
        SendToken token_,
        address owner_,
        address finder_,
        address[] memory guardians_,
        uint256[] memory guardianKeys_,
        address[NODES] memory nodes_
    ) {
        settlement = settlement_;
        staking = staking_;
        token = token_;
        owner = owner_;
        finder = finder_;
        _guardians = guardians_;
        _guardianKeys = guardianKeys_;
        nodes = nodes_;
        for (uint256 i; i < ACCOUNTS; ++i) {
            accounts[i] = makeAddr(string.concat("account", vm.toString(i)));
        }
        ghostTotalFunded = token_.balanceOf(address(settlement_));
    }

    // ---------------------------------------------------------------- views for invariants

    function cumulativeOf(uint32 epoch, uint256 i) public view returns (uint256) {
        return _cumulative[epoch][i];
    }

    function totalOf(uint32 epoch) public view returns (uint256 total) {
        for (uint256 i; i < ACCOUNTS; ++i) {
            total += _cumulative[epoch][i];
        }
    }

    function hasFaults(uint32 epoch) external view returns (bool) {
        return _hasFaults[epoch];
    }

    /// @notice Number of fault leaves of the current submission of `epoch`.
    function faultCountOf(uint32 epoch) public view returns (uint32 count) {
        if (!_hasFaults[epoch]) return 0;
        for (uint256 k; k < NODES; ++k) {
            if (_faultAmount[epoch][k] != 0) ++count;
        }
    }

    /// @notice Whether leaf `index` of `epoch` was executed through this handler.
    function faultDone(uint32 epoch, uint32 index) external view returns (bool) {
        uint32 n;
        for (uint256 k; k < NODES; ++k) {
            if (_faultAmount[epoch][k] == 0) continue;
            if (n == index) return _faultDone[epoch][k];
            ++n;
        }
        return false;
    }

    // ---------------------------------------------------------------- actions

    /// @notice Submits the next epoch: reward increments bounded by the epoch's emission, sometimes a
    ///         fault root, signed by a random quorum.
    function submitEpoch(uint256 seed) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        uint32 e = p.lastSubmitted + 1;
        if (e - p.lastFinalized >= 8) {
            // ring full: let the oldest epoch's window pass so this submission can finalize it
            EpochSettlement.EpochEntry memory oldest = settlement.epochEntry(p.lastFinalized + 1);
            if (oldest.status != EpochSettlement.EpochStatus.Pending) return;
            if (block.timestamp < oldest.finalizeAt) vm.warp(oldest.finalizeAt);
        }
        uint64 endsAt = settlement.epochEnd(e);
        if (block.timestamp < endsAt) vm.warp(endsAt + seed % 6 hours);

        EpochHeader memory h = _buildHeader(e, seed);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _signQuorum(h, seed);
        settlement.submitEpoch(h, _guardians, bitmap, sigs);

        calls["submitEpoch"]++;
        if (e != ghostLastSubmitted + 1) ghostSequenceViolations++;
        ghostLastSubmitted = e;
    }

    /// @notice Tries to submit an epoch that is not the next one (a replay of the last or a skip);
    ///         the contract must refuse.
    function submitOutOfOrder(uint256 seed, bool replay) external {
        uint32 last = settlement.settlementProgress().lastSubmitted;
        if (replay && last == 0) return;
        uint32 e = replay ? last : last + 2;
        uint64 endsAt = settlement.epochEnd(e);
        if (block.timestamp < endsAt) vm.warp(endsAt);
        EpochHeader memory h = _header(e, bytes32(seed), _previousTotal(e), 0);
        (uint256 bitmap, GuardianQuorum.Signature[] memory sigs) = _signQuorum(h, seed);
        calls["submitOutOfOrder"]++;
        try settlement.submitEpoch(h, _guardians, bitmap, sigs) {
            ghostAcceptedOutOfOrder++;
        } catch {}
    }

    function warp(uint256 secs) external {
        calls["warp"]++;
        vm.warp(block.timestamp + _bound(secs, 1, 3 days));
    }

    function finalize() external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        if (p.lastFinalized == p.lastSubmitted) return;
        EpochSettlement.EpochEntry memory next = settlement.epochEntry(p.lastFinalized + 1);
        if (next.status != EpochSettlement.EpochStatus.Pending || block.timestamp < next.finalizeAt) return;
        calls["finalize"]++;
        settlement.finalizeEpochs();
    }

    function dispute(uint256 seed) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        // disputes stall settlement until resolved: keep them rarer than the other actions
        if (p.lastFinalized == p.lastSubmitted || seed % 3 != 0) return;
        seed /= 3;
        uint32 e = uint32(_bound(seed, p.lastFinalized + 1, p.lastSubmitted));
        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(e);
        if (entry.status != EpochSettlement.EpochStatus.Pending || block.timestamp >= entry.finalizeAt) {
            return;
        }
        address by = seed % 8 == 7 ? owner : _guardians[seed % 7];
        // a guardian votes once per submission (AlreadyVoted)
        (uint64 voters,,) = settlement.disputeVotes(e);
        (, address[] memory members) = settlement.activeGuardianSet();
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == by && (voters >> i) & 1 == 1) return;
        }
        calls["dispute"]++;
        vm.prank(by);
        settlement.dispute(e, "handler");
    }

    function resolveDispute(uint256 seed, bool valid) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        // the oldest disputed epoch, starting from a random pending one
        for (uint32 k; k < p.lastSubmitted - p.lastFinalized; ++k) {
            uint32 e = p.lastFinalized + 1 + uint32((seed % 8 + k) % (p.lastSubmitted - p.lastFinalized));
            if (settlement.epochEntry(e).status != EpochSettlement.EpochStatus.Disputed) continue;
            calls[valid ? bytes32("resolveValid") : bytes32("resolveInvalid")]++;
            vm.prank(owner);
            settlement.resolveDispute(e, valid);
            if (!valid) ghostLastSubmitted = e - 1;
            return;
        }
    }

    /// @notice Adds a random non-empty subset of the missing signatures to a random pending epoch, signed
    ///         over the digest the chain stored at submission.
    function addSignatures(uint256 seed) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        if (p.lastFinalized == p.lastSubmitted) return;
        uint32 e = p.lastFinalized + 1 + uint32(seed % (p.lastSubmitted - p.lastFinalized));
        EpochSettlement.EpochEntry memory entry = settlement.epochEntry(e);
        if (entry.status != EpochSettlement.EpochStatus.Pending) return;
        uint256 missing = (uint256(1) << _guardians.length) - 1 & ~uint256(entry.signerBitmap);
        if (missing == 0) return;
        uint256 bits = missing & (seed >> 8);
        if (bits == 0) bits = missing & (~missing + 1); // the lowest missing bit (missing != 0: no overflow)
        GuardianQuorum.Signature[] memory sigs =
            QuorumSigning.signDigest(entry.headerDigest, _guardianKeys, bits);
        calls["addSignatures"]++;
        settlement.addSignatures(e, _guardians, bits, sigs);
        ghostSignaturesAdded += _bits(bits);
    }

    /// @notice Lets the oldest disputed epoch's resolution period pass and voids it (`expireDispute`).
    function expireDispute(uint256 seed) external {
        EpochSettlement.Progress memory p = settlement.settlementProgress();
        for (uint32 e = p.lastFinalized + 1; e <= p.lastSubmitted; ++e) {
            EpochSettlement.EpochEntry memory entry = settlement.epochEntry(e);
            if (entry.status != EpochSettlement.EpochStatus.Disputed) continue;
            if (block.timestamp < entry.finalizeAt) vm.warp(entry.finalizeAt + seed % 1 hours);
            calls["expireDispute"]++;
            settlement.expireDispute(e);
            ghostLastSubmitted = e - 1;
            return;
        }
    }

    function _bits(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) {
            ++c;
        }
    }

    /// @notice Claims for the first account (from a random start) with something left to claim.
    function claim(uint256 accountSeed, address caller) external {
        uint32 lf = settlement.settlementProgress().lastFinalized;
        if (lf == 0) return;
        for (uint256 k; k < ACCOUNTS; ++k) {
            uint256 i = (accountSeed % ACCOUNTS + k) % ACCOUNTS;
            address account = accounts[i];
            uint256 cumulative = _cumulative[lf][i];
            if (cumulative <= settlement.claimed(account)) continue;
            bytes32[] memory proof = Merkle.proof(_leaves(lf), i);
            uint256 before = token.balanceOf(account);
            calls["claim"]++;
            vm.prank(caller);
            settlement.claim(account, cumulative, proof);
            uint256 received = token.balanceOf(account) - before;
            ghostReceived[account] += received;
            ghostTotalReceived += received;
            return;
        }
    }

    /// @notice Executes the first unexecuted fault leaf of a finalized epoch, from a random start. A leaf
    ///         whose node has no cap left in this clock epoch is left for later (it would revert).
    function executeFault(uint256 seed) external {
        uint32 lf = settlement.settlementProgress().lastFinalized;
        uint32 clock = settlement.currentEpoch();
        for (uint256 k; k < lf * NODES; ++k) {
            uint256 slot = (seed % (lf * NODES) + k) % (lf * NODES);
            uint32 e = uint32(slot / NODES) + 1;
            uint256 j = slot % NODES;
            if (!_hasFaults[e] || _faultAmount[e][j] == 0 || _faultDone[e][j]) continue;
            address node = nodes[j];
            if (staking.slashCapRemaining(node, clock) == 0) {
                ghostCapDeferred++;
                continue;
            }
            (bytes32[] memory leaves, uint256 index) = _faultLeaves(e, j);
            if (!settlement.faultPending(e, uint32(index))) revert("handler: leaf not pending");
            NodeStaking.Node memory before = staking.getNode(node);
            if (ghostSlashClock[node] != clock) {
                ghostSlashClock[node] = clock;
                ghostSlashBase[node] = uint256(before.stake) + before.unbonding;
                ghostSlashedInClock[node] = 0;
            }
            calls["executeFault"]++;
            vm.prank(finder);
            uint96 slashed = settlement.executeFault(
                e, uint32(index), node, _faultAmount[e][j], _faultStrike[e][j], Merkle.proof(leaves, index)
            );
            _faultDone[e][j] = true;
            ghostTotalSlashed += slashed;
            ghostSlashedInClock[node] += slashed;
            return;
        }
    }

    /// @notice Adds SEND to the escrow through `fundEscrow` (the handler holds a float for this).
    function fundEscrow(uint256 amount) external {
        uint256 available = token.balanceOf(address(this));
        if (available == 0) return;
        amount = _bound(amount, 1, available < 1_000_000 ether ? available : 1_000_000 ether);
        calls["fundEscrow"]++;
        token.approve(address(settlement), amount);
        settlement.fundEscrow(amount);
        ghostTotalFunded += amount;
    }

    // ---------------------------------------------------------------- internals

    function _buildHeader(uint32 e, uint256 seed) internal returns (EpochHeader memory h) {
        uint96 cap = settlement.emissionCap(e);
        uint96 emission = uint96(_bound(seed, cap / 2, cap));
        uint256 perAccount = emission / ACCOUNTS;
        uint256 increase;
        for (uint256 i; i < ACCOUNTS; ++i) {
            uint256 inc = uint256(keccak256(abi.encode(seed, "inc", i))) % (perAccount + 1);
            // some accounts earn nothing this epoch
            if (uint256(keccak256(abi.encode(seed, "skip", i))) % 4 == 0) inc = 0;
            _cumulative[e][i] = (e == 1 ? 0 : _cumulative[e - 1][i]) + inc;
            increase += inc;
        }
        h = _header(e, Merkle.root(_leaves(e)), uint96(_previousTotal(e) + increase), emission);

        _hasFaults[e] = false;
        _faultDone[e] = [false, false, false];
        if (seed % 3 == 0) {
            for (uint256 j; j < NODES; ++j) {
                uint256 r = uint256(keccak256(abi.encode(seed, "fault", j)));
                _faultAmount[e][j] = r % 2 == 0 ? 0 : uint96(_bound(r >> 8, 1 ether, 50_000 ether));
                _faultStrike[e][j] = (r >> 1) % 2 == 0;
                if (_faultAmount[e][j] != 0) _hasFaults[e] = true;
            }
            if (_hasFaults[e]) {
                h.faultRoot = Merkle.root(_allFaultLeaves(e));
                h.faultCount = faultCountOf(e);
            }
        }
    }

    function _previousTotal(uint32 e) internal view returns (uint96) {
        return e <= 1 ? 0 : uint96(totalOf(e - 1));
    }

    function _header(uint32 e, bytes32 rewardRoot, uint96 total, uint96 emission)
        internal
        pure
        returns (EpochHeader memory)
    {
        return QuorumSigning.header(e, rewardRoot, total, emission);
    }

    function _leaves(uint32 e) internal view returns (bytes32[] memory leaves) {
        leaves = new bytes32[](ACCOUNTS);
        for (uint256 i; i < ACCOUNTS; ++i) {
            leaves[i] = Merkle.rewardLeaf(accounts[i], _cumulative[e][i]);
        }
    }

    function _allFaultLeaves(uint32 e) internal view returns (bytes32[] memory leaves) {
        (leaves,) = _faultLeaves(e, 0);
    }

    /// @dev Leaves of the nodes with a fault in `e`, and the index of node `j` among them.
    function _faultLeaves(uint32 e, uint256 j)
        internal
        view
        returns (bytes32[] memory leaves, uint256 index)
    {
        uint256 n;
        for (uint256 k; k < NODES; ++k) {
            if (_faultAmount[e][k] != 0) ++n;
        }
        leaves = new bytes32[](n);
        n = 0;
        for (uint256 k; k < NODES; ++k) {
            if (_faultAmount[e][k] == 0) continue;
            if (k == j) index = n;
            leaves[n] = Merkle.faultLeaf(e, uint32(n), nodes[k], _faultAmount[e][k], _faultStrike[e][k]);
            ++n;
        }
    }

    /// @dev A random subset of at least five of the seven guardians.
    function _signQuorum(EpochHeader memory h, uint256 seed)
        internal
        view
        returns (uint256 bitmap, GuardianQuorum.Signature[] memory sigs)
    {
        bitmap = uint256(keccak256(abi.encode(seed, "signers"))) & 0x7F;
        uint256 count;
        for (uint256 i; i < 7; ++i) {
            if ((bitmap >> i) & 1 == 1) ++count;
        }
        for (uint256 i; count < 5; ++i) {
            if ((bitmap >> i) & 1 == 0) {
                bitmap |= 1 << i;
                ++count;
            }
        }
        sigs = QuorumSigning.signDigest(settlement.headerDigest(h), _guardianKeys, bitmap);
    }
}
