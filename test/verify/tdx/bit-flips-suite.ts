/**
 * Every single-bit flip of the phala-v4 quote's signed parts is rejected by the whole verifier:
 * header and TD body (signed by the attestation key), the quote signature, the attestation key,
 * the QE report, its signature and the QE auth data (bound by the PCK key and QE report_data).
 * Bytes after the signature data are outside every signature and are not flipped.
 * Inside workerd every bit of every region is flipped (~9,000 verifications); in Node, where the
 * same code runs slower, one bit of every byte (bit index rotating with the offset).
 *
 * The suite takes the signature backend: bit-flips.test.ts runs it on WebCrypto (Node and workerd),
 * bit-flips-node-crypto.node.test.ts on node:crypto — both must reject every flip.
 */
import { describe, expect, it } from 'vitest';
import type { SignatureBackend } from '../../../src/verify/signature-backend.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { loadTdx, v } from './support.js';

// v4 layout (src/evidence/tdx/layout.ts): header+body [0x000, 0x278); signature data from 0x27C:
// signature +0x00, attestation key +0x40, cert data header +0x80, QE report +0x86 (384 bytes),
// QE report signature +0x206, QE auth data size +0x246, QE auth data +0x248 (32 bytes).
const SIG = 0x27c;
const EVERY_BIT =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';
const REGIONS: [string, number, number][] = [
  ['header and TD body', 0x000, 0x278],
  ['quote signature', SIG, SIG + 0x40],
  ['attestation key', SIG + 0x40, SIG + 0x80],
  ['QE report', SIG + 0x86, SIG + 0x206],
  ['QE report signature', SIG + 0x206, SIG + 0x246],
  ['QE auth data', SIG + 0x248, SIG + 0x268],
];

export function bitFlipSuite(backend: string, signatures: SignatureBackend): void {
  describe.skipIf(!v.present)(`single-bit flips of a real quote (${backend}) ${v.skipReason}`, () => {
    const s = v.present ? loadTdx('phala-v4-uptodate') : null;
    for (const [name, start, end] of REGIONS) {
      it(`${EVERY_BIT ? 'every bit' : 'one bit per byte'} of the ${name} [0x${start.toString(16)}, 0x${end.toString(16)})`, async () => {
        const { quote, collateral, at } = s!;
        const baseline = await verifyTdxEvidence({ quote, collateral, now: at, signatures });
        expect(baseline.violations).toEqual([]);
        const flips: number[] = [];
        for (let byte = start; byte < end; byte++) {
          if (EVERY_BIT) for (let b = 0; b < 8; b++) flips.push(byte * 8 + b);
          else flips.push(byte * 8 + (byte % 8));
        }
        const accepted: number[] = [];
        for (let i = 0; i < flips.length; i += 64) {
          const batch = flips.slice(i, i + 64);
          const results = await Promise.all(
            batch.map((bit) => {
              const q = quote.slice();
              q[bit >> 3]! ^= 1 << (bit & 7);
              return verifyTdxEvidence({ quote: q, collateral, now: at, signatures });
            }),
          );
          results.forEach((r, j) => {
            if (r.claims !== null || r.violations.length === 0) accepted.push(batch[j]!);
          });
        }
        expect(accepted).toEqual([]);
      }, 600_000);
    }
  });
}
