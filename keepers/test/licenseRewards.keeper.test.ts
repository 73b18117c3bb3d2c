/**
 * The keeper and guardian side of license rewards, without a chain:
 * - the claims document (`GET /epochs/:e/claims`) carries a proof for every license leaf, after the
 *   account leaves, and refuses stored lists that do not hash to the header's reward root;
 * - the guardian's chain check (guardian/checks.ts) against a fake read-only client: the dataset's
 *   `licenseEmission` must be `LicenseRewards.epochEmission(epoch)`, `contracts.licenseRewards` the
 *   guardian's, and the previous reward root is over the account leaves plus the license leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, keccak256, toHex, type Address, type Hex, type PublicClient } from 'viem';
import { cumulativeRoot, type EpochContracts } from '../src/chain/epochFacts.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { datasetFromParts, type DatasetParts } from '../src/core/dataset.js';
import { hashPair, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { assignmentSeed, samplingSeed } from '../src/core/sampling.js';
import { buildRewardTree } from '../src/core/scoring.js';
import { claimsDocument } from '../src/keeper/keeperHttp.js';
import { checkDatasetAgainstChain } from '../src/guardian/checks.js';

const SEND = 10n ** 18n;
const addr = (i: number) => keccak256(toHex(`account ${i}`)).slice(0, 42) as Address;
const fold = (leaf: Uint8Array, proof: readonly Hex[]) => {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, hexToBytes(sibling));
  return bytesToHex(node);
};

const accounts = [addr(1), addr(2), addr(3)].map((account, i) => ({ account, cumulative: BigInt(i + 1) * SEND }));
const licenses = [3n, 12n].map((tokenId) => ({ tokenId, cumulative: tokenId * SEND + 1n }));

test('claims document: a proof for every account and every license leaf, under the header root', () => {
  const root = buildRewardTree(accounts, licenses)!.root;
  const doc = claimsDocument(4, { header: { rewardRoot: root }, cumulative: accounts, licenseCumulative: licenses })!;
  assert.equal(doc.epoch, 4);
  assert.equal(doc.root, root);
  for (const a of accounts) {
    const entry = doc.claims[a.account.toLowerCase()]!;
    assert.equal(entry.cumulative, a.cumulative.toString());
    assert.equal(fold(rewardLeaf(a.account, a.cumulative), entry.proof), root);
  }
  assert.deepEqual(Object.keys(doc.licenses).sort(), ['12', '3']);
  for (const l of licenses) {
    const entry = doc.licenses[l.tokenId.toString()]!;
    assert.equal(entry.cumulative, l.cumulative.toString());
    assert.equal(fold(licenseRewardLeaf(l.tokenId, l.cumulative), entry.proof), root, `license ${l.tokenId}`);
  }
  // amounts as the store may hold them (decimal strings) give the same document
  const asStrings = {
    header: { rewardRoot: root },
    cumulative: accounts.map((a) => ({ ...a, cumulative: a.cumulative.toString() })),
    licenseCumulative: licenses.map((l) => ({ tokenId: l.tokenId.toString(), cumulative: l.cumulative.toString() })),
  };
  assert.deepEqual(claimsDocument(4, asStrings), doc);
  // lists that do not hash to the root: refused (a dropped license list, a changed license amount)
  assert.equal(claimsDocument(4, { header: { rewardRoot: root }, cumulative: accounts }), null);
  const changed = licenses.map((l, i) => (i === 1 ? { ...l, cumulative: l.cumulative + 1n } : l));
  assert.equal(
    claimsDocument(4, { header: { rewardRoot: root }, cumulative: accounts, licenseCumulative: changed }),
    null,
  );
  // an output stored before license leaves existed: no license list, none served
  const old = claimsDocument(4, { header: { rewardRoot: buildRewardTree(accounts, [])!.root }, cumulative: accounts });
  assert.deepEqual(old?.licenses, {});
});

// ------------------------------------------------------------------------------- guardian chain check

const LICENSE_EMISSION = 82_191_780_821_917_808_219_178n;
const EMISSION = 273_972n * SEND;
const EQUIVOCATION_SLASH = 1_000n * SEND;
const contracts: EpochContracts = {
  staking: addr(10),
  settlement: addr(11),
  didRegistry: addr(12),
  license: addr(13),
  licenseRewards: addr(14),
};
const guardians = [addr(20), addr(21), addr(22)].map((g) => g.toLowerCase() as Address).sort();
/** Block n has timestamp 1000 + n; epoch e ends at 1050 + 20e. */
const blockAt = (n: number) => ({
  number: BigInt(n),
  hash: keccak256(toHex(`block ${n}`)),
  timestamp: 1000n + BigInt(n),
});
const HEAD = 300;
const epochEnd = (e: number) => 1050 + 20 * e;

const SEND_TOKEN = addr(30);
const POINTS_TOKEN = addr(31);

/**
 * A read-only client that answers what deriveEpochFacts asks, for epoch 2 whose epoch 1 settled `previousRoot`.
 * Staking is in SEND; the settlement pays `settlementToken` (SEND, or points in points mode).
 */
function fakeChain(previousRoot: Hex, settlementToken: Address = SEND_TOKEN): PublicClient {
  const header = {
    epoch: 1,
    consensusVersion: 2,
    faultCount: 0,
    totalCumulative: 6n * SEND,
    epochEmission: EMISSION,
    rewardRoot: previousRoot,
    faultRoot: `0x${'0'.repeat(64)}` as Hex,
    scoresHash: `0x${'0'.repeat(64)}` as Hex,
    dataHash: keccak256(toHex('dataset 1')),
    seed: keccak256(toHex('seed 1')),
  };
  const txHash = keccak256(toHex('submit 1'));
  const reads: Record<string, (args: readonly unknown[]) => unknown> = {
    epochEnd: ([e]) => BigInt(epochEnd(Number(e))),
    // the paid set is read from storage (epochEntry's signer bitmap), not from calldata
    epochEntry: ([e]) => ({ epoch: Number(e), status: 1, signerBitmap: 0b011n }),
    activeGuardianSet: () => [{ membersHash: keccak256(toHex('set')), id: 1, size: guardians.length }, guardians],
    equivocationSlash: () => EQUIVOCATION_SLASH,
    guardianShareBps: () => 500,
    emissionCap: () => EMISSION,
    epochEmission: ([e]) => (Number(e) >= 1 ? LICENSE_EMISSION : 0n),
  };
  const client = {
    getChainId: async () => 31337,
    getBlock: async ({ blockTag, blockNumber }: { blockTag?: string; blockNumber?: bigint }) =>
      blockAt(blockTag === 'latest' ? HEAD : Number(blockNumber)),
    readContract: async ({
      address,
      functionName,
      args = [],
    }: {
      address: Address;
      functionName: string;
      args?: readonly unknown[];
    }) => {
      if (functionName === 'epochEmission' && address !== contracts.licenseRewards)
        throw new Error(`epochEmission read from ${address}`);
      if (functionName === 'token') {
        if (address === contracts.settlement) return settlementToken;
        if (address === contracts.staking) return SEND_TOKEN;
        throw new Error(`token read from ${address}`);
      }
      const read = reads[functionName];
      if (!read) throw new Error(`unexpected read ${functionName}`);
      return read(args);
    },
    getContractEvents: async ({ eventName }: { eventName: string }) =>
      eventName === 'EpochSubmitted'
        ? [
            {
              args: { header, signerBitmap: 0b011n, submitter: guardians[0] },
              transactionHash: txHash,
              blockNumber: 1n,
            },
          ]
        : [],
  };
  return client as unknown as PublicClient;
}

function datasetParts(overrides: Partial<DatasetParts> = {}): DatasetParts {
  const start = blockAt(epochEnd(1) - 1000); // first block at or after epochStart
  const seed = blockAt(epochEnd(2) + DEVNET_CONSENSUS.commitGraceSeconds - 1000);
  const assign = blockAt(epochEnd(1) - DEVNET_CONSENSUS.assignmentLeadSeconds - 1000);
  return {
    chainId: 31337,
    contracts,
    epoch: 2,
    epochStart: epochEnd(1),
    epochEnd: epochEnd(2),
    parameters: {
      ...DEVNET_CONSENSUS,
      equivocationSlash: EQUIVOCATION_SLASH,
      guardianShareBps: 500,
      epochEmission: EMISSION,
      licenseEmission: LICENSE_EMISSION,
    },
    startBlock: { blockNumber: start.number, blockHash: start.hash },
    seed: { blockNumber: seed.number, blockHash: seed.hash, value: samplingSeed(2, seed.hash) },
    assignSeed: { blockNumber: assign.number, blockHash: assign.hash, value: assignmentSeed(2, assign.hash) },
    nodes: [],
    keys: [],
    watchdogs: [],
    commitments: [],
    openings: [],
    transcripts: [],
    guardianSet: guardians,
    signersPaid: guardians.slice(0, 2),
    previousCumulative: accounts,
    previousLicenseCumulative: licenses,
    ...overrides,
  };
}

test('guardian chain check: licenseEmission is LicenseRewards.epochEmission(epoch); the previous root covers the license leaves', async () => {
  const previousRoot = cumulativeRoot(accounts, licenses);
  assert.notEqual(previousRoot, cumulativeRoot(accounts, []), 'the license leaves change the root');
  const ctx = { client: fakeChain(previousRoot), chainId: 31337, contracts, consensus: DEVNET_CONSENSUS };
  const check = (overrides: Partial<DatasetParts> = {}) =>
    checkDatasetAgainstChain(ctx, datasetFromParts(datasetParts(overrides)));

  assert.equal(await check(), null, 'a dataset that matches the chain');

  const wrongEmission = await check({
    parameters: { ...datasetParts().parameters, licenseEmission: LICENSE_EMISSION + 1n },
  });
  assert.deepEqual(wrongEmission, {
    field: 'parameters.licenseEmission',
    ours: LICENSE_EMISSION.toString(),
    theirs: (LICENSE_EMISSION + 1n).toString(),
  });

  const wrongContract = await check({ contracts: { ...contracts, licenseRewards: addr(99) } });
  assert.equal(wrongContract?.field, 'contracts.licenseRewards');

  // the license list is part of the previous reward root: dropped, changed or extended, it is refused
  for (const previousLicenseCumulative of [
    [],
    licenses.map((l, i) => (i === 0 ? { ...l, cumulative: l.cumulative + 1n } : l)),
    [...licenses, { tokenId: 40n, cumulative: 1n }],
  ]) {
    const mismatch = await check({ previousLicenseCumulative });
    assert.equal(mismatch?.field, 'previousCumulative');
    assert.equal(mismatch?.ours, `reward root ${previousRoot}`);
  }
});

test("guardian chain check: rewardsTo is the deployment's (points mode: the settlement pays another token than staking)", async () => {
  const previousRoot = cumulativeRoot(accounts, licenses);
  const parts = (rewardsTo?: 'operator' | 'nodeKey') =>
    datasetFromParts(datasetParts({ parameters: { ...datasetParts().parameters, rewardsTo } }));
  // canonical form: a token deployment's dataset has no rewardsTo at all
  assert.equal('rewardsTo' in parts('operator').parameters, false);
  assert.equal('rewardsTo' in parts().parameters, false);
  assert.equal(parts('nodeKey').parameters.rewardsTo, 'nodeKey');

  const token = { client: fakeChain(previousRoot), chainId: 31337, contracts, consensus: DEVNET_CONSENSUS };
  const points = { ...token, client: fakeChain(previousRoot, POINTS_TOKEN) };
  assert.equal(await checkDatasetAgainstChain(token, parts()), null);
  assert.equal(await checkDatasetAgainstChain(points, parts('nodeKey')), null);
  assert.deepEqual(await checkDatasetAgainstChain(token, parts('nodeKey')), {
    field: 'parameters.rewardsTo',
    ours: 'operator',
    theirs: 'nodeKey',
  });
  assert.deepEqual(await checkDatasetAgainstChain(points, parts()), {
    field: 'parameters.rewardsTo',
    ours: 'nodeKey',
    theirs: 'operator',
  });
});
