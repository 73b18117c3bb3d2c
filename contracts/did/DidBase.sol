// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";
import {DidNames} from "./DidNames.sol";

/// @title DidBase
/// @notice Storage and ERC-721 plumbing shared by the DID registry's parts: one slot per DID (owner,
///         generation) keyed by the DID's ENS node, and one slot per account (primary DID, ERC-721 balance).
///         The token id encodes the name (see `DidNames`) and the node is derived from it, so registering a
///         name writes only those two slots.
/// @dev OpenZeppelin's ERC721 keeps owners and balances in its own private mappings; this contract keeps
///      them in the packed slots above instead, through the hooks OZ provides for that (`_ownerOf`,
///      `balanceOf`). Ownership never moves through OZ's `_update` (mint and transfers have their own paths
///      in `DidRegistry`), so OZ's private owner and balance mappings stay empty; approvals are OZ's.
abstract contract DidBase is ERC721, EIP712 {
    using ShortStrings for string;
    using ShortStrings for ShortString;

    /// @dev One slot. `generation` counts transfers: links, keys, text records and the profile hash of
    ///      earlier generations are gone or void, and a transfer consent names the generation it moves.
    struct Did {
        address owner;
        uint32 generation;
    }

    /// @dev One slot. `primary` is a token id (names fit in 192 bits), 0 = none. `reverseRecorded` says
    ///      whether the account's reverse node has been recorded (see `DidLinks.setPrimary`).
    struct Account {
        uint192 primary;
        uint32 balance;
        bool reverseRecorded;
    }

    /// @notice ENS node of the top-level domain all DID names live under (`namehash(tld)`).
    bytes32 public immutable tldNode;
    ShortString private immutable _tld;

    mapping(bytes32 node => Did) internal _dids;
    mapping(address account => Account) internal _accounts;

    /// @notice The caller does not own the DID.
    error NotDidOwner(uint256 did, address caller);
    /// @notice The caller does not own the name behind `node`.
    error NotNodeOwner(bytes32 node, address caller);
    /// @notice No DID is registered under `node`.
    error UnknownNode(bytes32 node);
    error ConsentExpired(uint256 deadline);
    /// @notice `signer`'s EIP-712 consent is missing, malformed, for other terms, or already used.
    error InvalidConsentSignature(address signer);

    /// @param tld_ the top-level label names resolve under (e.g. `send` for `alice.send`); same rules as names.
    constructor(string memory tld_)
        ERC721("SendingNetwork DID", "DID")
        EIP712("SendingNetwork DidRegistry", "1")
    {
        DidNames.toId(bytes(tld_));
        tldNode = DidNames.node(bytes32(0), bytes(tld_));
        _tld = tld_.toShortString();
    }

    // ---------------------------------------------------------------- ERC-721

    /// @inheritdoc ERC721
    function balanceOf(address owner) public view override returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        return _accounts[owner].balance;
    }

    // ---------------------------------------------------------------- views

    /// @notice The top-level label names resolve under.
    function tld() public view returns (string memory) {
        return _tld.toString();
    }

    /// @notice ENS node of the DID `did` (`namehash("<name>.<tld>")`), registered or not.
    function nodeOf(uint256 did) public view returns (bytes32) {
        return DidNames.node(tldNode, DidNames.toLabel(did));
    }

    /// @notice The name `did` encodes, without the top-level label (registered or not).
    function nameOf(uint256 did) public pure returns (string memory) {
        return string(DidNames.toLabel(did));
    }

    /// @notice Token id of `name`; reverts with the name rule it breaks.
    function idOf(string calldata name) external pure returns (uint256) {
        return DidNames.toId(bytes(name));
    }

    /// @notice Owner of the DID registered under `node`, or zero.
    function ownerOfNode(bytes32 node) external view returns (address) {
        return _dids[node].owner;
    }

    /// @notice The DID's slot: owner (zero if unregistered) and generation (number of transfers so far).
    function didRecord(uint256 did) external view returns (Did memory) {
        return _dids[nodeOf(did)];
    }

    /// @notice The EIP-712 domain separator consents are signed under.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internal

    /// @dev Owner lookup for OZ's ERC721 (ownerOf, approvals, authorization).
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return _dids[nodeOf(tokenId)].owner;
    }

    /// @dev The DID's record if the caller owns it; reverts otherwise.
    function _requireDidOwner(bytes32 node, uint256 did) internal view returns (Did memory d) {
        d = _dids[node];
        _requireOwner(d.owner, did);
    }

    function _requireOwner(address owner, uint256 did) internal view {
        if (owner == address(0)) revert ERC721NonexistentToken(did);
        if (owner != msg.sender) revert NotDidOwner(did, msg.sender);
    }

    /// @dev The record behind `node` if the caller owns it; reverts otherwise.
    function _requireNodeOwner(bytes32 node) internal view returns (Did memory d) {
        d = _dids[node];
        if (d.owner == address(0)) revert UnknownNode(node);
        if (d.owner != msg.sender) revert NotNodeOwner(node, msg.sender);
    }

    /// @dev Reverts once `deadline` has passed.
    function _checkDeadline(uint256 deadline) internal view {
        if (block.timestamp > deadline) revert ConsentExpired(deadline);
    }

    /// @dev Reverts unless `signature` is `signer`'s signature of `digest`: a 65-byte ECDSA signature by the
    ///      account or, failing that, the account's ERC-1271 approval (smart-contract wallets).
    function _checkConsent(address signer, bytes32 digest, bytes calldata signature) internal view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)) {
            revert InvalidConsentSignature(signer);
        }
    }
}
