/**
 * The devnet's deploy config: `config/devnet.json` with the run's own values — a genesis time far
 * enough ahead that every node, WatchDog and client is set up before epoch 1 starts. Written under
 * `deployments/` (the deploy script may only read `config/` and `deployments/`). The allowlist phase is
 * scheduled after deployment (`openAllowlist` in setup.ts): forge simulates against the latest block's
 * timestamp, which on an idle anvil can be far behind the broadcast, so a phase scheduled in the deploy
 * config could start "in the past".
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../dev/foundry.js';

export interface DevnetDeployOptions {
  /** Base config, relative to the repo root. */
  baseConfig?: string;
  /** Unix seconds at which epoch 1 starts. */
  genesisTime: number;
  /** Overrides of `settlement.epochDurationSeconds` / `disputeWindowSeconds`. */
  epochDurationSeconds?: number;
  disputeWindowSeconds?: number;
  /** Where to write it (default deployments/devnet-config-<tag>.json). */
  tag: string;
}

/** Writes the derived config and returns its path relative to the repo root (what DEPLOY_CONFIG takes). */
export function writeDevnetDeployConfig(options: DevnetDeployOptions): string {
  const base = JSON.parse(readFileSync(join(repoRoot, options.baseConfig ?? 'config/devnet.json'), 'utf8'));
  base.settlement.genesisTime = options.genesisTime;
  if (options.epochDurationSeconds) base.settlement.epochDurationSeconds = options.epochDurationSeconds;
  if (options.disputeWindowSeconds) base.settlement.disputeWindowSeconds = options.disputeWindowSeconds;
  const path = join(repoRoot, 'deployments', `devnet-config-${options.tag}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(base, null, 2) + '\n');
  return relative(repoRoot, path);
}
