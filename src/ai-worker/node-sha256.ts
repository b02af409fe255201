/**
 * SHA-256 for the worker's receipt hashes (`bodySha256`, `createStreamHash`,
 * src/receipts/receipt.ts) through Node's `createHash`: native and on the calling thread, where
 * WebCrypto's digest would be a thread-pool job per request and noble's a pure-JS pass over every
 * frame. Same function (FIPS 180-4), same hex.
 */
import { createHash } from 'node:crypto';
import type { Sha256State } from '../receipts/receipt.js';

export const nodeSha256 = (): Sha256State => createHash('sha256');
