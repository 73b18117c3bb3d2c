// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC721A} from "erc721a/IERC721A.sol";
import {WatchDogTestBase} from "./WatchDogTestBase.sol";
import {WatchDogLicense} from "../../contracts/watchdog/WatchDogLicense.sol";
import {WatchDogPresale} from "../../contracts/watchdog/WatchDogPresale.sol";
import {EthRejectingBuyer, FeeOnTransferToken, ReentrantBuyer} from "./mocks/WatchDogMocks.sol";

contract WatchDogPresaleTest is WatchDogTestBase {
    WatchDogPresale.Phase internal constant ALLOWLIST = WatchDogPresale.Phase.Allowlist;
    WatchDogPresale.Phase internal constant PUBLIC = WatchDogPresale.Phase.Public;
    WatchDogPresale.Currency internal constant ETH = WatchDogPresale.Currency.Eth;
    WatchDogPresale.Currency internal constant TOKEN = WatchDogPresale.Currency.Token;
    WatchDogPresale.SaleStatus internal constant ACTIVE = WatchDogPresale.SaleStatus.Active;
    WatchDogPresale.SaleStatus internal constant CANCELLED = WatchDogPresale.SaleStatus.Cancelled;
    WatchDogPresale.SaleStatus internal constant FINALIZED = WatchDogPresale.SaleStatus.Finalized;
    WatchDogPresale.SaleStatus internal constant EXPIRED = WatchDogPresale.SaleStatus.Expired;

    // ------------------------------------------------------------------ helpers

    function _state() internal view returns (WatchDogPresale.SaleState memory) {
        return presale.saleState();
    }

    function _cancel() internal {
        vm.prank(owner);
        presale.cancelSale();
    }

    function _finalize() internal {
        vm.prank(owner);
        presale.finalizeSale();
    }

    /// @dev Fresh presale with no phase scheduled.
    function _deployUnscheduled() internal {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        delete c.allowlist;
        delete c.publicPhase;
        (license, presale) = _deploy(c);
    }

    /// @dev Fresh presale whose public phase opens together with the allowlist phase.
    function _deployOverlapping() internal {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.publicPhase.start = AL_START;
        (license, presale) = _deploy(c);
    }

    function _sellOut() internal {
        _openPublic();
        for (uint256 i; i < SUPPLY / TX_CAP; ++i) {
            _buyPublicEth(makeAddr(string.concat("w", vm.toString(i))), TX_CAP);
        }
        assertEq(presale.sold(), SUPPLY);
    }

    function _expectRevertCtor(WatchDogPresale.Config memory c, bytes memory err) internal {
        vm.expectRevert(err);
        new WatchDogPresale(c);
    }

    /// @dev Config for a presale over a fresh license whose minter is the next deployment.
    function _ctorConfig() internal returns (WatchDogPresale.Config memory c) {
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        WatchDogLicense l = new WatchDogLicense(_licenseConfig(predicted));
        c = _presaleConfig(address(l), address(usd));
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public view {
        assertEq(address(presale.license()), address(license));
        assertEq(address(presale.paymentToken()), address(usd));
        assertEq(presale.treasury(), treasury);
        assertEq(presale.supply(), SUPPLY);
        assertEq(presale.tierCount(), 3);
        assertEq(presale.MAX_TIERS(), 8);
        assertEq(presale.owner(), owner);
        assertEq(presale.merkleRoot(), allowRoot);
        assertEq(license.minter(), address(presale));
        WatchDogPresale.Schedule memory s = presale.schedule();
        assertEq(s.allowlistStart, AL_START);
        assertEq(s.allowlistEnd, AL_END);
        assertEq(s.allowlistReserve, RESERVE);
        assertEq(s.publicStart, PUB_START);
        assertEq(s.publicEnd, PUB_END);
        assertEq(s.walletCap, WALLET_CAP);
        assertEq(s.txCap, TX_CAP);
        WatchDogPresale.SaleState memory st = presale.saleState();
        assertEq(st.sold, 0);
        assertEq(st.allowlistSold, 0);
        assertEq(uint8(st.status), uint8(ACTIVE));
        assertEq(st.ethHeld, 0);
        assertEq(presale.tokenHeld(), 0);
        (WatchDogPresale.Tier memory t, uint256 end) = presale.tier(0);
        assertEq(t.start, 0);
        assertEq(t.ethPrice, ETH0);
        assertEq(t.tokenPrice, USD0);
        assertEq(end, 40);
        (t, end) = presale.tier(1);
        assertEq(t.start, 40);
        assertEq(t.ethPrice, ETH1);
        assertEq(t.tokenPrice, USD1);
        assertEq(end, 80);
        (t, end) = presale.tier(2);
        assertEq(t.start, 80);
        assertEq(t.ethPrice, ETH2);
        assertEq(t.tokenPrice, USD2);
        assertEq(end, SUPPLY);
    }

    function test_constructor_emitsPhases() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        vm.expectEmit(true, true, true, true, predicted);
        emit WatchDogPresale.AllowlistPhaseSet(AL_START, AL_END, RESERVE, allowRoot);
        vm.expectEmit(true, true, true, true, predicted);
        emit WatchDogPresale.PublicPhaseSet(PUB_START, PUB_END, WALLET_CAP, TX_CAP);
        new WatchDogPresale(c);
    }

    function test_constructor_phasesOptional() public {
        _deployUnscheduled();
        WatchDogPresale.Schedule memory s = presale.schedule();
        assertEq(s.allowlistStart, 0);
        assertEq(s.allowlistEnd, 0);
        assertEq(s.publicStart, 0);
        assertEq(s.publicEnd, 0);
        assertEq(presale.merkleRoot(), bytes32(0));
        assertFalse(presale.saleEnded());
        assertFalse(presale.phaseOpen(ALLOWLIST));
        assertFalse(presale.phaseOpen(PUBLIC));
    }

    function test_constructor_revertsOnZeroAddresses() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.license = address(0);
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.ZeroAddress.selector, "license"));
        c = _ctorConfig();
        c.paymentToken = address(0);
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.ZeroAddress.selector, "paymentToken"));
        c = _ctorConfig();
        c.treasury = address(0);
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.ZeroAddress.selector, "treasury"));
        c = _ctorConfig();
        c.owner = address(0);
        _expectRevertCtor(c, abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
    }

    function test_constructor_revertsOnZeroSupply() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.supply = 0;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidParameter.selector, "supply"));
    }

    function test_constructor_revertsWhenNotTheLicenseMinter() public {
        // the license names another minter
        WatchDogLicense other = new WatchDogLicense(_licenseConfig(alice));
        WatchDogPresale.Config memory c = _presaleConfig(address(other), address(usd));
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.LicenseNotFresh.selector, address(other)));
    }

    function test_constructor_revertsWhenLicenseAlreadyMinted() public {
        // a license that already minted would break "token id n is the n-th sale"; only the presale can mint,
        // so no real license can be in that state before the presale exists: mock it
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        WatchDogLicense l = new WatchDogLicense(_licenseConfig(predicted));
        WatchDogPresale.Config memory c = _presaleConfig(address(l), address(usd));
        vm.mockCall(address(l), abi.encodeCall(WatchDogLicense.totalMinted, ()), abi.encode(uint256(1)));
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.LicenseNotFresh.selector, address(l)));
    }

    function test_constructor_revertsOnTierCount() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.tiers = new WatchDogPresale.Tier[](0);
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidParameter.selector, "tiers"));
        c = _ctorConfig();
        c.tiers = new WatchDogPresale.Tier[](9);
        for (uint256 i; i < 9; ++i) {
            c.tiers[i] = WatchDogPresale.Tier(uint32(i * 10), 1, 1);
        }
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidParameter.selector, "tiers"));
    }

    function test_constructor_revertsOnBadTiers() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.tiers[0].start = 1;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 0, "start"));
        c = _ctorConfig();
        c.tiers[2].start = 40;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 2, "start"));
        c = _ctorConfig();
        c.tiers[1].start = 30;
        c.tiers[2].start = 20;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 2, "start"));
        c = _ctorConfig();
        c.tiers[2].start = SUPPLY;
        _expectRevertCtor(
            c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 2, "start beyond supply")
        );
        c = _ctorConfig();
        c.tiers[1].ethPrice = 0;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 1, "ethPrice"));
        c = _ctorConfig();
        c.tiers[0].tokenPrice = 0;
        _expectRevertCtor(c, abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 0, "tokenPrice"));
    }

    function test_constructor_revertsOnBadPhases() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.allowlist.reserve = 0;
        _expectRevertCtor(
            c, abi.encodeWithSelector(WatchDogPresale.InvalidPhaseConfig.selector, ALLOWLIST, "reserve")
        );
        c = _ctorConfig();
        c.publicPhase.txCap = 0;
        _expectRevertCtor(
            c, abi.encodeWithSelector(WatchDogPresale.InvalidPhaseConfig.selector, PUBLIC, "txCap")
        );
    }

    /// Eight tiers, one license each then a long last tier: every tier slot is read and priced.
    function test_constructor_eightTiers() public {
        WatchDogPresale.Config memory c = _ctorConfig();
        c.tiers = new WatchDogPresale.Tier[](8);
        for (uint256 i; i < 8; ++i) {
            c.tiers[i] = WatchDogPresale.Tier(uint32(i), uint96((i + 1) * 1 ether), uint96((i + 1) * 1e6));
        }
        WatchDogPresale p = new WatchDogPresale(c);
        assertEq(p.tierCount(), 8);
        for (uint256 i; i < 8; ++i) {
            (WatchDogPresale.Tier memory t, uint256 end) = p.tier(i);
            assertEq(t.start, i);
            assertEq(t.ethPrice, (i + 1) * 1 ether);
            assertEq(t.tokenPrice, (i + 1) * 1e6);
            assertEq(end, i == 7 ? SUPPLY : i + 1);
        }
        // 1 + 2 + ... + 8 for the first eight, then 8 each
        assertEq(p.quote(10, ETH), 36 ether + 16 ether);
        assertEq(p.quote(10, TOKEN), 36e6 + 16e6);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 8, "index"));
        p.tier(8);
    }

    // ------------------------------------------------------------------ pricing

    function test_quote_spansTiers() public view {
        assertEq(presale.quote(1, ETH), ETH0);
        assertEq(presale.quote(40, ETH), 40 * uint256(ETH0));
        assertEq(presale.quote(41, ETH), 40 * uint256(ETH0) + ETH1);
        assertEq(presale.quote(100, ETH), 40 * uint256(ETH0) + 40 * uint256(ETH1) + 20 * uint256(ETH2));
        assertEq(presale.quote(100, TOKEN), 40 * uint256(USD0) + 40 * uint256(USD1) + 20 * uint256(USD2));
        assertEq(presale.quote(0, ETH), 0);
    }

    function test_quote_revertsBeyondSupply() public {
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 101, 100));
        presale.quote(101, ETH);
        _sellOut();
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 1, 0));
        presale.quote(1, TOKEN);
    }

    function test_tier_revertsOutOfRange() public {
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidTier.selector, 3, "index"));
        presale.tier(3);
    }

    /// A purchase spanning tiers pays each license at its own tier's price; the price follows `sold` only.
    function testFuzz_buy_paysEachLicenseAtItsTier(uint8 pre, uint8 q, bool inToken) public {
        _openPublic();
        uint256 before = bound(pre, 0, 95);
        uint256 quantity = bound(q, 1, TX_CAP);
        quantity = quantity > SUPPLY - before ? SUPPLY - before : quantity;
        for (uint256 done; done < before;) {
            uint256 n = before - done < TX_CAP ? before - done : TX_CAP;
            _buyPublicEth(makeAddr(string.concat("pre", vm.toString(done))), n);
            done += n;
        }
        uint256 expected = inToken ? _usdCost(before, quantity) : _ethCost(before, quantity);
        assertEq(presale.quote(quantity, inToken ? TOKEN : ETH), expected);
        uint256 paid = inToken ? _buyPublicUsd(alice, quantity) : _buyPublicEth(alice, quantity);
        assertEq(paid, expected);
        for (uint256 id = before + 1; id <= before + quantity; ++id) {
            (WatchDogPresale.Currency cur, uint256 amount) = presale.pricePaid(id);
            assertEq(uint8(cur), uint8(inToken ? TOKEN : ETH));
            assertEq(amount, inToken ? _usdCost(id - 1, 1) : _ethCost(id - 1, 1));
        }
    }

    // ------------------------------------------------------------------ allowlist phase

    function test_buyAllowlist_mintsToProvedAccount() public {
        _openAllowlist();
        uint256 cost = 3 * uint256(ETH0);
        vm.deal(alice, 1 ether);
        vm.expectEmit(true, true, true, true, address(license));
        emit IERC721A.Transfer(address(0), alice, 1);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Purchased(alice, ALLOWLIST, ETH, 1, 3, cost);
        vm.prank(alice);
        presale.buyAllowlist{value: 1 ether}(3, 5, _proof(0), cost);
        assertEq(alice.balance, 1 ether - cost, "excess returned");
        assertEq(address(presale).balance, cost);
        assertEq(license.balanceOf(alice), 3);
        assertEq(license.ownerOf(3), alice);
        WatchDogPresale.SaleState memory s = _state();
        assertEq(s.sold, 3);
        assertEq(s.allowlistSold, 3);
        assertEq(s.ethHeld, cost);
        (uint256 al, uint256 pub) = presale.purchasedBy(alice);
        assertEq(al, 3);
        assertEq(pub, 0);
        (uint256 e, uint256 t) = presale.proceeds();
        assertEq(e, cost);
        assertEq(t, 0);
    }

    function test_buyAllowlist_allowanceIsCumulative() public {
        _openAllowlist();
        _buyAllowlistEth(0, 2);
        _buyAllowlistUsd(0, 3);
        (uint256 al,) = presale.purchasedBy(alice);
        assertEq(al, 5);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.AllowlistQuantityExceeded.selector, alice, 5, 1, 5)
        );
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
    }

    function testFuzz_buyAllowlist_revertsAboveAllowance(uint8 first, uint8 second) public {
        _openAllowlist();
        uint256 a = bound(first, 0, 5);
        uint256 b = bound(second, 1, RESERVE - a);
        if (a != 0) _buyAllowlistEth(0, a);
        vm.deal(alice, 10 ether);
        vm.prank(alice);
        if (a + b > 5) {
            vm.expectRevert(
                abi.encodeWithSelector(WatchDogPresale.AllowlistQuantityExceeded.selector, alice, a, b, 5)
            );
        }
        presale.buyAllowlist{value: 10 ether}(b, 5, _proof(0), 10 ether);
        (uint256 al,) = presale.purchasedBy(alice);
        assertEq(al, a + b > 5 ? a : a + b);
    }

    /// The bug class "proof checked for one account, counted against another": a proof only works for the
    /// account it was issued to, and what it buys is counted against (and minted to) that account.
    function test_buyAllowlist_proofOfAnotherAccountRejected() public {
        _openAllowlist();
        vm.deal(mallory, 10 ether);
        vm.startPrank(mallory);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, mallory, 5));
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, mallory, 5));
        presale.buyAllowlistWithToken(1, 5, _proof(0), 1 ether);
        vm.stopPrank();
        // bob (allowlisted for 3) cannot use alice's larger allowance either
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, bob, 5));
        presale.buyAllowlist{value: 1 ether}(4, 5, _proof(0), 1 ether);
        // alice's purchases do not consume bob's allowance
        _buyAllowlistEth(0, 5);
        _buyAllowlistEth(1, 3);
        (uint256 a,) = presale.purchasedBy(alice);
        (uint256 b,) = presale.purchasedBy(bob);
        assertEq(a, 5);
        assertEq(b, 3);
        assertEq(license.balanceOf(alice), 5);
        assertEq(license.balanceOf(bob), 3);
    }

    function test_buyAllowlist_revertsOnInflatedAllowance() public {
        _openAllowlist();
        vm.deal(alice, 10 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, alice, 6));
        presale.buyAllowlist{value: 1 ether}(6, 6, _proof(0), 1 ether);
    }

    /// A leaf of the right account and quantity but another phase number does not verify.
    function test_buyAllowlist_leafBindsPhase() public {
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = keccak256(bytes.concat(keccak256(abi.encode(alice, uint256(5), uint8(2)))));
        leaves[1] = _leaf(bob, 3);
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.allowlist.merkleRoot = keccak256(
            abi.encodePacked(
                leaves[0] < leaves[1] ? leaves[0] : leaves[1], leaves[0] < leaves[1] ? leaves[1] : leaves[0]
            )
        );
        (license, presale) = _deploy(c);
        _openAllowlist();
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = leaves[1];
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, alice, 5));
        presale.buyAllowlist{value: 1 ether}(1, 5, proof, 1 ether);
        assertEq(presale.allowlistLeaf(bob, 3), leaves[1]);
    }

    function test_buyAllowlist_phaseWindow() public {
        vm.deal(alice, 10 ether);
        vm.warp(AL_START - 1);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseNotOpen.selector, ALLOWLIST, AL_START, AL_END)
        );
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
        vm.warp(AL_END);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseNotOpen.selector, ALLOWLIST, AL_START, AL_END)
        );
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
        vm.warp(AL_END - 1);
        vm.prank(alice);
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
        assertEq(license.balanceOf(alice), 1);
    }

    function test_buyAllowlist_reserveIsTheLimit() public {
        _openAllowlist();
        _buyAllowlistEth(2, 28); // carol, allowance 30
        _buyAllowlistEth(0, 1);
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 2, 1));
        presale.buyAllowlist{value: 1 ether}(2, 3, _proof(1), 1 ether);
        _buyAllowlistEth(1, 1);
        assertEq(_state().allowlistSold, RESERVE);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 1, 0));
        presale.buyAllowlist{value: 1 ether}(1, 3, _proof(1), 1 ether);
    }

    function test_buyAllowlist_revertsOnZeroQuantity() public {
        _openAllowlist();
        vm.prank(alice);
        vm.expectRevert(WatchDogPresale.ZeroQuantity.selector);
        presale.buyAllowlist(0, 5, _proof(0), 0);
    }

    function test_buyAllowlist_revertsWithoutAllowlist() public {
        _deployUnscheduled();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InvalidAllowlistProof.selector, alice, 5));
        presale.buyAllowlist(1, 5, _proof(0), 1 ether);
    }

    function test_buyAllowlistWithToken() public {
        _openAllowlist();
        uint256 cost = 2 * uint256(USD0);
        usd.mint(alice, 1_000e6);
        vm.startPrank(alice);
        usd.approve(address(presale), cost);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Purchased(alice, ALLOWLIST, TOKEN, 1, 2, cost);
        presale.buyAllowlistWithToken(2, 5, _proof(0), cost);
        vm.stopPrank();
        assertEq(usd.balanceOf(alice), 1_000e6 - cost);
        assertEq(usd.balanceOf(address(presale)), cost);
        assertEq(presale.tokenHeld(), cost);
        assertEq(_state().ethHeld, 0);
        assertEq(license.batchDataOf(1), 1);
        (WatchDogPresale.Currency cur, uint256 amount) = presale.pricePaid(2);
        assertEq(uint8(cur), uint8(TOKEN));
        assertEq(amount, USD0);
    }

    function test_buyAllowlistWithToken_revertsWithoutAllowance() public {
        _openAllowlist();
        usd.mint(alice, 1_000e6);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(presale), 0, USD0
            )
        );
        presale.buyAllowlistWithToken(1, 5, _proof(0), USD0);
    }

    // ------------------------------------------------------------------ public phase

    function test_buyPublic_mintsAndReturnsChange() public {
        _openPublic();
        uint256 cost = 2 * uint256(ETH0);
        vm.deal(bob, 5 ether);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Purchased(bob, PUBLIC, ETH, 1, 2, cost);
        vm.prank(bob);
        presale.buyPublic{value: 5 ether}(2, cost);
        assertEq(bob.balance, 5 ether - cost);
        assertEq(address(presale).balance, cost);
        assertEq(license.balanceOf(bob), 2);
        (uint256 al, uint256 pub) = presale.purchasedBy(bob);
        assertEq(al, 0);
        assertEq(pub, 2);
        assertEq(_state().sold, 2);
        assertEq(_state().allowlistSold, 0);
        assertEq(license.batchDataOf(1), 0);
    }

    function test_buyPublic_exactPaymentNoChange() public {
        _openPublic();
        vm.deal(bob, ETH0);
        vm.prank(bob);
        presale.buyPublic{value: ETH0}(1, ETH0);
        assertEq(bob.balance, 0);
    }

    function testFuzz_buyPublic_excessReturnedExactly(uint96 extra, uint8 q) public {
        _openPublic();
        uint256 quantity = bound(q, 1, TX_CAP);
        uint256 cost = _ethCost(0, quantity);
        vm.deal(bob, cost + extra);
        vm.prank(bob);
        presale.buyPublic{value: cost + extra}(quantity, type(uint256).max);
        assertEq(bob.balance, extra);
        assertEq(address(presale).balance, cost);
        assertEq(_state().ethHeld, cost);
    }

    function testFuzz_buyPublic_maxTotalCost(uint256 maxTotalCost) public {
        _openPublic();
        _buyPublicEth(carol, 5);
        uint256 cost = 2 * uint256(ETH0);
        vm.deal(bob, 1 ether);
        vm.prank(bob);
        if (maxTotalCost < cost) {
            vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.CostAboveMax.selector, cost, maxTotalCost));
        }
        presale.buyPublic{value: 1 ether}(2, maxTotalCost);
    }

    /// The price moved between signing and inclusion (others bought into the next tier first).
    function test_buyPublic_priceMovedAboveMax() public {
        _openPublic();
        for (uint256 i; i < 7; ++i) {
            _buyPublicEth(makeAddr(string.concat("x", vm.toString(i))), 5);
        }
        _buyPublicEth(makeAddr("y"), 4); // 39 sold: the next license is the last of tier 0
        uint256 signed = 2 * uint256(ETH0);
        _buyPublicEth(carol, 1); // 40 sold: both now in tier 1
        vm.deal(bob, 1 ether);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.CostAboveMax.selector, 2 * uint256(ETH1), signed)
        );
        presale.buyPublic{value: 1 ether}(2, signed);
    }

    function testFuzz_buyPublic_insufficientPayment(uint256 value) public {
        _openPublic();
        uint256 cost = 3 * uint256(ETH0);
        value = bound(value, 0, cost - 1);
        vm.deal(bob, value);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.InsufficientPayment.selector, cost, value));
        presale.buyPublic{value: value}(3, cost);
    }

    function test_buyPublic_txCap() public {
        _openPublic();
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.TransactionCapExceeded.selector, 6, TX_CAP));
        presale.buyPublic{value: 10 ether}(6, 10 ether);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.TransactionCapExceeded.selector, type(uint256).max, TX_CAP)
        );
        presale.buyPublic{value: 10 ether}(type(uint256).max, 10 ether);
    }

    function test_buyPublic_walletCapIsCumulativeAndSeparateFromAllowlist() public {
        _openAllowlist();
        _buyAllowlistEth(0, 5); // alice's allowlist purchases do not count towards the public cap
        _openPublic();
        _buyPublicEth(alice, 5);
        _buyPublicUsd(alice, 4);
        vm.deal(alice, 10 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.WalletCapExceeded.selector, alice, 9, 2, WALLET_CAP)
        );
        presale.buyPublic{value: 10 ether}(2, 10 ether);
        _buyPublicEth(alice, 1);
        (uint256 al, uint256 pub) = presale.purchasedBy(alice);
        assertEq(al, 5);
        assertEq(pub, WALLET_CAP);
        assertEq(license.balanceOf(alice), 15);
    }

    function test_buyPublic_phaseWindow() public {
        vm.deal(bob, 10 ether);
        vm.warp(PUB_START - 1);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseNotOpen.selector, PUBLIC, PUB_START, PUB_END)
        );
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        vm.warp(PUB_END);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseNotOpen.selector, PUBLIC, PUB_START, PUB_END)
        );
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        vm.warp(PUB_END - 1);
        vm.prank(bob);
        presale.buyPublic{value: 1 ether}(1, 1 ether);
    }

    function test_buyPublic_revertsOnZeroQuantity() public {
        _openPublic();
        vm.prank(bob);
        vm.expectRevert(WatchDogPresale.ZeroQuantity.selector);
        presale.buyPublic(0, 0);
    }

    function test_buyPublic_soldOut() public {
        _sellOut();
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 1, 0));
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        assertEq(license.totalSupply(), SUPPLY);
        assertTrue(presale.saleEnded());
    }

    function test_buyPublic_lastLicensesNoOversell() public {
        _openPublic();
        for (uint256 i; i < 19; ++i) {
            _buyPublicEth(makeAddr(string.concat("w", vm.toString(i))), 5);
        }
        _buyPublicEth(makeAddr("w19"), 2); // 97 sold
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 4, 3));
        presale.buyPublic{value: 10 ether}(4, 10 ether);
        _buyPublicEth(bob, 3);
        assertEq(presale.sold(), SUPPLY);
        assertEq(license.ownerOf(100), bob);
    }

    /// While the allowlist phase runs, the public phase cannot buy into the allowlist reserve; once it ends
    /// the unsold reserve is released.
    function test_buyPublic_respectsReserveUntilAllowlistEnds() public {
        _deployOverlapping();
        vm.warp(AL_START);
        _buyAllowlistEth(0, 4);
        // 70 public licenses: all the public phase may sell while the allowlist phase runs
        for (uint256 i; i < 14; ++i) {
            _buyPublicEth(makeAddr(string.concat("w", vm.toString(i))), 5);
        }
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 1, 0));
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        // the allowlist still gets its whole reserve
        _buyAllowlistEth(2, 20);
        assertEq(_state().allowlistSold, 24);
        // its unsold remainder (6) is released when the allowlist phase ends
        vm.warp(AL_END);
        _buyPublicEth(bob, 5);
        vm.deal(mallory, 10 ether);
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 2, 1));
        presale.buyPublic{value: 10 ether}(2, 10 ether);
        _buyPublicEth(mallory, 1);
        assertEq(presale.sold(), SUPPLY);
    }

    function test_buyPublic_reserveReleasedAfterAllowlist() public {
        _deployOverlapping();
        vm.warp(AL_START);
        for (uint256 i; i < 14; ++i) {
            _buyPublicEth(makeAddr(string.concat("w", vm.toString(i))), 5);
        }
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.ExceedsAvailableSupply.selector, 1, 0));
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        vm.warp(AL_END);
        _buyPublicEth(bob, 5);
        assertEq(presale.sold(), 75);
        assertEq(_state().allowlistSold, 0);
    }

    function test_buyPublicWithToken() public {
        _openPublic();
        uint256 cost = 3 * uint256(USD0);
        usd.mint(bob, cost);
        vm.startPrank(bob);
        usd.approve(address(presale), cost);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Purchased(bob, PUBLIC, TOKEN, 1, 3, cost);
        presale.buyPublicWithToken(3, cost);
        vm.stopPrank();
        assertEq(usd.balanceOf(bob), 0);
        assertEq(usd.balanceOf(address(presale)), cost);
        assertEq(presale.tokenHeld(), cost);
        assertEq(license.batchDataOf(3), 1);
    }

    function test_buyPublicWithToken_maxTotalCost() public {
        _openPublic();
        usd.mint(bob, 1_000e6);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.CostAboveMax.selector, USD0, USD0 - 1));
        presale.buyPublicWithToken(1, USD0 - 1);
    }

    function test_buyWithToken_revertsOnFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        (license, presale) = _deploy(_presaleConfig(address(0), address(fee)));
        _openPublic();
        fee.mint(bob, 1_000e6);
        vm.startPrank(bob);
        fee.approve(address(presale), USD0);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.TokenPaymentShortfall.selector, USD0, USD0 - USD0 / 100)
        );
        presale.buyPublicWithToken(1, USD0);
        vm.stopPrank();
    }

    function test_buyPublic_changeToRejectingContractReverts() public {
        _openPublic();
        EthRejectingBuyer buyer = new EthRejectingBuyer(presale);
        vm.deal(address(this), 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.EthTransferFailed.selector, address(buyer), 0.9 ether)
        );
        buyer.buyPublic{value: 1 ether}(1, 1 ether);
        // exact payment needs no change and works
        buyer.buyPublic{value: ETH0}(1, ETH0);
        assertEq(license.balanceOf(address(buyer)), 1);
    }

    /// The change sent back is the only external call a buyer can hook; re-entering from it is refused.
    /// Minting calls no ERC-721 receiver hook (the buyer's `onERC721Received` reverts if called).
    function test_buyPublic_reentryFromChangeBlocked() public {
        _openPublic();
        ReentrantBuyer buyer = new ReentrantBuyer(presale);
        vm.deal(address(this), 1 ether);
        buyer.buyPublic{value: 1 ether}(1, 1 ether);
        assertEq(buyer.receiveCalls(), 1);
        assertFalse(buyer.reentered());
        assertEq(
            buyer.reentryError(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        assertEq(license.balanceOf(address(buyer)), 1);
        assertEq(presale.sold(), 1);
        assertEq(address(buyer).balance, 0.9 ether);
    }

    function test_buy_revertsWhenNotActive() public {
        _openAllowlist();
        _cancel();
        vm.deal(alice, 1 ether);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.buyAllowlist{value: 1 ether}(1, 5, _proof(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.buyAllowlistWithToken(1, 5, _proof(0), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.buyPublic{value: 1 ether}(1, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.buyPublicWithToken(1, 1 ether);
        vm.stopPrank();
    }

    function test_buy_revertsWhenFinalized() public {
        _sellOut();
        _finalize();
        vm.deal(bob, 1 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, FINALIZED));
        presale.buyPublic{value: 1 ether}(1, 1 ether);
    }

    // ------------------------------------------------------------------ cancel and refunds

    function test_cancelSale() public {
        _openAllowlist();
        uint256 e = _buyAllowlistEth(0, 2);
        uint256 t = _buyAllowlistUsd(1, 1);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.SaleCancelled(3, e, t);
        _cancel();
        assertEq(uint8(_state().status), uint8(CANCELLED));
        (uint256 pe, uint256 pt) = presale.proceeds();
        assertEq(pe, 0);
        assertEq(pt, 0);
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re, e);
        assertEq(rt, t);
    }

    function test_cancelSale_revertsUnlessActive() public {
        _cancel();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.cancelSale();
    }

    function test_cancelSale_impossibleOnceFinalized() public {
        _sellOut();
        _finalize();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, FINALIZED));
        presale.cancelSale();
    }

    function testFuzz_ownerOnly(address caller) public {
        vm.assume(caller != owner);
        bytes memory err = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller);
        vm.startPrank(caller);
        vm.expectRevert(err);
        presale.cancelSale();
        vm.expectRevert(err);
        presale.finalizeSale();
        vm.expectRevert(err);
        presale.withdrawProceeds();
        vm.expectRevert(err);
        presale.setAllowlistPhase(_allowlistPhase());
        vm.expectRevert(err);
        presale.setPublicPhase(_publicPhase());
        vm.stopPrank();
    }

    /// The bug class "refund of the amount sent instead of the price": the buyer overpaid and got change;
    /// the refund is the tier price of each license, in its currency, whatever was sent.
    function test_refund_paysThePriceNotTheAmountSent() public {
        _openPublic();
        for (uint256 i; i < 7; ++i) {
            _buyPublicEth(makeAddr(string.concat("x", vm.toString(i))), 5);
        }
        _buyPublicEth(makeAddr("y"), 3); // 38 sold
        uint256 cost = 2 * uint256(ETH0) + ETH1; // ids 39, 40 in tier 0, 41 in tier 1
        vm.deal(bob, 10 ether);
        vm.prank(bob);
        presale.buyPublic{value: 10 ether}(3, cost);
        assertEq(bob.balance, 10 ether - cost);
        _buyPublicUsd(bob, 2); // ids 42, 43
        _cancel();

        uint256[] memory ids = _ids(39, 5);
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.Refunded(bob, ids, cost, 2 * uint256(USD1));
        vm.prank(bob);
        presale.refund(ids);
        assertEq(bob.balance, 10 ether);
        assertEq(usd.balanceOf(bob), 2 * uint256(USD1));
        assertEq(license.balanceOf(bob), 0);
        assertEq(license.totalBurned(), 5);
        // sold never decreases
        assertEq(presale.sold(), 43);
        assertEq(license.totalMinted(), 43);
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re, _ethCost(0, 38));
        assertEq(rt, 0);
        assertEq(address(presale).balance, re);
        assertEq(usd.balanceOf(address(presale)), rt);
    }

    function test_refund_inParts() public {
        _openAllowlist();
        _buyAllowlistEth(2, 10);
        _cancel();
        vm.prank(carol);
        presale.refund(_ids(3, 4));
        assertEq(carol.balance, 4 * uint256(ETH0));
        vm.prank(carol);
        presale.refund(_one(1));
        assertEq(carol.balance, 5 * uint256(ETH0));
        assertEq(license.balanceOf(carol), 5);
        (uint256 re,) = presale.refundsOwed();
        assertEq(re, 5 * uint256(ETH0));
    }

    /// The refund follows the license: after the unlock, whoever holds it gets its price back.
    function test_refund_toCurrentHolder() public {
        _openPublic();
        _buyPublicEth(alice, 2);
        vm.prank(owner);
        license.setUnlockTime(0);
        vm.prank(alice);
        license.transferFrom(alice, carol, 2);
        _cancel();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.NotTokenHolder.selector, 2, carol, alice));
        presale.refund(_ids(1, 2));
        vm.prank(carol);
        presale.refund(_one(2));
        assertEq(carol.balance, ETH0);
        assertEq(license.ownerOf(1), alice);
    }

    function test_refund_revertsUnlessCancelled() public {
        _openPublic();
        _buyPublicEth(alice, 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.RefundsNotOpen.selector, ACTIVE, SELF_REFUND));
        presale.refund(_one(1));
        vm.warp(PUB_END);
        _finalize();
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.RefundsNotOpen.selector, FINALIZED, SELF_REFUND)
        );
        presale.refund(_one(1));
    }

    function test_refund_revertsOnEmptyList() public {
        _cancel();
        vm.prank(alice);
        vm.expectRevert(WatchDogPresale.NoTokenIds.selector);
        presale.refund(new uint256[](0));
    }

    function test_refund_revertsForOthersLicense() public {
        _openPublic();
        _buyPublicEth(alice, 1);
        _cancel();
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.NotTokenHolder.selector, 1, alice, mallory));
        presale.refund(_one(1));
        assertEq(license.ownerOf(1), alice);
    }

    function test_refund_revertsTwiceOrForUnsold() public {
        _openPublic();
        _buyPublicEth(alice, 2);
        _cancel();
        vm.prank(alice);
        presale.refund(_one(1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseBurned.selector, 1));
        presale.refund(_one(1));
        // the same id twice in one list
        uint256[] memory twice = new uint256[](2);
        (twice[0], twice[1]) = (2, 2);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseBurned.selector, 2));
        presale.refund(twice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseNotFound.selector, 3));
        presale.refund(_one(3));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseNotFound.selector, 0));
        presale.refund(_one(0));
    }

    function test_refund_toRejectingContractReverts() public {
        _openPublic();
        EthRejectingBuyer buyer = new EthRejectingBuyer(presale);
        vm.deal(address(this), 1 ether);
        buyer.buyPublic{value: ETH0}(1, ETH0);
        _cancel();
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.EthTransferFailed.selector, address(buyer), ETH0)
        );
        buyer.refund(_one(1));
        assertEq(license.ownerOf(1), address(buyer));
    }

    function test_refund_reentryBlocked() public {
        _openPublic();
        ReentrantBuyer buyer = new ReentrantBuyer(presale);
        vm.deal(address(this), 1 ether);
        buyer.setMode(0, new uint256[](0));
        buyer.buyPublic{value: 2 * uint256(ETH0)}(2, 1 ether); // exact: no change, no receive call
        assertEq(buyer.receiveCalls(), 0);
        _cancel();
        buyer.setMode(1, _one(2));
        buyer.refund(_one(1));
        assertEq(buyer.receiveCalls(), 1);
        assertFalse(buyer.reentered());
        assertEq(
            buyer.reentryError(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector)
        );
        assertEq(address(buyer).balance, ETH0);
        assertEq(license.ownerOf(2), address(buyer));
    }

    function testFuzz_refund_returnsExactlyWhatWasPaid(uint256 seed) public {
        _openPublic();
        uint256 ethPaid;
        uint256 usdPaid;
        uint256 n = bound(seed, 1, 20);
        for (uint256 i; i < n; ++i) {
            uint256 q = bound(uint256(keccak256(abi.encode(seed, i))), 1, TX_CAP);
            if (presale.sold() + q > SUPPLY) break;
            if (uint256(keccak256(abi.encode(seed, i, "cur"))) % 2 == 0) {
                ethPaid += _buyPublicEth(makeAddr(string.concat("b", vm.toString(i))), q);
            } else {
                usdPaid += _buyPublicUsd(makeAddr(string.concat("b", vm.toString(i))), q);
            }
        }
        uint256 sold = presale.sold();
        _cancel();
        uint256 ethBack;
        uint256 usdBack;
        for (uint256 id = 1; id <= sold; ++id) {
            address holder = license.ownerOf(id);
            uint256 e = holder.balance;
            uint256 u = usd.balanceOf(holder);
            vm.prank(holder);
            presale.refund(_one(id));
            ethBack += holder.balance - e;
            usdBack += usd.balanceOf(holder) - u;
        }
        assertEq(ethBack, ethPaid);
        assertEq(usdBack, usdPaid);
        assertEq(address(presale).balance, 0);
        assertEq(usd.balanceOf(address(presale)), 0);
        assertEq(presale.sold(), sold);
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re + rt, 0);
    }

    // ------------------------------------------------------------------ finalize and withdraw

    function test_finalizeSale_afterLastPhase() public {
        _openPublic();
        uint256 e = _buyPublicEth(alice, 2);
        uint256 t = _buyPublicUsd(bob, 1);
        vm.warp(PUB_END - 1);
        assertFalse(presale.saleEnded());
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotEnded.selector, 3, PUB_END));
        presale.finalizeSale();
        vm.warp(PUB_END);
        assertTrue(presale.saleEnded());
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.SaleFinalized(3, e, t);
        _finalize();
        assertEq(uint8(_state().status), uint8(FINALIZED));
        (uint256 pe, uint256 pt) = presale.proceeds();
        assertEq(pe, e);
        assertEq(pt, t);
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re + rt, 0);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, FINALIZED));
        presale.finalizeSale();
    }

    function test_finalizeSale_whenSoldOut() public {
        _sellOut();
        assertTrue(presale.saleEnded());
        _finalize();
        assertEq(uint8(_state().status), uint8(FINALIZED));
    }

    function test_finalizeSale_lastEndIsTheLaterPhase() public {
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.allowlist.end = PUB_END + 100;
        (license, presale) = _deploy(c);
        vm.warp(PUB_END);
        assertFalse(presale.saleEnded());
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotEnded.selector, 0, PUB_END + 100));
        presale.finalizeSale();
        vm.warp(PUB_END + 100);
        _finalize();
    }

    function test_finalizeSale_notWithoutAnyPhase() public {
        _deployUnscheduled();
        vm.warp(SELF_REFUND - 1);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotEnded.selector, 0, 0));
        presale.finalizeSale();
    }

    function test_finalizeSale_revertsWhenCancelled() public {
        _cancel();
        vm.warp(PUB_END);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.finalizeSale();
    }

    function test_withdrawProceeds() public {
        _openAllowlist();
        uint256 e = _buyAllowlistEth(0, 3);
        uint256 t = _buyAllowlistUsd(2, 10);
        vm.warp(PUB_END);
        _finalize();
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.ProceedsWithdrawn(treasury, e, t);
        vm.prank(owner);
        presale.withdrawProceeds();
        assertEq(treasury.balance, e);
        assertEq(usd.balanceOf(treasury), t);
        assertEq(address(presale).balance, 0);
        assertEq(usd.balanceOf(address(presale)), 0);
        assertEq(_state().ethHeld, 0);
        assertEq(presale.tokenHeld(), 0);
        vm.prank(owner);
        vm.expectRevert(WatchDogPresale.NothingToWithdraw.selector);
        presale.withdrawProceeds();
    }

    function test_withdrawProceeds_onlyEthOrOnlyToken() public {
        _openPublic();
        uint256 e = _buyPublicEth(alice, 1);
        vm.warp(PUB_END);
        _finalize();
        vm.prank(owner);
        presale.withdrawProceeds();
        assertEq(treasury.balance, e);
        assertEq(usd.balanceOf(treasury), 0);

        vm.warp(1_800_000_000);
        (license, presale) = _deploy(_presaleConfig(address(0), address(usd)));
        _openPublic();
        uint256 t = _buyPublicUsd(alice, 1);
        vm.warp(PUB_END);
        _finalize();
        vm.prank(owner);
        presale.withdrawProceeds();
        assertEq(treasury.balance, e);
        assertEq(usd.balanceOf(treasury), t);
    }

    /// The bug class "withdrawal of money owed to others": nothing is withdrawable while the sale can still
    /// be cancelled, and nothing at all once it is.
    function test_withdrawProceeds_neverTakesWhatIsOwed() public {
        _openPublic();
        _buyPublicEth(alice, 2);
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotFinalized.selector, ACTIVE));
        presale.withdrawProceeds();
        _cancel();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotFinalized.selector, CANCELLED));
        presale.withdrawProceeds();
        vm.prank(alice);
        presale.refund(_ids(1, 2));
        assertEq(alice.balance, 2 * uint256(ETH0));
    }

    function test_withdrawProceeds_toRejectingTreasuryReverts() public {
        EthRejectingBuyer rejecting = new EthRejectingBuyer(presale);
        WatchDogPresale.Config memory c = _presaleConfig(address(0), address(usd));
        c.treasury = address(rejecting);
        (license, presale) = _deploy(c);
        _openPublic();
        _buyPublicEth(alice, 1);
        vm.warp(PUB_END);
        _finalize();
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.EthTransferFailed.selector, address(rejecting), ETH0)
        );
        presale.withdrawProceeds();
    }

    // ------------------------------------------------------------------ phase configuration

    function test_setAllowlistPhase_beforeStart() public {
        WatchDogPresale.AllowlistPhase memory p = WatchDogPresale.AllowlistPhase({
            start: AL_START + 10, end: AL_END + 10, reserve: 40, merkleRoot: bytes32("r")
        });
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.AllowlistPhaseSet(AL_START + 10, AL_END + 10, 40, bytes32("r"));
        vm.prank(owner);
        presale.setAllowlistPhase(p);
        WatchDogPresale.Schedule memory s = presale.schedule();
        assertEq(s.allowlistStart, AL_START + 10);
        assertEq(s.allowlistEnd, AL_END + 10);
        assertEq(s.allowlistReserve, 40);
        assertEq(presale.merkleRoot(), bytes32("r"));
        // public untouched
        assertEq(s.publicStart, PUB_START);
    }

    function test_setAllowlistPhase_frozenOnceStarted() public {
        vm.warp(AL_START);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseAlreadyStarted.selector, ALLOWLIST, AL_START)
        );
        presale.setAllowlistPhase(_allowlistPhase());
    }

    function test_setAllowlistPhase_frozenOncePublicStarted() public {
        _deployUnscheduled();
        vm.prank(owner);
        presale.setPublicPhase(_publicPhase());
        vm.warp(PUB_START);
        WatchDogPresale.AllowlistPhase memory p = _allowlistPhase();
        (p.start, p.end) = (PUB_START, PUB_END);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseAlreadyStarted.selector, PUBLIC, PUB_START)
        );
        presale.setAllowlistPhase(p);
    }

    function test_setAllowlistPhase_validation() public {
        WatchDogPresale.AllowlistPhase memory p = _allowlistPhase();
        bytes4 sel = WatchDogPresale.InvalidPhaseConfig.selector;
        vm.startPrank(owner);
        p.start = uint40(block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(sel, ALLOWLIST, "start in the past"));
        presale.setAllowlistPhase(p);
        p = _allowlistPhase();
        p.end = p.start;
        vm.expectRevert(abi.encodeWithSelector(sel, ALLOWLIST, "end not after start"));
        presale.setAllowlistPhase(p);
        p = _allowlistPhase();
        p.reserve = 0;
        vm.expectRevert(abi.encodeWithSelector(sel, ALLOWLIST, "reserve"));
        presale.setAllowlistPhase(p);
        p.reserve = SUPPLY + 1;
        vm.expectRevert(abi.encodeWithSelector(sel, ALLOWLIST, "reserve"));
        presale.setAllowlistPhase(p);
        p = _allowlistPhase();
        p.merkleRoot = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(sel, ALLOWLIST, "merkleRoot"));
        presale.setAllowlistPhase(p);
        // the boundary values are accepted: start now, reserve = supply
        p = _allowlistPhase();
        p.start = uint40(block.timestamp);
        p.reserve = SUPPLY;
        presale.setAllowlistPhase(p);
        vm.stopPrank();
        assertTrue(presale.phaseOpen(ALLOWLIST));
    }

    function test_setAllowlistPhase_revertsWhenNotActive() public {
        _cancel();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, CANCELLED));
        presale.setAllowlistPhase(_allowlistPhase());
    }

    function test_setPublicPhase_beforeStart() public {
        vm.warp(AL_START); // the allowlist phase running does not freeze the public phase
        WatchDogPresale.PublicPhase memory p =
            WatchDogPresale.PublicPhase({start: PUB_START + 5, end: PUB_END + 5, walletCap: 3, txCap: 3});
        vm.expectEmit(true, true, true, true, address(presale));
        emit WatchDogPresale.PublicPhaseSet(PUB_START + 5, PUB_END + 5, 3, 3);
        vm.prank(owner);
        presale.setPublicPhase(p);
        WatchDogPresale.Schedule memory s = presale.schedule();
        assertEq(s.publicStart, PUB_START + 5);
        assertEq(s.publicEnd, PUB_END + 5);
        assertEq(s.walletCap, 3);
        assertEq(s.txCap, 3);
        assertEq(s.allowlistStart, AL_START);
    }

    function test_setPublicPhase_frozenOnceStarted() public {
        vm.warp(PUB_START + 1);
        vm.prank(owner);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogPresale.PhaseAlreadyStarted.selector, PUBLIC, PUB_START)
        );
        presale.setPublicPhase(_publicPhase());
    }

    function test_setPublicPhase_validation() public {
        WatchDogPresale.PublicPhase memory p = _publicPhase();
        bytes4 sel = WatchDogPresale.InvalidPhaseConfig.selector;
        vm.startPrank(owner);
        p.start = uint40(block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(sel, PUBLIC, "start in the past"));
        presale.setPublicPhase(p);
        p = _publicPhase();
        p.end = p.start - 1;
        vm.expectRevert(abi.encodeWithSelector(sel, PUBLIC, "end not after start"));
        presale.setPublicPhase(p);
        p = _publicPhase();
        p.txCap = 0;
        vm.expectRevert(abi.encodeWithSelector(sel, PUBLIC, "txCap"));
        presale.setPublicPhase(p);
        p = _publicPhase();
        p.walletCap = p.txCap - 1;
        vm.expectRevert(abi.encodeWithSelector(sel, PUBLIC, "walletCap below txCap"));
        presale.setPublicPhase(p);
        vm.stopPrank();
    }

    function test_setPublicPhase_revertsWhenNotActive() public {
        _sellOut();
        _finalize();
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogPresale.SaleNotActive.selector, FINALIZED));
        presale.setPublicPhase(_publicPhase());
    }

    /// A sale whose phases ended unsold can be extended with a new public phase (until it is finalized).
    function test_setPublicPhase_unscheduledThenScheduledLater() public {
        _deployUnscheduled();
        vm.prank(owner);
        presale.setAllowlistPhase(_allowlistPhase());
        vm.warp(AL_END);
        assertTrue(presale.saleEnded());
        vm.prank(owner);
        presale.setPublicPhase(
            WatchDogPresale.PublicPhase({
                start: AL_END, end: AL_END + 1, walletCap: WALLET_CAP, txCap: TX_CAP
            })
        );
        assertFalse(presale.saleEnded());
        _buyPublicEth(alice, 1);
        assertEq(presale.sold(), 1);
    }

    // ------------------------------------------------------------------ views

    function test_phaseOpen() public {
        assertFalse(presale.phaseOpen(WatchDogPresale.Phase.None));
        assertFalse(presale.phaseOpen(ALLOWLIST));
        vm.warp(AL_START);
        assertTrue(presale.phaseOpen(ALLOWLIST));
        assertFalse(presale.phaseOpen(PUBLIC));
        vm.warp(PUB_START);
        assertFalse(presale.phaseOpen(ALLOWLIST));
        assertTrue(presale.phaseOpen(PUBLIC));
        assertFalse(presale.phaseOpen(WatchDogPresale.Phase.None));
        vm.warp(PUB_END);
        assertFalse(presale.phaseOpen(PUBLIC));
    }

    function test_allowlistLeaf_isTheStandardLeaf() public view {
        for (uint256 i; i < allowlisted.length; ++i) {
            assertEq(presale.allowlistLeaf(allowlisted[i], allowances[i]), allowLeaves[i]);
        }
    }

    function test_pricePaid_revertsForUnsoldOrBurned() public {
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        presale.pricePaid(1);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        presale.pricePaid(0);
    }

    function test_proceedsAndRefundsOwed_whileActive() public {
        _openPublic();
        uint256 e = _buyPublicEth(alice, 1);
        uint256 t = _buyPublicUsd(alice, 1);
        (uint256 pe, uint256 pt) = presale.proceeds();
        assertEq(pe, e);
        assertEq(pt, t);
        (uint256 re, uint256 rt) = presale.refundsOwed();
        assertEq(re, 0);
        assertEq(rt, 0);
    }

    function test_ownership_twoStep() public {
        vm.prank(owner);
        presale.transferOwnership(bob);
        assertEq(presale.owner(), owner);
        vm.prank(bob);
        presale.acceptOwnership();
        assertEq(presale.owner(), bob);
        vm.prank(bob);
        presale.cancelSale();
    }

    function test_renounceOwnership_disabled() public {
        vm.prank(owner);
        vm.expectRevert(WatchDogPresale.RenounceDisabled.selector);
        presale.renounceOwnership();
        assertEq(presale.owner(), owner);
    }

    function test_noPlainEthAccepted() public {
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok,) = address(presale).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(address(presale).balance, 0);
    }
}
