/**
 * Test harness for the `sendnet` CLI: runs `node bin/sendnet.mjs …` as a child process with a clean
 * environment (only what the test passes, so a developer's SENDNET_* variables never leak in) and returns
 * its exit code, stdout and stderr.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/dev/foundry.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export const SENDNET_BIN = join(repoRoot, 'bin', 'sendnet.mjs');

export function runSendnet(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const cleanEnv: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SENDNET_BIN, ...args],
      { cwd: repoRoot, env: cleanEnv, timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The one-sentence failure contract: one line on stderr, no stack frames. */
export function isOneSentence(stderr: string): boolean {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('Approving '));
  return lines.length === 1 && lines[0]!.startsWith('error: ') && !/\n\s+at /.test(stderr);
}
