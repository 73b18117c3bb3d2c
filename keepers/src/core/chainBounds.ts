/**
 * Bounds the contracts put on the strings they emit, mirrored for the off-chain readers (docs/protocol.md
 * §3): the epoch dataset's node endpoints, the keeper's WatchDog view and the CLI's checks before a
 * transaction. The contract is the authority; `keepers/test/chainBounds.test.ts` reads its constants on
 * anvil and pins every off-chain bound to them. Pure.
 *
 * Units. The contract counts UTF-8 bytes of the calldata string. Readers get that string decoded by viem
 * (`TextDecoder`, invalid sequences replaced by U+FFFD), and zod's `.max()` counts UTF-16 code units. A
 * decoded string never has more UTF-16 units than the bytes it came from (1–3 bytes → 1 unit, 4 bytes → 2
 * units, each invalid byte → at most one U+FFFD), so a reader's bound of `MAX_ENDPOINT_BYTES` UTF-16 units
 * admits every endpoint the chain accepts — while its UTF-8 length may not (an invalid byte re-encodes as
 * 3 bytes), so readers must not re-measure in UTF-8.
 */

/** `NodeStaking.MAX_ENDPOINT_BYTES`: longest node endpoint, in UTF-8 bytes (empty ones are refused too). */
export const MAX_ENDPOINT_BYTES = 256;

/** `NodeStaking.MAX_METADATA_URI_BYTES`: longest node metadata URI, in UTF-8 bytes. */
export const MAX_METADATA_URI_BYTES = 1024;

/** Bytes of `text` as UTF-8 (what the contract counts when the string is sent). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Why the chain would refuse `endpoint` (`EmptyEndpoint`, `EndpointTooLong`), or null. */
export function endpointBoundProblem(endpoint: string): string | null {
  const length = utf8Length(endpoint);
  if (length === 0) return 'must not be empty';
  if (length > MAX_ENDPOINT_BYTES)
    return `is ${length} bytes long (UTF-8), more than the ${MAX_ENDPOINT_BYTES} bytes NodeStaking accepts`;
  return null;
}

/** Why the chain would refuse `metadataURI` (`MetadataURITooLong`), or null. */
export function metadataBoundProblem(metadataURI: string): string | null {
  const length = utf8Length(metadataURI);
  if (length > MAX_METADATA_URI_BYTES)
    return `is ${length} bytes long (UTF-8), more than the ${MAX_METADATA_URI_BYTES} bytes NodeStaking accepts`;
  return null;
}
