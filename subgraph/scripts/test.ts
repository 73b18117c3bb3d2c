/**
 * `npm run test:subgraph`: graph-node's own mapping tests (`gnd test`, JSON files in subgraph/tests) against
 * a manifest generated from the fixture address book (subgraph/fixtures/addressBook.json). Builds with
 * graph-cli (cached), starts a private Postgres as an unprivileged user, runs gnd test, stops Postgres.
 *
 *   npm run test:subgraph                      # every test file
 *   npm run test:subgraph -- nodeStaking.json  # some of them (names under subgraph/tests)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { startPostgres } from '../../keepers/src/infra/postgres.js';
import { codegenAndBuild } from './build.js';
import { generateManifest, type HandlerRef } from './manifest.js';
import { repoRoot, subgraphDir } from './sources.js';

/**
 * Handlers gnd test cannot drive, with the reason and where they are tested instead. gnd 0.45 encodes
 * event parameters from their type string and rejects tuple types ("Invalid type 'tuple'").
 */
const NOT_MOCKABLE: Record<string, string> = {
  'EpochSettlement.EpochSubmitted':
    'its header parameter is a tuple, which gnd test 0.45 cannot encode; covered end to end on graph-node by keepers/test/devnet.journeys.e2e.test.ts (the epoch entity holds the signed header)',
};

const testFile = z.object({
  name: z.string(),
  blocks: z.array(
    z.object({ events: z.array(z.object({ address: z.string(), event: z.string() })).optional() }).loose(),
  ),
});

/** Fails when a manifest handler is driven by no test file (every handler must be tested). */
function checkCoverage(handlers: HandlerRef[], testsDir: string): void {
  const driven = new Set<string>();
  for (const name of readdirSync(testsDir).filter((f) => f.endsWith('.json'))) {
    const parsed = testFile.safeParse(JSON.parse(readFileSync(join(testsDir, name), 'utf8')));
    if (!parsed.success)
      throw new Error(`subgraph/tests/${name} is not a gnd test file: ${parsed.error.issues[0]!.message}`);
    for (const block of parsed.data.blocks) {
      for (const event of block.events ?? [])
        driven.add(`${event.address.toLowerCase()} ${event.event.split('(')[0]!.trim()}`);
    }
  }
  const untested = handlers.filter(
    (h) => !driven.has(`${h.address.toLowerCase()} ${h.event}`) && !NOT_MOCKABLE[`${h.dataSource}.${h.event}`],
  );
  if (untested.length) {
    throw new Error(
      `no test in subgraph/tests drives ${untested.map((h) => `${h.dataSource}.${h.event} (${h.handler})`).join(', ')}`,
    );
  }
  const skipped = Object.entries(NOT_MOCKABLE).map(([h, why]) => `${h}: ${why}`);
  console.log(
    `test:subgraph: every handler is driven by a test (${handlers.length} handlers)${skipped.length ? `, except\n  ${skipped.join('\n  ')}` : ''}`,
  );
}

async function main(): Promise<number> {
  // gnd test reads the built manifest from <manifest dir>/build/<manifest file name>
  const testDir = join(subgraphDir, '.gnd-test');
  const { path: manifest, handlers } = generateManifest({
    addressBookPath: join(subgraphDir, 'fixtures', 'addressBook.json'),
    outPath: join(testDir, 'subgraph.yaml'),
  });
  const selectedNames = process.argv.slice(2);
  if (selectedNames.length === 0) checkCoverage(handlers, join(subgraphDir, 'tests'));
  const started = Date.now();
  const { rebuilt } = await codegenAndBuild(manifest, join(testDir, 'build'));
  console.log(
    `test:subgraph: ${rebuilt ? 'built' : 'build up to date'} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'subgraph-test-pg-'));
  const pg = await startPostgres({ dataDir, database: 'gnd-test' });
  try {
    const testsDir = join(subgraphDir, 'tests');
    const files = selectedNames.length
      ? selectedNames
      : readdirSync(testsDir)
          .filter((f) => f.endsWith('.json'))
          .sort();
    // one database per file: gnd test leaves a file's entities behind in a shared --postgres-url database
    const failed: string[] = [];
    for (const [i, name] of files.entries()) {
      const url = await pg.createDatabase(`gnd-test-${i}`);
      const code = await runGnd(['test', '--skip-build', '-m', manifest, '--postgres-url', url, join(testsDir, name)]);
      if (code !== 0) failed.push(name);
    }
    console.log(
      `\ntest:subgraph: ${files.length - failed.length} of ${files.length} test files passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
    );
    return failed.length ? 1 : 0;
  } finally {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function runGnd(args: string[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'gnd'), args, {
      cwd: subgraphDir,
      // nothing is compiled with --skip-build, but gnd expects asc (assemblyscript 0.19) on PATH
      env: { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`test:subgraph: ${(error as Error).message}`);
    process.exit(1);
  },
);
