#!/usr/bin/env node
// `node tools/ensure-services.mjs [--redis] [--postgres] [--dry-run] [--for <command>]`: makes sure the Debian packages the
// tests and the devnet start their own servers from are installed: redis-server (/usr/bin/redis-server,
// which keepers/src/infra/redis.ts spawns) and PostgreSQL (initdb and postgres, found as
// keepers/src/infra/postgres.ts finds them: $PG_BIN, `pg_config --bindir`, /usr/lib/postgresql/<version>/bin).
// Without flags it checks both. Plain Node, no dependencies: `.ci/run` calls it before `npm ci`.
//
// When something is missing and this user may install (root, or `sudo -n true` succeeds), it runs
// `apt-get update` and `apt-get install -y redis-server postgresql` (what is missing), as .ci/run always did;
// otherwise it prints one line naming the command to run and exits 1. Exit codes: 0 ready, 1 missing and
// not installed, 2 usage. `--dry-run` prints the commands instead of running them; `--for` names the command the
// user runs again afterwards.
// SENDNET_SERVICES_ROOT (tests): look for the binaries under this directory instead of `/`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const PACKAGES = { redis: 'redis-server', postgres: 'postgresql' };
const NAMES = { redis: 'Redis', postgres: 'PostgreSQL' };

/** `cmd` on PATH, looked up under `root`; null when absent. */
function which(cmd, root, env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(root, dir, cmd))) return join(root, dir, cmd);
  }
  return null;
}

/** Whether each service's binaries are installed (the same places the launchers look). */
export function installed({ root = '/', env = process.env } = {}) {
  const redis = existsSync(join(root, '/usr/bin/redis-server'));
  const candidates = [];
  if (env.PG_BIN) candidates.push(join(root, env.PG_BIN));
  const pgConfig = which('pg_config', root, env);
  if (pgConfig) {
    const run = spawnSync(pgConfig, ['--bindir'], { encoding: 'utf8' });
    if (run.status === 0) candidates.push(join(root, run.stdout.trim()));
  }
  const debian = join(root, '/usr/lib/postgresql');
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).filter((d) => /^\d+$/.test(d))) candidates.push(join(debian, v, 'bin'));
  }
  const postgres = candidates.some((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  return { redis, postgres };
}

/** How this user may install: '' as root, 'sudo' with passwordless sudo, null when it may not. */
function installer(env) {
  if (process.getuid?.() === 0) return '';
  if (which('sudo', '/', env) && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', env }).status === 0)
    return 'sudo';
  return null;
}

function main(argv) {
  const wanted = new Set();
  let dryRun = false;
  let again = 'this command';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--for' && argv[i + 1]) again = `\`${argv[++i]}\``;
    else if (arg === '--redis') wanted.add('redis');
    else if (arg === '--postgres') wanted.add('postgres');
    else if (arg === '--dry-run') dryRun = true;
    else {
      console.error(`ensure-services: unknown option ${arg} (use --redis, --postgres, --dry-run, --for <command>)`);
      return 2;
    }
  }
  if (wanted.size === 0) for (const s of Object.keys(PACKAGES)) wanted.add(s);
  const env = process.env;
  const root = env.SENDNET_SERVICES_ROOT || '/';
  const have = installed({ root, env });
  const missing = [...wanted].filter((s) => !have[s]);
  if (missing.length === 0) return 0;
  const packages = missing.map((s) => PACKAGES[s]);
  const what = missing.map((s) => NAMES[s]).join(' and ');
  const hasApt = which('apt-get', '/', env) !== null;
  const sudo = installer(env);
  if (!hasApt) {
    console.error(
      `${what} ${missing.length > 1 ? 'are' : 'is'} not installed and there is no apt-get here: install ${packages.join(' and ')} with this system's package manager (or set PG_BIN to PostgreSQL's bin folder), then run ${again} again`,
    );
    return 1;
  }
  const prefix = sudo ? 'sudo ' : '';
  const install = `${prefix}apt-get install -y ${packages.join(' ')}`;
  if (sudo === null) {
    console.error(
      `${what} ${missing.length > 1 ? 'are' : 'is'} not installed: run \`sudo ${install}\`, then run ${again} again`,
    );
    return 1;
  }
  const commands = [
    [...(sudo ? ['sudo'] : []), 'apt-get', 'update', '-qq'],
    [
      ...(sudo ? ['sudo'] : []),
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '-qq',
      ...packages,
    ],
  ];
  console.log(`installing from Debian: ${packages.join(' ')}`);
  for (const [i, [cmd, ...args]] of commands.entries()) {
    if (dryRun) {
      console.log(`would run: ${[cmd, ...args].join(' ')}`);
      continue;
    }
    const run = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    // `apt-get update` may fail on one unreachable mirror and the install still work (.ci/run's `|| true`)
    if (i === commands.length - 1 && run.status !== 0) {
      console.error(
        `${[cmd, ...args].join(' ')} failed (exit ${run.status ?? run.signal}): install ${packages.join(' and ')} yourself`,
      );
      return 1;
    }
  }
  if (dryRun) return 0;
  const after = installed({ root, env });
  const still = missing.filter((s) => !after[s]);
  if (still.length > 0) {
    console.error(`${still.map((s) => NAMES[s]).join(' and ')} still not found after installing: ${install}`);
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
