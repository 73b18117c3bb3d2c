/**
 * `npm run devnet`: the project's main job. Starts a local chain (anvil), deploys and wires every
 * contract with script/Deploy.s.sol, writes the address book and prints it, then keeps the chain running
 * until Ctrl-C, which stops everything it started.
 *
 *   npm run devnet                      # anvil on 127.0.0.1:8545, config/devnet.json
 *   npm run devnet -- --port 9545       # another port
 *   npm run devnet -- --exit            # deploy, print, stop (smoke test)
 */
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAnvil } from './chain/anvil.js';
import { deployProtocol } from './chain/deploy.js';
import { devPrivateKey } from './chain/devAccounts.js';
import { repoRoot } from './chain/foundry.js';

const USAGE = `usage: npm run devnet -- [--port N] [--config FILE] [--exit]
  --port N       anvil port (default 8545)
  --config FILE  deploy config (default config/devnet.json)
  --exit         stop after deploying and printing the address book`;

class UsageError extends Error {}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8545' },
        config: { type: 'string', default: 'config/devnet.json' },
        exit: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535, got "${values.port}"`);
  if (await portAnswers(port)) {
    throw new UsageError(`port ${port} is already in use (another devnet or anvil?): stop it or pass --port`);
  }

  const anvil = await startAnvil({ port });
  const stop = async (code: number) => {
    await anvil.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  try {
    const addressBookPath = join(repoRoot, 'deployments', '31337.json');
    const { book, path } = await deployProtocol({
      rpcUrl: anvil.rpcUrl,
      privateKey: devPrivateKey(0),
      configPath: values.config,
      addressBookPath,
    });
    console.log(`chain      ${anvil.rpcUrl} (chain id ${book.chainId})`);
    console.log(`addresses  ${path}`);
    console.log(JSON.stringify(book, null, 2));
  } catch (error) {
    console.error(`devnet: deployment failed: ${(error as Error).message}`);
    await stop(1);
  }
  if (values.exit) return stop(0);
  console.log('devnet running; Ctrl-C stops it');
}

main().catch((error) => {
  console.error(error instanceof UsageError ? `devnet: ${error.message}\n${USAGE}` : `devnet: ${(error as Error).stack}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
