/**
 * Child processes of the devnet (keeper, guardians): each a separate Node process running its own CLI,
 * as in production, so one busy service never stalls another's event loop, and tests can SIGKILL them.
 * Output is appended to a log file in the data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../dev/foundry.js';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  url: string;
}

export interface ServiceSpec {
  name: string;
  /** TypeScript entry, relative to the repo root. */
  entry: string;
  args: string[];
  env: Record<string, string>;
  url: string;
  /** Log file (appended), or 'inherit'. */
  output: string | 'inherit';
}

export function startService(spec: ServiceSpec): ServiceProcess {
  const output = spec.output === 'inherit' ? 'inherit' : openSync(spec.output, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, spec.entry), ...spec.args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...spec.env },
    stdio: ['ignore', output, output],
  });
  if (typeof output === 'number') closeSync(output);
  return { name: spec.name, child, url: spec.url };
}

export const isRunning = (p: ServiceProcess | undefined): boolean =>
  !!p && p.child.exitCode === null && p.child.signalCode === null;

/** Waits until `GET <url>/health` answers 200 (the process compiles its TypeScript first). */
export async function waitForHealth(p: ServiceProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(p))
      throw new Error(
        `${p.name} exited (code ${p.child.exitCode}, signal ${p.child.signalCode}) before answering; see its log`,
      );
    try {
      if ((await fetch(`${p.url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${p.name} did not answer ${p.url}/health within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Sends `signal` (SIGKILL by default: no chance to clean up) and waits for the exit. */
export async function stopService(p: ServiceProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || !isRunning(p)) return;
  await new Promise<void>((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}
