/**
 * The report signature runs beside the chain checks (verify-snp.ts, step 7 started after 3): the
 * verdict must be what the steps gave when run in turn. With the signatures `backend` under test,
 * on a real Genoa set (VCEK) and a real Milan VLEK set, with and without AMD's chain cached:
 *   - only the VCEK's signature bad (under the ASK): the chain's violation alone, no claims;
 *   - only the report's signature bad: `report_signature_invalid` alone, no claims;
 *   - both bad: the chain's violation alone (what a key that is not AMD's signed means nothing),
 *     one verdict, and the report's check was still awaited (the suite's caller counts unhandled
 *     rejections where its runtime can);
 *   - a leaf whose frame (structure, key) reads but whose validity does not: `cert_malformed`
 *     alone, with the report's signature good or bad (the check started from the frame is dropped).
 * overlap.test.ts runs it on WebCrypto (Node and workerd) with hostile backends beside;
 * overlap-node-crypto.node.test.ts on node:crypto, P-384 on the thread pool and inline.
 */
import { describe, expect, it } from 'vitest';
import { decodeCertificates } from '../../src/der/pem.js';
import { createChainCache } from '../../src/verify/chain-cache.js';
import type { SignatureBackend } from '../../src/verify/signature-backend.js';
import { type SnpEvidenceInput, verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { AMD_ANCHORS, codes, loadSet, v } from './support.js';

/** REPORT_DATA (0x050): inside the signed region, not read by any check before the signature. */
const REPORT_DATA = 0x50;

/** The leaf as DER with the last byte of its signatureValue changed: still DER, no longer signed. */
export function leafWithBadSignature(leaf: Uint8Array): Uint8Array {
  const der = leaf[0] === 0x30 ? leaf.slice() : decodeCertificates(leaf)[0]!;
  der[der.length - 1]! ^= 0x01;
  return der;
}

/**
 * The leaf as DER with its notBefore's first digit made a letter: the frame (structure, key) reads,
 * the rest of the parse does not (`cert_malformed`).
 */
export function leafMalformedPastFrame(leaf: Uint8Array): Uint8Array {
  const der = leaf[0] === 0x30 ? leaf.slice() : decodeCertificates(leaf)[0]!;
  for (let i = 0; i + 2 < der.length; i++) {
    const time = (der[i] === 0x17 && der[i + 1] === 0x0d) || (der[i] === 0x18 && der[i + 1] === 0x0f);
    if (time) {
      der[i + 2] = 0x58; // 'X'
      return der;
    }
  }
  throw new Error('no validity time in the leaf');
}

export function reportWithBadSignature(report: Uint8Array): Uint8Array {
  const out = report.slice();
  out[REPORT_DATA]! ^= 0x80;
  return out;
}

/** The input of real set `name` (inside validity), `backend` as its signatures. */
export function realInput(name: string, backend: SignatureBackend): SnpEvidenceInput {
  const s = loadSet(name);
  return {
    report: s.report,
    leaf: s.leaf,
    chain: [s.chain],
    trustAnchors: AMD_ANCHORS,
    now: s.at,
    signatures: backend,
  };
}

const LEAF_SIGNATURE = 'VCEK/VLEK signature does not verify under the ASK/ASVK (RSASSA-PSS SHA-384)';

export function overlapSuite(name: string, backend: SignatureBackend): void {
  describe.skipIf(!v.present)(`${name}: report signature beside the chain ${v.skipReason}`, () => {
    describe.each([
      ['genoa-v3-azure-trustee', false],
      ['genoa-v3-azure-trustee', true],
      ['milan-v3-vlek-aws-trustee', false],
    ])('%s, chain cached %s', (set, cached) => {
      const input = (): SnpEvidenceInput => ({
        ...realInput(set, backend),
        ...(cached ? { chainCache: createChainCache() } : {}),
      });
      // The cache is filled by a good verification first, so the bad cases below take the hit path.
      const run = async (change: (i: SnpEvidenceInput) => SnpEvidenceInput) => {
        const base = input();
        const good = await verifySnpEvidence(base);
        expect(good.violations).toEqual([]);
        return await verifySnpEvidence(change(base));
      };

      it('only the VCEK/VLEK signature bad: the chain violation alone', async () => {
        const r = await run((i) => ({ ...i, leaf: leafWithBadSignature(i.leaf!) }));
        expect(r.claims).toBeNull();
        expect(r.violations.map((x) => [x.code, x.field, x.message])).toEqual([
          ['cert_chain_invalid', 'chain.leaf', LEAF_SIGNATURE],
        ]);
      });

      it('only the report signature bad: report_signature_invalid alone', async () => {
        const r = await run((i) => ({ ...i, report: reportWithBadSignature(i.report) }));
        expect(r.claims).toBeNull();
        expect(codes(r.violations)).toEqual(['report_signature_invalid']);
        expect(r.violations[0]!.field).toBe('signature');
      });

      it('both bad: one verdict, the chain violation alone', async () => {
        const r = await run((i) => ({
          ...i,
          report: reportWithBadSignature(i.report),
          leaf: leafWithBadSignature(i.leaf!),
        }));
        expect(r.claims).toBeNull();
        expect(codes(r.violations)).toEqual(['cert_chain_invalid']);
        expect(r.report).not.toBeNull();
      });

      it('a leaf malformed past its frame, and a bad report signature beside it', async () => {
        for (const report of [
          (i: SnpEvidenceInput) => i.report,
          (i: SnpEvidenceInput) => reportWithBadSignature(i.report),
        ]) {
          const r = await run((i) => ({ ...i, report: report(i), leaf: leafMalformedPastFrame(i.leaf!) }));
          expect(r.claims).toBeNull();
          expect(r.violations.map((x) => [x.code, x.field])).toEqual([['cert_malformed', 'leaf']]);
          expect(r.violations[0]!.message).toContain('notBefore');
        }
      });

      it('a report signature with non-zero upper bytes, and a bad VCEK signature beside it', async () => {
        const s = reportWithBadSignature(input().report);
        s[0x2a0 + 71] = 1; // R's top byte: not a P-384 scalar
        const only = await run((i) => ({ ...i, report: s }));
        expect(codes(only.violations)).toEqual(['report_signature_invalid']);
        const both = await run((i) => ({ ...i, report: s, leaf: leafWithBadSignature(i.leaf!) }));
        expect(codes(both.violations)).toEqual(['cert_chain_invalid']);
      });
    });
  });
}
