/**
 * The TDX verification cache changes no verdict: with a warm cache every set gives exactly what it
 * gives without one; dates (certificates, collateral, CRLs) are judged again at each call's time;
 * tampered collateral, CRLs and quotes are refused as without a cache and never enter it; one
 * cache shared by several platforms keeps their results apart; the LRU bound holds.
 */
import { describe, expect, it } from 'vitest';
import type { TdxCollateral } from '../../../src/verify/tdx/collateral.js';
import { createTdxVerifyCache } from '../../../src/verify/tdx/verify-cache.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { codes, loadTdx, TDX_SETS, type TdxSetName, v } from './support.js';

const flip = (b: Uint8Array, i: number): Uint8Array => {
  const c = b.slice();
  c[i]! ^= 0x01;
  return c;
};

describe.skipIf(!v.present)(`verifyTdxEvidence with a cache ${v.skipReason}`, () => {
  it('every real set: cold, warm and uncached verdicts are identical', async () => {
    const cache = createTdxVerifyCache();
    for (const set of Object.keys(TDX_SETS) as TdxSetName[]) {
      const s = loadTdx(set);
      const input = { quote: s.quote, collateral: s.collateral, now: s.at };
      const plain = await verifyTdxEvidence(input);
      const cold = await verifyTdxEvidence({ ...input, cache });
      const warm = await verifyTdxEvidence({ ...input, cache });
      expect(cold, set).toEqual(plain);
      expect(warm, set).toEqual(plain);
    }
    expect(cache.size).toBeGreaterThan(0);
  });

  it('phala-v4 fills 7 entries (one TCB Signing chain for both bodies); a hit still judges every date at the new time', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const cache = createTdxVerifyCache();
    const at = (now: Date) => verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now, cache });
    expect((await at(s.at)).violations).toEqual([]);
    expect(cache.size).toBe(7);
    for (const iso of ['2025-07-20T00:00:00Z', '2018-01-01T00:00:00Z', '2040-01-01T00:00:00Z']) {
      const now = new Date(iso);
      const plain = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now });
      const warm = await at(now);
      expect(codes(warm.violations), iso).toEqual(codes(plain.violations));
      expect(warm.violations.length, iso).toBeGreaterThan(0);
      expect(warm.violations, iso).toEqual(plain.violations);
    }
    expect(cache.size).toBe(7);
  });

  it('tampered collateral and CRLs are refused on a warm cache, as without one, and not stored', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const cache = createTdxVerifyCache();
    await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at, cache });
    const c = s.collateral;
    const body = (t: string) => t.replace('"tcbEvaluationDataNumber":', '"tcbEvaluationDataNumber": ');
    const tampered: [string, TdxCollateral][] = [
      ['tcbInfo body', { ...c, tcbInfo: body(c.tcbInfo) }],
      ['tcbInfo signature', { ...c, tcbInfoSignature: flip(c.tcbInfoSignature, 40) }],
      ['qeIdentity body', { ...c, qeIdentity: c.qeIdentity.replace('"version":2', '"version":2 ') }],
      ['qeIdentity signature', { ...c, qeIdentitySignature: flip(c.qeIdentitySignature, 3) }],
      ['root CA CRL', { ...c, rootCaCrl: flip(c.rootCaCrl!, c.rootCaCrl!.length - 5) }],
      ['PCK CRL', { ...c, pckCrl: flip(c.pckCrl!, c.pckCrl!.length - 5) }],
      ['PCK CRL issuer chain', { ...c, pckCrlIssuerChain: c.tcbInfoIssuerChain }],
      ['TCB info issuer chain', { ...c, tcbInfoIssuerChain: c.pckCrlIssuerChain! }],
    ];
    for (const [what, collateral] of tampered) {
      const input = { quote: s.quote, collateral, now: s.at };
      const plain = await verifyTdxEvidence(input);
      const warm = await verifyTdxEvidence({ ...input, cache });
      expect(plain.claims, what).toBeNull();
      expect(warm.violations, what).toEqual(plain.violations);
      expect(cache.size, what).toBe(7);
    }
  });

  it('quote bit flips (signature, attestation key, QE report and its signature, body) refused when warm', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const cache = createTdxVerifyCache();
    await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at, cache });
    const SIG = 0x27c;
    const offsets = [0x0a0, 0x150, 0x208, SIG + 0x10, SIG + 0x50, SIG + 0x100, SIG + 0x210, SIG + 0x250];
    for (const off of offsets) {
      const r = await verifyTdxEvidence({
        quote: flip(s.quote, off),
        collateral: s.collateral,
        now: s.at,
        cache,
      });
      expect(r.claims, `0x${off.toString(16)}`).toBeNull();
      expect(r.violations.length, `0x${off.toString(16)}`).toBeGreaterThan(0);
    }
  });

  it('one TCB Signing chain given for both bodies is verified once, but a failure is reported for both', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const c = s.collateral;
    expect(c.qeIdentityIssuerChain).toBe(c.tcbInfoIssuerChain);
    const wrong = c.pckCrlIssuerChain!; // Intel-signed, but a PCK CA, not TCB Signing
    const r = await verifyTdxEvidence({
      quote: s.quote,
      collateral: { ...c, tcbInfoIssuerChain: wrong, qeIdentityIssuerChain: wrong },
      now: s.at,
    });
    const fields = r.violations.filter((x) => x.code === 'cert_chain_invalid').map((x) => x.field);
    expect([...new Set(fields)].sort()).toEqual(['qeIdentityIssuerChain', 'tcbInfoIssuerChain']);
  });

  it('a cache bounded to 2 entries still gives the uncached verdicts', async () => {
    const cache = createTdxVerifyCache(2);
    for (const set of ['phala-v4-uptodate', 'google-spr-e4-v4', 'phala-v4-uptodate'] as const) {
      const s = loadTdx(set);
      const input = { quote: s.quote, collateral: s.collateral, now: s.at };
      expect(await verifyTdxEvidence({ ...input, cache }), set).toEqual(await verifyTdxEvidence(input));
      expect(cache.size).toBeLessThanOrEqual(2);
    }
    expect(() => createTdxVerifyCache(0)).toThrow(RangeError);
  });
});
