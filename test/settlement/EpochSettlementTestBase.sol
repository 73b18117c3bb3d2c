// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ProtocolTestBase} from "../utils/ProtocolTestBase.sol";
import {QuorumSigning} from "../utils/QuorumSigning.sol";
import {Merkle} from "../utils/Merkle.sol";
import {SendToken} from "../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../contracts/staking/NodeStaking.sol";
import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {GuardianQuorum} from "../../contracts/settlement/GuardianQuorum.sol";
import {EpochHeader} from "../../contracts/libraries/EpochHeaderLib.sol";

/// @notice Set-up and helpers shared by the EpochSettlement test files (`EpochSettlement.<concern>.t.sol`).
abstract contract EpochSettlementTestBase is ProtocolTestBase {
    uint256 internal constant ESCROW = 430_000_000 ether;
    bytes32 internal constant SCORES_END = bytes32(uint256(1));

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    /// @dev Header of epoch `e` with a dummy reward root and a total growing 100 SEND per epoch.
    function _h(uint32 e) internal pure returns (EpochHeader memory) {
        return _header(e, keccak256(abi.encode("root", e)), uint96(e) * 100 ether, 100 ether);
    }

    function _submitRange(uint32 from, uint32 to) internal {
        for (uint32 e = from; e <= to; ++e) {
            _submit(_h(e));
        }
    }

    /// @dev Reward tree paying alice `a` and bob `b`; header total is a + b.
    function _aliceBob(uint32 e, uint256 a, uint256 b, uint96 emission)
        internal
        view
        returns (EpochHeader memory h, bytes32[] memory leaves)
    {
        address[] memory accounts = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (accounts[0], accounts[1]) = (alice, bob);
        (amounts[0], amounts[1]) = (a, b);
        bytes32 root;
        (leaves, root) = _rewardTree(accounts, amounts);
        h = _header(e, root, uint96(a + b), emission);
    }

    function _sigsFor(EpochSettlement s, EpochHeader memory h, uint256 bitmap)
        internal
        view
        returns (GuardianQuorum.Signature[] memory)
    {
        return QuorumSigning.signDigest(s.headerDigest(h), guardianKeys, bitmap);
    }

    function _trySubmit(EpochHeader memory h, uint256 bitmap, GuardianQuorum.Signature[] memory sigs)
        internal
    {
        vm.prank(keeper);
        settlement.submitEpoch(h, guardians, bitmap, sigs);
    }

    function _status(uint32 e) internal view returns (EpochSettlement.EpochStatus) {
        return settlement.epochEntry(e).status;
    }

    function _popCount(uint256 x) internal pure returns (uint256 c) {
        for (; x != 0; x &= x - 1) {
            ++c;
        }
    }

    /// @dev Deploys a fresh token + staking + settlement with custom emission parameters and points the
    ///      suite's `token`, `staking` and `settlement` at it.
    function _redeploy(uint96 initialEmission, uint32 halving) internal {
        address predictedSettlement = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
        token = new SendToken(
            SendToken.Allocations({
                nodeRewards: predictedSettlement,
                licensePool: licensePool,
                guardianRewards: predictedSettlement,
                treasury: treasury
            })
        );
        staking = new NodeStaking(_stakingConfig(address(token), predictedSettlement));
        EpochSettlement.Config memory cfg = _settlementConfig(address(token), address(staking));
        cfg.initialEpochEmission = initialEmission;
        cfg.halvingIntervalEpochs = halving;
        settlement = new EpochSettlement(cfg);
        assertEq(address(settlement), predictedSettlement);
    }

    function _faultTree(uint32 e, address[] memory nodes, uint96[] memory amounts, bool[] memory strikes)
        internal
        pure
        returns (bytes32[] memory leaves, bytes32 root)
    {
        leaves = new bytes32[](nodes.length);
        for (uint256 i; i < nodes.length; ++i) {
            leaves[i] = Merkle.faultLeaf(e, uint32(i), nodes[i], amounts[i], strikes[i]);
        }
        root = Merkle.root(leaves);
    }

    /// @dev `h` with a fault tree of `count` leaves under `root`.
    function _withFaults(EpochHeader memory h, bytes32 root, uint32 count)
        internal
        pure
        returns (EpochHeader memory)
    {
        h.faultRoot = root;
        h.faultCount = count;
        return h;
    }

    /// @dev `h` with a single fault leaf (index 0) against `node`; the root is the leaf itself.
    function _withOneFault(EpochHeader memory h, address node, uint96 amount, bool strike)
        internal
        pure
        returns (EpochHeader memory)
    {
        return _withFaults(h, Merkle.faultLeaf(h.epoch, 0, node, amount, strike), 1);
    }

    function _assertLifecycle(uint32 e, EpochSettlement.EpochLifecycle expected) internal view {
        assertEq(uint8(settlement.epochStatus(e)), uint8(expected), "epochStatus");
    }
}
