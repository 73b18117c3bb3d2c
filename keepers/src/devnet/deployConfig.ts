/**
 * The devnet's deploy config: `config/devnet.json` with the run's own values — a genesis time far
 * enough ahead that every node, WatchDog and client is set up before epoch 1 starts. Written outside the
 * work tree, under FORGE_SCRATCH_DIR (dev/foundry.ts), which the deploy script may read. The allowlist phase is
 * scheduled after deployment (`openAllowlist` in setup.ts): forge simulates against the latest block's
 * timestamp, which on an idle anvil can be far behind the broadcast, so a phase scheduled in the deploy
 * config could start "in the past".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgeScratchDir, repoRoot } from '../dev/foundry.js';

export interface DevnetDeployOptions {
  /** Base config, relative to the repo root. */
  baseConfig?: string;
  /** Unix seconds at which epoch 1 starts. */
  genesisTime: number;
  /** Overrides of `settlement.epochDurationSeconds` / `disputeWindowSeconds` / `disputeResolutionSeconds`. */
  epochDurationSeconds?: number;
  disputeWindowSeconds?: number;
  disputeResolutionSeconds?: number;
  /**
   * Points mode (docs/points.md): writes the `points` section with `enabled: true` and these values
   * (`ratio`: SEND wei per point wei scaled by 1e18). Absent: the base config's section is kept as it is.
   */
  points?: { ratio: bigint; lastPointsEpoch: number; conversionDeadlineOffsetSeconds: number };
  /** Names the file: devnet-config-<tag>.json in a fresh directory under FORGE_SCRATCH_DIR. */
  tag: string;
}

/** Writes the derived config and returns its absolute path (what DEPLOY_CONFIG takes). */
export function writeDevnetDeployConfig(options: DevnetDeployOptions): string {
  const base = JSON.parse(readFileSync(join(repoRoot, options.baseConfig ?? 'config/devnet.json'), 'utf8'));
  base.settlement.genesisTime = options.genesisTime;
  if (options.epochDurationSeconds) base.settlement.epochDurationSeconds = options.epochDurationSeconds;
  if (options.disputeWindowSeconds) base.settlement.disputeWindowSeconds = options.disputeWindowSeconds;
  if (options.disputeResolutionSeconds) base.settlement.disputeResolutionSeconds = options.disputeResolutionSeconds;
  if (options.points) {
    base.points = {
      enabled: true,
      ratio: options.points.ratio.toString(),
      lastPointsEpoch: options.points.lastPointsEpoch,
      conversionDeadlineOffsetSeconds: options.points.conversionDeadlineOffsetSeconds,
    };
  }
  const path = join(forgeScratchDir('devnet-config'), `devnet-config-${options.tag}.json`);
  writeFileSync(path, `${JSON.stringify(base, null, 2)}\n`);
  return path;
}
