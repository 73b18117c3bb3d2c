/**
 * `graph codegen` + `graph build` (graph-cli, offline) with a content-hash cache: AssemblyScript compiles
 * take minutes on a busy machine, and the inputs rarely change between runs. Codegen output depends only
 * on the schema and ABIs; the build on those, the mappings and the manifest.
 */
import { stripVTControlCharacters } from 'node:util';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { repoRoot, subgraphDir } from './sources.js';
import { SendnetError } from '../../keepers/src/core/errors.js';

export class SubgraphBuildError extends SendnetError {
  override name = 'SubgraphBuildError';
  override readonly code = 'subgraph-build';
}

const STAMP = '.inputs-sha256';

function graphCli(): string {
  const path = join(repoRoot, 'node_modules', '.bin', 'graph');
  if (!existsSync(path)) throw new SubgraphBuildError(`graph-cli not found at ${path}: run \`npm ci\` first`);
  return path;
}

function filesUnder(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path, ext) : name.endsWith(ext) ? [path] : [];
    })
    .sort();
}

/** Content hash of files, named relative to the subgraph folder (the same inputs hash alike anywhere). */
function hashFiles(paths: string[]): string {
  const hash = createHash('sha256');
  for (const path of paths)
    hash.update(relative(subgraphDir, path)).update('\0').update(readFileSync(path)).update('\0');
  return hash.digest('hex');
}

function stamped(dir: string, digest: string): boolean {
  const path = join(dir, STAMP);
  return existsSync(path) && readFileSync(path, 'utf8').trim() === digest;
}

function run(args: string[], what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(graphCli(), args, {
      cwd: subgraphDir,
      env: { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) => {
      // graph-cli colours its output; strip the escapes so the error reads as text
      const text = stripVTControlCharacters(output);
      if (code === 0 && !/✖|Failed to/.test(text)) resolvePromise();
      else reject(new SubgraphBuildError(`${what} failed (exit ${code}):\n${text.slice(-6000)}`));
    });
  });
}

/** `graph codegen` into subgraph/generated unless the schema and ABIs are unchanged since the last run. */
export async function codegen(manifestPath: string): Promise<boolean> {
  const generated = join(subgraphDir, 'generated');
  // codegen writes types for the manifest's data sources only: a points deployment's manifest has two more
  // (TestnetPoints, PointsConversion), so their names are part of the inputs
  const dataSources = [...readFileSync(manifestPath, 'utf8').matchAll(/^ {4}name: "([^"]+)"$/gm)].map((m) => m[1]);
  const digest = `${hashFiles([join(subgraphDir, 'schema.graphql'), ...filesUnder(join(subgraphDir, 'abis'), '.json')])}:${dataSources.join(',')}`;
  if (stamped(generated, digest)) return false;
  // generate beside it and swap, so a concurrent compile never sees a half-written folder
  const tmp = join(subgraphDir, `.generated-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  await run(['codegen', resolve(manifestPath), '-o', tmp], 'graph codegen');
  writeFileSync(join(tmp, STAMP), `${digest}\n`);
  rmSync(generated, { recursive: true, force: true });
  renameSync(tmp, generated);
  return true;
}

function buildInputsDigest(manifestPath: string): string {
  const manifest = createHash('sha256').update(readFileSync(manifestPath)).digest('hex');
  return `${manifest}:${hashFiles([
    join(subgraphDir, 'schema.graphql'),
    ...filesUnder(join(subgraphDir, 'src'), '.ts'),
    ...filesUnder(join(subgraphDir, 'abis'), '.json'),
  ])}`;
}

/**
 * `graph build` of `manifestPath` into `outDir` unless nothing changed since the last build there.
 * Returns the built manifest (`<outDir>/subgraph.yaml`).
 */
export async function build(
  manifestPath: string,
  outDir: string,
): Promise<{ builtManifest: string; rebuilt: boolean }> {
  const digest = buildInputsDigest(manifestPath);
  const builtManifest = join(outDir, 'subgraph.yaml');
  if (stamped(outDir, digest) && existsSync(builtManifest)) return { builtManifest, rebuilt: false };
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await run(['build', resolve(manifestPath), '-o', resolve(outDir)], 'graph build');
  writeFileSync(join(outDir, STAMP), `${digest}\n`);
  return { builtManifest, rebuilt: true };
}

/** codegen + build. */
export async function codegenAndBuild(manifestPath: string, outDir: string) {
  await codegen(manifestPath);
  return build(manifestPath, outDir);
}

const CACHE_ENTRIES = 6;

/**
 * codegen + build into subgraph/.build-cache/<inputs digest>: a fresh devnet deploys to the same addresses,
 * so tests and benchmarks that start graph-node on a new data folder reuse the compiled subgraph.
 */
export async function buildCached(manifestPath: string): Promise<{ builtManifest: string; rebuilt: boolean }> {
  await codegen(manifestPath);
  const cacheDir = join(subgraphDir, '.build-cache');
  const outDir = join(
    cacheDir,
    createHash('sha256').update(buildInputsDigest(manifestPath)).digest('hex').slice(0, 16),
  );
  const result = await build(manifestPath, outDir);
  if (result.rebuilt) {
    const entries = readdirSync(cacheDir)
      .map((name) => ({ path: join(cacheDir, name), mtime: statSync(join(cacheDir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of entries.slice(CACHE_ENTRIES)) rmSync(old.path, { recursive: true, force: true });
  }
  return result;
}
