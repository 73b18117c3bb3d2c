/**
 * Guardian sets (GuardianQuorum events emitted by EpochSettlement): a proposal is Pending until activated;
 * activation retires the previous active set and flips each guardian's `active` flag.
 */
import { Address, BigInt, Bytes, ethereum } from '@graphprotocol/graph-ts';
import { Guardian, GuardianSet } from '../generated/schema';
import { loadProtocol } from './common';

function loadSet(id: i32, members: Address[], threshold: i32): GuardianSet {
  let set = GuardianSet.load(id.toString());
  if (set == null) {
    set = new GuardianSet(id.toString());
    set.setId = id;
    set.status = 'Pending';
  }
  const list = new Array<Bytes>();
  for (let i = 0; i < members.length; i++) list.push(members[i]);
  set.members = list;
  set.threshold = threshold;
  return set as GuardianSet;
}

export function recordGuardianSetProposed(id: i32, members: Address[], threshold: i32, activatesAt: BigInt, event: ethereum.Event): void {
  const protocol = loadProtocol();
  const previous = protocol.pendingGuardianSet;
  if (previous !== null && previous != id.toString()) {
    const replaced = GuardianSet.load(previous);
    if (replaced != null && replaced.status == 'Pending') {
      replaced.status = 'Replaced';
      replaced.save();
    }
  }
  const set = loadSet(id, members, threshold);
  set.proposedAt = event.block.timestamp;
  set.activatesAt = activatesAt;
  set.save();
  protocol.pendingGuardianSet = set.id;
  protocol.save();
}

export function recordGuardianSetActivated(id: i32, members: Address[], threshold: i32, event: ethereum.Event): void {
  const protocol = loadProtocol();
  const previousId = protocol.activeGuardianSet;
  if (previousId !== null) {
    const previous = GuardianSet.load(previousId);
    if (previous != null) {
      previous.status = 'Retired';
      previous.retiredAt = event.block.timestamp;
      previous.save();
      const old = previous.members;
      for (let i = 0; i < old.length; i++) {
        const guardian = Guardian.load(old[i]);
        if (guardian != null) {
          guardian.active = false;
          guardian.save();
        }
      }
    }
  }
  const set = loadSet(id, members, threshold);
  set.status = 'Active';
  set.activatedAt = event.block.timestamp;
  set.save();
  for (let i = 0; i < members.length; i++) {
    let guardian = Guardian.load(members[i]);
    if (guardian == null) {
      guardian = new Guardian(members[i]);
      guardian.firstActiveAt = event.block.timestamp;
    }
    guardian.active = true;
    guardian.latestSet = set.id;
    guardian.save();
  }
  protocol.activeGuardianSet = set.id;
  const pending = protocol.pendingGuardianSet;
  if (pending !== null && pending == set.id) protocol.pendingGuardianSet = null;
  protocol.save();
}
