/**
 * License entity helper shared by the license and license-reward mappings.
 */
import { Address, BigInt, ethereum } from '@graphprotocol/graph-ts';
import { License } from '../generated/schema';
import { ensureAccount } from './common';

/** The license entity of `tokenId`, created for a mint. */
export function loadLicense(tokenId: BigInt, owner: Address, event: ethereum.Event): License {
  let license = License.load(tokenId.toString());
  if (license == null) {
    license = new License(tokenId.toString());
    license.tokenId = tokenId;
    license.owner = ensureAccount(owner).id;
    license.burned = false;
    license.mintedAt = event.block.timestamp;
    license.rewardsClaimed = BigInt.zero();
  }
  return license as License;
}

