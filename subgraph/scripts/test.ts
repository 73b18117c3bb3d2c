/**
 * `npm run test:subgraph`: graph-node's own mapping tests (`gnd test`, JSON files in subgraph/tests) against
 * a manifest generated from the fixture address book (subgraph/fixtures/addressBook.json). Builds with
 * graph-cli (cached), starts a private Postgres as an unprivileged user, runs gnd test, stops Postgres.
 *
 *   npm run test:subgraph                      # every test file
 *   npm run test:subgraph -- nodeStaking.json  # some of them (names under subgraph/tests)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../keepers/src/infra/postgres.js';
import { codegenAndBuild } from './build.js';
import { writeManifest } from './manifest.js';
import { repoRoot, subgraphDir } from './sources.js';

async function main(): Promise<number> {
  // gnd test reads the built manifest from <manifest dir>/build/<manifest file name>
  const testDir = join(subgraphDir, '.gnd-test');
  const manifest = writeManifest({
    addressBookPath: join(subgraphDir, 'fixtures', 'addressBook.json'),
    outPath: join(testDir, 'subgraph.yaml'),
  });
  const started = Date.now();
  const { rebuilt } = await codegenAndBuild(manifest, join(testDir, 'build'));
  console.log(`test:subgraph: ${rebuilt ? 'built' : 'build up to date'} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

  const dataDir = mkdtempSync(join(tmpdir(), 'subgraph-test-pg-'));
  const pg = await startPostgres({ dataDir, database: 'gnd-test' });
  try {
    const selected = process.argv.slice(2).map((name) => join(subgraphDir, 'tests', name));
    const args = ['test', '--skip-build', '-m', manifest, '--postgres-url', pg.url, ...(selected.length ? selected : [join(subgraphDir, 'tests')])];
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(join(repoRoot, 'node_modules', '.bin', 'gnd'), args, {
        cwd: subgraphDir,
        // gnd compiles nothing with --skip-build, but keep asc (assemblyscript 0.19) on PATH as it expects
        env: { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
        stdio: 'inherit',
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await pg.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`test:subgraph: ${(error as Error).message}`);
    process.exit(1);
  },
);
