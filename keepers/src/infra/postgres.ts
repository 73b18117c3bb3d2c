/**
 * A private Postgres cluster for graph-node: `initdb` (UTF8, C collation, password auth) in a data folder
 * on first use, then `postgres` on a free loopback port, run as an unprivileged user. Postgres refuses to
 * run as root, so when this process is root the server runs as `options.user` (default the `postgres`
 * system user of the Debian package) through Node's `uid`/`gid` spawn options; otherwise as the
 * current user. The superuser's password is generated at initdb and kept next to the cluster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../dev/anvil.js';
import { SendnetError } from '../core/errors.js';

export class PostgresError extends SendnetError {
  override name = 'PostgresError';
  override readonly code = 'postgres';
}

export interface PostgresOptions {
  /** Folder holding the cluster (`<dataDir>/pg`) and its password file; created when absent. */
  dataDir: string;
  /** Loopback port; a free one when omitted. */
  port?: number;
  /** Database to create (if missing). Default `graph-node`. */
  database?: string;
  /** System user that runs the server when this process is root. Default `postgres`. */
  user?: string;
  /** Drop `database` first (graph-node's chain store must not outlive the chain it indexed). */
  resetDatabase?: boolean;
}

export interface PostgresHandle {
  /** `postgresql://graph:<password>@127.0.0.1:<port>/<database>` */
  readonly url: string;
  readonly port: number;
  /** Creates another database in the cluster (if missing) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (SIGINT): waits for the server to exit. */
  stop(): Promise<void>;
}

const SUPERUSER = 'graph';
const INSTALL_HINT = 'install PostgreSQL (Debian: apt-get install postgresql) or set PG_BIN to its bin folder';

/** The folder holding `initdb` and `postgres`: `$PG_BIN`, `pg_config --bindir`, else the newest Debian one. */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!found) throw new PostgresError(`Postgres binaries (initdb, postgres) not found: ${INSTALL_HINT}`);
  return found;
}

interface RunAs {
  uid?: number;
  gid?: number;
  env: NodeJS.ProcessEnv;
}

function runAs(user: string): RunAs {
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  if (process.getuid?.() !== 0) return { env };
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new PostgresError(
      `running as root, Postgres needs an unprivileged user but "${user}" does not exist: ${INSTALL_HINT} (it creates the "postgres" user) or create one`,
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), env: { ...env, HOME: '/tmp', USER: user } };
}

function run(binary: string, args: string[], as: RunAs, what: string): string {
  const result = spawnSync(binary, args, { uid: as.uid, gid: as.gid, env: as.env, encoding: 'utf8', cwd: '/' });
  if (result.error) throw new PostgresError(`${what}: ${result.error.message}`);
  if (result.status !== 0)
    throw new PostgresError(`${what} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/** Creates the cluster in `<dataDir>/pg` unless it exists; returns the superuser password. */
function ensureCluster(dataDir: string, bin: string, as: RunAs): string {
  const clusterDir = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'pg.password');
  if (existsSync(join(clusterDir, 'PG_VERSION'))) {
    if (!existsSync(passwordFile))
      throw new PostgresError(
        `cluster ${clusterDir} exists but ${passwordFile} is missing: delete the folder to start over`,
      );
    return readFileSync(passwordFile, 'utf8').trim();
  }
  rmSync(clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted initdb
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  // initdb wants an empty directory: its password file lives beside it for the run
  const tmpPw = join(dataDir, `.initdb-pw-${process.pid}`);
  writeFileSync(tmpPw, `${password}\n`, { mode: 0o600 });
  if (as.uid !== undefined && as.gid !== undefined) {
    chownSync(clusterDir, as.uid, as.gid);
    chownSync(tmpPw, as.uid, as.gid);
  }
  try {
    run(
      join(bin, 'initdb'),
      ['-D', clusterDir, '-U', SUPERUSER, '--encoding=UTF8', '--locale=C', '--auth=scram-sha-256', `--pwfile=${tmpPw}`],
      as,
      'initdb',
    );
  } finally {
    rmSync(tmpPw, { force: true });
  }
  return password;
}

function makeTraversable(dataDir: string, as: RunAs): void {
  if (as.uid === undefined) return;
  // the server user must be able to reach <dataDir>/pg: every folder on the way needs o+x
  let dir = resolve(dataDir);
  for (;;) {
    try {
      const mode = spawnSync('stat', ['-c', '%a', dir], { encoding: 'utf8' }).stdout.trim();
      const bits = parseInt(mode, 8);
      if (!Number.isNaN(bits) && (bits & 0o001) === 0) chmodSync(dir, bits | 0o001);
    } catch {
      /* best effort; initdb reports what it cannot reach */
    }
    const parent = resolve(dir, '..');
    if (parent === dir) break;
    dir = parent;
  }
}

async function waitReady(bin: string, port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new PostgresError(`postgres exited with code ${child.exitCode}: ${output().trim().slice(-2000)}`);
    const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], {
      encoding: 'utf8',
    });
    if (ready.status === 0) return;
    if (Date.now() > deadline)
      throw new PostgresError(
        `postgres did not accept connections on port ${port} within 30 s: ${output().trim().slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts (creating if needed) the cluster in `<dataDir>/pg` and the database `options.database`. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const bin = postgresBinDir();
  const as = runAs(options.user ?? 'postgres');
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  makeTraversable(dataDir, as);
  const password = ensureCluster(dataDir, bin, as);
  const port = options.port ?? (await freePort());
  const clusterDir = join(dataDir, 'pg');
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      clusterDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
    ],
    { uid: as.uid, gid: as.gid, env: as.env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitReady(bin, port, child, () => output);
  } catch (error) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw error;
  }
  const urlFor = (db: string) => `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  const createDatabase = async (name: string) => {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new PostgresError(`database name "${name}" must match [A-Za-z0-9_-]+`);
    const env = { ...process.env, PGPASSWORD: password };
    const exists = spawnSync(
      join(bin, 'psql'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        SUPERUSER,
        '-d',
        'postgres',
        '-tAc',
        `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
      ],
      { env, encoding: 'utf8' },
    );
    if (exists.status !== 0) throw new PostgresError(`psql failed: ${exists.stderr.trim()}`);
    if (exists.stdout.trim() !== '1') {
      const created = spawnSync(
        join(bin, 'createdb'),
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          SUPERUSER,
          '--encoding=UTF8',
          '--locale=C',
          '--template=template0',
          name,
        ],
        { env, encoding: 'utf8' },
      );
      if (created.status !== 0) throw new PostgresError(`createdb ${name} failed: ${created.stderr.trim()}`);
    }
    return urlFor(name);
  };
  const dropDatabase = (name: string) => {
    const dropped = spawnSync(
      join(bin, 'dropdb'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, '--if-exists', '--force', name],
      { env: { ...process.env, PGPASSWORD: password }, encoding: 'utf8' },
    );
    if (dropped.status !== 0) throw new PostgresError(`dropdb ${name} failed: ${dropped.stderr.trim()}`);
  };
  let url: string;
  try {
    if (options.resetDatabase) dropDatabase(options.database ?? 'graph-node');
    url = await createDatabase(options.database ?? 'graph-node');
  } catch (error) {
    child.kill('SIGINT');
    await exited;
    throw error;
  }
  return {
    url,
    port,
    createDatabase,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGINT'); // fast shutdown: aborts sessions, checkpoints, exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
