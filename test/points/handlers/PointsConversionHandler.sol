// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Merkle} from "../../utils/Merkle.sol";
import {SendToken} from "../../../contracts/token/SendToken.sol";
import {NodeStaking} from "../../../contracts/staking/NodeStaking.sol";
import {PointsConversion} from "../../../contracts/points/PointsConversion.sol";
import {MockLicense} from "../../watchdog/mocks/MockLicense.sol";

/// @notice Drives PointsConversion over one finalized points tree (node, account and license leaves, built
///         by the test): snapshots, funding by the treasury, conversions with real proofs by random callers,
///         time passing the deadline, sweeps. Ghost state records every SEND that moved and every
///         conversion that should have been refused.
contract PointsConversionHandler is CommonBase, StdCheats, StdUtils {
    SendToken public immutable token;
    PointsConversion public immutable conversion;
    NodeStaking public immutable staking;
    MockLicense public immutable license;
    address public immutable treasury;

    bytes32[] internal _leaves;
    /// Leaf i: kind, the node key / account (kinds Node, Account) or token id (License), and points.
    PointsConversion.LeafKind[] internal _kinds;
    address[] internal _accounts;
    uint256[] internal _ids;
    uint256[] internal _points;

    // ---------------------------------------------------------------- ghost state

    uint256 public ghostFunded;
    uint256 public ghostConverted;
    uint256 public ghostSwept;
    /// Points of successful conversions (all kinds).
    uint256 public ghostPointsConverted;
    /// Conversions that succeeded although they must not: after the deadline, before the snapshot, twice,
    /// an ejected node, a void license.
    uint256 public ghostForbiddenAccepted;
    /// Calls that reverted with an error the handler did not expect.
    uint256 public ghostUnexpectedReverts;
    mapping(bytes32 action => uint256) public calls;

    constructor(
        SendToken token_,
        PointsConversion conversion_,
        NodeStaking staking_,
        MockLicense license_,
        address treasury_
    ) {
        token = token_;
        conversion = conversion_;
        staking = staking_;
        license = license_;
        treasury = treasury_;
    }

    function addLeaf(
        PointsConversion.LeafKind kind,
        address account,
        uint256 id,
        uint256 points,
        bytes32 leaf
    ) external {
        _kinds.push(kind);
        _accounts.push(account);
        _ids.push(id);
        _points.push(points);
        _leaves.push(leaf);
    }

    function leafCount() external view returns (uint256) {
        return _leaves.length;
    }

    // ---------------------------------------------------------------- actions

    function snapshot() external {
        ++calls["snapshot"];
        try conversion.snapshot() {}
        catch (bytes memory reason) {
            bytes4 sel = bytes4(reason);
            if (
                sel != PointsConversion.SnapshotAlreadyTaken.selector
                    && sel != PointsConversion.ConversionClosed.selector
            ) ++ghostUnexpectedReverts;
        }
    }

    function fund(uint256 amount) external {
        ++calls["fund"];
        amount = bound(amount, 1, 50_000 ether);
        vm.startPrank(treasury);
        token.approve(address(conversion), amount);
        try conversion.fund(amount) {
            ghostFunded += amount;
        } catch (bytes memory reason) {
            if (bytes4(reason) != PointsConversion.ConversionClosed.selector) ++ghostUnexpectedReverts;
        }
        vm.stopPrank();
    }

    function convert(uint256 index, address caller) external {
        ++calls["convert"];
        uint256 i = bound(index, 0, _leaves.length - 1);
        PointsConversion.LeafKind kind = _kinds[i];
        address recipient = _recipient(i);
        bool forbidden = _forbidden(i);
        bytes32[] memory proof = Merkle.proof(_leaves, i);
        uint256 before = recipient == address(0) ? 0 : token.balanceOf(recipient);
        vm.prank(caller);
        try this.dispatch(kind, i, proof) returns (uint256 amount) {
            if (forbidden) ++ghostForbiddenAccepted;
            if (token.balanceOf(recipient) - before != amount && recipient != address(conversion)) {
                ++ghostUnexpectedReverts; // paid someone else
            }
            ghostConverted += amount;
            ghostPointsConverted += _points[i];
        } catch (bytes memory reason) {
            if (!_expected(bytes4(reason))) ++ghostUnexpectedReverts;
        }
    }

    /// @dev External so `convert` can try it; calls the conversion as the pranked caller.
    function dispatch(PointsConversion.LeafKind kind, uint256 i, bytes32[] calldata proof)
        external
        returns (uint256)
    {
        if (kind == PointsConversion.LeafKind.Node) {
            return conversion.convertNode(_accounts[i], _points[i], proof);
        }
        if (kind == PointsConversion.LeafKind.Account) {
            return conversion.convertAccount(_accounts[i], _points[i], proof);
        }
        return conversion.convertLicense(_ids[i], _points[i], proof);
    }

    function warp(uint256 secs) external {
        ++calls["warp"];
        vm.warp(block.timestamp + bound(secs, 1, 30 days));
    }

    function sweep() external {
        ++calls["sweep"];
        uint256 balance = token.balanceOf(address(conversion));
        try conversion.sweep() {
            ghostSwept += balance;
        } catch (bytes memory reason) {
            bytes4 sel = bytes4(reason);
            if (
                sel != PointsConversion.ConversionOpen.selector && sel != PointsConversion.ZeroAmount.selector
            ) {
                ++ghostUnexpectedReverts;
            }
        }
    }

    function voidLicenses() external {
        ++calls["voidLicenses"];
        license.setVoided(true);
    }

    // ---------------------------------------------------------------- internals

    function _recipient(uint256 i) internal view returns (address) {
        PointsConversion.LeafKind kind = _kinds[i];
        if (kind == PointsConversion.LeafKind.Node) return staking.getNode(_accounts[i]).operator;
        if (kind == PointsConversion.LeafKind.Account) return _accounts[i];
        try license.ownerOf(_ids[i]) returns (address o) {
            return o;
        } catch {
            return address(0);
        }
    }

    function _forbidden(uint256 i) internal view returns (bool) {
        if (block.timestamp >= conversion.conversionDeadline() || conversion.snapshotRoot() == bytes32(0)) {
            return true;
        }
        PointsConversion.LeafKind kind = _kinds[i];
        if (kind == PointsConversion.LeafKind.License) {
            return conversion.licenseConverted(_ids[i]) || license.voided();
        }
        if (conversion.accountConverted(_accounts[i])) return true;
        return kind == PointsConversion.LeafKind.Node
            && staking.getNode(_accounts[i]).status == NodeStaking.NodeStatus.Ejected;
    }

    function _expected(bytes4 sel) internal pure returns (bool) {
        return sel == PointsConversion.ConversionClosed.selector
            || sel == PointsConversion.SnapshotNotTaken.selector
            || sel == PointsConversion.AlreadyConverted.selector
            || sel == PointsConversion.LicenseAlreadyConverted.selector
            || sel == PointsConversion.NodeEjected.selector || sel == PointsConversion.LicenseVoid.selector
            || sel == PointsConversion.InsufficientFunding.selector
            || sel == PointsConversion.PointsExceedSnapshot.selector
            || sel == PointsConversion.NothingToConvert.selector; // 1 point at ~0.33: zero SEND
    }
}
