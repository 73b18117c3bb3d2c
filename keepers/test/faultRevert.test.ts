/**
 * core/faultRevert.ts: every revert `executeFault` can raise is classified, and only the ones after which a
 * leaf can never execute are retired (issue 12 §2). The names are checked against the generated ABIs, so a
 * renamed contract error fails here instead of silently becoming `unknown`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFaultRevert } from '../src/core/faultRevert.js';
import { epochSettlementAbi, nodeStakingAbi } from '../src/generated/contracts.js';

const errorNames = new Set(
  [...epochSettlementAbi, ...nodeStakingAbi].filter((i) => i.type === 'error').map((i) => i.name as string),
);

test('classifyFaultRevert: retry, done, retire and unknown', () => {
  assert.deepEqual(classifyFaultRevert('SlashCapReached'), { kind: 'retry' });
  assert.deepEqual(classifyFaultRevert('FaultAlreadyExecuted'), { kind: 'done' });
  for (const name of ['InvalidFaultProof', 'NoFaultsInEpoch', 'NodeNotRegistered', 'OnlySettlement']) {
    const action = classifyFaultRevert(name);
    assert.equal(action.kind, 'retire', name);
    assert.ok(action.kind === 'retire' && action.reason.startsWith(`${name}: `), name);
  }
  // temporary or not a contract revert: thrown, the job is retried
  assert.deepEqual(classifyFaultRevert('EpochNotFinalized'), { kind: 'unknown' });
  assert.deepEqual(classifyFaultRevert(undefined), { kind: 'unknown' });
  assert.deepEqual(classifyFaultRevert('NoSuchError'), { kind: 'unknown' });
});

test('every name classifyFaultRevert knows is an error of EpochSettlement or NodeStaking', () => {
  for (const name of [
    'SlashCapReached',
    'FaultAlreadyExecuted',
    'InvalidFaultProof',
    'NoFaultsInEpoch',
    'NodeNotRegistered',
    'OnlySettlement',
    'EpochNotFinalized',
  ]) {
    assert.ok(errorNames.has(name), name);
  }
});
