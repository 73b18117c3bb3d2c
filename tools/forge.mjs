#!/usr/bin/env node
// `node tools/forge.mjs <forge arguments>`: runs the forge binary installed from npm and exits with forge's
// own exit code. The npm launcher (node_modules/.bin/forge -> @foundry-rs/forge/bin.mjs, 1.7.1) spawns the
// binary but never forwards its exit status, so `forge test`, `forge fmt --check` or `forge snapshot --check`
// run through it always exit 0, even when they fail. npm scripts that must gate call forge through this file.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const binary = process.platform === 'win32' ? 'forge.exe' : 'forge';

function forgePath() {
  // the same platform package @foundry-rs/forge itself picks (optionalDependencies of @foundry-rs/forge)
  try {
    const path = require.resolve(`@foundry-rs/forge-${process.platform}-${ARCH}/bin/${binary}`);
    if (existsSync(path)) return path;
  } catch {
    // not installed for this platform
  }
  console.error(`tools/forge.mjs: no forge binary for ${process.platform}-${process.arch}: run \`npm ci\` first`);
  process.exit(1);
}

const run = spawnSync(forgePath(), process.argv.slice(2), { stdio: 'inherit' });
if (run.error) {
  console.error(`tools/forge.mjs: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
