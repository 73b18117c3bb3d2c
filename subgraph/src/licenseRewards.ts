/**
 * LicenseRewards: claims of the 12% license pool, paid to the license's owner at claim time.
 */
import { LicenseRewardClaimed } from '../generated/LicenseRewards/LicenseRewards';
import { LicenseRewardClaim } from '../generated/schema';
import { eventId, loadProtocol } from './common';
import { loadLicense } from './licenses';

export function handleLicenseRewardClaimed(event: LicenseRewardClaimed): void {
  const license = loadLicense(event.params.tokenId, event.params.owner, event);
  license.rewardsClaimed = event.params.cumulative;
  license.save();
  const claim = new LicenseRewardClaim(eventId(event));
  claim.license = license.id;
  claim.owner = event.params.owner;
  claim.amount = event.params.amount;
  claim.cumulative = event.params.cumulative;
  claim.blockNumber = event.block.number;
  claim.timestamp = event.block.timestamp;
  claim.transaction = event.transaction.hash;
  claim.save();
  const protocol = loadProtocol();
  protocol.licenseRewardsClaimed = protocol.licenseRewardsClaimed.plus(event.params.amount);
  protocol.save();
}
