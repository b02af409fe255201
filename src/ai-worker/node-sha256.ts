/**
 * SHA-256 for the worker's receipt hashes (`bodySha256`, `createStreamHash`,
 * src/receipts/receipt.ts) through Node's `createHash`: native and on the calling thread, where
 * WebCrypto's digest would be a thread-pool job per request and noble's a pure-JS pass over every
 * frame. Same function (FIPS 180-4), same hex.
 */
import { createHash, hash } from 'node:crypto';
import type { Sha256State } from '../receipts/receipt.js';

export const nodeSha256 = (): Sha256State => createHash('sha256');

/**
 * A whole body's SHA-256 as lower-case hex in one native call (`crypto.hash`): no Hash object, no
 * digest copy, no hex loop in JavaScript — what `bodySha256` returns, for the two hashes of every
 * JSON answer's receipt (test/envelope/backends.node.test.ts checks they agree).
 */
export const nodeSha256Hex = (bytes: Uint8Array): string => hash('sha256', bytes, 'hex');
