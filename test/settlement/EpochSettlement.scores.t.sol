// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EpochSettlement} from "../../contracts/settlement/EpochSettlement.sol";
import {EpochHeader, NodeScore} from "../../contracts/libraries/EpochHeaderLib.sol";
import {EpochSettlementTestBase} from "./EpochSettlementTestBase.sol";

/// @notice EpochSettlement `publishScores`: the per-node score chunks of the header's hash chain.
contract EpochSettlementScoresTest is EpochSettlementTestBase {
    // ------------------------------------------------------------------ publishScores

    function _score(uint256 seed) internal pure returns (NodeScore memory s) {
        s.nodeKey = address(uint160(uint256(keccak256(abi.encode("node", seed)))));
        s.rank = uint32(seed + 1);
        s.score = uint32(uint256(keccak256(abi.encode("score", seed))) % 1_000_000);
        s.availability = uint32(990_000 + seed);
        s.latencyP50Ms = uint32(20 + seed);
        s.latencyP95Ms = uint32(80 + seed);
        s.verifiedUnits = uint64(1_000 * (seed + 1));
        s.reward = uint96(seed * 1 ether);
        s.faults = uint8(seed % 4);
    }

    /// @dev Splits `total` scores into `chunks` chunks and returns them with the chain links
    ///      (`links[i]` is the cursor before chunk i, `links[chunks] == SCORES_END`).
    function _chain(uint256 total, uint256 chunks)
        internal
        pure
        returns (NodeScore[][] memory parts, bytes32[] memory links)
    {
        parts = new NodeScore[][](chunks);
        uint256 idx;
        for (uint256 c; c < chunks; ++c) {
            uint256 len = total / chunks + (c < total % chunks ? 1 : 0);
            parts[c] = new NodeScore[](len);
            for (uint256 k; k < len; ++k) {
                parts[c][k] = _score(idx++);
            }
        }
        links = new bytes32[](chunks + 1);
        links[chunks] = SCORES_END;
        for (uint256 c = chunks; c > 0; --c) {
            links[c - 1] = keccak256(abi.encode(keccak256(abi.encode(parts[c - 1])), links[c]));
        }
    }

    function _expectScores(uint32 e, NodeScore[] memory chunk) internal {
        for (uint256 k; k < chunk.length; ++k) {
            NodeScore memory s = chunk[k];
            vm.expectEmit(true, true, true, true, address(settlement));
            emit EpochSettlement.NodeScorePublished(
                e,
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
    }

    function testFuzz_publishScores_hashChainInOrder(uint8 total, uint8 chunks) public {
        chunks = uint8(bound(chunks, 1, 3));
        total = uint8(bound(total, chunks, 12));
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(total, chunks);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);

        for (uint256 c; c < chunks; ++c) {
            _expectScores(1, parts[c]);
            if (c + 1 == chunks) {
                vm.expectEmit(true, true, true, true, address(settlement));
                emit EpochSettlement.ScoresFullyPublished(1);
            }
            settlement.publishScores(1, parts[c], links[c + 1]);
            assertEq(settlement.epochEntry(1).scoresCursor, links[c + 1]);
        }
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.ScoresAlreadyPublished.selector, 1));
        settlement.publishScores(1, parts[0], links[1]);
    }

    function test_publishScores_partialDoesNotEmitFullyPublished() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(6, 3);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.recordLogs();
        settlement.publishScores(1, parts[0], links[1]);
        assertEq(vm.getRecordedLogs().length, 2); // two NodeScorePublished, no ScoresFullyPublished
    }

    function test_RevertWhen_publishScores_wrongOrder() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(6, 3);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[0], links[1])
        );
        settlement.publishScores(1, parts[1], links[2]);

        settlement.publishScores(1, parts[0], links[1]);
        // chunk 2 before chunk 1
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], links[2])
        );
        settlement.publishScores(1, parts[2], SCORES_END);
        // the right chunk with a wrong `next`
        bytes32 bad = keccak256(abi.encode(keccak256(abi.encode(parts[1])), SCORES_END));
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], bad)
        );
        settlement.publishScores(1, parts[1], SCORES_END);
        // a tampered chunk
        parts[1][0].reward += 1;
        bytes32 tampered = keccak256(abi.encode(keccak256(abi.encode(parts[1])), links[2]));
        vm.expectRevert(
            abi.encodeWithSelector(EpochSettlement.ScoresChunkMismatch.selector, 1, links[1], tampered)
        );
        settlement.publishScores(1, parts[1], links[2]);
    }

    function test_RevertWhen_publishScores_headerWithoutScores() public {
        _submit(_h(1)); // scoresHash == SCORES_END
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.ScoresAlreadyPublished.selector, 1));
        settlement.publishScores(1, new NodeScore[](0), SCORES_END);
    }

    function testFuzz_RevertWhen_publishScores_futureEpoch(uint32 epoch) public {
        epoch = uint32(bound(epoch, 2, type(uint32).max));
        _submit(_h(1));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, epoch));
        settlement.publishScores(epoch, new NodeScore[](0), SCORES_END);
    }

    function test_RevertWhen_publishScores_epochZero() public {
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 0));
        settlement.publishScores(0, new NodeScore[](0), SCORES_END);
    }

    function test_RevertWhen_publishScores_epochPushedOutOfRing() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(2, 1);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submitAndFinalize(h);
        for (uint32 e = 2; e <= 8; ++e) {
            _submitAndFinalize(_h(e));
        }
        // epoch 8 still leaves slot 1 alone; epoch 9 takes it
        settlement.epochEntry(1);
        _submit(_h(9));
        vm.expectRevert(abi.encodeWithSelector(EpochSettlement.EpochNotInRing.selector, 1));
        settlement.publishScores(1, parts[0], links[1]);
    }

    function test_publishScores_pendingAndDisputedEpochs() public {
        (NodeScore[][] memory parts, bytes32[] memory links) = _chain(3, 1);
        EpochHeader memory h = _h(1);
        h.scoresHash = links[0];
        _submit(h);
        vm.prank(owner);
        settlement.dispute(1, "x");
        _expectScores(1, parts[0]);
        settlement.publishScores(1, parts[0], SCORES_END);
        assertEq(settlement.epochEntry(1).scoresCursor, SCORES_END);
    }
}
