/**
 * SHA-256 for the gateway's stream receipt hash (`createFrameHash`; src/receipts/receipt.ts)
 * through workerd's `node:crypto` `createHash` (nodejs_compat: BoringSSL, synchronous, on the
 * isolate's thread). The default, noble's pure-JavaScript SHA-256, was with its length prefixes
 * about a tenth of the gateway's CPU on a sealed stream in a CPU profile (every frame is hashed);
 * WebCrypto's digest has no incremental form. Same function (FIPS 180-4), same hex. A whole JSON
 * answer is hashed by WebCrypto's one-shot digest instead: this Hash is a stream.Transform, and
 * constructing one costs more than hashing a few kilobytes (receipt-check.ts).
 */
import { createHash } from 'node:crypto';
import type { Sha256State } from '../../receipts/receipt.js';

export const nativeSha256 = (): Sha256State => createHash('sha256');
