/**
 * TestnetPoints (points mode only, docs/points.md): reward claims pay points, so a claim's payout is the
 * points Transfer from the settlement escrow. The manifest filters Transfer to `from = EpochSettlement`
 * (the license escrow's transfers are LicenseRewardClaimed already); points cannot move otherwise.
 */
import { Transfer } from '../generated/TestnetPoints/TestnetPoints';
import { recordRewardClaim } from './common';

export function handleTransfer(event: Transfer): void {
  recordRewardClaim(event, event.params.from, event.params.to, event.params.value);
}
