#!/usr/bin/env node
// `npm run test:keepers`: every TypeScript test file in keepers/test, in two lanes that run side by side.
// - realtime: the live devnets (WatchDog challenges with a 2 s timeout, 20 s epochs) — one file at a time,
//   as they mostly wait on the clock;
// - other: everything else (unit tests, chain tests, the in-process keeper pipeline, whose windows are
//   wide) — one file at a time, beside them. The lanes take about as long as each other.
// Each file is its own `node --test` process (TAP output); every output line is prefixed with its lane. The
// exit code is non-zero if either lane fails. With file arguments, those files run in one lane, each with the
// limits of the lane it belongs to.
//
// Time limits (LIMITS below; `--test-limit S` / `--file-limit S` override them, for every file): a hang fails
// within minutes and names what it waited for, instead of using up CI's time.
// - per test: no test or hook of a file may run longer than `test` seconds without a test starting or
//   finishing (so a slow `before` hook counts too). The runner follows the tests through the reporter in
//   tools/test-events.mjs, then stops the file's whole process group and prints the file and the test;
// - per file: node's own `--test-timeout` (in the runner, node 20 applies it to each file as a whole)
//   cancels the file at `file` seconds and the runner names the test that was running; if the file's process
//   is still alive 30 s later (a handle keeps it open), the runner kills its process group.
// After each file, whatever the file started and left running in its process group is killed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DIR = 'keepers/test';
const REALTIME = new Set(['network.e2e', 'devnet.journeys.e2e', 'devnet', 'watchdog.e2e', 'points.e2e']);
/**
 * Seconds. Measured on 2 cores (CI logs of 2026-12-07 at load 5–10, and single files run at load 10–19): the
 * longest test took 140 s in the realtime lane (network.e2e's honest epoch) and 245 s in the other lane
 * (pipeline.e2e's long-endpoints epoch under load, 100–110 s usually); but a realtime file's `before` hook
 * starts a whole devnet, and devnet.journeys.e2e's (devnet, then graph-node with a cold subgraph build
 * cache) had not finished after 300 s at load 15–19. Files take about 250–330 s at normal load; cli.e2e took
 * 361 s at load 10 (150 s usually). The limits leave about twice that.
 */
export const LIMITS = {
  realtime: { test: 600, file: 1200 },
  other: { test: 480, file: 900 },
};
const GRACE_SECONDS = 30;
const EVENTS_REPORTER = join(dirname(fileURLToPath(import.meta.url)), 'test-events.mjs');

function usage(message) {
  console.error(
    `tools/test-keepers.mjs: ${message}\nusage: node tools/test-keepers.mjs [--test-limit S] [--file-limit S] [file…]`,
  );
  process.exit(2);
}

const argv = process.argv.slice(2);
const override = {};
const args = [];
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i];
  if (flag === '--test-limit' || flag === '--file-limit') {
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < 1) usage(`${flag} needs a whole number of seconds, got ${argv[i]}`);
    override[flag === '--test-limit' ? 'test' : 'file'] = value;
  } else if (flag.startsWith('--')) usage(`unknown option ${flag}`);
  else args.push(flag);
}

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
const limitsOf = (file) => ({ ...LIMITS[isRealtime(file) ? 'realtime' : 'other'], ...override });

// a runner started from inside a test file (keepers/test/testRunner.test.ts) must not look like a nested run
const childEnv = { ...process.env };
delete childEnv.NODE_TEST_CONTEXT;

const groups = new Set();
const killGroup = (pid, signal = 'SIGKILL') => {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
};

/** The tests of one file that have been dequeued and not finished yet, innermost last. */
function runningTests(events) {
  const running = [];
  for (const e of events) {
    if (e.nesting === 0 && e.name === e.file) continue; // the file itself
    if (e.type === 'test:dequeue') running.push(e);
    else {
      const i = running.findLastIndex((r) => r.name === e.name && r.nesting === e.nesting);
      if (i >= 0) running.splice(i, 1);
    }
  }
  return running;
}

/** Runs one file; resolves with true when it passed. */
function runFile(file, out) {
  const limits = limitsOf(file);
  const lane = isRealtime(file) ? 'realtime' : 'other';
  const eventsDir = mkdtempSync(join(tmpdir(), 'test-keepers-'));
  const eventsFile = join(eventsDir, 'events.jsonl');
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=1',
        `--test-timeout=${limits.file * 1000}`,
        '--test-reporter=tap',
        '--test-reporter-destination=stdout',
        `--test-reporter=${EVENTS_REPORTER}`,
        `--test-reporter-destination=${eventsFile}`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: childEnv },
    );
    groups.add(child.pid);
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', out);
    const events = [];
    let lastProgress = Date.now();
    let readUpTo = 0;
    const readEvents = () => {
      let text = '';
      try {
        text = readFileSync(eventsFile, 'utf8');
      } catch {
        return; // not written yet
      }
      const end = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(readUpTo, end).split('\n')) {
        if (line === '') continue;
        events.push({ ...JSON.parse(line), at: Date.now() });
        lastProgress = Date.now();
      }
      readUpTo = end;
    };
    const describe = () => {
      const running = runningTests(events);
      if (running.length === 0) {
        return events.some((e) => e.nesting > 0 || e.name !== e.file)
          ? 'every test had finished: an open handle (server, socket, timer, child process) kept the file alive'
          : 'no test had started (the file was still loading)';
      }
      const innermost = running[running.length - 1];
      const path = running.map((r) => r.name).join(' > ');
      return `running: '${path}' or its hooks (started ${Math.round((Date.now() - innermost.at) / 1000)} s before)`;
    };
    let verdict = null; // the runner's own timeout message, if any
    const watchdog = setInterval(() => {
      readEvents();
      const now = Date.now();
      if (verdict === null && now - lastProgress > limits.test * 1000) {
        verdict = `TIMED OUT: ${file}: no test started or finished for ${limits.test} s (per-test limit of lane ${lane}); ${describe()}; stopped it`;
        killGroup(child.pid);
      } else if (verdict === null && now - started > (limits.file + GRACE_SECONDS) * 1000) {
        verdict = `TIMED OUT: ${file}: still running ${limits.file + GRACE_SECONDS} s after its start (file limit ${limits.file} s of lane ${lane}); ${describe()}; killed it`;
        killGroup(child.pid);
      }
    }, 1000);
    const closed = new Promise((r) => child.once('close', r));
    child.once('exit', async (code, signal) => {
      clearInterval(watchdog);
      killGroup(child.pid); // whatever the file started and left running
      groups.delete(child.pid);
      // its last output lines, unless something outside the group still holds the pipes
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      readEvents();
      rmSync(eventsDir, { recursive: true, force: true });
      const seconds = Math.round((Date.now() - started) / 1000);
      const fileFail = events.find((e) => e.type === 'test:fail' && e.nesting === 0 && e.name === e.file);
      if (verdict === null && fileFail && /timed out/.test(fileFail.error)) {
        verdict = `TIMED OUT: ${file}: over its file limit of ${limits.file} s (lane ${lane}); ${describe()}`;
      }
      if (verdict) out(verdict);
      const passed = code === 0 && verdict === null;
      out(
        `${file}: ${passed ? 'passed' : `FAILED (${verdict ? 'timed out' : `exit ${code ?? signal}`})`} in ${seconds} s`,
      );
      resolve(passed);
    });
  });
}

async function runLane({ name, files }) {
  const started = Date.now();
  const out = (line) => process.stdout.write(`[${name}] ${line}\n`);
  const failed = [];
  for (const file of files) if (!(await runFile(file, out))) failed.push(file);
  const seconds = Math.round((Date.now() - started) / 1000);
  out(`lane finished in ${seconds} s: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`}`);
  return failed.length === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    for (const pid of groups) killGroup(pid, signal);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
const codes = await Promise.all(lanes.map(runLane));
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
