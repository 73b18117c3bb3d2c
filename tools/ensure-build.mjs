#!/usr/bin/env node
// `node tools/ensure-build.mjs [program]`: builds what programs import from the build when it is missing
// (a fresh clone): the contracts (`npm run build:contracts`, forge) and their typed ABIs (`npm run codegen`:
// keepers/src/generated/contracts.ts, typechain/). Once built it does nothing (`npm run build` rebuilds after
// a contract change). bin/sendnet.mjs and the npm scripts of the programs (`npm run keeper`, `edge-node`)
// call it; `npm run devnet` always rebuilds (`predevnet`). Build output goes to stderr, so a command's
// stdout (`sendnet … --json`) stays clean. Exit code 1, with one line naming the command to run, when the
// build cannot be made.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The file every program imports from the build. */
export const GENERATED = join(root, 'keepers', 'src', 'generated', 'contracts.ts');

/** Builds when GENERATED is missing; returns whether the build is there. `program` names the caller. */
export function ensureBuilt(program = 'ensure-build') {
  if (existsSync(GENERATED)) return true;
  if (!existsSync(join(root, 'node_modules', '.bin', 'wagmi'))) {
    console.error(`${program}: the dependencies are not installed: run \`npm ci\` first`);
    return false;
  }
  console.error(
    `${program}: first run in this checkout: building the contracts and their typed ABIs (npm run build:contracts && npm run codegen)…`,
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (const script of ['build:contracts', 'codegen']) {
    const run = spawnSync(npm, ['run', '--silent', script], { cwd: root, stdio: ['ignore', 2, 2] });
    if (run.status !== 0) {
      console.error(
        `${program}: \`npm run ${script}\` failed (exit ${run.status ?? run.signal}): run \`npm run build\` and fix what it reports`,
      );
      return false;
    }
  }
  if (!existsSync(GENERATED)) {
    console.error(`${program}: the build did not write ${GENERATED}: run \`npm run build\` and fix what it reports`);
    return false;
  }
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = ensureBuilt(process.argv[2]) ? 0 : 1;
}
