/**
 * The KDS path (AMD pub. 57230 §4): URLs as KDS defines them, a missing VCEK/cert_chain fetched
 * once and then served from the cache, failures as `cert_missing` (never a throw), and only
 * certificates that verified are cached. The fetcher is an in-memory fake serving the real files.
 */
import { describe, expect, it } from 'vitest';
import type { SnpProduct } from '../../src/evidence/snp/types.js';
import { certChainUrl, KDS_DEFAULT_TTL_SECONDS, kdsCacheKey, vcekUrl } from '../../src/verify/kds.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { AMD_ANCHORS, anchorsFor, codes, fakeKds, loadSet, memoryCache, v } from './support.js';

describe('KDS URLs', () => {
  it('VCEK: 64-byte hwid on Milan/Genoa, 8 bytes + fmcSPL on Turin; cert_chain per key kind', () => {
    const chip = new Uint8Array(64).map((_, i) => i);
    const legacy = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
    expect(vcekUrl('Milan', chip, legacy)).toBe(
      `https://kdsintf.amd.com/vcek/v1/Milan/${Array.from(chip, (b) => b.toString(16).padStart(2, '0')).join('')}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115`,
    );
    expect(vcekUrl('Turin', chip, { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 })).toBe(
      'https://kdsintf.amd.com/vcek/v1/Turin/0001020304050607?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71&fmcSPL=0',
    );
    expect(certChainUrl('Genoa', 'vcek')).toBe('https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain');
    expect(certChainUrl('Genoa', 'vlek')).toBe('https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain');
  });
});

function routesFor(
  name: string,
  product: SnpProduct,
): { vcek: string; chain: string; routes: Record<string, Uint8Array> } {
  const s = loadSet(name);
  const e = s.expected.report;
  const chip = Uint8Array.from(e.chip_id.match(/../g)!.map((h) => Number.parseInt(h, 16)));
  const tcb = e.reported_tcb;
  const vcek = vcekUrl(product, chip, {
    fmc: tcb.fmcSPL,
    bootloader: tcb.blSPL,
    tee: tcb.teeSPL,
    snp: tcb.snpSPL,
    microcode: tcb.ucodeSPL,
  });
  const chain = certChainUrl(product, 'vcek');
  return { vcek, chain, routes: { [vcek]: s.leaf, [chain]: s.chain } };
}

describe.skipIf(!v.present)(`KDS fetch and cache ${v.skipReason}`, () => {
  for (const [name, product] of [
    ['genoa-v3-azure-trustee', 'Genoa'],
    ['turin-v5-oak', 'Turin'],
  ] as const) {
    it(`${name}: VCEK and cert_chain fetched once, then from the cache`, async () => {
      const s = loadSet(name);
      const { vcek, chain, routes } = routesFor(name, product);
      const kds = fakeKds(routes);
      const cache = memoryCache();
      const input = {
        report: s.report,
        trustAnchors: AMD_ANCHORS,
        now: s.at,
        kds: { fetch: kds.fetch, cache },
      };
      const first = await verifySnpEvidence(input);
      expect(first.violations).toEqual([]);
      expect(kds.calls.sort()).toEqual([chain, vcek].sort());
      expect([...cache.entries.keys()].sort()).toEqual([kdsCacheKey(chain), kdsCacheKey(vcek)].sort());
      for (const { ttl } of cache.entries.values()) {
        expect(ttl).toBeGreaterThanOrEqual(60);
        expect(ttl).toBeLessThanOrEqual(KDS_DEFAULT_TTL_SECONDS);
      }
      const second = await verifySnpEvidence(input);
      expect(second.violations).toEqual([]);
      expect(second.claims?.leaf.sha256).toBe(first.claims?.leaf.sha256);
      expect(kds.calls.length).toBe(2);
    });
  }

  it('Turin VCEK URL has the 8-byte hwID (as Oak fetches it)', () => {
    const { vcek } = routesFor('turin-v5-oak', 'Turin');
    expect(vcek).toBe(
      'https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3?blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71&fmcSPL=0',
    );
  });

  it('a v2 report: the product comes from single-product anchors; otherwise product_unknown', async () => {
    const s = loadSet('milan-v2-virtee');
    const { routes } = routesFor('milan-v2-virtee', 'Milan');
    const kds = fakeKds(routes);
    const ok = await verifySnpEvidence({
      report: s.report,
      trustAnchors: anchorsFor('Milan'),
      now: s.at,
      kds,
    });
    expect(ok.violations).toEqual([]);
    const calls = kds.calls.length;
    const unknown = await verifySnpEvidence({ report: s.report, trustAnchors: AMD_ANCHORS, now: s.at, kds });
    expect(codes(unknown.violations)).toEqual(['product_unknown', 'cert_missing']);
    expect(kds.calls.length).toBe(calls);
  });

  it('the leaf given, the chain fetched for the leaf product', async () => {
    const s = loadSet('milan-v2-gosevguest');
    const { chain, routes } = routesFor('milan-v2-gosevguest', 'Milan');
    const kds = fakeKds(routes);
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds,
    });
    expect(r.violations).toEqual([]);
    expect(kds.calls).toEqual([chain]);
  });

  it('fetch failures are cert_missing, never a throw', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const failing = [
      async () => {
        throw new Error('network down');
      },
      async () => ({ ok: false, status: 503, arrayBuffer: async () => new ArrayBuffer(0) }),
      async () => new Uint8Array(0),
    ];
    for (const fetch of failing) {
      const cache = memoryCache();
      const r = await verifySnpEvidence({
        report: s.report,
        trustAnchors: AMD_ANCHORS,
        now: s.at,
        kds: { fetch, cache },
      });
      expect(codes(r.violations)).toEqual(['cert_missing']);
      expect(r.claims).toBeNull();
      expect(cache.entries.size).toBe(0);
    }
  });

  it('no leaf and no fetcher: cert_missing', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const r = await verifySnpEvidence({ report: s.report, trustAnchors: AMD_ANCHORS, now: s.at });
    expect(codes(r.violations)).toEqual(['cert_missing']);
    expect(r.violations[0]!.message).toContain('no KDS fetcher');
  });

  it('a VLEK is never fetched from KDS: cert_missing without a call', async () => {
    const s = loadSet('milan-v3-vlek-aws-trustee');
    const kds = fakeKds({});
    const r = await verifySnpEvidence({ report: s.report, trustAnchors: AMD_ANCHORS, now: s.at, kds });
    expect(codes(r.violations)).toEqual(['cert_missing']);
    expect(r.violations[0]!.message).toContain('a VLEK cannot be fetched from KDS');
    expect(kds.calls).toEqual([]);
  });

  it('the VLEK given, the ASVK chain fetched from /vlek/', async () => {
    const s = loadSet('milan-v3-vlek-aws-trustee');
    const url = certChainUrl('Milan', 'vlek');
    const kds = fakeKds({ [url]: s.chain });
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds,
    });
    expect(r.violations).toEqual([]);
    expect(kds.calls).toEqual([url]);
  });

  it('what does not verify is not cached: a wrong VCEK, garbage, an untrusted chain', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const { vcek, chain, routes } = routesFor('genoa-v3-azure-trustee', 'Genoa');

    // KDS serves another chip's VCEK at this chip's URL: chain verifies, binding does not.
    const wrongLeaf = fakeKds({ ...routes, [vcek]: v.bytes('snp/milan-v2-virtee/vcek.der') });
    const c1 = memoryCache();
    const r1 = await verifySnpEvidence({
      report: s.report,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds: { fetch: wrongLeaf.fetch, cache: c1 },
    });
    expect(r1.claims).toBeNull();
    expect(c1.entries.has(kdsCacheKey(vcek))).toBe(false);

    // Garbage in place of the VCEK.
    const garbage = fakeKds({ ...routes, [vcek]: new TextEncoder().encode('<html>rate limited</html>') });
    const c2 = memoryCache();
    const r2 = await verifySnpEvidence({
      report: s.report,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds: { fetch: garbage.fetch, cache: c2 },
    });
    expect(codes(r2.violations)).toEqual(['cert_malformed']);
    expect(c2.entries.size).toBe(0);

    // A chain whose root the manifest does not trust.
    const c3 = memoryCache();
    const r3 = await verifySnpEvidence({
      report: s.report,
      trustAnchors: anchorsFor('Milan'),
      now: s.at,
      kds: { fetch: fakeKds(routes).fetch, cache: c3 },
    });
    expect(codes(r3.violations)).toContain('root_untrusted');
    expect(c3.entries.has(kdsCacheKey(chain))).toBe(false);
    expect(c3.entries.has(kdsCacheKey(vcek))).toBe(false);
  });

  it('a cache entry is verified again: a poisoned cache yields violations, not claims', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const { vcek, routes } = routesFor('genoa-v3-azure-trustee', 'Genoa');
    const cache = memoryCache();
    await cache.put(kdsCacheKey(vcek), v.bytes('snp/milan-v2-virtee/vcek.der'), 3600);
    const kds = fakeKds(routes);
    const r = await verifySnpEvidence({
      report: s.report,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds: { fetch: kds.fetch, cache },
    });
    expect(r.claims).toBeNull();
    expect(r.violations.length).toBeGreaterThan(0);
  });

  it('a cache that throws is a miss', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const { routes } = routesFor('genoa-v3-azure-trustee', 'Genoa');
    const kds = fakeKds(routes);
    const broken = {
      get: async () => {
        throw new Error('KV down');
      },
      put: async () => {
        throw new Error('KV down');
      },
    };
    const r = await verifySnpEvidence({
      report: s.report,
      trustAnchors: AMD_ANCHORS,
      now: s.at,
      kds: { fetch: kds.fetch, cache: broken },
    });
    expect(r.violations).toEqual([]);
    expect(kds.calls.length).toBe(2);
  });
});
