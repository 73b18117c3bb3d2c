// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice What kind of asset one leg of a swap moves. Encoded as `uint8` in orders (see `Asset.kind`).
enum AssetKind {
    ERC20, // `token` is an ERC-20 contract, `amountOrId` an amount (> 0)
    ERC721, // `token` is an ERC-721 contract, `amountOrId` a token id
    ETH // native ETH, `token` must be address(0), `amountOrId` an amount in wei (> 0)
}

/// @notice One leg of a swap: what one party gives.
/// @dev `kind` is a plain `uint8` (not the enum) so that an unknown kind is rejected by the settlement with a
///      custom error naming it instead of an empty ABI-decoding revert.
struct Asset {
    uint8 kind;
    address token;
    uint256 amountOrId;
}

/// @notice A maker's signed offer: the maker gives `makerAsset` and receives `takerAsset`.
/// @dev `taker` == address(0): anyone may fill; otherwise only that address. The order is valid while
///      `block.timestamp <= expiry`. Orders of one maker that share a nonce are mutually exclusive.
struct SwapOrder {
    address maker;
    address taker;
    Asset makerAsset;
    Asset takerAsset;
    uint256 expiry;
    uint256 nonce;
}

/// @title SwapOrderLib
/// @notice EIP-712 struct hashes of swap orders (`SwapOrder` with two nested `Asset`s).
library SwapOrderLib {
    bytes32 internal constant ASSET_TYPEHASH =
        keccak256("Asset(uint8 kind,address token,uint256 amountOrId)");
    bytes32 internal constant SWAP_ORDER_TYPEHASH = keccak256(
        "SwapOrder(address maker,address taker,Asset makerAsset,Asset takerAsset,uint256 expiry,uint256 nonce)"
        "Asset(uint8 kind,address token,uint256 amountOrId)"
    );

    /// @notice EIP-712 `hashStruct` of an asset leg.
    function hash(Asset calldata asset) internal pure returns (bytes32) {
        return keccak256(abi.encode(ASSET_TYPEHASH, asset.kind, asset.token, asset.amountOrId));
    }

    /// @notice EIP-712 `hashStruct` of an order (the value signed, before the domain is applied).
    function hash(SwapOrder calldata order) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SWAP_ORDER_TYPEHASH,
                order.maker,
                order.taker,
                hash(order.makerAsset),
                hash(order.takerAsset),
                order.expiry,
                order.nonce
            )
        );
    }
}
