// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SwapSettlement} from "../../contracts/swap/SwapSettlement.sol";
import {SwapOrder} from "../../contracts/swap/SwapOrderLib.sol";
import {SwapTestBase} from "./SwapTestBase.sol";
import {Reentry, ReentrantERC20, ReentrantERC721, SmartWallet} from "./mocks/Reentrant.sol";

/// @notice Re-entry through every external call a fill makes: a malicious ERC-20's transfer, a malicious
///         ERC-721's transfer, the ERC-721 receiver hook of a contract party and the ETH receive hook of a
///         contract party. Every re-entry into a state-changing function is refused; with the refusal bubbled
///         the whole fill reverts, with it swallowed the fill completes exactly once.
contract SwapSettlementReentrancyTest is SwapTestBase {
    bytes internal REENTERED =
        abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);

    ReentrantERC20 internal evil20;
    ReentrantERC721 internal evil721;
    SmartWallet internal wallet; // a contract party controlled by the `taker` key

    // A second, honest open order by another maker that an attacker would like to fill from inside a hook.
    address internal maker2;
    uint256 internal maker2Key;
    SwapOrder internal order2;
    bytes internal sig2;

    function setUp() public override {
        super.setUp();
        evil20 = new ReentrantERC20();
        evil721 = new ReentrantERC721();
        wallet = new SmartWallet(taker);
        (maker2, maker2Key) = makeAddrAndKey("maker2");
        SwapOrder memory o2 = _order(_erc20(address(usd), 7e18), _erc20(address(send), 1));
        o2.maker = maker2;
        _provide(maker2, o2.makerAsset);
        order2 = o2;
        sig2 = _sign(maker2Key, o2);
    }

    function _fill2Payload() internal view returns (bytes memory) {
        return abi.encodeCall(SwapSettlement.fill, (order2, sig2));
    }

    function _assertRefused(Reentry attacker) internal view {
        assertEq(attacker.reentryAttempts(), 1, "hook did not run");
        assertFalse(attacker.lastReentrySucceeded(), "re-entry succeeded");
        assertEq(attacker.lastReentryReturnData(), REENTERED, "refused for another reason");
    }

    // ---------------------------------------------------------------- malicious ERC-20

    function test_maliciousErc20_makerLeg_reenterFill_revertsEverything() public {
        SwapOrder memory o = _order(_erc20(address(evil20), 100e18), _erc20(address(send), 5e18));
        evil20.mint(maker, 100e18);
        vm.prank(maker);
        evil20.approve(address(swap), type(uint256).max);
        _provide(taker, o.takerAsset);
        evil20.arm(address(swap), _fill2Payload(), false);
        _expectFillRevert(taker, o, _sign(o), REENTERED);
        assertEq(evil20.balanceOf(maker), 100e18);
        assertEq(send.balanceOf(taker), 5e18);
        assertTrue(swap.isNonceUsable(maker, o.nonce));
        assertTrue(swap.isNonceUsable(maker2, order2.nonce));
    }

    function test_maliciousErc20_makerLeg_swallowedReentry_fillsOnce() public {
        SwapOrder memory o = _order(_erc20(address(evil20), 100e18), _erc20(address(send), 5e18));
        evil20.mint(maker, 100e18);
        vm.prank(maker);
        evil20.approve(address(swap), type(uint256).max);
        _provide(taker, o.takerAsset);
        evil20.arm(address(swap), _fill2Payload(), true);
        _fill(taker, o, _sign(o));
        _assertRefused(evil20);
        assertEq(evil20.balanceOf(taker), 100e18);
        assertEq(send.balanceOf(maker), 5e18);
        assertTrue(swap.isNonceUsable(maker2, order2.nonce), "order2 filled from inside a hook");
        assertEq(usd.balanceOf(maker2), 7e18);
    }

    function test_maliciousErc20_takerLeg_reenterSameOrder_revertsEverything() public {
        SwapOrder memory o = _order(_erc721(address(nft), 1), _erc20(address(evil20), 100e18));
        _provide(maker, o.makerAsset);
        evil20.mint(taker, 200e18);
        vm.prank(taker);
        evil20.approve(address(swap), type(uint256).max);
        bytes memory sig = _sign(o);
        evil20.arm(address(swap), abi.encodeCall(SwapSettlement.fill, (o, sig)), false);
        _expectFillRevert(taker, o, sig, REENTERED);
        assertEq(nft.ownerOf(1), maker);
    }

    function test_maliciousErc20_reenterCancelWithdrawDeposit_refused() public {
        bytes[3] memory payloads = [
            abi.encodeCall(SwapSettlement.cancelNonce, (123)),
            abi.encodeCall(SwapSettlement.withdraw, (1)),
            abi.encodeCall(SwapSettlement.cancelNoncesBelow, (5))
        ];
        for (uint256 i; i < payloads.length; ++i) {
            SwapOrder memory o = _order(_erc20(address(evil20), 1e18), _erc20(address(send), 1e18));
            evil20.mint(maker, 1e18);
            vm.prank(maker);
            evil20.approve(address(swap), type(uint256).max);
            _provide(taker, o.takerAsset);
            evil20.arm(address(swap), payloads[i], true);
            _fill(taker, o, _sign(o));
            assertFalse(evil20.lastReentrySucceeded());
            assertEq(evil20.lastReentryReturnData(), REENTERED);
        }
        assertTrue(swap.isNonceUsable(address(evil20), 123));
        assertEq(swap.minNonce(address(evil20)), 0);
    }

    function test_maliciousErc20_reenterDeposit_refused() public {
        // deposit is payable: the token re-enters it with no value; still refused by the guard first.
        SwapOrder memory o = _order(_erc20(address(evil20), 1e18), _eth(1 ether));
        evil20.mint(maker, 1e18);
        vm.prank(maker);
        evil20.approve(address(swap), type(uint256).max);
        vm.deal(taker, 1 ether);
        evil20.arm(address(swap), abi.encodeCall(SwapSettlement.deposit, ()), true);
        _fill(taker, o, _sign(o));
        _assertRefused(evil20);
        assertEq(maker.balance, 1 ether);
    }

    // ---------------------------------------------------------------- malicious ERC-721

    function test_maliciousErc721_makerLeg_reenterFill_revertsEverything() public {
        SwapOrder memory o = _order(_erc721(address(evil721), 5), _eth(1 ether));
        evil721.mint(maker, 5);
        vm.prank(maker);
        evil721.setApprovalForAll(address(swap), true);
        evil721.arm(address(swap), _fill2Payload(), false);
        _expectFillRevert(taker, o, _sign(o), REENTERED);
        assertEq(evil721.ownerOf(5), maker);
        assertEq(taker.balance, 1 ether);
        assertEq(address(swap).balance, 0);
    }

    function test_maliciousErc721_takerLeg_swallowedReentry_fillsOnce() public {
        vm.deal(maker, 2 ether);
        vm.prank(maker);
        swap.deposit{value: 2 ether}();
        SwapOrder memory o = _order(_eth(1 ether), _erc721(address(evil721), 5));
        evil721.mint(taker, 5);
        vm.prank(taker);
        evil721.setApprovalForAll(address(swap), true);
        // The token tries to withdraw... as itself (no escrow), and the maker's order again.
        bytes memory sig = _sign(o);
        evil721.arm(address(swap), abi.encodeCall(SwapSettlement.fill, (o, sig)), true);
        _fill(taker, o, sig);
        _assertRefused(evil721);
        assertEq(evil721.ownerOf(5), maker);
        assertEq(swap.ethEscrow(maker), 1 ether, "escrow paid twice");
        assertEq(address(swap).balance, 1 ether);
    }

    // ---------------------------------------------------------------- receiver hooks of contract parties

    function test_erc721ReceiverHook_reenterSameOrder_revertsEverything() public {
        SwapOrder memory o = _order(_erc721(address(nft), 3), _erc20(address(send), 2e18));
        _fundBoth(o, address(wallet));
        bytes memory sig = _sign(o);
        bytes memory fillCall = abi.encodeCall(SwapSettlement.fill, (o, sig));
        wallet.arm(address(swap), fillCall, false);
        vm.expectRevert(REENTERED);
        wallet.exec(address(swap), 0, fillCall);
        assertEq(nft.ownerOf(3), maker);
        assertEq(send.balanceOf(address(wallet)), 2e18);
    }

    function test_erc721ReceiverHook_reenterOtherOrder_swallowed_fillsOnce() public {
        SwapOrder memory o = _order(_erc721(address(nft), 3), _erc20(address(send), 2e18));
        _fundBoth(o, address(wallet));
        bytes memory sig = _sign(o);
        wallet.arm(address(swap), _fill2Payload(), true);
        wallet.exec(address(swap), 0, abi.encodeCall(SwapSettlement.fill, (o, sig)));
        _assertRefused(wallet);
        assertEq(nft.ownerOf(3), address(wallet));
        assertEq(send.balanceOf(maker), 2e18);
        assertTrue(swap.isNonceUsable(maker2, order2.nonce));
    }

    /// A taker contract paid from the maker's escrow tries to fill the same order again from `receive`.
    function test_ethReceiveHook_takerDoubleDrainEscrow_revertsEverything() public {
        vm.deal(maker, 5 ether);
        vm.prank(maker);
        swap.deposit{value: 5 ether}();
        SwapOrder memory o = _order(_eth(1 ether), _erc20(address(send), 2e18));
        _provide(address(wallet), o.takerAsset);
        bytes memory sig = _sign(o);
        bytes memory fillCall = abi.encodeCall(SwapSettlement.fill, (o, sig));
        wallet.arm(address(swap), fillCall, false);
        vm.expectRevert(REENTERED);
        wallet.exec(address(swap), 0, fillCall);
        assertEq(swap.ethEscrow(maker), 5 ether);
        assertEq(address(wallet).balance, 0);
    }

    /// The re-entrant hook observes the fill's effects already applied (checks-effects-interactions): the
    /// nonce is used and the escrow debited before any ETH or token leaves.
    function test_ethReceiveHook_seesEffectsAlreadyApplied() public {
        vm.deal(maker, 5 ether);
        vm.prank(maker);
        swap.deposit{value: 5 ether}();
        SwapOrder memory o = _order(_eth(1 ether), _erc20(address(send), 2e18));
        _provide(address(wallet), o.takerAsset);
        bytes memory sig = _sign(o);
        wallet.arm(address(swap), abi.encodeCall(SwapSettlement.isNonceUsable, (maker, o.nonce)), false);
        wallet.exec(address(swap), 0, abi.encodeCall(SwapSettlement.fill, (o, sig)));
        assertTrue(wallet.lastReentrySucceeded());
        assertEq(abi.decode(wallet.lastReentryReturnData(), (bool)), false, "nonce usable during the hook");
        wallet.arm(address(swap), abi.encodeWithSelector(swap.ethEscrow.selector, maker), false);
        SwapOrder memory o2 = _order(_eth(1 ether), _erc20(address(send), 2e18));
        _provide(address(wallet), o2.takerAsset);
        wallet.exec(address(swap), 0, abi.encodeCall(SwapSettlement.fill, (o2, _sign(o2))));
        assertEq(abi.decode(wallet.lastReentryReturnData(), (uint256)), 3 ether, "escrow not yet debited");
    }

    /// A maker contract paid in ETH by the taker tries to withdraw its escrow from `receive`.
    function test_ethReceiveHook_makerWithdrawDuringFill_refused() public {
        SmartWallet makerWallet = new SmartWallet(maker);
        vm.deal(address(makerWallet), 1 ether);
        makerWallet.exec(address(swap), 1 ether, abi.encodeCall(SwapSettlement.deposit, ()));
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _eth(2 ether));
        o.maker = address(makerWallet);
        usd.mint(address(makerWallet), 1e18);
        makerWallet.exec(address(usd), 0, abi.encodeCall(usd.approve, (address(swap), 1e18)));
        makerWallet.arm(address(swap), abi.encodeCall(SwapSettlement.withdraw, (1 ether)), false);
        _expectFillRevert(taker, o, _sign(o), REENTERED);
        makerWallet.arm(address(swap), abi.encodeCall(SwapSettlement.withdraw, (1 ether)), true);
        _fill(taker, o, _sign(o));
        _assertRefused(makerWallet);
        assertEq(swap.ethEscrow(address(makerWallet)), 1 ether);
        assertEq(address(makerWallet).balance, 2 ether);
    }
}
