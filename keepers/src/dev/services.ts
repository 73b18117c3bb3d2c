import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './foundry.js';

/**
 * Makes sure the system binaries a local run starts its own servers from are installed (redis-server,
 * PostgreSQL's initdb and postgres), with tools/ensure-services.mjs, the script `.ci/run` uses: installs them
 * from Debian when this user may (root or passwordless sudo), otherwise prints one line naming the command
 * to run. `again` is the command the user runs after installing. Returns whether everything is ready.
 */
export function ensureServices(need: { redis: boolean; postgres: boolean }, again: string): boolean {
  const flags = [...(need.redis ? ['--redis'] : []), ...(need.postgres ? ['--postgres'] : [])];
  if (flags.length === 0) return true;
  const run = spawnSync(process.execPath, [join(repoRoot, 'tools', 'ensure-services.mjs'), ...flags, '--for', again], {
    stdio: 'inherit',
  });
  return run.status === 0;
}
