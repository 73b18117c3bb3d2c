/**
 * PointsConversion (points mode only, docs/points.md): the snapshot of the last points root, each leaf's
 * conversion into SEND (node key, account or license; once each), funding and the sweep after the deadline.
 */
import { Address, BigInt, Bytes } from '@graphprotocol/graph-ts';
import { Converted, Funded, SnapshotTaken, Swept } from '../generated/PointsConversion/PointsConversion';
import { License, Node, PointsConversion, PointsConverted, PointsFunding, PointsSweep } from '../generated/schema';
import { eventId } from './common';

export const POINTS_ID = 'points';
/** PointsConversion.LeafKind, in declaration order. */
const LEAF_KINDS = ['Node', 'Account', 'License'];

function loadConversion(address: Address): PointsConversion {
  let c = PointsConversion.load(POINTS_ID);
  if (c == null) {
    c = new PointsConversion(POINTS_ID);
    c.address = address;
    c.totalFunded = BigInt.zero();
    c.totalConverted = BigInt.zero();
    c.totalSwept = BigInt.zero();
    c.accountPointsConverted = BigInt.zero();
    c.licensePointsConverted = BigInt.zero();
    c.conversionCount = 0;
  }
  return c as PointsConversion;
}

export function handleSnapshotTaken(event: SnapshotTaken): void {
  const c = loadConversion(event.address);
  c.snapshotEpoch = event.params.epoch.toI32();
  c.snapshotRoot = event.params.root;
  c.snapshotTotalCumulative = event.params.totalCumulative;
  c.snapshotLicenseEmitted = event.params.licenseEmitted;
  c.snapshotBy = event.params.by;
  c.snapshotAt = event.block.timestamp;
  c.save();
}

export function handleConverted(event: Converted): void {
  const c = loadConversion(event.address);
  const kindIndex = event.params.kind;
  const kind = kindIndex < LEAF_KINDS.length ? LEAF_KINDS[kindIndex] : 'Kind' + kindIndex.toString();
  const record = new PointsConverted(eventId(event));
  record.conversion = c.id;
  record.kind = kind;
  if (kind == 'License') {
    record.tokenId = event.params.id;
    const license = License.load(event.params.id.toString());
    if (license != null) record.license = license.id;
    c.licensePointsConverted = c.licensePointsConverted.plus(event.params.points);
  } else {
    // the id is the node key or account as uint160: its 20 bytes, big-endian
    const account = Bytes.fromHexString('0x' + event.params.id.toHex().slice(2).padStart(40, '0'));
    record.account = account;
    if (kind == 'Node' && Node.load(account) != null) record.node = account;
    c.accountPointsConverted = c.accountPointsConverted.plus(event.params.points);
  }
  record.recipient = event.params.recipient;
  record.points = event.params.points;
  record.amount = event.params.amount;
  record.blockNumber = event.block.number;
  record.timestamp = event.block.timestamp;
  record.transaction = event.transaction.hash;
  record.save();
  c.totalConverted = c.totalConverted.plus(event.params.amount);
  c.conversionCount += 1;
  c.save();
}

export function handleFunded(event: Funded): void {
  const c = loadConversion(event.address);
  c.totalFunded = event.params.totalFunded;
  c.save();
  const record = new PointsFunding(eventId(event));
  record.conversion = c.id;
  record.from = event.params.from;
  record.amount = event.params.amount;
  record.totalFunded = event.params.totalFunded;
  record.blockNumber = event.block.number;
  record.timestamp = event.block.timestamp;
  record.transaction = event.transaction.hash;
  record.save();
}

export function handleSwept(event: Swept): void {
  const c = loadConversion(event.address);
  c.totalSwept = c.totalSwept.plus(event.params.amount);
  c.save();
  const record = new PointsSweep(eventId(event));
  record.conversion = c.id;
  record.treasury = event.params.treasury;
  record.amount = event.params.amount;
  record.by = event.params.by;
  record.blockNumber = event.block.number;
  record.timestamp = event.block.timestamp;
  record.transaction = event.transaction.hash;
  record.save();
}
