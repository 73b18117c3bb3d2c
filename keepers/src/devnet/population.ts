/**
 * Who is on the devnet: deterministic keys for every edge node, WatchDog and client (derived from a run
 * label, so a run is reproducible and two runs never share keys), the misbehaviour assigned to each node,
 * and which clients use which node. Pure.
 */
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { deviceKeyFromSeed, type DeviceKey } from '../core/relay.js';

export const populationSchema = z
  .object({
    nodes: z.number().int().min(1).max(500),
    watchdogs: z.number().int().min(0).max(100),
    clients: z.number().int().min(2).max(5000),
    /** Nodes that silently drop this fraction of envelopes (and so fail WatchDog challenges). */
    droppers: z.number().int().min(0),
    dropRate: z.number().min(0).max(1),
    /** Nodes that pad their commitment with forged receipts (+inflateUnits of their real volume). */
    inflaters: z.number().int().min(0),
    inflateUnits: z.number().positive(),
    /** Nodes that go offline as the first network epoch starts and stay down. */
    offline: z.number().int().min(0),
    /**
     * Licenses of one holder that collude (0 or 2..8): they report the first honest node down and the offline
     * node up; the first sends no challenge at all and reports the rest "ok". Assignment by owner gives a node
     * at most one of them, the median of 5 ignores it, and the nodes' receipts contradict or fail to back it.
     */
    colludingWatchdogs: z.number().int().min(0).max(8),
    /** Nodes that commit only after the seed is known, a tailored commitment with filler (issue 11 finding 2). */
    lateCommitters: z.number().int().min(0).default(1),
    /** Nodes that sign two different commitments per epoch (caught: no reward, equivocationSlash, a strike). */
    equivocators: z.number().int().min(0).default(0),
    /** Challenge identities (DIDs with a device key) per WatchDog. */
    identitiesPerWatchdog: z.number().int().min(2).max(8),
  })
  .superRefine((p, ctx) => {
    const misbehaving = p.droppers + p.inflaters + p.offline + p.lateCommitters + p.equivocators;
    if (misbehaving > p.nodes) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodes'],
        message: `${misbehaving} misbehaving nodes need at least as many nodes, got ${p.nodes}`,
      });
    }
    if (p.colludingWatchdogs === 1)
      ctx.addIssue({ code: 'custom', path: ['colludingWatchdogs'], message: 'a colluding set needs 0 or at least 2' });
  });
export type PopulationPlan = z.infer<typeof populationSchema>;

/**
 * Droppers drop 3/4 of the envelopes they relay. A node dropping a fraction d passes one WatchDog's
 * `challengesPerNode` = c challenges with probability (1 − d)^c, and its availability (the median over the
 * m = 3 assigned WatchDogs) clears A_min = 0.9 only if two of them see every challenge succeed: with the
 * devnet's c = 4 that is ≈ 3·((1 − d)^4)² per epoch, about 1 % at d = 0.5 (a dropper then escapes in about
 * one run in ten of the integration tests) and 5·10⁻⁵ at d = 0.75. Production schedules 24–96 challenges
 * per node per day, so a d = 0.5 dropper escapes with probability about 10⁻¹⁴ there.
 */
export const DEFAULT_POPULATION: PopulationPlan = {
  nodes: 20,
  watchdogs: 6,
  colludingWatchdogs: 2,
  clients: 50,
  droppers: 2,
  dropRate: 0.75,
  inflaters: 1,
  inflateUnits: 0.5,
  offline: 1,
  lateCommitters: 1,
  equivocators: 1,
  identitiesPerWatchdog: 2,
};

export type Behaviour = 'honest' | 'dropper' | 'inflater' | 'offline' | 'late-committer' | 'equivocator';

export interface NodePlan {
  index: number;
  behaviour: Behaviour;
  operatorKey: Hex;
  operator: Address;
  nodeKey: Hex;
  nodeAddress: Address;
}

export interface IdentityPlan {
  walletKey: Hex;
  name: string;
  device: DeviceKey;
}

export interface WatchdogPlan {
  index: number;
  /** `colluder`: one of `colludingWatchdogs` licenses of one holder that lie together. */
  behaviour: 'honest' | 'colluder';
  ownerKey: Hex;
  operatorKey: Hex;
  operator: Address;
  identities: IdentityPlan[];
}

export interface ClientPlan extends IdentityPlan {
  index: number;
  /** Index of the node this client connects to. */
  home: number;
}

export interface Population {
  plan: PopulationPlan;
  nodes: NodePlan[];
  watchdogs: WatchdogPlan[];
  clients: ClientPlan[];
}

/**
 * Builds the population. Misbehaving nodes are spread over the index range (droppers first, then the
 * inflater, then the offline node, then the late committer, then the equivocator), each behaviour on its own node. Clients are assigned round-robin, so
 * every node has at least two clients when clients ≥ 2 × nodes, else the first nodes get them.
 */
export function buildPopulation(runLabel: string, input: Partial<PopulationPlan> = {}): Population {
  const merged = { ...DEFAULT_POPULATION, ...input };
  // The late committer joins when there is room for it (a 4-node devnet keeps the original four behaviours).
  if (input.lateCommitters === undefined)
    merged.lateCommitters = merged.nodes > merged.droppers + merged.inflaters + merged.offline ? 1 : 0;
  // The equivocator joins when at least half the network stays honest (the 20-node default has one).
  if (input.equivocators === undefined) {
    const others = merged.droppers + merged.inflaters + merged.offline + merged.lateCommitters;
    merged.equivocators = merged.nodes >= 2 * (others + 1) ? 1 : 0;
  }
  const plan = populationSchema.parse(merged);
  const key = (what: string, i: number, j = 0): Hex => keccak256(toHex(`sendnet-devnet/${runLabel}/${what}/${i}/${j}`));
  // Short unique DID names: 3–24 characters of [a-z0-9-].
  const tag = keccak256(toHex(runLabel)).slice(2, 8);
  const behaviours: Behaviour[] = new Array(plan.nodes).fill('honest');
  const stride = Math.max(
    1,
    Math.floor(
      plan.nodes / (plan.droppers + plan.inflaters + plan.offline + plan.lateCommitters + plan.equivocators + 1),
    ),
  );
  let slot = stride - 1;
  const place = (b: Behaviour, count: number) => {
    for (let k = 0; k < count; k++) {
      while (behaviours[slot % plan.nodes] !== 'honest') slot++;
      behaviours[slot % plan.nodes] = b;
      slot += stride;
    }
  };
  place('dropper', plan.droppers);
  place('inflater', plan.inflaters);
  place('offline', plan.offline);
  place('late-committer', plan.lateCommitters);
  place('equivocator', plan.equivocators);

  const nodes = behaviours.map((behaviour, index) => {
    const operatorKey = key('operator', index);
    const nodeKey = key('node', index);
    return {
      index,
      behaviour,
      operatorKey,
      operator: privateKeyToAccount(operatorKey).address,
      nodeKey,
      nodeAddress: privateKeyToAccount(nodeKey).address,
    };
  });
  const watchdogs = Array.from({ length: plan.watchdogs + plan.colludingWatchdogs }, (_, index) => {
    const operatorKey = key('watchdog-operator', index);
    const colluder = index >= plan.watchdogs;
    // the colluding licenses share one holder
    const ownerKey = colluder ? key('watchdog-colluding-owner', 0) : key('watchdog-owner', index);
    return {
      index,
      behaviour: colluder ? ('colluder' as const) : ('honest' as const),
      ownerKey,
      operatorKey,
      operator: privateKeyToAccount(operatorKey).address,
      identities: Array.from({ length: plan.identitiesPerWatchdog }, (_, j) => ({
        walletKey: ownerKey,
        name: `w${tag}-${index}-${j}`,
        device: deviceKeyFromSeed(key('watchdog-device', index, j)),
      })),
    };
  });
  const clients = Array.from({ length: plan.clients }, (_, index) => ({
    index,
    home: index % plan.nodes,
    walletKey: key('client', index),
    name: `c${tag}-${index}`,
    device: deviceKeyFromSeed(key('client-device', index)),
  }));
  return { plan, nodes, watchdogs, clients };
}
