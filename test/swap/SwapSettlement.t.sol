// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Errors, IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SwapSettlement} from "../../contracts/swap/SwapSettlement.sol";
import {Asset, AssetKind, SwapOrder} from "../../contracts/swap/SwapOrderLib.sol";
import {SwapTestBase} from "./SwapTestBase.sol";
import {TestERC20, TestERC721} from "./mocks/TestTokens.sol";
import {FeeOnTransferERC20, FalseReturningERC20, NoopERC721} from "./mocks/QuirkyTokens.sol";
import {SmartWallet, PlainContract} from "./mocks/Reentrant.sol";

contract SwapSettlementTest is SwapTestBase {
    // ---------------------------------------------------------------- helpers

    struct Holdings {
        uint256 makerGivesFromMaker; // maker's holding of its own leg (escrow for ETH)
        uint256 makerGivesAtTaker;
        uint256 takerGivesFromTaker;
        uint256 takerGivesAtMaker;
        uint256 swapEth;
    }

    function _snapshot(SwapOrder memory o, address taker_) internal view returns (Holdings memory h) {
        h.makerGivesFromMaker =
            o.makerAsset.kind == ETH ? swap.ethEscrow(o.maker) : _holding(o.maker, o.makerAsset);
        h.makerGivesAtTaker = _holding(taker_, o.makerAsset);
        h.takerGivesFromTaker = _holding(taker_, o.takerAsset);
        h.takerGivesAtMaker = _holding(o.maker, o.takerAsset);
        h.swapEth = address(swap).balance;
    }

    function _units(Asset memory a) internal pure returns (uint256) {
        return a.kind == ERC721 ? 1 : a.amountOrId;
    }

    /// @notice Signs, funds and fills `o` by `taker_`, then checks that both legs moved exactly and that the
    ///         contract holds no tokens and no ETH beyond the remaining escrow.
    function _swapAndCheck(SwapOrder memory o, address taker_) internal {
        bytes memory sig = _sign(o);
        _fundBoth(o, taker_);
        Holdings memory b = _snapshot(o, taker_);
        uint256 escrowBefore = swap.ethEscrow(o.maker);

        vm.expectEmit(address(swap));
        emit SwapSettlement.OrderFilled(_digest(o), o.maker, taker_, o.nonce);
        assertEq(_fill(taker_, o, sig), _digest(o), "returned hash");

        Holdings memory a = _snapshot(o, taker_);
        uint256 mUnits = _units(o.makerAsset);
        uint256 tUnits = _units(o.takerAsset);
        if (o.makerAsset.kind == ERC721) {
            assertEq(a.makerGivesFromMaker, 0, "maker still owns its NFT");
        } else {
            assertEq(a.makerGivesFromMaker, b.makerGivesFromMaker - mUnits, "maker leg not taken from maker");
        }
        assertEq(a.makerGivesAtTaker, b.makerGivesAtTaker + mUnits, "maker leg not received by taker");
        if (o.takerAsset.kind == ERC721) {
            assertEq(a.takerGivesFromTaker, 0, "taker still owns its NFT");
        } else {
            assertEq(a.takerGivesFromTaker, b.takerGivesFromTaker - tUnits, "taker leg not taken from taker");
        }
        assertEq(a.takerGivesAtMaker, b.takerGivesAtMaker + tUnits, "taker leg not received by maker");

        uint256 escrowAfter = swap.ethEscrow(o.maker);
        assertEq(escrowAfter, escrowBefore - (o.makerAsset.kind == ETH ? mUnits : 0), "escrow ledger");
        assertEq(address(swap).balance, escrowAfter, "contract ETH != escrow ledger");
        assertEq(usd.balanceOf(address(swap)) + send.balanceOf(address(swap)), 0, "contract holds ERC-20");
        assertEq(nft.balanceOf(address(swap)) + art.balanceOf(address(swap)), 0, "contract holds ERC-721");
        assertTrue(_isUsed(o.maker, o.nonce), "nonce still usable");
    }

    function _asset(uint8 kind, bool makerSide, uint256 seed) internal view returns (Asset memory) {
        if (kind == ERC20) return _erc20(makerSide ? address(usd) : address(send), bound(seed, 1, 1e30));
        if (kind == ERC721) return _erc721(makerSide ? address(nft) : address(art), seed);
        return _eth(bound(seed, 1, 1e24));
    }

    // ---------------------------------------------------------------- domain and hashing

    function test_domainAndHashes_matchIndependentEncoding() public {
        assertEq(swap.DOMAIN_SEPARATOR(), _domainSeparator(address(swap), block.chainid));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            swap.eip712Domain();
        assertEq(name, NAME);
        assertEq(version, VERSION);
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(swap));
        SwapOrder memory o = _order(_erc20(address(usd), 5), _erc721(address(nft), 7));
        o.taker = taker;
        assertEq(swap.hashOrder(o), _digest(o));
    }

    function testFuzz_hashOrder_bindsEveryField(SwapOrder memory o, uint256 field) public view {
        bytes32 h = swap.hashOrder(o);
        assertEq(h, _digest(o));
        field = bound(field, 0, 9);
        if (field == 0) o.maker = address(uint160(o.maker) ^ 1);
        else if (field == 1) o.taker = address(uint160(o.taker) ^ 1);
        else if (field == 2) o.makerAsset.kind ^= 1;
        else if (field == 3) o.makerAsset.token = address(uint160(o.makerAsset.token) ^ 1);
        else if (field == 4) o.makerAsset.amountOrId ^= 1;
        else if (field == 5) o.takerAsset.kind ^= 1;
        else if (field == 6) o.takerAsset.token = address(uint160(o.takerAsset.token) ^ 1);
        else if (field == 7) o.takerAsset.amountOrId ^= 1;
        else if (field == 8) o.expiry ^= 1;
        else o.nonce ^= 1;
        assertTrue(swap.hashOrder(o) != h, "a field change kept the hash");
    }

    function test_domainSeparator_followsChainId() public {
        bytes32 before = swap.DOMAIN_SEPARATOR();
        vm.chainId(8453);
        assertEq(swap.DOMAIN_SEPARATOR(), _domainSeparator(address(swap), 8453));
        assertTrue(swap.DOMAIN_SEPARATOR() != before);
    }

    // ---------------------------------------------------------------- every pair of leg kinds

    function test_fill_erc20ForErc20() public {
        _swapAndCheck(_order(_erc20(address(usd), 1_000e18), _erc20(address(send), 250e18)), taker);
    }

    function test_fill_erc721ForErc20() public {
        _swapAndCheck(_order(_erc721(address(nft), 42), _erc20(address(send), 90e18)), taker);
    }

    function test_fill_erc20ForErc721() public {
        _swapAndCheck(_order(_erc20(address(usd), 90e18), _erc721(address(art), 0)), taker);
    }

    function test_fill_ethForErc20_fromMakerEscrow() public {
        _swapAndCheck(_order(_eth(1.5 ether), _erc20(address(send), 3_000e18)), taker);
    }

    function test_fill_erc20ForEth_paidByTakerMsgValue() public {
        _swapAndCheck(_order(_erc20(address(usd), 3_000e18), _eth(1.5 ether)), taker);
    }

    function test_fill_erc721ForErc721() public {
        _swapAndCheck(_order(_erc721(address(nft), 1), _erc721(address(art), 2)), taker);
    }

    function test_fill_ethForErc721() public {
        _swapAndCheck(_order(_eth(2 ether), _erc721(address(art), 9)), taker);
    }

    function test_fill_erc721ForEth() public {
        _swapAndCheck(_order(_erc721(address(nft), 9), _eth(2 ether)), taker);
    }

    function test_fill_sameCollectionBothLegs() public {
        _swapAndCheck(_order(_erc721(address(nft), 1), _erc721(address(nft), 2)), taker);
    }

    /// Any pair of kinds with any amounts and ids settles both legs exactly; ETH for ETH is rejected.
    function testFuzz_fill_anyPair(uint8 makerKind, uint8 takerKind, uint256 makerSeed, uint256 takerSeed)
        public
    {
        makerKind = uint8(bound(makerKind, 0, 2));
        takerKind = uint8(bound(takerKind, 0, 2));
        SwapOrder memory o = _order(_asset(makerKind, true, makerSeed), _asset(takerKind, false, takerSeed));
        if (makerKind == ETH && takerKind == ETH) {
            _expectFillRevert(taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.BothLegsEth.selector));
        } else {
            _swapAndCheck(o, taker);
        }
    }

    /// The maker's escrow may hold more than one order needs; only the leg's amount is taken.
    function testFuzz_fill_makerEthLeg_takesOnlyItsAmount(uint96 deposit, uint96 amount) public {
        amount = uint96(bound(amount, 1, type(uint96).max));
        deposit = uint96(bound(deposit, amount, type(uint96).max));
        vm.deal(maker, deposit);
        vm.prank(maker);
        swap.deposit{value: deposit}();
        SwapOrder memory o = _order(_eth(amount), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        uint256 takerEth = taker.balance;
        _fill(taker, o, _sign(o));
        assertEq(swap.ethEscrow(maker), deposit - amount);
        assertEq(address(swap).balance, deposit - amount);
        assertEq(taker.balance, takerEth + amount);
    }

    // ---------------------------------------------------------------- open and fixed taker

    function testFuzz_fill_openOrder_anyoneButTheMaker(address caller) public {
        vm.assume(caller != maker && caller.code.length == 0 && uint160(caller) > 0x100);
        vm.assume(caller != address(swap) && caller != address(this) && caller != address(vm));
        _swapAndCheck(_order(_erc20(address(usd), 10e18), _erc20(address(send), 20e18)), caller);
    }

    function test_fill_fixedTaker_namedTakerFills() public {
        SwapOrder memory o = _order(_erc721(address(nft), 3), _eth(1 ether));
        o.taker = taker;
        _swapAndCheck(o, taker);
    }

    function testFuzz_fill_fixedTaker_revertsForAnyoneElse(address caller) public {
        vm.assume(caller != taker);
        SwapOrder memory o = _order(_erc20(address(usd), 10e18), _erc20(address(send), 20e18));
        o.taker = taker;
        _fundBoth(o, taker);
        _expectFillRevert(
            caller, o, _sign(o), abi.encodeWithSelector(SwapSettlement.WrongTaker.selector, taker, caller)
        );
        // The named taker still can.
        _fill(taker, o, _sign(o));
        assertEq(send.balanceOf(maker), 20e18);
    }

    function test_fill_revertsForTheMakerItself() public {
        SwapOrder memory o = _order(_erc20(address(usd), 10e18), _erc20(address(send), 20e18));
        _fundBoth(o, maker);
        _expectFillRevert(maker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.SelfFill.selector, maker));
    }

    function test_fill_revertsForTheMakerEvenWhenNamedTaker() public {
        SwapOrder memory o = _order(_erc20(address(usd), 10e18), _erc20(address(send), 20e18));
        o.taker = maker;
        _expectFillRevert(maker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.SelfFill.selector, maker));
    }

    // ---------------------------------------------------------------- expiry

    function test_fill_atExpiry_succeeds() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        vm.warp(o.expiry);
        _swapAndCheck(o, taker);
    }

    function testFuzz_fill_afterExpiry_reverts(uint256 late) public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        late = bound(late, 1, 1e10);
        vm.warp(o.expiry + late);
        _expectFillRevert(
            taker,
            o,
            _sign(o),
            abi.encodeWithSelector(SwapSettlement.OrderExpired.selector, o.expiry, o.expiry + late)
        );
    }

    // ---------------------------------------------------------------- nonces and cancel

    function test_fill_twice_revertsNonceAlreadyUsed() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _swapAndCheck(o, taker);
        _fundBoth(o, taker);
        _expectFillRevert(
            taker,
            o,
            _sign(o),
            abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, o.nonce)
        );
    }

    function test_ordersSharingANonce_areMutuallyExclusive() public {
        SwapOrder memory a = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        SwapOrder memory b = _order(_erc721(address(nft), 5), _erc20(address(send), 9e18));
        b.nonce = a.nonce;
        _fundBoth(b, stranger);
        _swapAndCheck(a, taker);
        _expectFillRevert(
            stranger,
            b,
            _sign(b),
            abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, a.nonce)
        );
    }

    function testFuzz_cancelNonce_voidsThatNonceOnly(uint256 nonce, uint256 other) public {
        vm.assume(other != nonce);
        assertTrue(swap.isNonceUsable(maker, nonce));
        vm.expectEmit(address(swap));
        emit SwapSettlement.NonceCancelled(maker, nonce);
        vm.prank(maker);
        swap.cancelNonce(nonce);
        assertFalse(swap.isNonceUsable(maker, nonce));
        assertTrue(swap.isNonceUsable(maker, other), "another nonce was cancelled");
        assertTrue(swap.isNonceUsable(stranger, nonce), "another maker's nonce was cancelled");
        assertEq(swap.nonceBitmap(maker, nonce >> 8), 1 << (nonce & 0xff));

        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        o.nonce = nonce;
        _fundBoth(o, taker);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, nonce)
        );
    }

    function test_cancelNonce_twice_reverts() public {
        vm.startPrank(maker);
        swap.cancelNonce(7);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, 7));
        swap.cancelNonce(7);
        vm.stopPrank();
    }

    function test_cancelNonce_filledNonce_reverts() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _swapAndCheck(o, taker);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, o.nonce));
        vm.prank(maker);
        swap.cancelNonce(o.nonce);
    }

    function test_cancelNonce_belowMinimum_reverts() public {
        vm.startPrank(maker);
        swap.cancelNoncesBelow(10);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.NonceBelowMinimum.selector, maker, 9, 10));
        swap.cancelNonce(9);
        swap.cancelNonce(10); // the minimum itself is still usable
        vm.stopPrank();
    }

    function test_cancelNonce_onlyAffectsTheCaller() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        vm.prank(stranger);
        swap.cancelNonce(o.nonce); // a stranger cancels its own nonce, not the maker's
        _swapAndCheck(o, taker);
    }

    function testFuzz_cancelNoncesBelow_voidsEverythingBelow(uint256 newMin, uint256 nonce) public {
        newMin = bound(newMin, 1, type(uint256).max);
        vm.expectEmit(address(swap));
        emit SwapSettlement.MinNonceRaised(maker, newMin);
        vm.prank(maker);
        swap.cancelNoncesBelow(newMin);
        assertEq(swap.minNonce(maker), newMin);
        assertEq(swap.isNonceUsable(maker, nonce), nonce >= newMin);
        assertTrue(swap.isNonceUsable(stranger, 0));

        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        o.nonce = nonce;
        _fundBoth(o, taker);
        if (nonce < newMin) {
            _expectFillRevert(
                taker,
                o,
                _sign(o),
                abi.encodeWithSelector(SwapSettlement.NonceBelowMinimum.selector, maker, nonce, newMin)
            );
        } else {
            _fill(taker, o, _sign(o));
            assertFalse(swap.isNonceUsable(maker, nonce));
        }
    }

    function testFuzz_cancelNoncesBelow_mustIncrease(uint256 first, uint256 second) public {
        first = bound(first, 1, type(uint256).max);
        second = bound(second, 0, first);
        vm.startPrank(maker);
        swap.cancelNoncesBelow(first);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.MinNonceNotIncreasing.selector, first, second));
        swap.cancelNoncesBelow(second);
        vm.stopPrank();
    }

    function test_cancelNoncesBelow_zero_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.MinNonceNotIncreasing.selector, 0, 0));
        vm.prank(maker);
        swap.cancelNoncesBelow(0);
    }

    function test_isNonceUsable_highestNonce() public {
        uint256 top = type(uint256).max;
        assertTrue(swap.isNonceUsable(maker, top));
        vm.prank(maker);
        swap.cancelNonce(top);
        assertFalse(swap.isNonceUsable(maker, top));
        assertEq(swap.nonceBitmap(maker, top >> 8), 1 << 255);
    }

    // ---------------------------------------------------------------- signatures and replay

    function testFuzz_fill_signatureByAnotherKey_reverts(uint256 key) public {
        key = bound(key, 1, 115792089237316195423570985008687907852837564279074904382605163141518161494336);
        vm.assume(key != makerKey);
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        _expectFillRevert(
            taker, o, _sign(key, o), abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker)
        );
    }

    function testFuzz_fill_tamperedOrder_reverts(uint256 field) public {
        SwapOrder memory o = _order(_erc20(address(usd), 5e18), _erc20(address(send), 10e18));
        bytes memory sig = _sign(o);
        field = bound(field, 0, 4);
        if (field == 0) o.makerAsset.amountOrId = 6e18;
        else if (field == 1) o.takerAsset.amountOrId = 1e18;
        else if (field == 2) o.takerAsset.token = address(usd);
        else if (field == 3) o.expiry += 1;
        else o.taker = taker;
        _fundBoth(o, taker);
        _expectFillRevert(
            taker, o, sig, abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker)
        );
    }

    function test_fill_malformedSignatures_revert() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        bytes memory err = abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker);
        bytes32 digest = _digest(o);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(makerKey, digest);

        _expectFillRevert(taker, o, "", err);
        // 64-byte compact (ERC-2098) form is not accepted for EOAs.
        (bytes32 cr, bytes32 vs) = vm.signCompact(makerKey, digest);
        _expectFillRevert(taker, o, abi.encodePacked(cr, vs), err);
        // Malleable high-s twin of a valid signature.
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        _expectFillRevert(taker, o, abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? 28 : 27), err);
        // Bad v.
        _expectFillRevert(taker, o, abi.encodePacked(r, s, uint8(29)), err);
        // Trailing byte.
        _expectFillRevert(taker, o, abi.encodePacked(r, s, v, uint8(0)), err);
        // The genuine one works.
        _fill(taker, o, abi.encodePacked(r, s, v));
    }

    function test_fill_makerZeroAddress_reverts() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        o.maker = address(0);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, address(0))
        );
    }

    /// A signature made for this deployment on chain A is void on chain B (same address, fork or replay).
    function testFuzz_replay_onAnotherChain_reverts(uint64 otherChain) public {
        vm.assume(otherChain != block.chainid && otherChain != 0);
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        bytes memory sig = _sign(o); // for this chain
        uint256 snap = vm.snapshotState();
        vm.chainId(otherChain);
        _expectFillRevert(
            taker, o, sig, abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker)
        );
        // A signature made for the other chain's domain works there, not here.
        bytes memory sigOther = _signDigest(makerKey, _digest(o, address(swap), otherChain));
        _fill(taker, o, sigOther);
        vm.revertToState(snap);
        _expectFillRevert(
            taker, o, sigOther, abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker)
        );
        _fill(taker, o, sig);
    }

    /// A signature for one deployment is void on another deployment (same chain, same order), both ways.
    function test_replay_onAnotherDeployment_reverts() public {
        SwapSettlement other = new SwapSettlement();
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        vm.prank(maker);
        usd.approve(address(other), type(uint256).max);
        vm.prank(taker);
        send.approve(address(other), type(uint256).max);
        bytes memory sig = _sign(o);
        bytes memory sigOther = _signDigest(makerKey, _digest(o, address(other), block.chainid));
        assertTrue(keccak256(sig) != keccak256(sigOther));

        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker));
        vm.prank(taker);
        other.fill(o, sig);
        _expectFillRevert(
            taker, o, sigOther, abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker)
        );
        _fill(taker, o, sig);
        assertEq(send.balanceOf(maker), 1e18);
    }

    // ---------------------------------------------------------------- ERC-1271 makers

    function _walletOrder(SmartWallet wallet, Asset memory makerAsset, Asset memory takerAsset)
        internal
        returns (SwapOrder memory o)
    {
        o = _order(makerAsset, takerAsset);
        o.maker = address(wallet);
    }

    function test_fill_erc1271Maker_succeeds() public {
        SmartWallet wallet = new SmartWallet(maker);
        SwapOrder memory o = _walletOrder(wallet, _erc721(address(nft), 11), _erc20(address(send), 77e18));
        nft.mint(address(wallet), 11);
        wallet.exec(address(nft), 0, abi.encodeCall(nft.setApprovalForAll, (address(swap), true)));
        _provide(taker, o.takerAsset);
        _fill(taker, o, _sign(makerKey, o)); // the wallet's owner key signs for it
        assertEq(nft.ownerOf(11), taker);
        assertEq(send.balanceOf(address(wallet)), 77e18);
        assertFalse(swap.isNonceUsable(address(wallet), o.nonce));
    }

    function test_fill_erc1271Maker_withEscrowedEth() public {
        SmartWallet wallet = new SmartWallet(maker);
        vm.deal(address(wallet), 3 ether);
        wallet.exec(address(swap), 3 ether, abi.encodeCall(swap.deposit, ()));
        SwapOrder memory o = _walletOrder(wallet, _eth(3 ether), _erc721(address(art), 4));
        _provide(taker, o.takerAsset);
        uint256 before = taker.balance;
        _fill(taker, o, _sign(makerKey, o));
        assertEq(taker.balance, before + 3 ether);
        assertEq(art.ownerOf(4), address(wallet));
        assertEq(address(swap).balance, 0);
    }

    function test_fill_erc1271Maker_rejectsSignatureOfAnotherKey() public {
        SmartWallet wallet = new SmartWallet(maker);
        SwapOrder memory o = _walletOrder(wallet, _erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _expectFillRevert(
            taker,
            o,
            _sign(takerKey, o),
            abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, wallet)
        );
    }

    /// A maker account with code whose own key signs (an EIP-7702 delegated EOA): the ECDSA signature is
    /// accepted before any ERC-1271 call.
    function test_fill_makerWithCode_ecdsaByItsOwnKey_accepted() public {
        vm.etch(maker, address(new PlainContract()).code);
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        _fundBoth(o, taker);
        _fill(taker, o, _sign(o));
        assertEq(usd.balanceOf(taker), 1e18);
    }

    /// For a contract maker the signature bytes are whatever its ERC-1271 check accepts (not only 65 bytes).
    function testFuzz_fill_erc1271Maker_arbitrarySignatureBytes(bytes memory signature) public {
        SmartWallet wallet = new SmartWallet(maker);
        wallet.setAcceptAnySignature(true);
        SwapOrder memory o = _walletOrder(wallet, _erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        usd.mint(address(wallet), 1e18);
        wallet.exec(address(usd), 0, abi.encodeCall(usd.approve, (address(swap), 1e18)));
        _provide(taker, o.takerAsset);
        _fill(taker, o, signature);
        assertEq(usd.balanceOf(taker), 1e18);
        assertEq(send.balanceOf(address(wallet)), 1e18);
    }

    function test_fill_contractMakerWithoutErc1271_reverts() public {
        PlainContract plain = new PlainContract();
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _erc20(address(send), 1e18));
        o.maker = address(plain);
        _expectFillRevert(
            taker,
            o,
            _sign(makerKey, o),
            abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, plain)
        );
    }

    // ---------------------------------------------------------------- asset validation

    function testFuzz_fill_unknownAssetKind_reverts(uint8 kind, bool makerSide) public {
        kind = uint8(bound(kind, 3, 255));
        Asset memory bad = Asset(kind, address(usd), 1e18);
        SwapOrder memory o =
            makerSide ? _order(bad, _erc20(address(send), 1)) : _order(_erc20(address(send), 1), bad);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.UnknownAssetKind.selector, kind)
        );
    }

    function testFuzz_fill_ethLegNamingAToken_reverts(address token, bool makerSide) public {
        vm.assume(token != address(0));
        Asset memory bad = Asset(ETH, token, 1 ether);
        SwapOrder memory o =
            makerSide ? _order(bad, _erc20(address(send), 1)) : _order(_erc20(address(send), 1), bad);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.AssetKindMismatch.selector, ETH, token)
        );
    }

    function testFuzz_fill_tokenLegWithoutContract_reverts(bool erc721, bool makerSide, address token)
        public
    {
        vm.assume(token.code.length == 0);
        uint8 kind = erc721 ? ERC721 : ERC20;
        Asset memory bad = Asset(kind, token, 1);
        SwapOrder memory o = makerSide ? _order(bad, _eth(1)) : _order(_eth(1), bad);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.AssetKindMismatch.selector, kind, token)
        );
    }

    function test_fill_zeroAmountLegs_revert() public {
        bytes memory err = abi.encodeWithSelector(SwapSettlement.ZeroAmount.selector);
        SwapOrder memory o = _order(_erc20(address(usd), 0), _erc20(address(send), 1));
        _expectFillRevert(taker, o, _sign(o), err);
        o = _order(_erc721(address(nft), 1), _erc20(address(send), 0));
        _expectFillRevert(taker, o, _sign(o), err);
        o = _order(_eth(0), _erc721(address(art), 1));
        _expectFillRevert(taker, o, _sign(o), err);
        o = _order(_erc721(address(nft), 1), _eth(0));
        _expectFillRevert(taker, o, _sign(o), err);
    }

    function test_fill_erc721TokenIdZero_isAllowed() public {
        _swapAndCheck(_order(_erc721(address(nft), 0), _erc721(address(art), 0)), taker);
    }

    function test_fill_bothLegsEth_reverts() public {
        SwapOrder memory o = _order(_eth(1 ether), _eth(2 ether));
        _fundBoth(o, taker);
        _expectFillRevert(taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.BothLegsEth.selector));
    }

    // ---------------------------------------------------------------- msg.value

    function testFuzz_fill_wrongMsgValue_forEthTakerLeg_reverts(uint96 sent) public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _eth(1 ether));
        vm.assume(sent != 1 ether);
        _fundBoth(o, taker);
        vm.deal(taker, sent);
        bytes memory sig = _sign(o);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.WrongMsgValue.selector, 1 ether, sent));
        vm.prank(taker);
        swap.fill{value: sent}(o, sig);
    }

    function testFuzz_fill_msgValueForNonEthTakerLeg_reverts(uint96 sent, bool makerEth) public {
        sent = uint96(bound(sent, 1, type(uint96).max));
        SwapOrder memory o = makerEth
            ? _order(_eth(1 ether), _erc20(address(send), 1e18))
            : _order(_erc20(address(usd), 1e18), _erc721(address(art), 1));
        _fundBoth(o, taker);
        vm.deal(taker, sent);
        bytes memory sig = _sign(o);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.WrongMsgValue.selector, 0, sent));
        vm.prank(taker);
        swap.fill{value: sent}(o, sig);
    }

    // ---------------------------------------------------------------- maker ETH escrow

    function testFuzz_depositWithdraw(uint96 a, uint96 b, uint96 w) public {
        a = uint96(bound(a, 1, type(uint96).max / 2));
        b = uint96(bound(b, 1, type(uint96).max / 2));
        w = uint96(bound(w, 1, uint256(a) + b));
        vm.deal(maker, uint256(a) + b);
        vm.startPrank(maker);
        vm.expectEmit(address(swap));
        emit SwapSettlement.EthDeposited(maker, a, a);
        swap.deposit{value: a}();
        vm.expectEmit(address(swap));
        emit SwapSettlement.EthDeposited(maker, b, uint256(a) + b);
        swap.deposit{value: b}();
        assertEq(swap.ethEscrow(maker), uint256(a) + b);
        vm.expectEmit(address(swap));
        emit SwapSettlement.EthWithdrawn(maker, w, uint256(a) + b - w);
        swap.withdraw(w);
        vm.stopPrank();
        assertEq(swap.ethEscrow(maker), uint256(a) + b - w);
        assertEq(maker.balance, w);
        assertEq(address(swap).balance, uint256(a) + b - w);
    }

    function test_deposit_zero_reverts() public {
        vm.expectRevert(SwapSettlement.ZeroAmount.selector);
        vm.prank(maker);
        swap.deposit();
    }

    function test_withdraw_zero_reverts() public {
        vm.expectRevert(SwapSettlement.ZeroAmount.selector);
        vm.prank(maker);
        swap.withdraw(0);
    }

    function testFuzz_withdraw_moreThanDeposited_reverts(uint96 deposited, uint256 amount) public {
        amount = bound(amount, uint256(deposited) + 1, type(uint256).max);
        vm.deal(maker, deposited);
        vm.startPrank(maker);
        if (deposited > 0) swap.deposit{value: deposited}();
        vm.expectRevert(
            abi.encodeWithSelector(SwapSettlement.InsufficientEscrow.selector, maker, deposited, amount)
        );
        swap.withdraw(amount);
        vm.stopPrank();
    }

    function test_withdraw_isPerDepositor() public {
        vm.deal(maker, 1 ether);
        vm.prank(maker);
        swap.deposit{value: 1 ether}();
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.InsufficientEscrow.selector, stranger, 0, 1));
        vm.prank(stranger);
        swap.withdraw(1);
    }

    function test_withdraw_toContractThatRejectsEth_reverts() public {
        SmartWallet wallet = new SmartWallet(maker);
        vm.deal(address(wallet), 1 ether);
        wallet.exec(address(swap), 1 ether, abi.encodeCall(swap.deposit, ()));
        wallet.setRejectEth(true);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.EthTransferFailed.selector, wallet, 1 ether));
        wallet.exec(address(swap), 0, abi.encodeCall(swap.withdraw, (1 ether)));
        assertEq(swap.ethEscrow(address(wallet)), 1 ether, "escrow debited although the transfer failed");
    }

    function testFuzz_fill_makerEthLeg_insufficientEscrow_reverts(uint96 deposited, uint96 amount) public {
        amount = uint96(bound(amount, 1, type(uint96).max));
        deposited = uint96(bound(deposited, 0, amount - 1));
        vm.deal(maker, deposited);
        if (deposited > 0) {
            vm.prank(maker);
            swap.deposit{value: deposited}();
        }
        SwapOrder memory o = _order(_eth(amount), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        _expectFillRevert(
            taker,
            o,
            _sign(o),
            abi.encodeWithSelector(SwapSettlement.InsufficientEscrow.selector, maker, deposited, amount)
        );
    }

    /// Escrowed ETH of one maker never pays another maker's order.
    function test_fill_makerEthLeg_cannotUseAnotherMakersEscrow() public {
        vm.deal(stranger, 5 ether);
        vm.prank(stranger);
        swap.deposit{value: 5 ether}();
        SwapOrder memory o = _order(_eth(1 ether), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        _expectFillRevert(
            taker,
            o,
            _sign(o),
            abi.encodeWithSelector(SwapSettlement.InsufficientEscrow.selector, maker, 0, 1 ether)
        );
    }

    // ---------------------------------------------------------------- atomicity: a failing leg reverts both

    function test_fill_takerWithoutAllowance_movesNothing() public {
        SwapOrder memory o = _order(_erc721(address(nft), 8), _erc20(address(send), 5e18));
        _provide(maker, o.makerAsset);
        send.mint(taker, 5e18); // no approval
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(swap), 0, 5e18)
        );
        _fill(taker, o, _sign(o));
        assertEq(nft.ownerOf(8), maker, "maker leg moved without the taker leg");
        assertEq(send.balanceOf(taker), 5e18);
        assertTrue(swap.isNonceUsable(maker, o.nonce), "nonce consumed by a failed fill");
    }

    function test_fill_takerShortOfTokens_movesNothing() public {
        SwapOrder memory o = _order(_eth(1 ether), _erc20(address(send), 5e18));
        _fundBoth(o, taker);
        vm.prank(taker);
        send.transfer(stranger, 1);
        uint256 takerEth = taker.balance;
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, taker, 5e18 - 1, 5e18)
        );
        _fill(taker, o, _sign(o));
        assertEq(swap.ethEscrow(maker), 1 ether, "maker escrow debited without the taker leg");
        assertEq(taker.balance, takerEth);
        assertEq(address(swap).balance, 1 ether);
    }

    function test_fill_makerNoLongerOwnsNft_movesNothing() public {
        SwapOrder memory o = _order(_erc721(address(nft), 8), _eth(1 ether));
        _fundBoth(o, taker);
        vm.prank(maker);
        nft.transferFrom(maker, stranger, 8);
        vm.expectRevert(
            abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, address(swap), 8)
        );
        _fill(taker, o, _sign(o));
        assertEq(taker.balance, 1 ether, "taker ETH moved without the maker leg");
        assertEq(address(swap).balance, 0);
    }

    function test_fill_makerRejectsTakerEth_movesNothing() public {
        SmartWallet wallet = new SmartWallet(maker);
        wallet.setRejectEth(true);
        SwapOrder memory o = _walletOrder(wallet, _erc20(address(usd), 10e18), _eth(1 ether));
        usd.mint(address(wallet), 10e18);
        wallet.exec(address(usd), 0, abi.encodeCall(usd.approve, (address(swap), 10e18)));
        vm.deal(taker, 1 ether);
        _expectFillRevert(
            taker,
            o,
            _sign(o),
            abi.encodeWithSelector(SwapSettlement.EthTransferFailed.selector, wallet, 1 ether)
        );
        assertEq(usd.balanceOf(address(wallet)), 10e18);
        assertEq(usd.balanceOf(taker), 0);
        assertEq(taker.balance, 1 ether);
    }

    function test_fill_nftToContractWithoutReceiver_reverts() public {
        PlainContract plain = new PlainContract();
        SwapOrder memory o = _order(_erc721(address(nft), 8), _eth(1 ether));
        _fundBoth(o, address(plain));
        bytes memory sig = _sign(o);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, plain));
        plain.exec{value: 1 ether}(address(swap), 1 ether, abi.encodeCall(swap.fill, (o, sig)));
        assertEq(nft.ownerOf(8), maker);
    }

    // ---------------------------------------------------------------- non-standard tokens

    /// Documented limitation: fee-on-transfer tokens are unsupported and not measured. The ERC-20 leg moves
    /// with `transferFrom(amount)`, so its recipient gets what the token delivers; the other leg is exact.
    function testFuzz_fill_feeOnTransferToken_recipientGetsWhatTheTokenDelivers(uint16 feeBps, bool makerSide)
        public
    {
        feeBps = uint16(bound(feeBps, 1, 10_000));
        FeeOnTransferERC20 fot = new FeeOnTransferERC20(feeBps);
        uint256 amount = 1_000e18;
        uint256 delivered = amount - amount * feeBps / 10_000;
        SwapOrder memory o = makerSide
            ? _order(_erc20(address(fot), amount), _erc20(address(send), 1e18))
            : _order(_erc20(address(usd), 1e18), _erc20(address(fot), amount));
        address from = makerSide ? maker : taker;
        address to = makerSide ? taker : maker;
        fot.mint(from, amount);
        vm.prank(from);
        fot.approve(address(swap), amount);
        if (makerSide) _provide(taker, o.takerAsset);
        else _provide(maker, o.makerAsset);
        _fill(taker, o, _sign(o));
        assertEq(fot.balanceOf(from), 0, "sender paid the signed amount");
        assertEq(fot.balanceOf(to), delivered, "recipient got the amount net of the token's fee");
        if (makerSide) assertEq(send.balanceOf(maker), 1e18);
        else assertEq(usd.balanceOf(taker), 1e18);
    }

    function test_fill_tokenReturningFalse_reverts() public {
        FalseReturningERC20 f = new FalseReturningERC20();
        SwapOrder memory o = _order(_erc20(address(f), 5), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, f)
        );
    }

    function test_fill_nftThatDoesNotMove_reverts() public {
        NoopERC721 noop = new NoopERC721(maker);
        SwapOrder memory o = _order(_erc721(address(noop), 3), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        _expectFillRevert(
            taker, o, _sign(o), abi.encodeWithSelector(SwapSettlement.NftNotReceived.selector, noop, 3, taker)
        );
        assertEq(send.balanceOf(taker), 1e18);
    }

    /// Documented limitation: an ERC-721 collection named as an ERC-20 leg is not detected on-chain (ERC-721
    /// `transferFrom` shares the ERC-20 selector), so "amount 5" moves token id 5. The order says what it
    /// says; clients show the leg's kind from the token itself (ERC-165) before anyone signs or fills.
    function test_fill_erc721NamedAsErc20_movesTokenIdAmount() public {
        nft.mint(maker, 5);
        vm.prank(maker);
        nft.setApprovalForAll(address(swap), true);
        SwapOrder memory o = _order(_erc20(address(nft), 5), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        _fill(taker, o, _sign(o));
        assertEq(nft.ownerOf(5), taker);
    }

    /// An ERC-20 named as an ERC-721 leg fails: ERC-20s have no `safeTransferFrom`.
    function test_fill_erc20NamedAsErc721_reverts() public {
        usd.mint(maker, 10);
        vm.prank(maker);
        usd.approve(address(swap), 10);
        SwapOrder memory o = _order(_erc721(address(usd), 10), _erc20(address(send), 1e18));
        _provide(taker, o.takerAsset);
        vm.expectRevert();
        _fill(taker, o, _sign(o));
        assertEq(usd.balanceOf(maker), 10);
    }

    // ---------------------------------------------------------------- checkOrder

    function test_checkOrder_returnsHashForAFillableOrder() public {
        SwapOrder memory o = _order(_erc20(address(usd), 1e18), _eth(1 ether));
        assertEq(swap.checkOrder(o, _sign(o), taker), _digest(o));
    }

    function test_checkOrder_revertsLikeFill() public {
        SwapOrder memory o = _order(_eth(1 ether), _erc20(address(send), 1e18));
        bytes memory sig = _sign(o);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.InsufficientEscrow.selector, maker, 0, 1 ether));
        swap.checkOrder(o, sig, taker);
        o.taker = taker;
        sig = _sign(o);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.WrongTaker.selector, taker, stranger));
        swap.checkOrder(o, sig, stranger);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.InvalidSignature.selector, maker));
        swap.checkOrder(o, _sign(takerKey, o), taker);
        vm.deal(maker, 1 ether);
        vm.prank(maker);
        swap.deposit{value: 1 ether}();
        assertEq(swap.checkOrder(o, sig, taker), _digest(o));
        vm.prank(maker);
        swap.cancelNonce(o.nonce);
        vm.expectRevert(abi.encodeWithSelector(SwapSettlement.NonceAlreadyUsed.selector, maker, o.nonce));
        swap.checkOrder(o, sig, taker);
        vm.prank(maker);
        swap.cancelNoncesBelow(o.nonce + 1);
        vm.expectRevert(
            abi.encodeWithSelector(SwapSettlement.NonceBelowMinimum.selector, maker, o.nonce, o.nonce + 1)
        );
        swap.checkOrder(o, sig, taker);
    }

    /// No stray ETH: the contract has no receive or fallback.
    function test_plainEthTransfer_reverts() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok,) = address(swap).call{value: 1 ether}("");
        assertFalse(ok);
    }
}
