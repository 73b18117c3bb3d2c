/**
 * The baseline of the relay benchmark: a bare WebSocket forwarder speaking the edge node's frame
 * protocol (challenge → login → welcome, send → deliver + accepted, ack → acked) with no checks at all:
 * no signature verification, no hashing, no persistence. It only parses JSON and routes by `to`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

const NODE = '0x000000000000000000000000000000000000b0b0';

export async function startBareForwarder(port = 0, host = '127.0.0.1') {
  const http = createServer((_, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, maxPayload: 1 << 20 });
  const byKey = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws) => {
    let key: string | undefined;
    ws.send(JSON.stringify({ type: 'challenge', nonce: `0x${randomBytes(32).toString('hex')}`, node: NODE, epoch: 1 }));
    ws.on('message', (data) => {
      let frame: {
        type?: string;
        key?: string;
        did?: string;
        envelope?: { id: string; to: string };
        ack?: { ticketHash: string };
      };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame.type === 'login' && frame.key) {
        key = frame.key;
        let set = byKey.get(key);
        if (!set) {
          set = new Set();
          byKey.set(key, set);
        }
        set.add(ws);
        ws.send(JSON.stringify({ type: 'welcome', key, did: frame.did, node: NODE, epoch: 1, pending: 0 }));
      } else if (frame.type === 'send' && frame.envelope) {
        const deliver = JSON.stringify({ type: 'deliver', envelope: frame.envelope });
        for (const peer of byKey.get(frame.envelope.to) ?? []) peer.send(deliver);
        ws.send(JSON.stringify({ type: 'accepted', id: frame.envelope.id, epoch: 1 }));
      } else if (frame.type === 'ack' && frame.ack) {
        ws.send(JSON.stringify({ type: 'acked', ticketHash: frame.ack.ticketHash, paid: true }));
      }
    });
    ws.on('close', () => key && byKey.get(key)?.delete(ws));
  });
  await new Promise<void>((resolve) => http.listen(port, host, () => resolve()));
  return {
    url: `ws://${host}:${(http.address() as AddressInfo).port}`,
    node: NODE,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}
