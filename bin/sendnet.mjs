#!/usr/bin/env node
// The `sendnet` CLI: runs the TypeScript entry (keepers/src/cli/main.ts) through tsx. See docs/cli.md.
// The big JavaScript dependencies are imported natively first: loading them through tsx's module hooks
// takes about three times longer, and once they are in the module cache the hooks never see them again.
import { register } from 'tsx/esm/api';

await Promise.all([import('viem'), import('viem/accounts'), import('commander'), import('zod')]);
register();
await import('../keepers/src/cli/main.ts');
