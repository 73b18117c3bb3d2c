/**
 * Entry of the reference edge node: `npm run edge-node -- --help`. Runs until SIGINT or SIGTERM, then
 * closes its connections and store. Exit code 2 for bad usage, 1 for any other failure.
 */
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { parseEdgeNodeArgs } from './command.js';
import { EdgeNode } from './edgeNode.js';

try {
  const options = parseEdgeNodeArgs(process.argv.slice(2));
  if (options) {
    const node = new EdgeNode(options);
    await node.start();
    console.log(JSON.stringify({ node: node.address, url: node.url, http: node.httpUrl }));
    await untilStopSignal();
    await node.stop();
  }
  process.exit(0);
} catch (error) {
  process.exit(failureExitCode('edge-node', error, "see 'npm run edge-node -- --help'"));
}
