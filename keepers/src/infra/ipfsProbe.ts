/**
 * The smallest IPFS API graph-node needs at start-up: it blocks until `POST /api/v0/version` answers.
 * Local manifests are read from disk (`gnd dev`), so nothing else is served; other paths answer 404 with
 * a message that names this probe, so a request graph-node would need is visible in its logs.
 */
import { createServer, type Server } from 'node:http';

export interface IpfsProbe {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startIpfsProbe(port = 0): Promise<IpfsProbe> {
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/api/v0/version')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Version: '0.0.0-probe', Commit: '', Repo: '0', System: 'node', Golang: '' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`local IPFS probe: only /api/v0/version is served, not ${req.method} ${req.url}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
