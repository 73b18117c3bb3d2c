/**
 * Chat-to-trade swap orders (`SwapSettlement`): EIP-712 types and domain, order hashes and signing with a
 * viem account. Pure: chat clients, the gas benchmark and the tests use these very functions.
 */
import { hashStruct, hashTypedData, zeroAddress, type Address, type Hex, type TypedDataDomain } from 'viem';

/** `AssetKind` in contracts/swap/SwapOrderLib.sol (encoded as uint8). */
export const AssetKind = { ERC20: 0, ERC721: 1, ETH: 2 } as const;
export type AssetKind = (typeof AssetKind)[keyof typeof AssetKind];

/** One leg of a swap: what one party gives. `amountOrId` is an amount (ERC-20, ETH in wei) or a token id. */
export interface Asset {
  kind: number;
  token: Address;
  amountOrId: bigint;
}

/** A maker's offer: the maker gives `makerAsset` for `takerAsset`. `taker` zero = anyone may fill. */
export interface SwapOrder {
  maker: Address;
  taker: Address;
  makerAsset: Asset;
  takerAsset: Asset;
  /** Unix seconds; the order fills while `block.timestamp <= expiry`. */
  expiry: bigint;
  /** Per-maker; orders sharing a nonce are mutually exclusive. */
  nonce: bigint;
}

export const SWAP_ORDER_TYPES = {
  SwapOrder: [
    { name: 'maker', type: 'address' },
    { name: 'taker', type: 'address' },
    { name: 'makerAsset', type: 'Asset' },
    { name: 'takerAsset', type: 'Asset' },
    { name: 'expiry', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
  ],
  Asset: [
    { name: 'kind', type: 'uint8' },
    { name: 'token', type: 'address' },
    { name: 'amountOrId', type: 'uint256' },
  ],
} as const;

export const SWAP_DOMAIN_NAME = 'SendingNetwork SwapSettlement';
export const SWAP_DOMAIN_VERSION = '1';

/** EIP-712 domain of a SwapSettlement deployment. */
export function swapDomain(chainId: number, swapSettlement: Address): TypedDataDomain {
  return { name: SWAP_DOMAIN_NAME, version: SWAP_DOMAIN_VERSION, chainId, verifyingContract: swapSettlement };
}

export const erc20 = (token: Address, amount: bigint): Asset => ({ kind: AssetKind.ERC20, token, amountOrId: amount });
export const erc721 = (token: Address, tokenId: bigint): Asset => ({
  kind: AssetKind.ERC721,
  token,
  amountOrId: tokenId,
});
export const eth = (amount: bigint): Asset => ({ kind: AssetKind.ETH, token: zeroAddress, amountOrId: amount });

/** EIP-712 `hashStruct` of the order (before the domain is applied). */
export function swapOrderStructHash(order: SwapOrder): Hex {
  return hashStruct({ data: { ...order }, primaryType: 'SwapOrder', types: SWAP_ORDER_TYPES });
}

/** The EIP-712 digest the maker signs; equals `SwapSettlement.hashOrder(order)` and the `OrderFilled` hash. */
export function swapOrderHash(domain: TypedDataDomain, order: SwapOrder): Hex {
  return hashTypedData({ domain, types: SWAP_ORDER_TYPES, primaryType: 'SwapOrder', message: { ...order } });
}

/** Anything that signs EIP-712 typed data (a viem local account, or a wallet client bound to an account). */
export interface TypedDataSigner {
  address: Address;
  signTypedData(parameters: {
    domain: TypedDataDomain;
    types: typeof SWAP_ORDER_TYPES;
    primaryType: 'SwapOrder';
    message: SwapOrder;
  }): Promise<Hex>;
}

/**
 * Checks what `fill` checks about the order's shape (known kinds, ETH legs without a token, token legs with
 * one, non-zero amounts, not ETH for ETH, maker set and not its own taker); throws a message naming the
 * problem. Expiry, nonces, balances and approvals are on-chain state: see `SwapSettlement.checkOrder`.
 */
export function assertWellFormedOrder(order: SwapOrder): void {
  for (const [side, asset] of [
    ['maker', order.makerAsset],
    ['taker', order.takerAsset],
  ] as const) {
    if (!Object.values(AssetKind).includes(asset.kind as AssetKind)) {
      throw new RangeError(`${side} leg: unknown asset kind ${asset.kind}`);
    }
    if (asset.kind === AssetKind.ETH && asset.token !== zeroAddress) {
      throw new RangeError(`${side} leg: an ETH leg must not name a token (${asset.token})`);
    }
    if (asset.kind !== AssetKind.ETH && asset.token === zeroAddress) {
      throw new RangeError(`${side} leg: an ERC-20 / ERC-721 leg needs a token address`);
    }
    if (asset.amountOrId < 0n || asset.amountOrId >= 1n << 256n) {
      throw new RangeError(`${side} leg: amountOrId outside the uint256 range`);
    }
    if (asset.kind !== AssetKind.ERC721 && asset.amountOrId === 0n) {
      throw new RangeError(`${side} leg: zero amount`);
    }
  }
  if (order.makerAsset.kind === AssetKind.ETH && order.takerAsset.kind === AssetKind.ETH) {
    throw new RangeError('both legs are ETH');
  }
  if (order.maker === zeroAddress) throw new RangeError('maker is the zero address');
  if (order.taker.toLowerCase() === order.maker.toLowerCase()) throw new RangeError('the maker cannot be the taker');
}

/**
 * Signs `order` as its maker: a 65-byte `r, s, v` signature, what `fill` takes for a maker without code.
 * `signerIsNotMaker` allows signing for a contract maker whose ERC-1271 check accepts this key's signature.
 */
export async function signSwapOrder(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  order: SwapOrder,
  options: { signerIsNotMaker?: boolean } = {},
): Promise<Hex> {
  if (!options.signerIsNotMaker && signer.address.toLowerCase() !== order.maker.toLowerCase()) {
    throw new Error(`signer ${signer.address} is not the order's maker ${order.maker}`);
  }
  assertWellFormedOrder(order);
  return signer.signTypedData({ domain, types: SWAP_ORDER_TYPES, primaryType: 'SwapOrder', message: order });
}
