/**
 * Tampering with real reports: every single-bit flip in the signed region [0x000, 0x2A0) of one
 * real report (8 × 672 = 5376 flips), every bit of its r and s, and a seeded random sample of flips
 * on the other five reports, are rejected. The leaf key is imported once and the raw-bytes
 * signature check is used per flip; a sample also goes through the whole stage function.
 *
 * The suite takes the signature backend: tamper.test.ts runs it on WebCrypto (Node and workerd),
 * tamper-node-crypto.node.test.ts on node:crypto — both must reject every flip.
 */
import { describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { parseReport } from '../../src/evidence/snp/parse-report.js';
import { parseCertificate } from '../../src/verify/certificates.js';
import type { SignatureBackend, VerifyKey } from '../../src/verify/signature-backend.js';
import { importLeafKey, verifyReportSignature } from '../../src/verify/verify-report-signature.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { AMD_ANCHORS, loadSet, v } from './support.js';

const SIGNED_END = 0x2a0;
const SIG_START = 0x2a0;
const SIG_END = 0x330; // r (72) + s (72)

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Deterministic PRNG (mulberry32), so a failing sample can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Verdict {
  bit: number;
  parseRejected: boolean;
  signatureRejected: boolean;
}

/** Per flipped bit: does the parser reject it, does the signature check reject it. */
async function judge(
  report: Uint8Array,
  key: VerifyKey,
  bits: number[],
  signatures: SignatureBackend,
): Promise<Verdict[]> {
  const out: Verdict[] = [];
  const BATCH = 64;
  for (let i = 0; i < bits.length; i += BATCH) {
    const chunk = bits.slice(i, i + BATCH);
    out.push(
      ...(await Promise.all(
        chunk.map(async (bit) => {
          const bad = flip(report, bit);
          let parseRejected = false;
          try {
            parseReport(bad);
          } catch (e) {
            if (!isSealgateError(e, 'malformed_evidence')) throw e;
            parseRejected = true;
          }
          const sig = await verifyReportSignature(bad, key, signatures);
          return {
            bit,
            parseRejected,
            signatureRejected: sig.some((x) => x.code === 'report_signature_invalid'),
          };
        }),
      )),
    );
  }
  return out;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

export function tamperSuite(backend: string, signatures: SignatureBackend): void {
  describe.skipIf(!v.present)(
    `single-bit flips in real reports are rejected (${backend}) ${v.skipReason}`,
    () => {
      it('milan-v2-virtee: every one of the 5376 flips in [0x000, 0x2A0)', async () => {
        const s = loadSet('milan-v2-virtee');
        const key = await importLeafKey(await parseCertificate(s.leaf), signatures);
        expect(await verifyReportSignature(s.report, key, signatures)).toEqual([]);
        const bits = range(0, SIGNED_END * 8);
        expect(bits.length).toBe(5376);
        const verdicts = await judge(s.report, key, bits, signatures);
        expect(verdicts.length).toBe(5376);
        // The signature check alone rejects every flip, whether or not the parser already did.
        expect(verdicts.filter((x) => !x.signatureRejected).map((x) => x.bit)).toEqual([]);
        // Reserved ranges do make the parser reject some flips (e.g. the bytes before the signature).
        expect(verdicts.some((x) => x.parseRejected)).toBe(true);
      }, 300_000);

      it('milan-v2-virtee: every bit of r and s', async () => {
        const s = loadSet('milan-v2-virtee');
        const key = await importLeafKey(await parseCertificate(s.leaf), signatures);
        const verdicts = await judge(s.report, key, range(SIG_START * 8, SIG_END * 8), signatures);
        expect(verdicts.length).toBe(1152);
        expect(verdicts.filter((x) => !x.signatureRejected).map((x) => x.bit)).toEqual([]);
      });

      for (const name of SNP_SETS.filter((n) => n !== 'milan-v2-virtee')) {
        it(`${name}: 256 random flips in the signed region and 64 in r/s`, async () => {
          const s = loadSet(name);
          const key = await importLeafKey(await parseCertificate(s.leaf), signatures);
          expect(await verifyReportSignature(s.report, key, signatures)).toEqual([]);
          const rnd = prng(name.length * 7919 + name.charCodeAt(0));
          const signed = Array.from({ length: 256 }, () => Math.floor(rnd() * SIGNED_END * 8));
          const sig = Array.from(
            { length: 64 },
            () => SIG_START * 8 + Math.floor(rnd() * (SIG_END - SIG_START) * 8),
          );
          const verdicts = await judge(s.report, key, [...signed, ...sig], signatures);
          expect(verdicts.filter((x) => !x.signatureRejected).map((x) => x.bit)).toEqual([]);
        });

        it(`${name}: flips through verifySnpEvidence yield no claims`, async () => {
          const s = loadSet(name);
          const rnd = prng(name.length * 104729);
          for (let i = 0; i < 6; i++) {
            const bit = Math.floor(rnd() * SIG_END * 8);
            const r = await verifySnpEvidence({
              report: flip(s.report, bit),
              leaf: s.leaf,
              chain: [s.chain],
              trustAnchors: AMD_ANCHORS,
              now: s.at,
              signatures,
            });
            expect(r.claims, `bit ${bit}`).toBeNull();
            expect(r.violations.length, `bit ${bit}`).toBeGreaterThan(0);
          }
        });
      }
    },
  );
}
