// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DidLinks} from "./DidLinks.sol";
import {
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
} from "./interfaces/IEnsResolver.sol";

/// @title DidRecords
/// @notice The ENS resolver profiles of DID names (`<name>.<tld>`), answered by the registry itself:
///         `addr` is the DID's owner, `text` records and `contenthash` (the profile pointer: settings and social
///         graph a new device restores) are set by the owner, and `name` answers reverse nodes
///         (`<hex>.addr.reverse`) with the account's primary DID name.
/// @dev Records are kept per generation: a transfer starts the new owner with no text records and no
///      profile hash, without deleting anything.
abstract contract DidRecords is
    DidLinks,
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
{
    /// @notice ENSIP-9 coin type of Ether; `addr(node, coinType)` also answers this chain's ENSIP-11 type.
    uint256 public constant COIN_TYPE_ETH = 60;
    uint256 internal constant _EVM_COIN_TYPE_FLAG = 1 << 31;

    mapping(bytes32 node => mapping(uint32 generation => mapping(string key => string))) internal _texts;
    mapping(bytes32 node => mapping(uint32 generation => bytes)) internal _contenthashes;

    /// @notice ENS `TextResolver` event.
    event TextChanged(bytes32 indexed node, string indexed indexedKey, string key, string value);
    /// @notice ENS `ContentHashResolver` event; for DIDs, the profile pointer changed.
    event ContenthashChanged(bytes32 indexed node, bytes hash);

    // ---------------------------------------------------------------- setters

    /// @notice Sets the text record `key` (e.g. `avatar`, `com.sendingnetwork.profile`) of the DID name
    ///         `node`; an empty value deletes it. Only the DID's owner.
    function setText(bytes32 node, string calldata key, string calldata value) external {
        Did memory d = _requireNodeOwner(node);
        _texts[node][d.generation][key] = value;
        emit TextChanged(node, key, key, value);
    }

    /// @notice Sets the profile content hash of the DID name `node` (ENSIP-7 encoding, e.g. an IPFS CID of
    ///         the settings and social-graph document); empty clears it. Only the DID's owner.
    function setContenthash(bytes32 node, bytes calldata hash) external {
        Did memory d = _requireNodeOwner(node);
        _contenthashes[node][d.generation] = hash;
        emit ContenthashChanged(node, hash);
    }

    // ---------------------------------------------------------------- ENS resolver profiles

    /// @inheritdoc IAddrResolver
    /// @dev The DID's owner; zero for unregistered names.
    function addr(bytes32 node) external view returns (address) {
        return _dids[node].owner;
    }

    /// @inheritdoc IAddressResolver
    /// @dev The owner's 20 bytes for coin type 60 and this chain's ENSIP-11 coin type; empty otherwise and for
    ///      unregistered names.
    function addr(bytes32 node, uint256 coinType) external view returns (bytes memory) {
        address owner = _dids[node].owner;
        bool evm = coinType == COIN_TYPE_ETH || coinType == (_EVM_COIN_TYPE_FLAG | block.chainid);
        if (owner == address(0) || !evm) return "";
        return abi.encodePacked(owner);
    }

    /// @inheritdoc ITextResolver
    function text(bytes32 node, string calldata key) external view returns (string memory) {
        return _texts[node][_dids[node].generation][key];
    }

    /// @inheritdoc IContentHashResolver
    /// @dev The DID's profile pointer.
    function contenthash(bytes32 node) external view returns (bytes memory) {
        return _contenthashes[node][_dids[node].generation];
    }

    /// @inheritdoc INameResolver
    /// @dev For the reverse node of an account that has set a primary DID: `<name>.<tld>`. Empty for every
    ///      other node (forward names have no name record).
    function name(bytes32 node) external view returns (string memory) {
        address account = _reverseAccounts[node];
        if (account == address(0)) return "";
        uint256 primary = _accounts[account].primary;
        if (primary == 0) return "";
        return string.concat(nameOf(primary), ".", tld());
    }
}
