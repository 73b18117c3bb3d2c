#!/usr/bin/env node
// The `sendnet` CLI: runs the TypeScript entry (keepers/src/cli/main.ts) through tsx. See docs/cli.md.
// On a fresh clone the contracts and their typed ABIs are built first (tools/ensure-build.mjs; output on
// stderr). The big JavaScript dependencies are imported natively first: loading them through tsx's module
// hooks takes about three times longer, and once they are in the module cache the hooks never see them again.
import { ensureBuilt } from '../tools/ensure-build.mjs';

if (!ensureBuilt('sendnet')) process.exit(1);
const { register } = await import('tsx/esm/api');
await Promise.all([import('viem'), import('viem/accounts'), import('commander'), import('zod')]);
register();
await import('../keepers/src/cli/main.ts');
