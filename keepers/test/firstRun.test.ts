/**
 * First run on a fresh machine (issue 12 §4): tools/ensure-services.mjs, which `.ci/run` and `npm run devnet`
 * both call, finds Redis and PostgreSQL where the launchers look; when they are missing it installs them
 * from Debian if this user may (shown with --dry-run: nothing is installed by these tests), and otherwise
 * stops with one line naming the command. "Missing" is simulated by looking under an empty directory
 * (SENDNET_SERVICES_ROOT) and "may not install" by running as the unprivileged `nobody` user; the machine's
 * own packages are never touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../src/dev/foundry.js';

const emptyRoot = mkdtempSync(join(tmpdir(), 'first-run-root-'));
process.on('exit', () => rmSync(emptyRoot, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
/** Whether node and this checkout can be run by the unprivileged `nobody` user (not under /root, say). */
const nobodyCanRun =
  isRoot &&
  spawnSync(
    process.execPath,
    ['-e', `require('fs').accessSync(${JSON.stringify(join(repoRoot, 'tools/ensure-services.mjs'))})`],
    {
      uid: NOBODY,
      gid: NOBODY,
      stdio: 'ignore',
    },
  ).status === 0;
const NOBODY_SKIP = 'needs root, and node and this checkout readable by the unprivileged nobody user';

function ensureServices(args: string[], options: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
  const run = spawnSync(process.execPath, ['tools/ensure-services.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    uid: options.uid,
    gid: options.uid,
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('installed services: nothing to do, nothing printed', (t) => {
  // --dry-run everywhere a branch could install: these tests never change the machine's packages
  const probe = ensureServices(['--dry-run']);
  if (probe.stdout + probe.stderr !== '') return t.skip(`this machine lacks them: ${probe.stdout}${probe.stderr}`);
  assert.equal(probe.status, 0);
  assert.equal(ensureServices(['--redis', '--dry-run']).status, 0);
  assert.equal(ensureServices(['--postgres', '--dry-run']).status, 0);
});

test('missing and allowed to install (root): apt-get update and install of exactly what is missing', (t) => {
  if (!isRoot) return t.skip('needs root (or passwordless sudo) to take the install branch');
  const env = { SENDNET_SERVICES_ROOT: emptyRoot };
  const both = ensureServices(['--dry-run'], { env });
  assert.equal(both.status, 0, both.stderr);
  assert.equal(
    both.stdout,
    'installing from Debian: redis-server postgresql\n' +
      'would run: apt-get update -qq\n' +
      'would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql\n',
  );
  const redisOnly = ensureServices(['--redis', '--dry-run'], { env });
  assert.match(redisOnly.stdout, /apt-get install -y -qq redis-server\n$/);
  const pgOnly = ensureServices(['--postgres', '--dry-run'], { env });
  assert.match(pgOnly.stdout, /apt-get install -y -qq postgresql\n$/);
});

test('PostgreSQL is found in a Debian versioned folder, through PG_BIN, and not from a half-installed one', () => {
  const root = mkdtempSync(join(tmpdir(), 'first-run-pg-'));
  try {
    const bin = join(root, 'usr/lib/postgresql/16/bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync('/bin/true', join(bin, 'initdb'));
    const env = { SENDNET_SERVICES_ROOT: root, PATH: '/usr/bin:/bin' };
    // initdb without postgres: still missing
    if (isRoot) assert.match(ensureServices(['--postgres', '--dry-run'], { env }).stdout, /install -y -qq postgresql/);
    symlinkSync('/bin/true', join(bin, 'postgres'));
    assert.equal(ensureServices(['--postgres', '--dry-run'], { env }).stdout, '');
    assert.equal(ensureServices(['--postgres', '--dry-run'], { env }).status, 0);
    // PG_BIN names another folder (under the same root)
    mkdirSync(join(root, 'opt/pg/bin'), { recursive: true });
    symlinkSync('/bin/true', join(root, 'opt/pg/bin/initdb'));
    symlinkSync('/bin/true', join(root, 'opt/pg/bin/postgres'));
    rmSync(join(root, 'usr'), { recursive: true });
    assert.equal(ensureServices(['--postgres', '--dry-run'], { env: { ...env, PG_BIN: '/opt/pg/bin' } }).stdout, '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('missing and not allowed to install: one line naming the command, exit 1', (t) => {
  if (!nobodyCanRun) return t.skip(NOBODY_SKIP);
  const env = { SENDNET_SERVICES_ROOT: emptyRoot, HOME: '/tmp' };
  const run = ensureServices(['--for', 'npm run devnet'], { env, uid: NOBODY });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.equal(
    run.stderr,
    'Redis and PostgreSQL are not installed: run `sudo apt-get install -y redis-server postgresql`, then run `npm run devnet` again\n',
  );
  const redis = ensureServices(['--redis'], { env, uid: NOBODY });
  assert.equal(
    redis.stderr,
    'Redis is not installed: run `sudo apt-get install -y redis-server`, then run this command again\n',
  );
});

test('missing and no apt-get: one line naming the packages, exit 1', () => {
  const env = { SENDNET_SERVICES_ROOT: emptyRoot, PATH: emptyRoot };
  const run = ensureServices(['--postgres'], { env });
  assert.equal(run.status, 1);
  assert.equal(
    run.stderr,
    "PostgreSQL is not installed and there is no apt-get here: install postgresql with this system's package manager (or set PG_BIN to PostgreSQL's bin folder), then run this command again\n",
  );
});

test('bad arguments are usage errors naming the option', () => {
  const run = ensureServices(['--redsi']);
  assert.equal(run.status, 2);
  assert.equal(
    run.stderr,
    'ensure-services: unknown option --redsi (use --redis, --postgres, --dry-run, --for <command>)\n',
  );
});

test('npm run devnet without Redis, not allowed to install: stops before starting anything, with the one line', (t) => {
  if (!nobodyCanRun) return t.skip(NOBODY_SKIP);
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'keepers/src/devnet/main.ts', '--no-graph', '--port', '1', '--epochs', '1'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, SENDNET_SERVICES_ROOT: emptyRoot, HOME: '/tmp' },
      uid: NOBODY,
      gid: NOBODY,
      timeout: 120_000,
    },
  );
  assert.equal(run.status, 1, run.stdout + run.stderr);
  // port 1 is not checked (nothing started): the services check comes first
  assert.equal(
    run.stderr,
    'Redis is not installed: run `sudo apt-get install -y redis-server`, then run `npm run devnet` again\n',
  );
  assert.equal(run.stdout, '');
});

test('npm run devnet with --redis-url and --no-graph needs neither service: it goes on to its own checks', async (t) => {
  if (!nobodyCanRun) return t.skip(NOBODY_SKIP);
  // a port in use: the devnet's first own check after the services one refuses it (exit 2)
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const run = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'keepers/src/devnet/main.ts',
          '--no-graph',
          '--redis-url',
          'redis://127.0.0.1:1',
          '--port',
          String(port),
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, SENDNET_SERVICES_ROOT: emptyRoot, HOME: '/tmp' },
          uid: NOBODY,
          gid: NOBODY,
        },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('exit', (status) => resolve({ status, out }));
    });
    assert.equal(run.status, 2, run.out);
    assert.match(run.out, new RegExp(`port ${port} is already in use`));
    assert.doesNotMatch(run.out, /not installed/);
  } finally {
    server.close();
  }
});
