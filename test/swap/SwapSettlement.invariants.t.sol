// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";
import {SwapSettlement} from "../../contracts/swap/SwapSettlement.sol";
import {TestERC20, TestERC721} from "./mocks/TestTokens.sol";
import {SwapHandler} from "./handlers/SwapHandler.sol";

contract SwapSettlementInvariantTest is Test {
    SwapSettlement internal swap;
    TestERC20 internal usd;
    TestERC20 internal send;
    TestERC721 internal nft;
    SwapHandler internal handler;

    function setUp() public {
        vm.warp(1_800_000_000);
        swap = new SwapSettlement();
        usd = new TestERC20("USD", "USD");
        send = new TestERC20("SEND", "SEND");
        nft = new TestERC721("License", "LIC");
        handler = new SwapHandler(swap, usd, send, nft);

        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = SwapHandler.fill.selector;
        selectors[1] = SwapHandler.fillFaulty.selector;
        selectors[2] = SwapHandler.deposit.selector;
        selectors[3] = SwapHandler.withdraw.selector;
        selectors[4] = SwapHandler.cancelAhead.selector;
        selectors[5] = SwapHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// No fill moved one leg without the other, or a leg by other than its exact amount.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_noSwapMovesOneLegWithoutTheOther() public view {
        assertEq(handler.ghostLegViolations(), 0, "a fill moved a leg by the wrong amount or alone");
    }

    /// Every faulty fill (expired, wrong taker, bad signature, replayed, cancelled, below the minimum nonce,
    /// unaffordable, wrong msg.value, uncovered escrow, self-fill) was refused.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_faultyFillsRefused() public view {
        assertEq(handler.ghostBadFillsAccepted(), 0, "a faulty fill was accepted");
    }

    /// Every account's ERC-20s, ERC-721s, ETH and escrow are exactly what the successful fills, deposits and
    /// withdrawals say: refused fills moved nothing.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_balancesMatchGhostAccounting() public view {
        address[6] memory actors = handler.actorList();
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            assertEq(usd.balanceOf(a), handler.ghostErc20(address(usd), a), "USD balance");
            assertEq(send.balanceOf(a), handler.ghostErc20(address(send), a), "SEND balance");
            assertEq(a.balance, handler.ghostEth(a), "ETH balance");
            assertEq(swap.ethEscrow(a), handler.ghostEscrow(a), "escrow ledger");
        }
        for (uint256 id; id < handler.NFT_IDS(); ++id) {
            assertEq(nft.ownerOf(id), handler.ghostNftOwner(id), "NFT owner");
        }
    }

    /// The contract never holds tokens; its ETH is exactly the makers' escrow ledger.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_contractHoldsOnlyEscrowedEth() public view {
        assertEq(usd.balanceOf(address(swap)), 0, "contract holds USD");
        assertEq(send.balanceOf(address(swap)), 0, "contract holds SEND");
        assertEq(nft.balanceOf(address(swap)), 0, "contract holds NFTs");
        address[6] memory actors = handler.actorList();
        uint256 ledger;
        for (uint256 i; i < actors.length; ++i) {
            ledger += swap.ethEscrow(actors[i]);
        }
        assertEq(address(swap).balance, ledger, "contract ETH != escrow ledger");
    }

    /// Nothing is created or destroyed: token supplies are all in the accounts' hands.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_conservation() public view {
        address[6] memory actors = handler.actorList();
        uint256 usdSum;
        uint256 sendSum;
        uint256 nftSum;
        for (uint256 i; i < actors.length; ++i) {
            usdSum += usd.balanceOf(actors[i]);
            sendSum += send.balanceOf(actors[i]);
            nftSum += nft.balanceOf(actors[i]);
        }
        assertEq(usdSum, usd.totalSupply());
        assertEq(sendSum, send.totalSupply());
        assertEq(nftSum, handler.NFT_IDS());
    }

    /// The run exercised both sides: real fills happened and faulty ones were refused.
    function afterInvariant() external view {
        console.log("fills", handler.ghostFills(), "faulty refused", handler.ghostBadFillsRefused());
        console.log("warps", handler.calls("warp"), "deposits", handler.calls("deposit"));
        assertGt(handler.ghostFills(), 0, "no fill happened");
        assertGt(handler.ghostBadFillsRefused(), 0, "no faulty fill attempted");
    }
}
