/**
 * `npm run bench:gas`: whole-transaction gas (receipt gasUsed: intrinsic + calldata + execution) of
 * the protocol's hot operations, measured with real transactions on a fresh anvil running the
 * contracts as script/Deploy.s.sol deploys them. Writes bench/gas.json.
 *
 * Why receipts and not `forge snapshot`: forge reports execution gas only; the targets (and the peers
 * they come from) are whole transactions, where calldata (proofs, signatures) is a large part.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../keepers/src/chain/foundry.js';
import { createBenchContext, type GasResult, type GasSuite } from './gas/context.js';
import { didGasSuite } from './gas/did.js';
import { CLAIM_TREE_DEPTH, FAULT_TREE_LEAVES, settlementGasSuite } from './gas/settlement.js';
import { LICENSE_CLAIM_TREE_DEPTH, licenseRewardsGasSuite } from './gas/licenseRewards.js';
import { swapGasSuite } from './gas/swap.js';
import { ALLOWLIST_SIZE, watchdogGasSuite } from './gas/watchdog.js';

const SUITES: Record<string, GasSuite> = {
  settlement: settlementGasSuite,
  licenseRewards: licenseRewardsGasSuite,
  swap: swapGasSuite,
  did: didGasSuite,
  watchdog: watchdogGasSuite,
};

async function main() {
  const ctx = await createBenchContext();
  const results: Record<string, GasResult & { suite: string }> = {};
  try {
    for (const [suite, run] of Object.entries(SUITES)) {
      for (const [name, result] of Object.entries(await run(ctx))) results[name] = { ...result, suite };
    }
  } finally {
    await ctx.anvil.stop();
  }
  const report = {
    generatedBy: 'npm run bench:gas (bench/gas.ts)',
    generatedAt: new Date().toISOString(),
    measurement: 'receipt gasUsed of real transactions on anvil (whole transaction)',
    chain: { client: 'anvil 1.7.1', chainId: ctx.book.chainId },
    compiler: { solc: '0.8.30', optimizerRuns: 10000, evmVersion: 'cancun', viaIR: false },
    parameters: {
      claimTreeLeaves: 2 ** CLAIM_TREE_DEPTH,
      claimProofLength: CLAIM_TREE_DEPTH,
      licenseClaimTreeLeaves: 2 ** LICENSE_CLAIM_TREE_DEPTH,
      faultTreeLeaves: FAULT_TREE_LEAVES,
      signers: '5-of-7',
      licenseAllowlistSize: ALLOWLIST_SIZE,
    },
    results: Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        { suite: r.suite, gas: r.gas, target: r.target ?? null, meetsTarget: r.target ? r.gas <= r.target : null, note: r.note },
      ]),
    ),
  };
  const path = join(repoRoot, 'bench', 'gas.json');
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  for (const [name, r] of Object.entries(report.results)) {
    ctx.log(`${name.padEnd(40)} ${String(r.gas).padStart(8)}  target ${r.target ?? '-'}  ${r.meetsTarget === false ? 'MISSED' : ''}`);
  }
  ctx.log(`wrote ${path}`);
  if (Object.values(report.results).some((r) => r.meetsTarget === false)) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`[bench:gas] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
