/**
 * tools/test-keepers.mjs's time limits (issue 12 §4 "Tests never hang"), on small fixture files
 * (keepers/test/fixtures/runner/): a test or hook that hangs fails at the per-test limit naming the file and
 * the test; a file over its budget fails naming the file and the test it was in; a passing file passes; what a
 * file leaves running is killed; bad limits are usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../src/dev/foundry.js';

const FIXTURES = 'keepers/test/fixtures/runner';

function runner(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['tools/test-keepers.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: run.status, out: run.stdout + run.stderr, seconds: (Date.now() - started) / 1000 };
}

test('a test that hangs fails at the per-test limit, naming the file and the test', () => {
  const { status, out, seconds } = runner(['--test-limit', '3', `${FIXTURES}/hangs-in-test.ts`]);
  assert.equal(status, 1, out);
  assert.match(
    out,
    /TIMED OUT: keepers\/test\/fixtures\/runner\/hangs-in-test\.ts: no test started or finished for 3 s \(per-test limit of lane other\); running: 'waits > waits for a receipt that never comes' or its hooks/,
  );
  assert.match(out, /hangs-in-test\.ts: FAILED \(timed out\)/);
  assert.ok(seconds < 30, `stopped at the limit, not later (${seconds} s)`);
});

test('a hook that hangs fails at the per-test limit, naming the test it runs before', () => {
  const { status, out } = runner(['--test-limit', '3', `${FIXTURES}/hangs-in-hook.ts`]);
  assert.equal(status, 1, out);
  assert.match(
    out,
    /TIMED OUT: .*hangs-in-hook\.ts: no test started or finished for 3 s .*running: 'never reached' or its hooks/,
  );
});

test('a file whose tests finished but whose process stays alive fails naming the open handle', () => {
  const { status, out } = runner(['--test-limit', '3', `${FIXTURES}/keeps-alive.ts`]);
  assert.equal(status, 1, out);
  assert.match(
    out,
    /TIMED OUT: .*keeps-alive\.ts: no test started or finished for 3 s .*every test had finished: an open handle \(server, socket, timer, child process\) kept the file alive/,
  );
});

test('a file over its budget fails naming the file and the test it was in', () => {
  const { status, out } = runner(['--file-limit', '4', `${FIXTURES}/hangs-in-test.ts`]);
  assert.equal(status, 1, out);
  assert.match(out, /error: 'test timed out after 4000ms'/, 'node reports the file timeout in the TAP output');
  assert.match(
    out,
    /TIMED OUT: keepers\/test\/fixtures\/runner\/hangs-in-test\.ts: over its file limit of 4 s \(lane other\); running: 'waits > waits for a receipt that never comes'/,
  );
});

test('a passing file passes within its limits; a process it left running is killed after it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  try {
    const pidFile = join(dir, 'pid');
    const { status, out } = runner(['--test-limit', '20', `${FIXTURES}/passes.ts`, `${FIXTURES}/leaves-a-process.ts`], {
      RUNNER_FIXTURE_PID: pidFile,
    });
    assert.equal(status, 0, out);
    assert.match(out, /passes\.ts: passed in \d+ s/);
    assert.match(out, /lane finished in \d+ s: passed/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(Number.isInteger(pid) && pid > 1);
    // killed: gone, or a zombie until its new parent reaps it
    const state = () =>
      existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    assert.match(String(state()), /^(gone|Z)$/, `the left-over process ${pid} was killed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad limits and unknown options are usage errors naming the problem', () => {
  for (const [args, message] of [
    [['--test-limit', '0'], /--test-limit needs a whole number of seconds, got 0/],
    [['--file-limit', 'soon'], /--file-limit needs a whole number of seconds, got soon/],
    [['--file-limit'], /--file-limit needs a whole number of seconds, got undefined/],
    [['--timeout', '5'], /unknown option --timeout/],
  ] as const) {
    const { status, out } = runner([...args]);
    assert.equal(status, 2, out);
    assert.match(out, message);
  }
});
