// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {DidTestBase} from "./DidTestBase.sol";
import {DidHandler} from "./handlers/DidHandler.sol";
import {DidKeys} from "../../contracts/did/DidKeys.sol";

contract DidRegistryInvariantTest is DidTestBase {
    uint256 internal constant DIDS = 4;

    DidHandler internal handler;
    address[] internal actors;
    uint256[] internal didList;

    function setUp() public override {
        super.setUp();
        uint256[6] memory pks;
        for (uint256 i; i < 6; ++i) {
            pks[i] = uint256(keccak256(abi.encode("did actor", i)));
            actors.push(vm.addr(pks[i]));
        }
        string[DIDS] memory names = ["alice", "bob", "carol-2", "dave-x"];
        for (uint256 i; i < DIDS; ++i) {
            didList.push(_register(actors[i], names[i]));
        }
        handler = new DidHandler(registry, pks, didList);

        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = DidHandler.link.selector;
        selectors[1] = DidHandler.replayLink.selector;
        selectors[2] = DidHandler.unlink.selector;
        selectors[3] = DidHandler.setPrimary.selector;
        selectors[4] = DidHandler.transfer.selector;
        selectors[5] = DidHandler.plainTransfer.selector;
        selectors[6] = DidHandler.addKey.selector;
        selectors[7] = DidHandler.revokeKey.selector;
        selectors[8] = DidHandler.link.selector; // links twice as likely, so lists fill up
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// wallet ∈ walletsOf(did) ⇔ did ∈ didsOf(wallet) ⇔ isLinked(did, wallet); no duplicates, no strangers,
    /// and the two sides hold the same number of links.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_linksSymmetric() public view {
        uint256 fromDids;
        uint256 fromWallets;
        for (uint256 d; d < DIDS; ++d) {
            address[] memory wallets = registry.walletsOf(didList[d]);
            fromDids += wallets.length;
            for (uint256 i; i < wallets.length; ++i) {
                assertTrue(_contains(actors, wallets[i]), "stranger in walletsOf");
                for (uint256 j = i + 1; j < wallets.length; ++j) {
                    assertTrue(wallets[i] != wallets[j], "duplicate in walletsOf");
                }
            }
            for (uint256 w; w < actors.length; ++w) {
                bool linked = registry.isLinked(didList[d], actors[w]);
                assertEq(_contains(wallets, actors[w]), linked, "walletsOf != isLinked");
                assertEq(_contains(registry.didsOf(actors[w]), didList[d]), linked, "didsOf != isLinked");
            }
        }
        for (uint256 w; w < actors.length; ++w) {
            uint256[] memory ds = registry.didsOf(actors[w]);
            fromWallets += ds.length;
            for (uint256 i; i < ds.length; ++i) {
                assertTrue(_contains(didList, ds[i]), "unknown DID in didsOf");
                for (uint256 j = i + 1; j < ds.length; ++j) {
                    assertTrue(ds[i] != ds[j], "duplicate in didsOf");
                }
            }
        }
        assertEq(fromDids, fromWallets, "link counts differ between the two sides");
    }

    /// A DID's owner is never linked to it (a transfer to a linked wallet removes that link).
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_ownerNotLinkedToOwnDid() public view {
        for (uint256 d; d < DIDS; ++d) {
            assertFalse(registry.isLinked(didList[d], registry.ownerOf(didList[d])));
        }
    }

    /// Every account's primary DID is one it owns or is linked to, and its reverse record says so.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_primaryLinkedOrOwned() public view {
        for (uint256 w; w < actors.length; ++w) {
            address account = actors[w];
            uint256 primary = registry.primaryOf(account);
            string memory reverseName = registry.name(_reverseNode(account));
            if (primary == 0) {
                assertEq(reverseName, "", "reverse name without a primary");
                continue;
            }
            assertTrue(
                registry.ownerOf(primary) == account || registry.isLinked(primary, account),
                "primary neither owned nor linked"
            );
            assertEq(reverseName, string.concat(registry.nameOf(primary), ".send"), "reverse name != primary");
        }
    }

    /// Revoked keys never come back: once revoked (by the owner or by a transfer) a key stays revoked, and no
    /// key is ever added twice.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_revokedKeysNeverComeBack() public view {
        assertEq(handler.ghostRevokedKeyReAdded(), 0, "a revoked key was added again");
        for (uint256 i; i < handler.keyCount(); ++i) {
            bytes32 key = handler.keysAdded(i);
            (DidKeys.KeyStatus status, uint256 did,) = registry.keyState(key);
            assertEq(did, handler.ghostKeyDid(key), "key moved to another DID");
            DidKeys.KeyStatus expected =
                handler.ghostRevoked(key) ? DidKeys.KeyStatus.Revoked : DidKeys.KeyStatus.Active;
            assertEq(uint8(status), uint8(expected), "key status != ghost");
        }
    }

    /// Consents are never replayed and plain transfers never move a DID; ERC-721 books stay whole.
    /// forge-config: default.invariant.fail-on-revert = true
    function invariant_noUnexpectedSuccessAndBalances() public view {
        assertEq(handler.ghostUnexpectedSuccess(), 0, "an operation that must fail succeeded");
        uint256 total;
        for (uint256 w; w < actors.length; ++w) {
            total += registry.balanceOf(actors[w]);
        }
        assertEq(total, DIDS, "balances != number of DIDs");
        for (uint256 d; d < DIDS; ++d) {
            address owner = registry.ownerOf(didList[d]);
            assertTrue(_contains(actors, owner), "owner outside the actors");
            assertEq(registry.addr(registry.nodeOf(didList[d])), owner, "addr != owner");
        }
    }

    function afterInvariant() external view {
        console.log("link", handler.calls("link"), "unlink", handler.calls("unlink"));
        console.log("transfer", handler.calls("transfer"), "setPrimary", handler.calls("setPrimary"));
        console.log("addKey", handler.calls("addKey"), "refused", handler.calls("addKeyRefused"));
        console.log("revokeKey", handler.calls("revokeKey"), "replayLink", handler.calls("replayLink"));
    }
}
