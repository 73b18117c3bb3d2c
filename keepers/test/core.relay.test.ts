/**
 * Relay receipts: hashes against an independent ABI encoder (ethers), Ed25519 against RFC 8032, the wire
 * schemas, and every rejection reason of `checkReceipt`, `checkReceiptKeys` and `checkEnvelope`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbiCoder, keccak256 as ethersKeccak } from 'ethers';
import { hexToBytes, type Address, type Hex } from 'viem';
import {
  DeviceKeyMismatchError,
  RelayFormatError,
  ackHash,
  ackTicket,
  checkEnvelope,
  checkReceipt,
  checkReceiptKeys,
  deviceKeyFromSeed,
  ed25519Sign,
  ed25519Verify,
  generateDeviceKey,
  parseEnvelope,
  parseReceipt,
  parseTicket,
  receiptLeafHash,
  signAck,
  signTicket,
  sizeUnits,
  ticketHash,
  verifyAckSignature,
  verifyTicketSignature,
  type DeviceKey,
  type KeyDirectory,
  type Receipt,
  type UnsignedTicket,
} from '../src/core/relay.js';

const abi = AbiCoder.defaultAbiCoder();
const NODE: Address = '0x1111111111111111111111111111111111111111';
const sender = generateDeviceKey();
const recipient = generateDeviceKey();

function unsignedTicket(overrides: Partial<UnsignedTicket> = {}): UnsignedTicket {
  return {
    envelopeId: `0x${'ab'.repeat(32)}`,
    node: NODE,
    epoch: 7,
    units: 3,
    recipientKey: recipient.publicKey,
    senderKey: sender.publicKey,
    senderDid: '12345678901234567890123456789',
    ...overrides,
  };
}

function makeReceipt(
  overrides: Partial<UnsignedTicket> = {},
  from: DeviceKey = sender,
  to: DeviceKey = recipient,
): Receipt {
  const ticket = signTicket(
    unsignedTicket({ senderKey: from.publicKey, recipientKey: to.publicKey, ...overrides }),
    from,
  );
  return { ticket, ack: ackTicket(ticket, '42', to) };
}

test('Ed25519 matches RFC 8032 test vector 1 (raw keys wrapped as SPKI/PKCS8)', () => {
  const key = deviceKeyFromSeed('0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  assert.equal(key.publicKey, '0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const signature = ed25519Sign(new Uint8Array(0), key);
  assert.equal(
    signature,
    '0xe5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  assert.ok(ed25519Verify(key.publicKey, new Uint8Array(0), signature));
  assert.ok(!ed25519Verify(key.publicKey, new Uint8Array([0]), signature));
  // malformed inputs never throw
  assert.ok(!ed25519Verify('0x1234', new Uint8Array(0), signature));
  assert.ok(!ed25519Verify(key.publicKey, new Uint8Array(0), '0x00'));
});

test('generateDeviceKey gives a 32-byte public key and a seed that rebuilds it', () => {
  const key = generateDeviceKey();
  assert.match(key.publicKey, /^0x[0-9a-f]{64}$/);
  assert.match(key.seed, /^0x[0-9a-f]{64}$/);
  assert.equal(deviceKeyFromSeed(key.seed).publicKey, key.publicKey);
  // signing with the seed, the KeyObject or the pair gives the same (deterministic) signature
  const msg = new Uint8Array([1, 2, 3]);
  assert.equal(ed25519Sign(msg, key.seed), ed25519Sign(msg, key.privateKey));
  assert.equal(ed25519Sign(msg, key), ed25519Sign(msg, key.seed));
});

test('ticket, ack and leaf hashes equal an independent abi.encode (ethers)', () => {
  const { ticket, ack } = makeReceipt();
  const expectedTicket = ethersKeccak(
    abi.encode(
      ['string', 'bytes32', 'address', 'uint32', 'uint32', 'bytes32', 'bytes32', 'uint256'],
      [
        'SN-TICKET-1',
        ticket.envelopeId,
        ticket.node,
        ticket.epoch,
        ticket.units,
        ticket.recipientKey,
        ticket.senderKey,
        ticket.senderDid,
      ],
    ),
  );
  assert.equal(ticketHash(ticket), expectedTicket);
  assert.equal(ack.ticketHash, expectedTicket);
  const expectedAck = ethersKeccak(
    abi.encode(['string', 'bytes32', 'bytes32', 'uint256'], ['SN-ACK-1', expectedTicket, ack.recipientKey, 42n]),
  );
  assert.equal(ackHash(ack), expectedAck);
  assert.equal(
    receiptLeafHash({ ticket, ack }),
    ethersKeccak(abi.encode(['bytes32', 'bytes32'], [expectedTicket, expectedAck])),
  );
});

test('signatures verify, and changing any signed field breaks them', () => {
  const { ticket, ack } = makeReceipt();
  assert.ok(verifyTicketSignature(ticket));
  assert.ok(verifyAckSignature(ack));
  const other = generateDeviceKey();
  const ticketTampers: Partial<UnsignedTicket>[] = [
    { envelopeId: `0x${'cd'.repeat(32)}` },
    { node: '0x2222222222222222222222222222222222222222' },
    { epoch: 8 },
    { units: 4 },
    { recipientKey: other.publicKey },
    { senderKey: other.publicKey },
    { senderDid: '1' },
  ];
  for (const change of ticketTampers)
    assert.ok(!verifyTicketSignature({ ...ticket, ...change }), JSON.stringify(change));
  assert.ok(!verifyAckSignature({ ...ack, recipientDid: '43' }));
  assert.ok(!verifyAckSignature({ ...ack, ticketHash: `0x${'00'.repeat(32)}` }));
  assert.ok(!verifyAckSignature({ ...ack, recipientKey: other.publicKey }));
  const flipped = (ticket.sig.slice(0, -1) + (ticket.sig.endsWith('0') ? '1' : '0')) as Hex;
  assert.ok(!verifyTicketSignature({ ...ticket, sig: flipped }));
});

test('signing with a key that is not the named one throws', () => {
  assert.throws(() => signTicket(unsignedTicket(), recipient), DeviceKeyMismatchError);
  const ticket = signTicket(unsignedTicket(), sender);
  assert.throws(() => ackTicket(ticket, '42', sender), DeviceKeyMismatchError);
  assert.throws(
    () => signAck({ ticketHash: ticketHash(ticket), recipientKey: recipient.publicKey, recipientDid: '-1' }, recipient),
    RelayFormatError,
  );
});

test('sizeUnits: max(1, ceil(bytes / 1024))', () => {
  assert.deepEqual([0, 1, 1024, 1025, 2048, 65536].map(sizeUnits), [1, 1, 1, 2, 2, 64]);
  assert.throws(() => sizeUnits(-1), RangeError);
  assert.throws(() => sizeUnits(1.5), RangeError);
});

test('wire schemas normalise hex to lowercase and name the bad field', () => {
  const { ticket, ack } = makeReceipt();
  const upper = JSON.parse(
    JSON.stringify({ ticket: { ...ticket, node: NODE.toUpperCase().replace('0X', '0x') }, ack }),
  );
  upper.ticket.envelopeId = upper.ticket.envelopeId.toUpperCase().replace('0X', '0x');
  const parsed = parseReceipt(upper);
  assert.deepEqual(parsed, { ticket, ack });
  assert.throws(() => parseTicket({ ...ticket, senderDid: 5 }), /senderDid/);
  assert.throws(() => parseTicket({ ...ticket, senderDid: '007' }), /senderDid: not a canonical decimal/);
  assert.throws(
    () => parseTicket({ ...ticket, senderDid: (1n << 256n).toString() }),
    /senderDid: does not fit in uint256/,
  );
  assert.throws(() => parseTicket({ ...ticket, epoch: -1 }), /epoch/);
  assert.throws(() => parseTicket({ ...ticket, units: 1.5 }), /units/);
  assert.throws(() => parseTicket({ ...ticket, sig: '0x12' }), /sig: not a 64-byte/);
  assert.throws(() => parseTicket({ ...ticket, node: '0x12' }), RelayFormatError);
  // round trip through JSON is the identity
  assert.deepEqual(parseReceipt(JSON.parse(JSON.stringify({ ticket, ack }))), { ticket, ack });
});

test('checkReceipt accepts a good receipt and names each rejection', () => {
  const good = makeReceipt();
  assert.deepEqual(checkReceipt(good, { node: NODE, epoch: 7 }), { ok: true });
  assert.deepEqual(checkReceipt(good, { node: NODE.toUpperCase().replace('0X', '0x') as Address, epoch: 7 }), {
    ok: true,
  });
  const reason = (r: Receipt, node: Address = NODE, epoch = 7) => {
    const result = checkReceipt(r, { node, epoch });
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(reason(good, '0x2222222222222222222222222222222222222222'), 'wrong-node');
  assert.equal(reason(good, NODE, 8), 'wrong-epoch');
  assert.equal(reason(makeReceipt({ units: 0 })), 'bad-units');
  assert.equal(reason(makeReceipt({ units: 65 })), 'bad-units');
  assert.equal(reason(makeReceipt({ units: 64 })), 'ok');
  // ack for another ticket
  const other = makeReceipt({ envelopeId: `0x${'ef'.repeat(32)}` });
  assert.equal(reason({ ticket: good.ticket, ack: other.ack }), 'ack-ticket-mismatch');
  // ack signed by a third key (correct ticket hash)
  const third = generateDeviceKey();
  const wrongSigner = signAck(
    { ticketHash: ticketHash(good.ticket), recipientKey: third.publicKey, recipientDid: '42' },
    third,
  );
  assert.equal(reason({ ticket: good.ticket, ack: wrongSigner }), 'recipient-key-mismatch');
  // sending to oneself: same key, or same DID
  assert.equal(reason(makeReceipt({}, sender, sender)), 'sender-is-recipient');
  const ticket = signTicket(unsignedTicket({ senderDid: '42' }), sender);
  assert.equal(reason({ ticket, ack: ackTicket(ticket, '42', recipient) }), 'sender-is-recipient');
  // forged signatures
  const forgedTicket = { ...good.ticket, sig: ed25519Sign(new Uint8Array([9]), sender) };
  const forgedAck = ackTicket(forgedTicket, '42', recipient);
  assert.equal(reason({ ticket: forgedTicket, ack: forgedAck }), 'bad-ticket-signature');
  assert.equal(
    reason({ ticket: good.ticket, ack: { ...good.ack, sig: ed25519Sign(new Uint8Array([9]), recipient) } }),
    'bad-ack-signature',
  );
  const result = checkReceipt(good, { node: NODE, epoch: 9 });
  assert.ok(!result.ok && /epoch 7, expected 9/.test(result.detail));
});

test('checkReceiptKeys: both keys Active for the DIDs they name', () => {
  const r = makeReceipt();
  const directory = (entries: [Hex, { active: boolean; did: bigint }][]): KeyDirectory => {
    const map = new Map(entries);
    return { statusOf: (key) => map.get(key) };
  };
  const senderDid = BigInt(r.ticket.senderDid);
  const good = directory([
    [sender.publicKey, { active: true, did: senderDid }],
    [recipient.publicKey, { active: true, did: 42n }],
  ]);
  assert.deepEqual(checkReceiptKeys(r, good), { ok: true });
  const reason = (d: KeyDirectory) => {
    const result = checkReceiptKeys(r, d);
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(reason(directory([[recipient.publicKey, { active: true, did: 42n }]])), 'sender-key-not-active');
  assert.equal(
    reason(
      directory([
        [sender.publicKey, { active: false, did: senderDid }],
        [recipient.publicKey, { active: true, did: 42n }],
      ]),
    ),
    'sender-key-not-active',
  );
  assert.equal(
    reason(
      directory([
        [sender.publicKey, { active: true, did: 1n }],
        [recipient.publicKey, { active: true, did: 42n }],
      ]),
    ),
    'sender-did-mismatch',
  );
  assert.equal(reason(directory([[sender.publicKey, { active: true, did: senderDid }]])), 'recipient-key-not-active');
  assert.equal(
    reason(
      directory([
        [sender.publicKey, { active: true, did: senderDid }],
        [recipient.publicKey, { active: true, did: 43n }],
      ]),
    ),
    'recipient-did-mismatch',
  );
});

test('envelopes: size limit, and the ticket must match the envelope, node, epoch and ciphertext size', () => {
  const ciphertext = Buffer.alloc(2049, 7).toString('base64'); // 3 units
  const ticket = signTicket(unsignedTicket(), sender);
  const envelope = parseEnvelope({ id: ticket.envelopeId, to: recipient.publicKey, ciphertext, ticket });
  assert.deepEqual(checkEnvelope(envelope, { node: NODE, epoch: 7 }), { ok: true });
  const reason = (e: typeof envelope, epoch?: number) => {
    const result = checkEnvelope(e, { node: NODE, epoch });
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(reason({ ...envelope, id: `0x${'00'.repeat(32)}` }), 'ticket-envelope-mismatch');
  assert.equal(reason({ ...envelope, to: sender.publicKey }), 'ticket-recipient-mismatch');
  assert.equal(reason({ ...envelope, ciphertext: Buffer.alloc(2048).toString('base64') }), 'units-mismatch');
  assert.equal(reason(envelope, 8), 'wrong-epoch');
  assert.equal(
    reason({ ...envelope, ticket: { ...ticket, sig: ed25519Sign(hexToBytes('0x01'), sender) } }),
    'bad-ticket-signature',
  );
  const max = Buffer.alloc(65536).toString('base64');
  assert.doesNotThrow(() => parseEnvelope({ ...envelope, ciphertext: max }));
  assert.throws(
    () => parseEnvelope({ ...envelope, ciphertext: Buffer.alloc(65537).toString('base64') }),
    /ciphertext larger than 65536/,
  );
  assert.throws(() => parseEnvelope({ ...envelope, ciphertext: 'not base64!' }), /ciphertext is not padded base64/);
});
