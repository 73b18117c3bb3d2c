#!/usr/bin/env node
// Native-solc-compatible front end for the WebAssembly compiler in the npm `solc` package.
// Forge cannot download compilers on these machines; foundry.toml points `solc` at this file.
// Forge only uses two entry points: `--version` and `--standard-json` (input on stdin).
'use strict';
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // Native solc prints e.g. "Version: 0.8.30+commit.73712a01.Linux.g++"; forge parses this line.
  const version = solc.version().replace(/\.Emscripten\.clang$/, '');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}.Linux.g++\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('tools/solc.cjs supports only --version and --standard-json\n');
  process.exit(1);
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  // Sources arrive inline from forge; imports outside them are read from disk relative to the
  // allowed paths forge passes (--allow-paths / --base-path / --include-path).
  const fs = require('node:fs');
  const path = require('node:path');
  const roots = [process.cwd()];
  for (let i = 0; i < args.length; i++) {
    if (['--base-path', '--include-path', '--allow-paths'].includes(args[i]) && args[i + 1]) {
      for (const p of args[i + 1].split(',')) roots.push(path.resolve(p));
    }
  }
  const findImports = (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
    }
    return { error: `File not found: ${importPath}` };
  };
  process.stdout.write(solc.compile(input, { import: findImports }));
});
