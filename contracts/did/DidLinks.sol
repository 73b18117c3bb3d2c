// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidBase} from "./DidBase.sol";
import {DidNames} from "./DidNames.sol";

/// @title DidLinks
/// @notice Many-to-many links between DIDs and wallets, and each wallet's primary DID.
///         A link needs both sides: the DID owner sends it with the wallet's EIP-712 `LinkConsent`. Either
///         side can remove it. Links are kept as two lists that always mirror each other (the DID's wallets,
///         the wallet's DIDs), each entry pointing at its twin, so adding and removing are O(1) writes.
///         A wallet's primary DID is always one it owns or is linked to: unlinking and transfers clear it.
/// @dev Storage per link is one slot on each side. Each list keeps its length in its entry 0 (and a wallet's
///      list also its consent nonce), so the first link of a DID and of a wallet writes exactly one fresh
///      slot on each side and nothing else. Membership is found by scanning the wallet's list, which is
///      capped at `MAX_DIDS_PER_WALLET` entries. Entries live in flat mappings keyed `(owner << 8) | index`.
abstract contract DidLinks is DidBase {
    /// @dev Entry `index` of a DID's wallet list; `walletIndex` is the position of the twin entry in the
    ///      wallet's list. `count` is the list's length, kept in entry 0 only (zero in the others).
    struct DidLink {
        address wallet;
        uint32 walletIndex;
        uint64 count;
    }

    /// @dev Entry `index` of a wallet's DID list; `didIndex` is the position of the twin entry in the DID's
    ///      list. `length` (the list's length) and `nonce` (link consents the wallet has given) are kept in
    ///      entry 0 only; entry 0 is never deleted, so the nonce survives an empty list.
    struct WalletLink {
        uint192 did;
        uint16 didIndex;
        uint16 length;
        uint32 nonce;
    }

    bytes32 public constant LINK_CONSENT_TYPEHASH =
        keccak256("LinkConsent(uint256 did,address wallet,address owner,uint256 nonce,uint256 deadline)");
    /// @notice Most wallets one DID can link (bounds the work of a transfer, which clears them all).
    uint256 public constant MAX_WALLETS_PER_DID = 32;
    /// @notice Most DIDs one wallet can be linked to (bounds the membership scan).
    uint256 public constant MAX_DIDS_PER_WALLET = 16;

    /// @dev Key `(did << 8) | index` (token ids fit in 192 bits, indexes in 8).
    mapping(uint256 key => DidLink) internal _didWallets;
    /// @dev Key `(uint160(wallet) << 8) | index`.
    mapping(uint256 key => WalletLink) internal _walletDids;
    /// @dev Reverse node (`<hex>.addr.reverse`) → the account it names, recorded on the account's first
    ///      `setPrimary` so `name(reverseNode)` can answer.
    mapping(bytes32 reverseNode => address account) internal _reverseAccounts;

    event WalletLinked(uint256 indexed did, address indexed wallet);
    /// @param by who removed the link: the DID owner or the wallet, or on a transfer whoever sent it.
    event WalletUnlinked(uint256 indexed did, address indexed wallet, address by);
    /// @notice `did` is 0 when the primary is cleared.
    event PrimaryChanged(address indexed account, uint256 indexed did);

    error WalletIsOwner(uint256 did, address wallet);
    error AlreadyLinked(uint256 did, address wallet);
    error NotLinked(uint256 did, address wallet);
    error TooManyWallets(uint256 did);
    error TooManyDids(address wallet);
    error NotOwnerOrWallet(uint256 did, address caller);
    error NotLinkedOrOwned(uint256 did, address account);

    // ---------------------------------------------------------------- links

    /// @notice Links `wallet` to `did`. Only the DID's owner, with the wallet's EIP-712
    ///         `LinkConsent(did, wallet, owner, nonce, deadline)` signature, where `owner` is the DID's current
    ///         owner and `nonce` the wallet's link nonce (`linkNonce(wallet)`, bumped by each link of the wallet,
    ///         so a consent is used at most once). `consent` is a 65-byte ECDSA signature or, for contract
    ///         wallets, whatever their ERC-1271 `isValidSignature` accepts.
    function linkWallet(uint256 did, address wallet, uint256 deadline, bytes calldata consent) external {
        _checkConsent(wallet, _link(did, wallet, deadline), consent);
    }

    /// @notice Removes the link between `did` and `wallet`. The DID's owner or the wallet itself. Clears the
    ///         wallet's primary DID if it was `did`.
    function unlink(uint256 did, address wallet) external {
        if (msg.sender != wallet && msg.sender != _dids[nodeOf(did)].owner) {
            revert NotOwnerOrWallet(did, msg.sender);
        }
        uint256 length = _walletDids[_walletKey(wallet, 0)].length;
        uint256 j = _find(wallet, did, length);
        if (j == length) revert NotLinked(did, wallet);
        _removeFromDid(did, _walletDids[_walletKey(wallet, j)].didIndex);
        _removeFromWallet(wallet, j);
        emit WalletUnlinked(did, wallet, msg.sender);
        _clearPrimaryIf(wallet, did);
    }

    // ---------------------------------------------------------------- primary

    /// @notice Sets the caller's primary DID (the name its address reverse-resolves to); `did` 0 clears it.
    ///         Any account, for a DID it owns or is linked to.
    function setPrimary(uint256 did) external {
        Account memory a = _accounts[msg.sender];
        if (did != 0 && _dids[nodeOf(did)].owner != msg.sender && !isLinked(did, msg.sender)) {
            revert NotLinkedOrOwned(did, msg.sender);
        }
        a.primary = uint192(did);
        if (!a.reverseRecorded) {
            a.reverseRecorded = true;
            _reverseAccounts[DidNames.reverseNode(msg.sender)] = msg.sender;
        }
        _accounts[msg.sender] = a;
        emit PrimaryChanged(msg.sender, did);
    }

    // ---------------------------------------------------------------- views

    /// @notice Whether `wallet` is linked to `did` (owning a DID is not a link).
    function isLinked(uint256 did, address wallet) public view returns (bool) {
        uint256 length = _walletDids[_walletKey(wallet, 0)].length;
        return _find(wallet, did, length) < length;
    }

    /// @notice The wallets linked to `did`, in storage order (removal moves the last entry into the gap).
    function walletsOf(uint256 did) external view returns (address[] memory wallets) {
        wallets = new address[](_didWallets[_didKey(did, 0)].count);
        for (uint256 i; i < wallets.length; ++i) {
            wallets[i] = _didWallets[_didKey(did, i)].wallet;
        }
    }

    /// @notice The DIDs `wallet` is linked to, in storage order (removal moves the last entry into the gap).
    function didsOf(address wallet) external view returns (uint256[] memory dids) {
        dids = new uint256[](_walletDids[_walletKey(wallet, 0)].length);
        for (uint256 j; j < dids.length; ++j) {
            dids[j] = _walletDids[_walletKey(wallet, j)].did;
        }
    }

    /// @notice The primary DID of `account` (0 = none); always one it owns or is linked to.
    function primaryOf(address account) external view returns (uint256) {
        return _accounts[account].primary;
    }

    /// @notice The nonce `wallet`'s next link consent must carry.
    function linkNonce(address wallet) external view returns (uint256) {
        return _walletDids[_walletKey(wallet, 0)].nonce;
    }

    /// @notice The EIP-712 digest `wallet` signs to consent to being linked to `did` under its current owner.
    function linkConsentDigest(uint256 did, address wallet, uint256 deadline)
        external
        view
        returns (bytes32)
    {
        return _linkDigest(
            did, wallet, _dids[nodeOf(did)].owner, _walletDids[_walletKey(wallet, 0)].nonce, deadline
        );
    }

    // ---------------------------------------------------------------- internal

    /// @dev Checks and records the link of `wallet` to `did` by the caller and returns the digest of the
    ///      consent the wallet must have signed (the caller verifies it; a bad signature reverts it all).
    function _link(uint256 did, address wallet, uint256 deadline) internal returns (bytes32 digest) {
        _checkDeadline(deadline);
        address owner = _dids[nodeOf(did)].owner;
        _requireOwner(owner, did);
        if (wallet == owner) revert WalletIsOwner(did, wallet);
        uint256 didHeadKey = _didKey(did, 0);
        uint256 count = _didWallets[didHeadKey].count;
        if (count >= MAX_WALLETS_PER_DID) revert TooManyWallets(did);
        uint256 walletHeadKey = _walletKey(wallet, 0);
        WalletLink memory head = _walletDids[walletHeadKey];
        uint256 length = head.length;
        if (length >= MAX_DIDS_PER_WALLET) revert TooManyDids(wallet);
        if (head.did == did || (length > 1 && _find(wallet, did, length) < length)) {
            revert AlreadyLinked(did, wallet);
        }
        digest = _linkDigest(did, wallet, owner, head.nonce, deadline);

        if (count == 0) {
            _didWallets[didHeadKey] = DidLink(wallet, uint32(length), 1);
        } else {
            _didWallets[_didKey(did, count)] = DidLink(wallet, uint32(length), 0);
            _didWallets[didHeadKey].count = uint64(count + 1);
        }
        if (length == 0) {
            _walletDids[walletHeadKey] = WalletLink(uint192(did), uint16(count), 1, head.nonce + 1);
        } else {
            _walletDids[_walletKey(wallet, length)] = WalletLink(uint192(did), uint16(count), 0, 0);
            _walletDids[walletHeadKey] =
                WalletLink(head.did, head.didIndex, uint16(length + 1), head.nonce + 1);
        }
        emit WalletLinked(did, wallet);
    }

    function _linkDigest(uint256 did, address wallet, address owner, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(LINK_CONSENT_TYPEHASH, did, wallet, owner, nonce, deadline))
        );
    }

    function _didKey(uint256 did, uint256 index) internal pure returns (uint256) {
        return (did << 8) | index;
    }

    function _walletKey(address wallet, uint256 index) internal pure returns (uint256) {
        return (uint256(uint160(wallet)) << 8) | index;
    }

    /// @dev Position of `did` in `wallet`'s list of `length` entries, or `length` if absent.
    function _find(address wallet, uint256 did, uint256 length) internal view returns (uint256 j) {
        for (; j < length; ++j) {
            if (_walletDids[_walletKey(wallet, j)].did == did) return j;
        }
    }

    /// @dev Removes entry `i` of `did`'s wallet list: the last entry moves into the gap and its twin learns
    ///      its new position. The wallet side is the caller's business.
    function _removeFromDid(uint256 did, uint256 i) internal {
        DidLink storage head = _didWallets[_didKey(did, 0)];
        uint256 last = head.count - 1;
        if (i != last) {
            DidLink memory moved = _didWallets[_didKey(did, last)];
            DidLink storage gap = _didWallets[_didKey(did, i)];
            gap.wallet = moved.wallet;
            gap.walletIndex = moved.walletIndex;
            _walletDids[_walletKey(moved.wallet, moved.walletIndex)].didIndex = uint16(i);
        }
        if (last == 0) {
            delete _didWallets[_didKey(did, 0)];
        } else {
            delete _didWallets[_didKey(did, last)];
            head.count = uint64(last);
        }
    }

    /// @dev Removes entry `j` of `wallet`'s DID list: the last entry moves into the gap and its twin learns
    ///      its new position; entry 0 keeps the nonce. The DID side is the caller's business.
    function _removeFromWallet(address wallet, uint256 j) internal {
        WalletLink storage head = _walletDids[_walletKey(wallet, 0)];
        uint256 last = head.length - 1;
        if (j != last) {
            WalletLink memory moved = _walletDids[_walletKey(wallet, last)];
            WalletLink storage gap = _walletDids[_walletKey(wallet, j)];
            gap.did = moved.did;
            gap.didIndex = moved.didIndex;
            _didWallets[_didKey(moved.did, moved.didIndex)].walletIndex = uint32(j);
        }
        if (last == 0) {
            head.did = 0;
            head.didIndex = 0;
        } else {
            delete _walletDids[_walletKey(wallet, last)];
        }
        head.length = uint16(last);
    }

    /// @dev Removes every link of `did`, clearing the wallets' primary if it was `did`, except for
    ///      `keepPrimary` (the new owner on a transfer).
    function _clearLinks(uint256 did, address keepPrimary) internal {
        for (uint256 i = _didWallets[_didKey(did, 0)].count; i > 0;) {
            --i;
            DidLink memory link = _didWallets[_didKey(did, i)];
            delete _didWallets[_didKey(did, i)];
            _removeFromWallet(link.wallet, link.walletIndex);
            emit WalletUnlinked(did, link.wallet, msg.sender);
            if (link.wallet != keepPrimary) _clearPrimaryIf(link.wallet, did);
        }
    }

    function _clearPrimaryIf(address account, uint256 did) internal {
        Account storage a = _accounts[account];
        if (a.primary == did) {
            a.primary = 0;
            emit PrimaryChanged(account, 0);
        }
    }
}
