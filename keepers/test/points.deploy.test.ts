/**
 * Points mode deploy (docs/points.md): script/Deploy.s.sol with `points.enabled` against a real anvil. The
 * settlement and license rewards pay TestnetPoints (minted to them), staking stays in SEND, no SEND sits
 * in a reward escrow (the treasury holds the reward allocations and funds the conversion), points cannot
 * move between holders, and PointsConversion is wired to the deployment with the config's ratio, last
 * epoch and deadline. The default config deploys neither points contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, zeroAddress, type Address } from 'viem';
import { startAnvil } from '../src/dev/anvil.js';
import { forgeScratchDir, repoRoot } from '../src/dev/foundry.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';
import {
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  pointsConversionAbi,
  sendTokenAbi,
  testnetPointsAbi,
} from '../src/generated/contracts.js';

const base = JSON.parse(readFileSync(join(repoRoot, 'config/devnet.json'), 'utf8'));

test('points mode: settlement and license rewards pay TestnetPoints; PointsConversion wired from the config', async () => {
  const config = {
    ...base,
    points: { ...base.points, enabled: true, ratio: '250000000000000000', lastPointsEpoch: 9 },
  };
  const configPath = join(forgeScratchDir('points-config'), 'points.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const anvil = await startAnvil();
  try {
    const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), configPath });
    const c = book.contracts;
    assert.ok(c.TestnetPoints && c.PointsConversion, 'the address book names both points contracts');
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const read = <T>(address: Address, abi: readonly unknown[], functionName: string, args: unknown[] = []) =>
      client.readContract({ address, abi, functionName, args } as never) as Promise<T>;

    assert.equal(await read<Address>(c.EpochSettlement, epochSettlementAbi, 'token'), c.TestnetPoints);
    assert.equal(await read<Address>(c.LicenseRewards, licenseRewardsAbi, 'token'), c.TestnetPoints);
    assert.equal(await read<Address>(c.NodeStaking, nodeStakingAbi, 'token'), c.SendToken);
    assert.equal(await read<string>(c.TestnetPoints, testnetPointsAbi, 'name'), 'SendingNetwork Testnet Points');
    const pointsOf = (a: Address) => read<bigint>(c.TestnetPoints!, testnetPointsAbi, 'balanceOf', [a]);
    const sendOf = (a: Address) => read<bigint>(c.SendToken, sendTokenAbi, 'balanceOf', [a]);
    assert.equal(await pointsOf(c.EpochSettlement), 430_000_000n * 10n ** 18n);
    assert.equal(await pointsOf(c.LicenseRewards), 120_000_000n * 10n ** 18n);
    assert.equal(await sendOf(c.EpochSettlement), 0n, 'no SEND in the points settlement');
    assert.equal(await sendOf(c.LicenseRewards), 0n, 'no SEND in the points license rewards');
    assert.equal(await sendOf(config.treasury), 10n ** 27n, 'the treasury holds every SEND');

    const conv = (fn: string) => read<unknown>(c.PointsConversion!, pointsConversionAbi, fn);
    assert.equal(await conv('sendToken'), c.SendToken);
    assert.equal(await conv('pointsSettlement'), c.EpochSettlement);
    assert.equal(await conv('licenseRewards'), c.LicenseRewards);
    assert.equal(await conv('staking'), c.NodeStaking);
    assert.equal(await conv('license'), c.WatchDogLicense);
    assert.equal(await conv('treasury'), config.treasury);
    assert.equal(await conv('ratio'), 250_000_000_000_000_000n);
    assert.equal(await conv('lastPointsEpoch'), 9);
    const end9 = await read<bigint>(c.EpochSettlement, epochSettlementAbi, 'epochEnd', [9]);
    assert.equal(await conv('conversionDeadline'), end9 + BigInt(config.points.conversionDeadlineOffsetSeconds));
    assert.equal(await conv('snapshotRoot'), `0x${'0'.repeat(64)}`);
  } finally {
    await anvil.stop();
  }
});

test('the default config (points disabled) deploys no points contract and escrows SEND as before', async () => {
  assert.equal(base.points.enabled, false, 'config/devnet.json keeps points off');
  const anvil = await startAnvil();
  try {
    const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    assert.equal(book.contracts.TestnetPoints, undefined);
    assert.equal(book.contracts.PointsConversion, undefined);
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const token = await client.readContract({
      address: book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      functionName: 'token',
    });
    assert.equal(token, book.contracts.SendToken);
    const escrow = await client.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [book.contracts.EpochSettlement],
    });
    assert.equal(escrow, 430_000_000n * 10n ** 18n);
    assert.notEqual(book.contracts.SendToken, zeroAddress);
  } finally {
    await anvil.stop();
  }
});
