/**
 * `npm run test:subgraph`: graph-node's own mapping tests (`gnd test`, JSON files in subgraph/tests) against
 * a manifest generated from the fixture address book (subgraph/fixtures/addressBook.json). Builds with
 * graph-cli (cached), starts a private Postgres as an unprivileged user, runs gnd test, stops Postgres.
 *
 *   npm run test:subgraph                      # every test file
 *   npm run test:subgraph -- nodeStaking.json  # some of them (names under subgraph/tests)
 *
 * Files named `points-*.json` run against a manifest of the points-mode fixture
 * (subgraph/fixtures/addressBook.points.json: the same addresses plus TestnetPoints and PointsConversion,
 * docs/points.md); the others against the token deployment's.
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

const isPointsTest = (name: string) => name.startsWith('points-');

/** Generates and builds the manifest of `book` under subgraph/<dir> (gnd reads <dir>/build/subgraph.yaml). */
async function prepare(book: string, dir: string): Promise<{ manifest: string; handlers: HandlerRef[] }> {
  const { path: manifest, handlers } = generateManifest({
    addressBookPath: join(subgraphDir, 'fixtures', book),
    outPath: join(subgraphDir, dir, 'subgraph.yaml'),
  });
  const started = Date.now();
  const { rebuilt } = await codegenAndBuild(manifest, join(subgraphDir, dir, 'build'));
  console.log(
    `test:subgraph: ${book}: ${rebuilt ? 'built' : 'build up to date'} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  return { manifest, handlers };
}

async function main(): Promise<number> {
  const testsDir = join(subgraphDir, 'tests');
  const selectedNames = process.argv.slice(2);
  const files = selectedNames.length
    ? selectedNames
    : readdirSync(testsDir)
        .filter((f) => f.endsWith('.json'))
        .sort();
  if (selectedNames.length === 0) {
    // the points manifest declares every handler of the token one, plus the points contracts'
    const { handlers } = generateManifest({
      addressBookPath: join(subgraphDir, 'fixtures', 'addressBook.points.json'),
      outPath: join(subgraphDir, '.gnd-test-points', 'subgraph.yaml'),
    });
    checkCoverage(handlers, testsDir);
  }
  // built one after the other: both write the shared mapping entry (src/mapping.ts) and generated types
  const tokenNames = files.filter((f) => !isPointsTest(f));
  const pointsNames = files.filter(isPointsTest);

  const dataDir = mkdtempSync(join(tmpdir(), 'subgraph-test-pg-'));
  const pg = await startPostgres({ dataDir, database: 'gnd-test' });
  try {
    // one database per file: gnd test leaves a file's entities behind in a shared --postgres-url database
    const failed: string[] = [];
    let i = 0;
    for (const [book, dir, names] of [
      ['addressBook.json', '.gnd-test', tokenNames],
      ['addressBook.points.json', '.gnd-test-points', pointsNames],
    ] as const) {
      if (names.length === 0) continue;
      const { manifest } = await prepare(book, dir);
      for (const name of names) {
        const url = await pg.createDatabase(`gnd-test-${i++}`);
        const code = await runGnd([
          'test',
          '--skip-build',
          '-m',
          manifest,
          '--postgres-url',
          url,
          join(testsDir, name),
        ]);
        if (code !== 0) failed.push(name);
      }
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
