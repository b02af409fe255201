/**
 * AMD's CRL (src/verify/amd-crl.ts, pub. 57230 §4.3) against CRLs the simulator's ARK issues: a
 * chain is refused when the CRL revokes its ASK/ASVK or its VCEK, and when the CRL that was to be
 * checked is stale, not yet valid, signed by another key under the same name, or garbage — given
 * by the caller or fetched from KDS (a KDS CRL is cached only once it verified). Without a CRL and
 * without `kds.revocation`, nothing changes (offline verification of a bundle).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevChain, type DevChain } from '../../src/platform/simulator/dev-chain.js';
import { SimulatedSnpPlatform } from '../../src/platform/simulator/platform.js';
import { crlUrl } from '../../src/verify/amd-crl.js';
import { kdsCacheKey } from '../../src/verify/kds.js';
import { type SnpEvidenceInput, verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { AMD_ANCHORS, codes, fakeKds, loadSet, memoryCache, v } from './support.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const TCB = { bootloader: 4, tee: 0, snp: 23, microcode: 213 };
const at = (ms: number) => new Date(NOW.getTime() + ms);

let chain: DevChain;
let other: DevChain;
let evidence: { report: Uint8Array; leaf: Uint8Array; chain: Uint8Array[] };
// Issued by `chain`'s ARK: [current empty, revokes ASK, revokes VCEK, expired, not yet valid].
let crl: Record<'ok' | 'ask' | 'leaf' | 'expired' | 'future', Uint8Array>;

beforeAll(async () => {
  chain = await createDevChain({
    product: 'Milan',
    now: NOW,
    tcb: TCB,
    crls: [
      {},
      { revoke: ['ask'] },
      { revoke: ['leaf'] },
      { thisUpdate: at(-10 * DAY), nextUpdate: at(-HOUR) },
      { thisUpdate: at(HOUR), nextUpdate: at(8 * DAY) },
    ],
  });
  const [ok, ask, leaf, expired, future] = chain.crls as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  crl = { ok, ask, leaf, expired, future };
  // Another ARK with the very same name (ARK-Milan, SIMULATED): its CRL names the right issuer.
  other = await createDevChain({ product: 'Milan', now: NOW, tcb: TCB, crls: [{}] });
  const platform = new SimulatedSnpPlatform(chain, { measurement: new Uint8Array(48).fill(1) });
  const got = await platform.getReport(new Uint8Array(64));
  evidence = {
    report: got.report,
    leaf: got.certificates.vcek,
    chain: [got.certificates.ask, got.certificates.ark],
  };
}, 240_000);

const verify = (extra: Partial<SnpEvidenceInput> = {}) =>
  verifySnpEvidence({
    ...evidence,
    trustAnchors: [chain.trustAnchor],
    now: at(HOUR),
    ...extra,
  });

describe('AMD CRL', () => {
  it('a current CRL that lists neither certificate: verified, as without one', async () => {
    expect((await verify()).violations).toEqual([]);
    const r = await verify({ crl: crl.ok });
    expect(r.violations).toEqual([]);
    expect(r.claims).not.toBeNull();
  });

  it('a revoked ASK or VCEK is refused (cert_revoked), with no claims', async () => {
    for (const [which, field] of [
      ['ask', 'chain.intermediate'],
      ['leaf', 'chain.leaf'],
    ] as const) {
      const r = await verify({ crl: crl[which] });
      expect(codes(r.violations), which).toEqual(['cert_revoked']);
      expect(r.violations[0]!.field).toBe(field);
      expect(r.claims).toBeNull();
    }
  });

  it('a CRL past its nextUpdate, or before its thisUpdate, is crl_invalid', async () => {
    for (const which of ['expired', 'future'] as const) {
      const r = await verify({ crl: crl[which], now: at(30 * 60_000) });
      expect(codes(r.violations), which).toEqual(['crl_invalid']);
    }
    // The "ok" CRL itself, judged after its nextUpdate (7 days): stale.
    expect(codes((await verify({ crl: crl.ok, now: at(8 * DAY) })).violations)).toEqual(['crl_invalid']);
  });

  it('a CRL signed by another key under the same name, or garbage, is crl_invalid', async () => {
    const flipped = crl.ok.slice();
    flipped[flipped.length - 5]! ^= 1;
    for (const [name, bytes] of [
      ['other ARK', other.crls[0]!],
      ['flipped signature', flipped],
      ['garbage', new Uint8Array(300).fill(0x30)],
      ['empty', new Uint8Array(0)],
      ['a certificate', chain.certificates.ark],
      ['truncated', crl.ok.subarray(0, crl.ok.length - 1)],
    ] as const) {
      const r = await verify({ crl: bytes });
      expect(codes(r.violations), name).toEqual(['crl_invalid']);
      expect(r.claims, name).toBeNull();
    }
  });

  it('a simulated root is never checked against KDS; a given CRL still is', async () => {
    const calls: string[] = [];
    const kds = {
      fetch: async (url: string) => {
        calls.push(url);
        return crl.ask;
      },
      revocation: true,
    };
    expect((await verify({ kds })).violations).toEqual([]);
    expect(calls).toEqual([]);
    expect(codes((await verify({ kds, crl: crl.ask })).violations)).toEqual(['cert_revoked']);
  });

  it('KDS CRL URLs are per product and per chain kind', () => {
    expect(crlUrl('Milan', 'vcek')).toBe('https://kdsintf.amd.com/vcek/v1/Milan/crl');
    expect(crlUrl('Genoa', 'vlek')).toBe('https://kdsintf.amd.com/vlek/v1/Genoa/crl');
  });

  it.skipIf(!v.present)(
    'an AMD chain with kds.revocation: no CRL from KDS, or a forged one, fails closed',
    async () => {
      const s = loadSet('milan-v2-virtee');
      const url = crlUrl('Milan', 'vcek');
      const input = {
        report: s.report,
        leaf: s.leaf,
        chain: [s.chain],
        trustAnchors: AMD_ANCHORS,
        now: s.at,
      };
      expect((await verifySnpEvidence(input)).violations).toEqual([]);
      // The simulator's CRL has the wrong issuer for AMD's ARK; a 404 is no CRL at all.
      for (const routes of [{}, { [url]: crl.ok }, { [url]: new Uint8Array(64).fill(0x30) }]) {
        const kds = fakeKds(routes);
        const cache = memoryCache();
        const r = await verifySnpEvidence({ ...input, kds: { fetch: kds.fetch, cache, revocation: true } });
        expect(codes(r.violations)).toEqual(['crl_invalid']);
        expect(kds.calls).toEqual([url]);
        expect(cache.entries.size).toBe(0); // nothing that failed is cached
      }
      // A forged CRL planted in the cache is judged like a fetched one: the cache is not a trust store.
      const cache = memoryCache();
      await cache.put(kdsCacheKey(url), crl.ok, 3600);
      const r = await verifySnpEvidence({
        ...input,
        kds: { fetch: fakeKds({}).fetch, cache, revocation: true },
      });
      expect(codes(r.violations)).toEqual(['crl_invalid']);
    },
  );
});
