/**
 * SwapSettlement: filled orders (swaps), cancelled nonces, and each maker's ETH deposit.
 */
import { Address, BigInt, Bytes } from '@graphprotocol/graph-ts';
import {
  EIP712DomainChanged,
  EthDeposited,
  EthWithdrawn,
  MinNonceRaised,
  NonceCancelled,
  OrderFilled,
} from '../generated/SwapSettlement/SwapSettlement';
import { CancelledNonce, Swap, SwapMaker } from '../generated/schema';
import { loadProtocol, recordGeneric } from './common';

function loadMaker(address: Address): SwapMaker {
  let maker = SwapMaker.load(address);
  if (maker == null) {
    maker = new SwapMaker(address);
    maker.ethDeposit = BigInt.zero();
    maker.minNonce = BigInt.zero();
    maker.filled = 0;
  }
  return maker as SwapMaker;
}

export function handleOrderFilled(event: OrderFilled): void {
  const swap = new Swap(event.params.orderHash);
  swap.maker = event.params.maker;
  swap.taker = event.params.taker;
  swap.nonce = event.params.nonce;
  swap.blockNumber = event.block.number;
  swap.timestamp = event.block.timestamp;
  swap.transaction = event.transaction.hash;
  swap.save();
  const maker = loadMaker(event.params.maker);
  maker.filled += 1;
  maker.save();
  const protocol = loadProtocol();
  protocol.swapCount += 1;
  protocol.save();
}

export function handleNonceCancelled(event: NonceCancelled): void {
  const maker = loadMaker(event.params.maker);
  maker.save();
  const id = (event.params.maker as Bytes).concat(Bytes.fromByteArray(Bytes.fromBigInt(event.params.nonce)));
  const cancelled = new CancelledNonce(id);
  cancelled.maker = maker.id;
  cancelled.nonce = event.params.nonce;
  cancelled.blockNumber = event.block.number;
  cancelled.transaction = event.transaction.hash;
  cancelled.save();
}

export function handleMinNonceRaised(event: MinNonceRaised): void {
  const maker = loadMaker(event.params.maker);
  maker.minNonce = event.params.newMinNonce;
  maker.save();
}

export function handleEthDeposited(event: EthDeposited): void {
  const maker = loadMaker(event.params.maker);
  maker.ethDeposit = event.params.balance;
  maker.save();
}

export function handleEthWithdrawn(event: EthWithdrawn): void {
  const maker = loadMaker(event.params.maker);
  maker.ethDeposit = event.params.balance;
  maker.save();
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
