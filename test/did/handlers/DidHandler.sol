// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {DidRegistry} from "../../../contracts/did/DidRegistry.sol";
import {DidKeys} from "../../../contracts/did/DidKeys.sol";

/// @notice Drives the DID registry with really-signed link and transfer consents over a fixed set of actors
///         and DIDs: links, unlinks by either side, primaries, transfers (offer/accept and signed consent),
///         device keys added, revoked, and re-added on purpose. Ghost state remembers every key that was ever
///         revoked (explicitly or by its DID's transfer) and counts re-additions the registry accepted.
contract DidHandler is CommonBase, StdCheats, StdUtils {
    uint256 public constant ACTORS = 6;
    uint256 public constant KEY_POOL = 24;

    DidRegistry public immutable registry;
    address[ACTORS] public actors;
    uint256[ACTORS] internal _pks;
    uint256[] internal _dids;

    /// Keys ever added, the DID each went to, and the ones known revoked.
    bytes32[] public keysAdded;
    mapping(bytes32 key => uint256 did) public ghostKeyDid;
    mapping(bytes32 key => bool) public ghostRevoked;
    /// A key added again after it was revoked (must stay zero).
    uint256 public ghostRevokedKeyReAdded;
    /// Successful operations the handler expected to revert (must stay zero).
    uint256 public ghostUnexpectedSuccess;

    mapping(bytes32 action => uint256) public calls;

    constructor(DidRegistry registry_, uint256[ACTORS] memory pks, uint256[] memory initialDids) {
        registry = registry_;
        _pks = pks;
        for (uint256 i; i < ACTORS; ++i) {
            actors[i] = vm.addr(pks[i]);
        }
        _dids = initialDids;
    }

    function didCount() external view returns (uint256) {
        return _dids.length;
    }

    function dids(uint256 i) external view returns (uint256) {
        return _dids[i];
    }

    function keyCount() external view returns (uint256) {
        return keysAdded.length;
    }

    // ---------------------------------------------------------------- links

    function link(uint256 didSeed, uint256 walletSeed) external {
        uint256 did = _dids[didSeed % _dids.length];
        uint256 w = walletSeed % ACTORS;
        address wallet = actors[w];
        address owner = registry.ownerOf(did);
        if (
            wallet == owner || registry.isLinked(did, wallet)
                || registry.walletsOf(did).length == registry.MAX_WALLETS_PER_DID()
                || registry.didsOf(wallet).length == registry.MAX_DIDS_PER_WALLET()
        ) return;
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_pks[w], registry.linkConsentDigest(did, wallet, deadline));
        vm.prank(owner);
        registry.linkWallet(did, wallet, deadline, abi.encodePacked(r, s, v));
        ++calls["link"];
    }

    /// The owner tries to link a wallet with a consent the wallet signed earlier (replay): always refused.
    function replayLink(uint256 didSeed, uint256 walletSeed) external {
        uint256 did = _dids[didSeed % _dids.length];
        uint256 w = walletSeed % ACTORS;
        address wallet = actors[w];
        address owner = registry.ownerOf(did);
        if (wallet == owner || registry.isLinked(did, wallet) || registry.linkNonce(wallet) == 0) return;
        uint256 deadline = block.timestamp + 1 hours;
        uint256 staleNonce = registry.linkNonce(wallet) - 1;
        bytes32 stale = _linkDigest(did, wallet, owner, staleNonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_pks[w], stale);
        vm.prank(owner);
        try registry.linkWallet(did, wallet, deadline, abi.encodePacked(r, s, v)) {
            ++ghostUnexpectedSuccess;
        } catch {}
        ++calls["replayLink"];
    }

    function unlink(uint256 didSeed, uint256 walletSeed, bool byWallet) external {
        uint256 did = _dids[didSeed % _dids.length];
        address wallet = actors[walletSeed % ACTORS];
        if (!registry.isLinked(did, wallet)) return;
        vm.prank(byWallet ? wallet : registry.ownerOf(did));
        registry.unlink(did, wallet);
        ++calls["unlink"];
    }

    function setPrimary(uint256 actorSeed, uint256 didSeed, bool clear) external {
        address account = actors[actorSeed % ACTORS];
        uint256 did = clear ? 0 : _dids[didSeed % _dids.length];
        bool allowed = did == 0 || registry.ownerOf(did) == account || registry.isLinked(did, account);
        vm.prank(account);
        try registry.setPrimary(did) {
            if (!allowed) ++ghostUnexpectedSuccess;
        } catch {
            require(!allowed, "setPrimary refused an allowed DID");
        }
        ++calls["setPrimary"];
    }

    // ---------------------------------------------------------------- transfers

    function transfer(uint256 didSeed, uint256 toSeed, bool viaOffer) external {
        uint256 did = _dids[didSeed % _dids.length];
        uint256 t = toSeed % ACTORS;
        address to = actors[t];
        address from = registry.ownerOf(did);
        if (to == from) return;
        _ghostRevokeKeysOf(did);
        if (viaOffer) {
            vm.prank(from);
            registry.offerTransfer(did, to);
            vm.prank(to);
            registry.acceptTransfer(did);
        } else {
            uint256 deadline = block.timestamp + 1 hours;
            (uint8 v, bytes32 r, bytes32 s) =
                vm.sign(_pks[t], registry.transferConsentDigest(did, to, deadline));
            vm.prank(from);
            registry.transferWithConsent(did, to, deadline, abi.encodePacked(r, s, v));
        }
        ++calls["transfer"];
    }

    /// Plain ERC-721 transfers without consent never move a DID.
    function plainTransfer(uint256 didSeed, uint256 toSeed) external {
        uint256 did = _dids[didSeed % _dids.length];
        address to = actors[toSeed % ACTORS];
        address from = registry.ownerOf(did);
        vm.prank(from);
        try registry.transferFrom(from, to, did) {
            ++ghostUnexpectedSuccess;
        } catch {}
        ++calls["plainTransfer"];
    }

    // ---------------------------------------------------------------- keys

    function addKey(uint256 didSeed, uint256 keySeed, bool agreement) external {
        uint256 did = _dids[didSeed % _dids.length];
        bytes32 key = keccak256(abi.encode("device key", keySeed % KEY_POOL));
        bool used = ghostKeyDid[key] != 0;
        DidKeys.KeyType t = agreement ? DidKeys.KeyType.X25519 : DidKeys.KeyType.Ed25519;
        address owner = registry.ownerOf(did);
        bytes32 commitment = registry.keyCommitment(did, key, t, owner);
        vm.prank(owner);
        try registry.commit(commitment) {} catch {} // pending from an earlier refused call: still usable
        vm.warp(block.timestamp + registry.minCommitmentAge());
        vm.prank(owner);
        try registry.addKey(did, key, t, "") {
            if (ghostRevoked[key]) ++ghostRevokedKeyReAdded;
            if (used) ++ghostUnexpectedSuccess;
            ghostKeyDid[key] = did;
            keysAdded.push(key);
            ++calls["addKey"];
        } catch {
            require(used, "addKey refused a fresh key");
            ++calls["addKeyRefused"];
        }
    }

    function revokeKey(uint256 keySeed) external {
        if (keysAdded.length == 0) return;
        bytes32 key = keysAdded[keySeed % keysAdded.length];
        if (ghostRevoked[key]) return;
        uint256 did = ghostKeyDid[key];
        vm.prank(registry.ownerOf(did));
        registry.revokeKey(did, key);
        ghostRevoked[key] = true;
        ++calls["revokeKey"];
    }

    // ---------------------------------------------------------------- internal

    function _ghostRevokeKeysOf(uint256 did) internal {
        for (uint256 i; i < keysAdded.length; ++i) {
            if (ghostKeyDid[keysAdded[i]] == did) ghostRevoked[keysAdded[i]] = true;
        }
    }

    function _linkDigest(uint256 did, address wallet, address owner, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(registry.LINK_CONSENT_TYPEHASH(), did, wallet, owner, nonce, deadline)
        );
        return keccak256(abi.encodePacked("\x19\x01", registry.DOMAIN_SEPARATOR(), structHash));
    }
}
