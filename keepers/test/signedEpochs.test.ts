/**
 * The guardian's signed-epochs record (guardian/signedEpochs.ts): one digest per epoch, durable across
 * restarts; a different digest only replaces it with the block of a voiding (the replaced digest stays in
 * the history); files written before the history existed still load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { SignedEpochs, SignedEpochsError } from '../src/guardian/signedEpochs.js';

const digest = (b: string) => `0x${b.repeat(32)}` as Hex;

test('a second digest is refused unless the epoch was voided; the voided one stays in the history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signed-epochs-'));
  try {
    const signed = new SignedEpochs(dir);
    signed.record(7, digest('aa'), 100);
    signed.record(7, digest('aa'), 101); // a repeat is a no-op
    assert.throws(() => signed.record(7, digest('bb'), 102), SignedEpochsError);
    assert.throws(() => signed.record(7, digest('bb'), 102, null), /epoch 7 already signed with digest 0xaaaa/);
    signed.record(7, digest('bb'), 120, 110);
    assert.equal(signed.get(7), digest('bb'));

    const reloaded = new SignedEpochs(dir);
    assert.equal(reloaded.get(7), digest('bb'));
    const history = reloaded.history(7)!;
    assert.equal(history.signedAtBlock, 120);
    assert.equal(history.replaced?.length, 1);
    assert.equal(history.replaced![0]!.digest, digest('aa'));
    assert.equal(history.replaced![0]!.signedAtBlock, 100);
    assert.equal(history.replaced![0]!.voidedAtBlock, 110);
    // still one digest per epoch after the replacement
    assert.throws(() => reloaded.record(7, digest('cc'), 130), SignedEpochsError);
    assert.equal(reloaded.lastEpoch, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record file from before signedAtBlock and history loads; a corrupt one refuses to start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signed-epochs-'));
  try {
    const path = join(dir, 'signed-epochs.json');
    writeFileSync(path, JSON.stringify({ 3: { digest: digest('dd'), signedAt: '2026-01-01T00:00:00.000Z' } }));
    const signed = new SignedEpochs(dir);
    assert.equal(signed.get(3), digest('dd'));
    assert.equal(signed.history(3)!.signedAtBlock, undefined);
    signed.record(4, digest('ee'), 9);
    assert.equal(JSON.parse(readFileSync(path, 'utf8'))['4'].signedAtBlock, 9);
    writeFileSync(path, JSON.stringify({ 3: { digest: 'nope', signedAt: 'x' } }));
    assert.throws(() => new SignedEpochs(dir), /corrupt signed-epochs file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
