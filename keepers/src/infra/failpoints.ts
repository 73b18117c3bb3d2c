/**
 * Failpoints for crash tests: `KEEPER_FAILPOINTS=name[,name…]` makes the process SIGKILL itself when it
 * reaches a named point, so tests can kill a keeper at an exact step (after a transaction was signed and
 * stored but not sent, after it was sent, after a stage stored its output …) and check that a restart
 * neither loses nor repeats work. With the variable unset (production) `failpoint` does nothing.
 *
 * Names used: `tx-stored:<name>`, `tx-sent:<name>` (chainTx.ts; name e.g. `submit.3`),
 * `stage-stored:<stage>.<epoch>` (runner.ts).
 */
import { log } from '../log.js';

const armed = new Set(
  (process.env.KEEPER_FAILPOINTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export function failpoint(name: string): void {
  if (armed.size === 0 || !armed.has(name)) return;
  log.warn({ failpoint: name }, 'failpoint reached: killing this process');
  process.kill(process.pid, 'SIGKILL');
}
