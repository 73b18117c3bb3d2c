import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { getAddress, type Address } from 'viem';
import { SendnetError } from '../core/errors.js';
import { describeZodError, hexString } from '../core/wire.js';

const address = hexString(20, 'must be a 0x-prefixed 20-byte hex address').transform(
  (value) => getAddress(value) as Address,
);

/** `deployments/<chainId>.json`, written by script/Deploy.s.sol. */
export const addressBookSchema = z.object({
  chainId: z.number().int().positive(),
  startBlock: z.number().int().nonnegative(),
  deployer: address,
  owner: address,
  config: z.string(),
  genesisTime: z.number().int().nonnegative(),
  epochDurationSeconds: z.number().int().positive(),
  disputeWindowSeconds: z.number().int().positive(),
  contracts: z.object({
    SendToken: address,
    NodeStaking: address,
    EpochSettlement: address,
    WatchDogLicense: address,
    WatchDogPresale: address,
    LicenseRewards: address,
    PaymentToken: address,
    DidRegistry: address,
    DidUniversalResolver: address,
    SwapSettlement: address,
    /** Points mode only (docs/points.md): the points token the settlement and license rewards pay. */
    TestnetPoints: address.optional(),
    /** Points mode only: converts the last points root into SEND. */
    PointsConversion: address.optional(),
  }),
});

export type AddressBook = z.infer<typeof addressBookSchema>;

export class AddressBookError extends SendnetError {
  override name = 'AddressBookError';
  override readonly code = 'address-book';
}

/** Reads and validates an address book; the error names the file and the offending field. */
export function loadAddressBook(path: string): AddressBook {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AddressBookError(`cannot read address book ${path}: ${(error as Error).message}`);
  }
  const parsed = addressBookSchema.safeParse(raw);
  if (!parsed.success)
    throw new AddressBookError(`address book ${path}: ${describeZodError(parsed.error, { separator: ' ' })}`);
  return parsed.data;
}
