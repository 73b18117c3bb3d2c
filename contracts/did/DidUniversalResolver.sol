// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {DidNames} from "./DidNames.sol";
import {DidRegistry} from "./DidRegistry.sol";
import {
    IAddrResolver,
    IAddressResolver,
    ITextResolver,
    IContentHashResolver,
    INameResolver
} from "./interfaces/IEnsResolver.sol";

/// @title DidUniversalResolver
/// @notice The entry point standard ENS clients call (the ENS Universal Resolver interface as viem 2.x uses
///         it: `resolveWithGateways`, `reverseWithGateways`, `findResolver`), answering for DID names only.
///         Pass its address as `universalResolverAddress` to viem's `getEnsAddress`, `getEnsText`,
///         `getEnsName`, `getEnsResolver`. Everything is answered on-chain from the registry,
///         so gateway URLs (EIP-3668) are accepted and ignored.
/// @dev Errors are the ENS Universal Resolver's, so clients map them as they do for ENS (viem turns
///      `ResolverNotFound` and `UnsupportedResolverProfile` into `null`).
///      Reverse resolution answers with the account's primary DID; the registry only keeps a primary the
///      account owns or is linked to (by the DID owner, with the account's signed consent), and that is the
///      check made here in place of ENS's forward `addr` comparison, so linked wallets resolve too.
contract DidUniversalResolver is ERC165 {
    uint256 public constant COIN_TYPE_ETH = 60;
    /// @notice ENSIP-11: EVM chain `id` has coin type `COIN_TYPE_EVM_FLAG | id`.
    uint256 public constant COIN_TYPE_EVM_FLAG = 1 << 31;

    DidRegistry public immutable registry;
    bytes32 private immutable _tldNode;
    /// @dev keccak256 of the DNS-encoded tail every DID name ends with: `[len]<tld>[0]`.
    bytes32 private immutable _tldSuffixHash;

    /// @notice The name is not `<label>.<tld>` or no DID is registered under it.
    error ResolverNotFound(bytes name);
    /// @notice The registry does not answer this resolver function.
    error UnsupportedResolverProfile(bytes4 selector);
    /// @notice Reverse resolution of an empty address.
    error EmptyAddress();

    constructor(DidRegistry registry_) {
        registry = registry_;
        _tldNode = registry_.tldNode();
        bytes memory label = bytes(registry_.tld());
        _tldSuffixHash = keccak256(abi.encodePacked(uint8(label.length), label, uint8(0)));
    }

    /// @notice Forward resolution: answers the ABI-encoded resolver call `data` (`addr(node)`,
    ///         `addr(node, coinType)`, `text(node, key)`, `contenthash(node)`, `name(node)`) for the DNS-encoded
    ///         `name`. Anyone. Reverts `ResolverNotFound` for names that are not registered DIDs and
    ///         `UnsupportedResolverProfile` for other calls.
    /// @return result the resolver's ABI-encoded answer.
    /// @return resolver the registry.
    function resolveWithGateways(bytes calldata name, bytes calldata data, string[] calldata)
        external
        view
        returns (bytes memory result, address resolver)
    {
        if (registry.ownerOfNode(_nodeOf(name)) == address(0)) revert ResolverNotFound(name);
        bytes4 selector = bytes4(data);
        if (selector == IAddrResolver.addr.selector) {
            result = abi.encode(registry.addr(abi.decode(data[4:], (bytes32))));
        } else if (selector == IAddressResolver.addr.selector) {
            (bytes32 node, uint256 coinType) = abi.decode(data[4:], (bytes32, uint256));
            result = abi.encode(registry.addr(node, coinType));
        } else if (selector == ITextResolver.text.selector) {
            (bytes32 node, string memory key) = abi.decode(data[4:], (bytes32, string));
            result = abi.encode(registry.text(node, key));
        } else if (selector == IContentHashResolver.contenthash.selector) {
            result = abi.encode(registry.contenthash(abi.decode(data[4:], (bytes32))));
        } else if (selector == INameResolver.name.selector) {
            result = abi.encode(registry.name(abi.decode(data[4:], (bytes32))));
        } else {
            revert UnsupportedResolverProfile(selector);
        }
        resolver = address(registry);
    }

    /// @notice Reverse resolution: the primary DID name (`<name>.<tld>`) of the 20-byte `lookupAddress` for
    ///         coin type 60 or this chain's ENSIP-11 coin type. Anyone. Empty name if the account has none,
    ///         the address is not 20 bytes, or the coin type is another chain's.
    /// @return primary the name, or empty.
    /// @return resolver the registry if a name was found.
    /// @return reverseResolver the registry (it answers `name` for reverse nodes), for supported coin types.
    function reverseWithGateways(bytes calldata lookupAddress, uint256 coinType, string[] calldata)
        external
        view
        returns (string memory primary, address resolver, address reverseResolver)
    {
        if (lookupAddress.length == 0) revert EmptyAddress();
        bool evm = coinType == COIN_TYPE_ETH || coinType == (COIN_TYPE_EVM_FLAG | block.chainid);
        if (lookupAddress.length != 20 || !evm) return ("", address(0), address(0));
        primary = registry.name(DidNames.reverseNode(address(bytes20(lookupAddress))));
        reverseResolver = address(registry);
        if (bytes(primary).length != 0) resolver = reverseResolver;
    }

    /// @notice The resolver of the DNS-encoded `name`: the registry, the name's node and offset 0 for a
    ///         registered DID name; zero resolver otherwise. Anyone.
    function findResolver(bytes calldata name)
        external
        view
        returns (address resolver, bytes32 node, uint256 offset)
    {
        node = _nodeOf(name);
        if (registry.ownerOfNode(node) != address(0)) resolver = address(registry);
        offset = 0;
    }

    /// @dev The node of a DNS-encoded `<label>.<tld>`, or zero for any other shape.
    function _nodeOf(bytes calldata name) internal view returns (bytes32) {
        if (name.length == 0) return bytes32(0);
        uint256 labelEnd = 1 + uint8(name[0]);
        if (labelEnd == 1 || labelEnd >= name.length || keccak256(name[labelEnd:]) != _tldSuffixHash) {
            return bytes32(0);
        }
        return DidNames.node(_tldNode, name[1:labelEnd]);
    }
}
