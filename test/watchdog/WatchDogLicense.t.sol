// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC721A} from "erc721a/IERC721A.sol";
import {WatchDogTestBase} from "./WatchDogTestBase.sol";
import {WatchDogLicense} from "../../contracts/watchdog/WatchDogLicense.sol";

/// @notice Refuses every ERC-721 receipt hook: a mint to it succeeds only because mints call no hook.
contract HookRefuser {
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        revert("hook called");
    }
}

/// @notice Accepts ERC-721 receipt hooks.
contract HookAcceptor {
    uint256 public received;

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        ++received;
        return this.onERC721Received.selector;
    }
}

/// @notice The license on its own: `minter` is this test contract, so mints and burns are direct.
contract WatchDogLicenseTest is WatchDogTestBase {
    WatchDogLicense internal lic;
    address internal minter;
    address internal op = makeAddr("operatorKey");

    function setUp() public override {
        super.setUp();
        minter = address(this);
        lic = new WatchDogLicense(_licenseConfig(minter));
    }

    function _mint(address to, uint256 q) internal returns (uint256 first) {
        return lic.mint(to, q, 0, 0);
    }

    function _unlock() internal {
        vm.warp(UNLOCK);
    }

    // ------------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public {
        assertEq(lic.name(), "SendingNetwork WatchDog License");
        assertEq(lic.symbol(), "SNWD");
        assertEq(lic.owner(), owner);
        assertEq(lic.pendingOwner(), address(0));
        assertEq(lic.minter(), minter);
        assertEq(lic.unlockTime(), UNLOCK);
        assertEq(lic.maxUnlockTime(), MAX_UNLOCK);
        assertEq(lic.totalSupply(), 0);
        assertEq(lic.totalMinted(), 0);
        assertEq(lic.totalBurned(), 0);
        assertTrue(lic.transfersLocked());

        WatchDogLicense.Config memory c = _licenseConfig(minter);
        address predicted = vm.computeCreateAddress(address(this), vm.getNonce(address(this)));
        vm.expectEmit(true, true, true, true, predicted);
        emit WatchDogLicense.UnlockTimeSet(0, UNLOCK);
        new WatchDogLicense(c);
    }

    function test_constructor_unlockTimeMayEqualMax() public {
        WatchDogLicense.Config memory c = _licenseConfig(minter);
        c.unlockTime = MAX_UNLOCK;
        assertEq(new WatchDogLicense(c).unlockTime(), MAX_UNLOCK);
    }

    function test_constructor_revertsOnZeroMinter() public {
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.ZeroAddress.selector, "minter"));
        new WatchDogLicense(_licenseConfig(address(0)));
    }

    function test_constructor_revertsOnZeroOwner() public {
        WatchDogLicense.Config memory c = _licenseConfig(minter);
        c.owner = address(0);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new WatchDogLicense(c);
    }

    function testFuzz_constructor_revertsWhenUnlockAboveMax(uint64 maxUnlock, uint64 unlock) public {
        vm.assume(unlock > maxUnlock);
        WatchDogLicense.Config memory c = _licenseConfig(minter);
        (c.unlockTime, c.maxUnlockTime) = (unlock, maxUnlock);
        vm.expectRevert(
            abi.encodeWithSelector(WatchDogLicense.UnlockTimeAboveMax.selector, unlock, maxUnlock)
        );
        new WatchDogLicense(c);
    }

    // ------------------------------------------------------------------ mint

    function test_mint_sequentialIdsFromOne() public {
        vm.expectEmit(true, true, true, true, address(lic));
        emit IERC721A.Transfer(address(0), alice, 1);
        vm.expectEmit(true, true, true, true, address(lic));
        emit IERC721A.Transfer(address(0), alice, 2);
        vm.expectEmit(true, true, true, true, address(lic));
        emit IERC721A.Transfer(address(0), alice, 3);
        assertEq(lic.mint(alice, 3, 7, 0), 1);
        assertEq(lic.mint(bob, 2, 9, 1), 4);
        assertEq(lic.ownerOf(1), alice);
        assertEq(lic.ownerOf(3), alice);
        assertEq(lic.ownerOf(4), bob);
        assertEq(lic.ownerOf(5), bob);
        assertEq(lic.balanceOf(alice), 3);
        assertEq(lic.balanceOf(bob), 2);
        assertEq(lic.totalSupply(), 5);
        assertEq(lic.totalMinted(), 5);
        assertEq(lic.accountDataOf(alice), 7);
        assertEq(lic.accountDataOf(bob), 9);
        assertEq(lic.batchDataOf(1), 0);
        assertEq(lic.batchDataOf(3), 0);
        assertEq(lic.batchDataOf(4), 1);
        assertEq(lic.batchDataOf(5), 1);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        lic.ownerOf(0);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        lic.ownerOf(6);
    }

    function test_mint_accountDataIsReplaced() public {
        lic.mint(alice, 1, type(uint64).max, 0);
        assertEq(lic.accountDataOf(alice), type(uint64).max);
        lic.mint(alice, 1, 3, 0);
        assertEq(lic.accountDataOf(alice), 3);
        assertEq(lic.accountDataOf(bob), 0);
    }

    function test_mint_callsNoReceiverHook() public {
        HookRefuser refuser = new HookRefuser();
        _mint(address(refuser), 2);
        assertEq(lic.ownerOf(1), address(refuser));
        assertEq(lic.balanceOf(address(refuser)), 2);
    }

    function testFuzz_mint_revertsForNonMinter(address caller) public {
        vm.assume(caller != minter);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.OnlyMinter.selector, caller));
        lic.mint(caller, 1, 0, 0);
    }

    function test_mint_revertsOnZeroQuantityOrZeroAddress() public {
        vm.expectRevert(IERC721A.MintZeroQuantity.selector);
        lic.mint(alice, 0, 0, 0);
        vm.expectRevert(IERC721A.MintToZeroAddress.selector);
        lic.mint(address(0), 1, 0, 0);
    }

    // ------------------------------------------------------------------ burn

    function test_setOperator_minterHasNoSay() public {
        lic.mint(alice, 3, 0, 5);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.NotHolderNorApproved.selector, 2, minter));
        lic.setOperator(2, op);
    }

    function test_burn_byMinterWhoeverHolds() public {
        lic.mint(alice, 3, 0, 5);
        vm.prank(alice);
        lic.setOperator(2, op);
        vm.expectEmit(true, true, true, true, address(lic));
        emit WatchDogLicense.OperatorSet(2, address(0));
        vm.expectEmit(true, true, true, true, address(lic));
        emit IERC721A.Transfer(alice, address(0), 2);
        (address holder, uint24 data) = lic.burn(2); // during the transfer lock
        assertEq(holder, alice);
        assertEq(data, 5);
        assertEq(lic.operatorOf(2), address(0));
        assertEq(lic.balanceOf(alice), 2);
        assertEq(lic.totalSupply(), 2);
        assertEq(lic.totalMinted(), 3);
        assertEq(lic.totalBurned(), 1);
        // neighbours of a burned license keep their holder and batch data
        assertEq(lic.ownerOf(1), alice);
        assertEq(lic.ownerOf(3), alice);
        assertEq(lic.batchDataOf(3), 5);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        lic.ownerOf(2);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseBurned.selector, 2));
        lic.burn(2);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        lic.batchDataOf(2);
    }

    function test_burn_withoutOperatorEmitsOnlyTransfer() public {
        _mint(alice, 1);
        vm.recordLogs();
        lic.burn(1);
        assertEq(vm.getRecordedLogs().length, 1);
    }

    function testFuzz_burn_revertsForNonMinter(address caller) public {
        vm.assume(caller != minter);
        _mint(alice, 1);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.OnlyMinter.selector, caller));
        lic.burn(1);
    }

    function test_burn_revertsForNonexistent() public {
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseNotFound.selector, 1));
        lic.burn(1);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.LicenseNotFound.selector, 0));
        lic.burn(0);
    }

    // ------------------------------------------------------------------ operator key

    function test_setOperator_byHolder() public {
        _mint(alice, 2);
        vm.expectEmit(true, true, true, true, address(lic));
        emit WatchDogLicense.OperatorSet(2, op);
        vm.prank(alice);
        lic.setOperator(2, op);
        assertEq(lic.operatorOf(2), op);
        assertEq(lic.operatorOf(1), address(0));
        // cleared by the holder
        vm.expectEmit(true, true, true, true, address(lic));
        emit WatchDogLicense.OperatorSet(2, address(0));
        vm.prank(alice);
        lic.setOperator(2, address(0));
        assertEq(lic.operatorOf(2), address(0));
    }

    function test_setOperator_byApprovedForToken() public {
        _mint(alice, 1);
        vm.prank(alice);
        lic.approve(bob, 1); // approvals work during the lock
        vm.prank(bob);
        lic.setOperator(1, op);
        assertEq(lic.operatorOf(1), op);
    }

    function test_setOperator_byApprovedForAll() public {
        _mint(alice, 1);
        vm.prank(alice);
        lic.setApprovalForAll(carol, true);
        vm.prank(carol);
        lic.setOperator(1, op);
        assertEq(lic.operatorOf(1), op);
    }

    function testFuzz_setOperator_revertsForOthers(address caller) public {
        vm.assume(caller != alice);
        _mint(alice, 1);
        vm.prank(alice);
        lic.approve(bob, 1);
        vm.assume(caller != bob);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.NotHolderNorApproved.selector, 1, caller));
        lic.setOperator(1, op);
    }

    function test_setOperator_revertsForNonexistent() public {
        vm.prank(alice);
        vm.expectRevert(IERC721A.OwnerQueryForNonexistentToken.selector);
        lic.setOperator(1, op);
    }

    function test_setOperator_previousHolderLosesTheRight() public {
        _mint(alice, 1);
        _unlock();
        vm.prank(alice);
        lic.transferFrom(alice, bob, 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.NotHolderNorApproved.selector, 1, alice));
        lic.setOperator(1, op);
        vm.prank(bob);
        lic.setOperator(1, op);
        assertEq(lic.operatorOf(1), op);
    }

    function test_transfer_clearsOperatorAndApproval() public {
        _mint(alice, 3);
        vm.startPrank(alice);
        lic.setOperator(2, op);
        lic.approve(carol, 2);
        vm.stopPrank();
        _unlock();
        vm.expectEmit(true, true, true, true, address(lic));
        emit WatchDogLicense.OperatorSet(2, address(0));
        vm.expectEmit(true, true, true, true, address(lic));
        emit IERC721A.Transfer(alice, bob, 2);
        vm.prank(alice);
        lic.transferFrom(alice, bob, 2);
        assertEq(lic.operatorOf(2), address(0));
        assertEq(lic.getApproved(2), address(0));
        assertEq(lic.ownerOf(2), bob);
        assertEq(lic.ownerOf(1), alice);
        assertEq(lic.ownerOf(3), alice);
    }

    function test_transfer_byApprovedClearsOperator() public {
        _mint(alice, 1);
        vm.startPrank(alice);
        lic.setOperator(1, op);
        lic.setApprovalForAll(carol, true);
        vm.stopPrank();
        _unlock();
        vm.prank(carol);
        lic.safeTransferFrom(alice, bob, 1);
        assertEq(lic.operatorOf(1), address(0));
        assertEq(lic.ownerOf(1), bob);
    }

    // ------------------------------------------------------------------ transfer lock

    function test_transfer_lockedUntilUnlockTime() public {
        _mint(alice, 2);
        vm.warp(UNLOCK - 1);
        assertTrue(lic.transfersLocked());
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.TransfersLocked.selector, 1, UNLOCK));
        lic.transferFrom(alice, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.TransfersLocked.selector, 2, UNLOCK));
        lic.safeTransferFrom(alice, bob, 2);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.TransfersLocked.selector, 2, UNLOCK));
        lic.safeTransferFrom(alice, bob, 2, "data");
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.TransfersLocked.selector, 1, UNLOCK));
        lic.transferFrom(alice, alice, 1);
        vm.stopPrank();

        vm.warp(UNLOCK);
        assertFalse(lic.transfersLocked());
        vm.prank(alice);
        lic.transferFrom(alice, bob, 1);
        assertEq(lic.ownerOf(1), bob);
    }

    function testFuzz_transfer_lockDependsOnlyOnTime(uint64 t) public {
        _mint(alice, 1);
        vm.warp(t);
        vm.prank(alice);
        if (t < UNLOCK) {
            vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.TransfersLocked.selector, 1, UNLOCK));
        }
        lic.transferFrom(alice, bob, 1);
        assertEq(lic.ownerOf(1), t < UNLOCK ? alice : bob);
    }

    function test_transfer_standardChecksAfterUnlock() public {
        _mint(alice, 1);
        _unlock();
        vm.prank(bob);
        vm.expectRevert(IERC721A.TransferCallerNotOwnerNorApproved.selector);
        lic.transferFrom(alice, bob, 1);
        vm.prank(alice);
        vm.expectRevert(IERC721A.TransferFromIncorrectOwner.selector);
        lic.transferFrom(bob, carol, 1);
        vm.prank(alice);
        vm.expectRevert(IERC721A.TransferToZeroAddress.selector);
        lic.transferFrom(alice, address(0), 1);
        HookRefuser refuser = new HookRefuser();
        vm.prank(alice);
        vm.expectRevert("hook called");
        lic.safeTransferFrom(alice, address(refuser), 1);
        HookAcceptor acceptor = new HookAcceptor();
        vm.prank(alice);
        lic.safeTransferFrom(alice, address(acceptor), 1);
        assertEq(acceptor.received(), 1);
    }

    function testFuzz_transfer_batchDataFollowsEveryLicense(uint8 batch, uint8 pick, uint24 data) public {
        uint256 q = bound(batch, 1, 30);
        uint256 id = bound(pick, 1, q);
        lic.mint(alice, q, 0, data);
        _unlock();
        vm.prank(alice);
        lic.transferFrom(alice, bob, id);
        for (uint256 i = 1; i <= q; ++i) {
            assertEq(lic.batchDataOf(i), data);
            assertEq(lic.ownerOf(i), i == id ? bob : alice);
        }
        (address holder, uint24 burned) = lic.burn(id);
        assertEq(holder, bob);
        assertEq(burned, data);
        for (uint256 i = 1; i <= q; ++i) {
            if (i != id) assertEq(lic.batchDataOf(i), data);
        }
    }

    // ------------------------------------------------------------------ unlock time

    function test_setUnlockTime_earlier() public {
        vm.expectEmit(true, true, true, true, address(lic));
        emit WatchDogLicense.UnlockTimeSet(UNLOCK, UNLOCK - 100);
        vm.prank(owner);
        lic.setUnlockTime(UNLOCK - 100);
        assertEq(lic.unlockTime(), UNLOCK - 100);
    }

    function test_setUnlockTime_inThePastUnlocksAtOnce() public {
        _mint(alice, 1);
        vm.prank(owner);
        lic.setUnlockTime(0);
        assertFalse(lic.transfersLocked());
        vm.prank(alice);
        lic.transferFrom(alice, bob, 1);
        assertEq(lic.ownerOf(1), bob);
        // and it can never be locked again
        vm.prank(owner);
        vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.UnlockTimeNotEarlier.selector, 0, 0));
        lic.setUnlockTime(0);
    }

    function testFuzz_setUnlockTime_neverLater(uint64 t) public {
        vm.prank(owner);
        if (t >= UNLOCK) {
            vm.expectRevert(abi.encodeWithSelector(WatchDogLicense.UnlockTimeNotEarlier.selector, UNLOCK, t));
        }
        lic.setUnlockTime(t);
        assertEq(lic.unlockTime(), t >= UNLOCK ? UNLOCK : t);
        assertLe(lic.unlockTime(), lic.maxUnlockTime());
    }

    function testFuzz_setUnlockTime_onlyOwner(address caller) public {
        vm.assume(caller != owner);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, caller));
        lic.setUnlockTime(UNLOCK - 1);
    }

    // ------------------------------------------------------------------ metadata, interfaces, ownership

    function test_tokenURI() public {
        _mint(alice, 12);
        assertEq(lic.tokenURI(1), string.concat(BASE_URI, "1"));
        assertEq(lic.tokenURI(12), string.concat(BASE_URI, "12"));
        vm.expectRevert(IERC721A.URIQueryForNonexistentToken.selector);
        lic.tokenURI(13);
        vm.expectRevert(IERC721A.URIQueryForNonexistentToken.selector);
        lic.tokenURI(0);
    }

    function test_tokenURI_emptyBase() public {
        WatchDogLicense.Config memory c = _licenseConfig(minter);
        c.baseURI = "";
        WatchDogLicense l = new WatchDogLicense(c);
        l.mint(alice, 1, 0, 0);
        assertEq(l.tokenURI(1), "");
    }

    function test_supportsInterface_notEnumerable() public view {
        assertTrue(lic.supportsInterface(0x01ffc9a7)); // ERC-165
        assertTrue(lic.supportsInterface(0x80ac58cd)); // ERC-721
        assertTrue(lic.supportsInterface(0x5b5e139f)); // ERC-721 metadata
        assertFalse(lic.supportsInterface(0x780e9d63)); // ERC-721 enumerable
        assertFalse(lic.supportsInterface(0xffffffff));
    }

    function test_ownership_twoStep() public {
        vm.prank(owner);
        lic.transferOwnership(bob);
        assertEq(lic.owner(), owner);
        assertEq(lic.pendingOwner(), bob);
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, carol));
        lic.acceptOwnership();
        vm.prank(bob);
        lic.acceptOwnership();
        assertEq(lic.owner(), bob);
        vm.prank(bob);
        lic.setUnlockTime(1);
        assertEq(lic.unlockTime(), 1);
    }
}
