/**
 * `sendnet presale …` and `sendnet license …`: the WatchDog buyer's journey. presale status (phases,
 * supply, tier prices, the refund deadlines), presale buy (allowlist phase with a proof from the published
 * allowlist file, or public phase; ETH or the stablecoin; never more than --max-total-cost), presale refund
 * (after a cancellation, or on one's own once the sale expired unfinalized), license activate (name the
 * operator key that runs the WatchDog) and license claim (license rewards with a keeper-published proof).
 */
import { Command } from 'commander';
import { parseEventLogs, type Address } from 'viem';
import {
  epochSettlementAbi,
  licenseRewardsAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
  watchDogPresaleAbi,
} from '../../generated/contracts.js';
import { allowlistDocument, allowlistProof, loadAllowlist } from '../allowlist.js';
import { InputError, RejectedError } from '../errors.js';
import { parseAddress, parseAmount, parseChoice, parseInteger, parseTokenId } from '../inputs.js';
import {
  Output,
  formatRelative,
  formatSend,
  formatTime,
  formatToken,
  renderRecord,
  renderTable,
  toJson,
} from '../output.js';
import { licenseClaim, loadRewardProofs, proofsSource, requireCurrentRoot } from '../proofs.js';
import { revertSentence, type RevertContext } from '../reverts.js';
import type { GlobalOptions, Session } from '../session.js';
import { sessionFor, txLines, withExamples } from './common.js';

const CURRENCY = { eth: 0, token: 1 } as const;
const SALE_STATUS = ['active', 'cancelled', 'finalized', 'expired'];

interface Unit {
  symbol: string;
  decimals: number;
}

async function paymentUnit(session: Session, presale: Address): Promise<Unit & { token: Address }> {
  const token = await session.read({
    address: presale,
    abi: watchDogPresaleAbi,
    functionName: 'paymentToken',
    args: [],
  });
  const [symbol, decimals] = await Promise.all([
    session.read({ address: token, abi: sendTokenAbi, functionName: 'symbol', args: [] }).catch(() => 'tokens'),
    session.read({ address: token, abi: sendTokenAbi, functionName: 'decimals', args: [] }).catch(() => 18),
  ]);
  return { token, symbol, decimals: Number(decimals) };
}

/** "open until …", "opens at … (in 5 min)", "ended at …", "not scheduled". */
export function phaseWindow(start: number, end: number, now: number): string {
  if (start === 0) return 'not scheduled';
  if (now < start) return `opens at ${formatTime(start)} (${formatRelative(start, now)}), closes at ${formatTime(end)}`;
  if (now < end) return `open until ${formatTime(end)} (${formatRelative(end, now)})`;
  return `ended at ${formatTime(end)}`;
}

/**
 * What a buyer can count on for getting its money back, in one sentence, from the sale's status (effective:
 * 'expired' past the self-refund time) and its two deadlines, fixed at deployment.
 */
export function refundTerms(status: string, selfRefundTime: number, refundDeadline: number, now: number): string {
  const until = `until ${formatTime(refundDeadline)} (${formatRelative(refundDeadline, now)})`;
  const over = `refunds ended at ${formatTime(refundDeadline)}; the money not refunded goes to the treasury`;
  if (status === 'finalized') return 'none: the sale was finalized, its licenses stand';
  if (status === 'cancelled')
    return now < refundDeadline ? `open: the sale was cancelled, holders refund ${until}` : over;
  if (status === 'expired')
    return now < refundDeadline
      ? `open: the sale was neither finalized nor cancelled by ${formatTime(selfRefundTime)}, so holders refund themselves ${until}`
      : over;
  return `if the sale is neither finalized nor cancelled by ${formatTime(selfRefundTime)} (${formatRelative(selfRefundTime, now)}), every holder refunds itself, without the owner, until ${formatTime(refundDeadline)}; a cancellation opens refunds at once`;
}

export function presaleCommand(): Command {
  const presale = withExamples(new Command('presale').description('the WatchDog license presale: status and buying'), [
    'sendnet presale status',
    'sendnet presale buy --quantity 2 --max-total-cost 0.25',
    'sendnet presale refund 7 8',
    'sendnet presale buy --help',
  ]);

  withExamples(
    presale
      .command('status')
      .description('phases, supply sold, tier prices, the price of the next license and the refund deadlines')
      .option('--account <address>', 'also show what this account has bought in each phase'),
    ['sendnet presale status', 'sendnet presale status --account 0xBuyer…', 'sendnet --json presale status'],
  ).action(async (options: { account?: string }, command: Command) => {
    const session = sessionFor(command);
    const account = options.account ? parseAddress(options.account, '--account') : undefined;
    const address = await session.contract('WatchDogPresale');
    const presaleContract = { address, abi: watchDogPresaleAbi } as const;
    const [state, saleStatus, selfRefundTime, refundDeadline, schedule, supply, tierCount, now, unit] =
      await Promise.all([
        session.read({ ...presaleContract, functionName: 'saleState', args: [] }),
        session.read({ ...presaleContract, functionName: 'saleStatus', args: [] }),
        session.read({ ...presaleContract, functionName: 'selfRefundTime', args: [] }),
        session.read({ ...presaleContract, functionName: 'refundDeadline', args: [] }),
        session.read({ ...presaleContract, functionName: 'schedule', args: [] }),
        session.read({ ...presaleContract, functionName: 'supply', args: [] }),
        session.read({ ...presaleContract, functionName: 'tierCount', args: [] }),
        session.now(),
        paymentUnit(session, address),
      ]);
    const tiers = await Promise.all(
      Array.from({ length: Number(tierCount) }, (_, i) =>
        session.read({ ...presaleContract, functionName: 'tier', args: [BigInt(i)] }).then(([t, end]) => ({
          from: t.start,
          to: Number(end),
          ethPrice: t.ethPrice,
          tokenPrice: t.tokenPrice,
        })),
      ),
    );
    const soldOut = state.sold >= supply;
    const next = soldOut ? null : (tiers.find((t) => state.sold >= t.from && state.sold < t.to) ?? null);
    const purchased = account
      ? await session.read({ ...presaleContract, functionName: 'purchasedBy', args: [account] })
      : undefined;
    const allowlistOpen =
      now >= schedule.allowlistStart && now < schedule.allowlistEnd && schedule.allowlistStart !== 0;
    const publicOpen = now >= schedule.publicStart && now < schedule.publicEnd && schedule.publicStart !== 0;
    const status = SALE_STATUS[saleStatus] ?? `status ${saleStatus}`;
    const refunds = refundTerms(status, selfRefundTime, refundDeadline, now);
    const data = {
      presale: address,
      status,
      chainTime: now,
      selfRefundTime,
      refundDeadline,
      refunds,
      supply,
      sold: state.sold,
      allowlistSold: state.allowlistSold,
      allowlist: {
        start: schedule.allowlistStart,
        end: schedule.allowlistEnd,
        reserve: schedule.allowlistReserve,
        open: allowlistOpen,
      },
      public: {
        start: schedule.publicStart,
        end: schedule.publicEnd,
        walletCap: schedule.walletCap,
        txCap: schedule.txCap,
        open: publicOpen,
      },
      nextPrice: next ? { eth: next.ethPrice, token: next.tokenPrice } : null,
      paymentToken: { address: unit.token, symbol: unit.symbol, decimals: unit.decimals },
      tiers,
      ...(account && purchased ? { account, purchased: { allowlist: purchased[0], public: purchased[1] } } : {}),
    };
    session.out.result(data, () => {
      const lines: [string, string][] = [
        [
          'sale',
          status === 'active' ? (soldOut ? 'sold out' : allowlistOpen || publicOpen ? 'open' : 'not open now') : status,
        ],
        ['sold', `${state.sold} of ${supply} (${state.allowlistSold} in the allowlist phase)`],
        [
          'allowlist phase',
          `${phaseWindow(schedule.allowlistStart, schedule.allowlistEnd, now)}${schedule.allowlistStart ? `, reserve ${schedule.allowlistReserve}` : ''}`,
        ],
        [
          'public phase',
          `${phaseWindow(schedule.publicStart, schedule.publicEnd, now)}${schedule.publicStart ? `, at most ${schedule.txCap} per purchase and ${schedule.walletCap} per wallet` : ''}`,
        ],
        [
          'next license',
          next
            ? `${formatToken(next.ethPrice, 18, 'ETH')} or ${formatToken(next.tokenPrice, unit.decimals, unit.symbol)}`
            : 'none left',
        ],
        ['refunds', refunds],
        ['chain time', formatTime(now)],
      ];
      if (account && purchased)
        lines.push([`bought by ${account}`, `${purchased[0]} (allowlist), ${purchased[1]} (public)`]);
      const table = renderTable(
        [
          { header: 'tier', right: true },
          { header: 'licenses' },
          { header: 'ETH', right: true },
          { header: unit.symbol, right: true },
        ],
        tiers.map((t, i) => [
          String(i),
          `${t.from + 1}-${t.to}`,
          formatToken(t.ethPrice, 18, '').trim(),
          formatToken(t.tokenPrice, unit.decimals, '').trim(),
        ]),
      );
      return `${renderRecord(lines)}\n\n${table}`;
    });
  });

  withExamples(
    presale
      .command('buy')
      .description(
        'buy licenses: with --allowlist in the allowlist phase (your proof is looked up in the published allowlist file), otherwise in the public phase',
      )
      .option('--quantity <n>', 'licenses to buy', '1')
      .option(
        '--max-total-cost <amount>',
        'the most you will pay in total, in ETH or the stablecoin (default: the current quote)',
      )
      .option('--currency <currency>', 'pay in eth or token (the sale stablecoin)', 'eth')
      .option('--allowlist <file>', 'the published allowlist JSON file or URL: buy in the allowlist phase'),
    [
      'sendnet presale buy --quantity 2 --max-total-cost 0.25',
      'sendnet presale buy --allowlist ./allowlist.json --quantity 3',
      'sendnet presale buy --currency token --quantity 1 --max-total-cost 300',
    ],
  ).action(
    async (
      options: { quantity: string; maxTotalCost?: string; currency: string; allowlist?: string },
      command: Command,
    ) => {
      const session = sessionFor(command);
      const quantity = BigInt(parseInteger(options.quantity, '--quantity', 1, 0xffffffff));
      const currencyName = parseChoice(options.currency, '--currency', ['eth', 'token'] as const);
      const currency = CURRENCY[currencyName];
      const buyer = (await session.signer()).address;
      const address = await session.contract('WatchDogPresale');
      const unit =
        currencyName === 'eth'
          ? { symbol: 'ETH', decimals: 18, token: undefined }
          : await paymentUnit(session, address);
      const ctx: RevertContext = { currency: unit };
      const maxTotalCost =
        options.maxTotalCost !== undefined
          ? parseAmount(options.maxTotalCost, '--max-total-cost', {
              decimals: unit.decimals,
              symbol: unit.symbol,
              allowZero: true,
            })
          : await session.read({ address, abi: watchDogPresaleAbi, functionName: 'quote', args: [quantity, currency] });

      let functionName: string;
      let args: readonly unknown[];
      if (options.allowlist) {
        const doc = await loadAllowlist(options.allowlist);
        const root = await session.read({ address, abi: watchDogPresaleAbi, functionName: 'merkleRoot', args: [] });
        const { maxQuantity, proof } = allowlistProof(doc, options.allowlist, buyer, root);
        functionName = currencyName === 'eth' ? 'buyAllowlist' : 'buyAllowlistWithToken';
        args = [quantity, maxQuantity, proof, maxTotalCost];
      } else {
        functionName = currencyName === 'eth' ? 'buyPublic' : 'buyPublicWithToken';
        args = [quantity, maxTotalCost];
      }
      const call = {
        address,
        abi: watchDogPresaleAbi,
        functionName,
        args,
        ...(currencyName === 'eth' ? { value: maxTotalCost } : {}),
      };
      if (unit.token) {
        // the sale's own checks come first; only a missing allowance may remain before approving
        const refusal = await session.preflight(call, ctx);
        if (refusal && refusal.errorName !== 'ERC20InsufficientAllowance') throw refusal.error;
        const allowance = await session.read({
          address: unit.token,
          abi: sendTokenAbi,
          functionName: 'allowance',
          args: [buyer, address],
        });
        if (allowance < maxTotalCost) {
          session.out.note(`Approving ${formatToken(maxTotalCost, unit.decimals, unit.symbol)} for the presale…`);
          await session.send({
            address: unit.token,
            abi: sendTokenAbi,
            functionName: 'approve',
            args: [address, maxTotalCost],
          });
        }
      }
      const receipt = await session.send(call, ctx);
      const [event] = parseEventLogs({ abi: watchDogPresaleAbi, logs: receipt.logs, eventName: 'Purchased' });
      const first = event?.args.firstTokenId ?? 0n;
      const bought = event?.args.quantity ?? quantity;
      const cost = event?.args.cost ?? 0n;
      const tokenIds = Array.from({ length: Number(bought) }, (_, i) => first + BigInt(i));
      const phase = options.allowlist ? 'allowlist' : 'public';
      session.out.result(
        {
          buyer,
          phase,
          currency: currencyName,
          quantity: bought,
          tokenIds,
          cost,
          transaction: receipt.transactionHash,
          block: receipt.blockNumber,
        },
        () =>
          `Bought ${bought} WatchDog license${bought === 1n ? '' : 's'} in the ${phase} phase.\n` +
          renderRecord([
            ['token ids', bought === 1n ? String(first) : `${first}-${first + bought - 1n}`],
            ['paid', formatToken(cost, unit.decimals, unit.symbol)],
            ['buyer', buyer],
            ...txLines(receipt),
          ]),
      );
    },
  );

  withExamples(
    presale
      .command('refund')
      .description(
        'refund licenses you hold (burned, each paid back at its price in its currency): after a cancellation, or on your own once the sale expired (neither finalized nor cancelled by its self-refund time), until the refund deadline',
      )
      .argument('<tokenIds...>', 'the license token ids to refund'),
    ['sendnet presale refund 7', 'sendnet presale refund 7 8 9', 'sendnet presale status'],
  ).action(async (tokenIdArgs: string[], _options: unknown, command: Command) => {
    const session = sessionFor(command);
    const tokenIds = tokenIdArgs.map((arg) => parseTokenId(arg, 'a license token id'));
    const duplicate = tokenIds.find((id, i) => tokenIds.indexOf(id) !== i);
    if (duplicate !== undefined) throw new InputError(`License ${duplicate} is listed twice: list each license once.`);
    const address = await session.contract('WatchDogPresale');
    const presaleContract = { address, abi: watchDogPresaleAbi } as const;
    const [saleStatus, selfRefundTime, refundDeadline, now] = await Promise.all([
      session.read({ ...presaleContract, functionName: 'saleStatus', args: [] }),
      session.read({ ...presaleContract, functionName: 'selfRefundTime', args: [] }),
      session.read({ ...presaleContract, functionName: 'refundDeadline', args: [] }),
      session.now(),
    ]);
    const status = SALE_STATUS[saleStatus] ?? `status ${saleStatus}`;
    const terms = refundTerms(status, selfRefundTime, refundDeadline, now);
    // say why before sending: the deadlines decide whether a refund is possible at all
    const open = status === 'cancelled' || status === 'expired';
    if (!open || now >= refundDeadline)
      throw new RejectedError(`No refund now. Refunds: ${terms}.`, open ? 'RefundPeriodOver' : 'RefundsNotOpen');
    const unit = await paymentUnit(session, address);
    const receipt = await session.send(
      { ...presaleContract, functionName: 'refund', args: [tokenIds] },
      { currency: unit, now },
    );
    const [event] = parseEventLogs({ abi: watchDogPresaleAbi, logs: receipt.logs, eventName: 'Refunded' });
    const ethAmount = event?.args.ethAmount ?? 0n;
    const tokenAmount = event?.args.tokenAmount ?? 0n;
    const holder = event?.args.holder ?? (await session.signer()).address;
    session.out.result(
      {
        holder,
        status,
        tokenIds,
        ethAmount,
        tokenAmount,
        refundDeadline,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () =>
        `Refunded ${tokenIds.length} WatchDog license${tokenIds.length === 1 ? '' : 's'} (${status === 'expired' ? 'self-refund of an expired sale' : 'cancelled sale'}).\n` +
        renderRecord([
          ['token ids', tokenIds.join(', ')],
          [
            'paid back',
            [
              ...(ethAmount ? [formatToken(ethAmount, 18, 'ETH')] : []),
              ...(tokenAmount ? [formatToken(tokenAmount, unit.decimals, unit.symbol)] : []),
            ].join(' and ') || 'nothing',
          ],
          ['to', holder],
          ['refunds open until', formatTime(refundDeadline)],
          ...txLines(receipt),
        ]),
    );
  });

  withExamples(
    presale
      .command('allowlist')
      .description(
        'build the allowlist file a sale owner publishes (and whose root goes into setAllowlistPhase) from account:max entries; no chain needed',
      )
      .argument('<entries...>', 'account:maxQuantity pairs, e.g. 0xAbc…:3')
      .option('--out <file>', 'write the file here instead of printing it'),
    [
      'sendnet presale allowlist 0x70997970C51812dc3A010C7d01b50e0d17dc79C8:3 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC:1 --out allowlist.json',
    ],
  ).action(async (entries: string[], options: { out?: string }, command: Command) => {
    const out = new Output(Boolean(command.optsWithGlobals<GlobalOptions>().json));
    const parsed = entries.map((entry) => {
      const [account, max, ...rest] = entry.split(':');
      if (rest.length || account === undefined || max === undefined)
        throw new InputError(`"${entry}" is not an account:maxQuantity pair.`);
      return {
        account: parseAddress(account, `the account in "${entry}"`),
        max: BigInt(parseInteger(max, `the max quantity in "${entry}"`, 1, 0xffffffff)),
      };
    });
    const seen = new Set<string>();
    for (const e of parsed) {
      if (seen.has(e.account)) throw new InputError(`${e.account} is listed twice: give each account one entry.`);
      seen.add(e.account);
    }
    const doc = allowlistDocument(parsed);
    if (options.out) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(options.out, `${toJson(doc)}\n`);
      out.result(
        { file: options.out, root: doc.root, entries: doc.entries.length },
        () => `Wrote ${options.out} (${doc.entries.length} accounts).\n${renderRecord([['root', doc.root]])}`,
      );
    } else {
      process.stdout.write(`${toJson(doc)}\n`);
    }
  });

  return presale;
}

export function licenseCommand(): Command {
  const license = withExamples(
    new Command('license').description('WatchDog licenses: name the operator key, claim license rewards'),
    [
      'sendnet license activate 7 --operator 0xWatchDogKey…',
      "sendnet license claim 7 --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
    ],
  );

  withExamples(
    license
      .command('activate')
      .description(
        "name the operator key that runs this license's WatchDog (the signer must hold the license or be approved)",
      )
      .argument('<tokenId>', 'the license token id')
      .requiredOption(
        '--operator <address>',
        'the WatchDog operator key (address); 0x0000000000000000000000000000000000000000 clears it',
      ),
    ['sendnet license activate 7 --operator 0xWatchDogKey…'],
  ).action(async (tokenIdArg: string, options: { operator: string }, command: Command) => {
    const session = sessionFor(command);
    const tokenId = parseTokenId(tokenIdArg, 'the license token id');
    const operator = parseAddress(options.operator, '--operator');
    const address = await session.contract('WatchDogLicense');
    const receipt = await session.send({
      address,
      abi: watchDogLicenseAbi,
      functionName: 'setOperator',
      args: [tokenId, operator],
    });
    session.out.result(
      { tokenId, operator, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () => `License ${tokenId} is now run by operator ${operator}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  withExamples(
    license
      .command('claim')
      .description("claim a license's cumulative rewards (paid to its current holder) with the keeper-published proof")
      .argument('<tokenId>', 'the license token id')
      .requiredOption(
        '--proofs <source>',
        'reward proofs: a file or URL (a "{epoch}" in it becomes the latest finalized epoch)',
      ),
    ["sendnet license claim 7 --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'"],
  ).action(async (tokenIdArg: string, options: { proofs: string }, command: Command) => {
    const session = sessionFor(command);
    const tokenId = parseTokenId(tokenIdArg, 'the license token id');
    const rewards = await session.contract('LicenseRewards');
    const settlement = await session.contract('EpochSettlement');
    const [epoch, root] = await session.read({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claimableRewardRoot',
      args: [],
    });
    if (epoch === 0) throw new RejectedError(revertSentence('NoFinalizedEpoch', []), 'NoFinalizedEpoch');
    const source = proofsSource(options.proofs, epoch);
    const doc = await loadRewardProofs(source);
    requireCurrentRoot(doc, source, { epoch, root });
    const entry = licenseClaim(doc, source, tokenId);
    const already = await session.read({
      address: rewards,
      abi: licenseRewardsAbi,
      functionName: 'claimed',
      args: [tokenId],
    });
    if (entry.cumulative <= already)
      throw new RejectedError(revertSentence('NothingToClaim', [tokenId, entry.cumulative, already]), 'NothingToClaim');
    const licenseAddress = await session.contract('WatchDogLicense');
    const holder = await session.read({
      address: licenseAddress,
      abi: watchDogLicenseAbi,
      functionName: 'ownerOf',
      args: [tokenId],
    });
    const receipt = await session.send({
      address: rewards,
      abi: licenseRewardsAbi,
      functionName: 'claim',
      args: [tokenId, entry.cumulative, entry.proof],
    });
    const paid = entry.cumulative - already;
    session.out.result(
      {
        tokenId,
        holder,
        epoch,
        cumulative: entry.cumulative,
        paid,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () =>
        `Claimed ${formatSend(paid)} for license ${tokenId}, paid to its holder ${holder}.\n` +
        renderRecord([['cumulative', formatSend(entry.cumulative)], ...txLines(receipt)]),
    );
  });

  return license;
}
