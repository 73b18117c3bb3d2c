/**
 * Failpoints for crash tests: `KEEPER_FAILPOINTS=name[,name…]` makes the process SIGKILL itself when it
 * reaches a named point, so tests can kill a keeper at an exact step (after a transaction was signed and
 * stored but not sent, after it was sent, after a stage stored its output …) and check that a restart
 * neither loses nor repeats work. With the variable unset (production) `failpoint` does nothing.
 *
 * Names used: `tx-stored:<name>`, `tx-sent:<name>` (chainTx.ts; name e.g. `submit.3`),
 * `stage-stored:<stage>.<epoch>` (runner.ts).
 */
import { writeSync } from 'node:fs';

const armed = new Set(
  (process.env.KEEPER_FAILPOINTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export function failpoint(name: string): void {
  if (armed.size === 0 || !armed.has(name)) return;
  // Synchronous write: the process dies on the next line.
  writeSync(2, `${JSON.stringify({ level: 40, failpoint: name, msg: 'failpoint reached: killing this process' })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
