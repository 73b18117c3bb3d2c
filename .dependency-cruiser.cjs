/**
 * Import boundaries of keepers/src (`npm run lint:imports`; docs/layout.md explains the layers).
 * Shared layers, lowest first — an import may only point down:
 *   core/  pure protocol logic: no I/O, imports only core/ (and viem, zod, hashing)
 *   chain/ what programs read from or sign for the chain: core/, generated/
 *   dev/   local toolchain (repo root, Foundry binaries, anvil): nothing of ours
 *   infra/ process-level I/O (logging, Redis, HTTP, config files, command lines, Postgres, graph-node)
 *   client/ the relay client library programs use to talk to edge nodes
 * Programs: keeper/, edge-node/, guardian/, watchdog/, cli/ use the shared layers and never each other;
 * devnet/ composes them all and nothing imports it (tests and benchmarks may).
 */
const SRC = '^keepers/src/';
const PROGRAMS = '(keeper|edge-node|guardian|watchdog|cli|devnet)';

module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'core/ is the pure layer: it may import only core/ (the keeper, every guardian and the tests run the very same code).',
      severity: 'error',
      from: { path: `${SRC}core/` },
      to: { path: `${SRC}`, pathNot: `${SRC}core/` },
    },
    {
      name: 'core-has-no-io',
      comment: 'core/ does no I/O: no Redis, WebSockets, databases, logging or command lines.',
      severity: 'error',
      from: { path: `${SRC}core/` },
      to: { path: '^(ioredis|bullmq|ws|classic-level|pino|prom-client|commander)$' },
    },
    {
      name: 'core-has-no-io-builtins',
      comment: "core/ does no I/O: of Node's own modules only crypto, util, buffer and events.",
      severity: 'error',
      from: { path: `${SRC}core/` },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?(crypto|util|buffer|events)$' },
    },
    {
      name: 'chain-imports-core-and-generated',
      comment: 'chain/ holds the chain facts programs share; it builds only on core/ and the generated ABIs.',
      severity: 'error',
      from: { path: `${SRC}chain/` },
      to: { path: `${SRC}`, pathNot: `${SRC}(core|chain|generated)/` },
    },
    {
      name: 'dev-imports-nothing-of-ours',
      severity: 'error',
      from: { path: `${SRC}dev/` },
      to: { path: `${SRC}`, pathNot: `${SRC}dev/` },
    },
    {
      name: 'infra-imports-no-program',
      comment: 'infra/ serves every program; no import points back up into a program or the client.',
      severity: 'error',
      from: { path: `${SRC}infra/` },
      to: { path: `${SRC}(${PROGRAMS.slice(1, -1)}|client)/` },
    },
    {
      name: 'client-imports-shared-layers',
      comment: 'client/ is a library (the relay client): core/, chain/, infra/, generated/ only.',
      severity: 'error',
      from: { path: `${SRC}client/` },
      to: { path: `${SRC}`, pathNot: `${SRC}(core|chain|infra|generated|client)/` },
    },
    {
      name: 'programs-do-not-import-each-other',
      comment: 'A program uses the shared layers and client/, never another program (devnet/ composes them and is exempt).',
      severity: 'error',
      from: { path: `${SRC}(keeper|edge-node|guardian|watchdog|cli)/` },
      to: { path: `${SRC}${PROGRAMS}/`, pathNot: [`${SRC}$1/`] },
    },
    {
      name: 'nothing-imports-devnet',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}devnet/` },
      to: { path: `${SRC}devnet/` },
    },
    {
      name: 'no-circular',
      comment: 'Runtime import cycles hide an unclear layer; break them by moving the shared piece down (type-only cycles are harmless).',
      severity: 'error',
      from: { path: SRC },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^keepers/src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
