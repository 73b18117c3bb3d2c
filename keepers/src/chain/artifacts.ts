import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Abi, Hex } from 'viem';
import { repoRoot } from './foundry.js';

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

/**
 * ABI and creation bytecode of `contract` from the forge build (`out/<file>/<contract>.json`, or the
 * directory named by FOUNDRY_OUT). For contracts not covered by the generated typed ABIs (mocks, new
 * contracts) and for deploying them with viem.
 */
export function loadArtifact(file: string, contract = file.replace(/\.sol$/, '')): Artifact {
  const path = join(repoRoot, process.env.FOUNDRY_OUT ?? 'out', file.endsWith('.sol') ? file : `${file}.sol`, `${contract}.json`);
  let json: { abi: Abi; bytecode: { object: Hex } };
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the forge artifact ${path} (run forge build first): ${String(error)}`);
  }
  return { abi: json.abi, bytecode: json.bytecode.object };
}
