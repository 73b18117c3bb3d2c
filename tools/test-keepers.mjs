#!/usr/bin/env node
// `npm run test:keepers`: every TypeScript test file in keepers/test, in two lanes that run side by side.
// - realtime: the live devnets (WatchDog challenges with a 2 s timeout, 20 s epochs) — one file at a time,
//   as they mostly wait on the clock;
// - other: everything else (unit tests, chain tests, the in-process keeper pipeline, whose windows are
//   wide) — one file at a time, beside them. The lanes take about as long as each other.
// Each lane is `node --test --test-concurrency=1`; every output line is prefixed with its lane. The exit
// code is non-zero if either lane fails. With file arguments, those files run in one lane.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const DIR = 'keepers/test';
const REALTIME = new Set(['network.e2e', 'devnet.journeys.e2e', 'devnet', 'watchdog.e2e']);

const args = process.argv.slice(2);
const all = readdirSync(DIR)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => `${DIR}/${f}`);
const isRealtime = (path) =>
  REALTIME.has(
    path
      .split('/')
      .pop()
      .replace(/\.test\.ts$/, ''),
  );
const lanes =
  args.length > 0
    ? [{ name: 'tests', files: args }]
    : [
        { name: 'realtime', files: all.filter(isRealtime) },
        { name: 'other', files: all.filter((f) => !isRealtime(f)) },
      ];

const children = [];
function runLane({ name, files }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    }
    child.on('exit', (code, signal) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stdout.write(
        `[${name}] lane finished in ${seconds} s: ${code === 0 ? 'passed' : `FAILED (exit ${code ?? signal})`}\n`,
      );
      resolve(code ?? 1);
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => children.forEach((c) => c.kill(signal)));
const codes = await Promise.all(lanes.map(runLane));
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
