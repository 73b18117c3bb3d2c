// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice ENS resolver profiles the DID registry answers (ERC-137, ENSIP-1/3/5/7/9). Each is its own
///         interface so its ERC-165 id is exactly the one ENS clients probe for.
/// @dev ERC-165 ids: addr 0x3b3b57de, addr+coinType 0xf1cb7e06, text 0x59d1d43c, contenthash 0xbc1c58d1,
///      name 0x691f3431.
interface IAddrResolver {
    /// @notice The Ethereum address of `node` (ERC-137).
    function addr(bytes32 node) external view returns (address);
}

interface IAddressResolver {
    /// @notice The address of `node` on the chain `coinType` (ENSIP-9, ENSIP-11), in that chain's binary form.
    function addr(bytes32 node, uint256 coinType) external view returns (bytes memory);
}

interface ITextResolver {
    /// @notice The text record `key` of `node` (ENSIP-5).
    function text(bytes32 node, string calldata key) external view returns (string memory);
}

interface IContentHashResolver {
    /// @notice The content hash of `node` (ENSIP-7).
    function contenthash(bytes32 node) external view returns (bytes memory);
}

interface INameResolver {
    /// @notice The name record of `node`; for reverse nodes, the primary name of the address (ENSIP-3).
    function name(bytes32 node) external view returns (string memory);
}
