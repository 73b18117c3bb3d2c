/**
 * The keeper's requests to node-chosen endpoints (infra/nodeFetch.ts) through the real collect-commitments
 * and openings handlers, against real local HTTP servers playing hostile nodes (issue 11, finding 6):
 * - a node that redirects: the redirect target (another local server) is never requested, the node counts
 *   as unreachable (openings `silent`), and the reason carries no node-chosen text (commitments no longer
 *   come from nodes: the keeper collects them attested from the guardians);
 * - error statuses, malformed answers with hostile keys and values, oversized and slow answers, endpoints
 *   that are not URLs: each becomes a fixed sentence with numbers only.
 * The openings handler runs with a stub environment holding only the clock and timings they read (no chain, no
 * Redis: the unit under test is what the handler asks and records).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { pino } from 'pino';
import { openingsStage } from '../src/keeper/handlers/openings.js';
import type { KeeperEnv } from '../src/keeper/handlers/env.js';
import type { StageContext } from '../src/keeper/runner.js';
import { malformedAnswerReason, nodeBaseUrl, NodeFetchError, nodeFetchJson } from '../src/infra/nodeFetch.js';
import { datasetNodeWire, nodeOpeningsWire } from '../src/core/datasetSchema.js';

/** Text a hostile node puts everywhere it can: it must never reach what the keeper records. */
const MARK = 'NODE-CHOSEN-xyzzy';
const NODE_KEY = `0x${'ab'.repeat(20)}`;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ server: Server; url: string; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port, hits };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Only what the two handlers' per-node parts read. */
function stubEnv(requestTimeoutMs = 1_000): KeeperEnv {
  const now = Date.now();
  return {
    chain: { clock: async () => ({ genesisTime: Math.floor(now / 1000) - 10, epochDuration: 60 }) },
    consensus: { commitGraceSeconds: 2, assignmentLeadSeconds: 5 },
    timing: { requestTimeoutMs, commitmentFetches: 2, openingsWindowSeconds: 10, transcriptGraceSeconds: 5 },
    nowMs: () => Date.now(),
    log: pino({ level: 'silent' }),
  } as unknown as KeeperEnv;
}

function partContext(input: unknown): StageContext {
  return {
    epoch: 1,
    part: NODE_KEY,
    input,
    isLastAttempt: true,
    log: pino({ level: 'silent' }),
  } as unknown as StageContext;
}

async function askOpenings(endpoint: string, env = stubEnv()) {
  const answer = await openingsStage(env).part!(partContext({ endpoint, targets: ['0', '5'] }));
  return nodeOpeningsWire.parse(answer); // what goes into the dataset
}

function assertClean(reason: string | undefined) {
  assert.ok(reason, 'a reason is recorded');
  assert.ok(!reason.includes(MARK), `no node-chosen text in "${reason}"`);
  assert.ok(!reason.includes('127.0.0.1'), `no endpoint in "${reason}"`);
  assert.ok(reason.length <= 200, `a short fixed sentence: "${reason}"`);
}

describe('a node endpoint that redirects', () => {
  let target: Awaited<ReturnType<typeof serve>>;
  let node: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    target = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ openings: [], mark: MARK }));
    });
    node = await serve((request, response) => {
      const status = request.url?.includes('commitment') ? 301 : 307;
      response.writeHead(status, { location: `${target.url}${request.url}?${MARK}`, 'x-mark': MARK });
      response.end(MARK);
    });
  });

  after(async () => {
    await close(node.server);
    await close(target.server);
  });

  test('openings: the target is never requested, the node is silent, the reason is fixed', async () => {
    const answer = await askOpenings(`ws://127.0.0.1:${node.port}`);
    assert.equal(answer.status, 'silent');
    assert.equal(answer.reason, 'answered with a redirect (HTTP 307), not followed');
    assertClean(answer.reason);
    assert.deepEqual(node.hits, ['POST /epochs/1/openings']);
    assert.deepEqual(target.hits, [], 'the redirect target was never contacted');
  });

  test("nodeFetchJson (also the guardians' openings observer): a 301 is refused, its target never requested", async () => {
    node.hits.length = 0;
    await assert.rejects(
      nodeFetchJson(`${node.url}/epochs/1/commitment`, { timeoutMs: 1_000, maxBytes: 1024 }),
      (e: NodeFetchError) => {
        assert.equal(e.category, 'redirect');
        assertClean(e.message);
        return true;
      },
    );
    assert.deepEqual(node.hits, ['GET /epochs/1/commitment']);
    assert.deepEqual(target.hits, [], 'the redirect target was never contacted');
  });
});

describe('what the keeper records about a node is fixed text', () => {
  let hostile: Awaited<ReturnType<typeof serve>>;
  let mode: 'error' | 'not-found' | 'malformed' | 'huge' | 'slow' | 'not-json' = 'error';

  before(async () => {
    hostile = await serve((_request, response) => {
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (mode === 'error') return json(500, { error: MARK, message: MARK.repeat(20) });
      if (mode === 'not-found') return json(404, { error: MARK });
      if (mode === 'malformed')
        return json(200, {
          openings: [{ [MARK]: MARK, index: MARK }, {}],
          commitment: MARK,
          [MARK]: 1,
        });
      if (mode === 'not-json') {
        response.writeHead(200);
        return response.end(`<html>${MARK}</html>`);
      }
      if (mode === 'huge') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(`{"openings":["${MARK}`);
        const chunk = 'x'.repeat(64 * 1024);
        let sent = 0;
        const more = () => {
          while (sent < 17 * 1024 * 1024) {
            sent += chunk.length;
            if (!response.write(chunk)) return response.once('drain', more);
          }
          response.end('"]}');
        };
        return more();
      }
      setTimeout(() => json(200, { openings: [] }), 3_000).unref(); // slow
    });
  });

  after(async () => close(hostile.server));

  test('an error status with a body: only the status is kept', async () => {
    mode = 'error';
    const openings = await askOpenings(`ws://127.0.0.1:${hostile.port}`);
    assert.equal(openings.status, 'silent');
    assert.equal(openings.reason, 'answered HTTP 500');
    mode = 'not-found';
    assert.equal((await askOpenings(`ws://127.0.0.1:${hostile.port}`)).reason, 'answered HTTP 404');
  });

  test('a malformed answer: the position in the schema and the issue, never a key or value it sent', async () => {
    mode = 'malformed';
    // an answer that does not parse is not attributable to the node (no signature): as good as none
    const openings = await askOpenings(`ws://127.0.0.1:${hostile.port}/`);
    assert.equal(openings.status, 'silent');
    assertClean(openings.reason);
    assert.match(openings.reason!, /^unusable answer: answer does not match the schema: .+ at /);
    mode = 'not-json';
    const html = await askOpenings(`ws://127.0.0.1:${hostile.port}`);
    assert.equal(html.status, 'silent');
    assertClean(html.reason);
  });

  test('an oversized answer is cut off at the limit; a slow one times out', async () => {
    mode = 'huge';
    const huge = await askOpenings(`ws://127.0.0.1:${hostile.port}`);
    assert.equal(huge.status, 'silent');
    assert.equal(huge.reason, 'answer exceeds the 16777216-byte limit');
    mode = 'slow';
    const started = Date.now();
    const slow = await askOpenings(`ws://127.0.0.1:${hostile.port}`, stubEnv(300));
    assert.equal(slow.status, 'silent');
    assert.equal(slow.reason, 'no answer within 300 ms');
    assert.ok(Date.now() - started < 2_000, 'the timeout bounds the wait');
  });

  test('an endpoint that is not a URL, or not ws(s)/http(s), only makes the node unreachable', async () => {
    for (const endpoint of [`not a url ${MARK}`, `ftp://${MARK}.example/`, '', `javascript:${MARK}`]) {
      const openings = await askOpenings(endpoint);
      assert.equal(openings.status, 'silent');
      assertClean(openings.reason);
      assert.match(openings.reason!, /^the registered endpoint is not a (URL|ws:\/\/ or wss:\/\/ URL)$/);
    }
    // a host that does not resolve: the host name (the node's choice) is not repeated
    const dns = await askOpenings(`ws://${MARK.toLowerCase()}.invalid:7000`, stubEnv(2_000));
    assertClean(dns.reason);
    assert.match(dns.reason!, /^(host not found|connection failed|no answer within 2000 ms)$/);
  });
});

describe('helpers', () => {
  test('nodeBaseUrl maps ws/wss to http/https and keeps a path', () => {
    assert.equal(nodeBaseUrl('ws://127.0.0.1:7001'), 'http://127.0.0.1:7001');
    assert.equal(nodeBaseUrl('wss://relay.example/sn/'), 'https://relay.example/sn');
    assert.equal(nodeBaseUrl('ws://user:pw@relay.example:1/'), 'http://relay.example:1');
    assert.throws(() => nodeBaseUrl('relay'), NodeFetchError);
  });

  test('a refused connection is a fixed sentence', async () => {
    const gone = await serve(() => undefined);
    await close(gone.server);
    await assert.rejects(nodeFetchJson(`${gone.url}/x`, { timeoutMs: 1_000, maxBytes: 10 }), (e: NodeFetchError) => {
      assert.equal(e.category, 'unreachable');
      assert.equal(e.message, 'connection refused');
      return true;
    });
  });

  test('malformedAnswerReason names schema positions only', () => {
    const schema = z.strictObject({ a: z.array(z.strictObject({ b: z.number() })) });
    const r1 = schema.safeParse({ a: [{ b: 1 }, { b: MARK }] });
    assert.equal(r1.success, false);
    assert.equal(malformedAnswerReason(r1.error!), 'answer does not match the schema: invalid type at a[1].b');
    const r2 = schema.safeParse({ a: [], [MARK]: MARK });
    assert.equal(malformedAnswerReason(r2.error!), 'answer does not match the schema: unknown field at the top level');
    // the dataset's node endpoint bound is the chain's (core/chainBounds.ts)
    assert.equal(datasetNodeWire.shape.endpoint.safeParse('x'.repeat(257)).success, false);
  });
});
