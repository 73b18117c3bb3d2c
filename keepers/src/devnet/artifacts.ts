import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Abi, Hex } from 'viem';
import { repoRoot } from '../dev/foundry.js';

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

/** The forge build output directory: `$FOUNDRY_OUT` (repository-relative or absolute), else `out/`. */
export function foundryOutDir(): string {
  const dir = process.env.FOUNDRY_OUT ?? 'out';
  return isAbsolute(dir) ? dir : join(repoRoot, dir);
}

/**
 * ABI and creation bytecode of `contract` from the forge build (`<out>/<file>.sol/<contract>.json`). For
 * contracts not covered by the generated typed ABIs (mocks) and for deploying contracts with viem.
 */
export function loadArtifact(file: string, contract = file.replace(/\.sol$/, '')): Artifact {
  const path = join(foundryOutDir(), file.endsWith('.sol') ? file : `${file}.sol`, `${contract}.json`);
  let json: { abi: Abi; bytecode: { object: Hex } };
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the forge artifact ${path}: build the contracts first (npm run build:contracts)`, {
      cause: error,
    });
  }
  return { abi: json.abi, bytecode: json.bytecode.object };
}
