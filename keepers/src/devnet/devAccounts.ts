import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { bytesToHex } from 'viem';

/** Anvil's well-known development mnemonic: its accounts are funded on every fresh anvil. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** Development account `index` of the anvil mnemonic (0 deploys, 1 is the devnet treasury, 3-9 guard). */
export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export function devPrivateKey(index: number): `0x${string}` {
  const key = devAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for dev account ${index}`);
  return bytesToHex(key);
}
