import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in keepers/src/dev). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const PLATFORM_ARCH = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];

/**
 * Path of a Foundry binary installed from npm: the platform package's own executable
 * (`@foundry-rs/<tool>-<platform>-<arch>`), not the npm launcher in node_modules/.bin, which does not pass
 * the binary's exit code on (tools/forge.mjs) and leaves the binary running when it is killed.
 */
export function foundryBinary(tool: 'forge' | 'anvil' | 'cast'): string {
  const path = join(
    repoRoot,
    'node_modules',
    '@foundry-rs',
    `${tool}-${process.platform}-${PLATFORM_ARCH}`,
    'bin',
    tool,
  );
  if (!existsSync(path)) throw new Error(`${tool} not found at ${path}: run \`npm ci\` first`);
  return path;
}

/**
 * Outside the work tree, where forge scripts may read and write (foundry.toml `fs_permissions`): deploy
 * configs and address books of test and benchmark runs go here, never into `deployments/`.
 */
export const FORGE_SCRATCH_DIR = '/tmp/sendnet-forge';

/** A fresh directory under FORGE_SCRATCH_DIR (the caller removes it). */
export function forgeScratchDir(prefix: string): string {
  mkdirSync(FORGE_SCRATCH_DIR, { recursive: true });
  return mkdtempSync(join(FORGE_SCRATCH_DIR, `${prefix}-`));
}
