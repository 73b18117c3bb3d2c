import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in keepers/src/chain). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Path of a Foundry binary installed from npm (`@foundry-rs/*`) in the repository's node_modules. */
export function foundryBinary(tool: 'forge' | 'anvil' | 'cast'): string {
  const path = join(repoRoot, 'node_modules', '.bin', tool);
  if (!existsSync(path)) throw new Error(`${tool} not found at ${path}: run \`npm ci\` first`);
  return path;
}
