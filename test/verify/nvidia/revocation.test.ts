/**
 * OCSP for whole NVIDIA chains under the role's policy (src/verify/nvidia/revocation.ts) and
 * through the fetcher with its cache (ocsp-fetch.ts), against the simulator's responder:
 * `require` refuses a certificate without a response; `best-effort` records it as a warning but
 * still refuses revoked, stale, badly signed and unknown answers; the device chain's leaf and
 * every root are not asked about; live answers must echo our fresh nonce; only verified good
 * answers are cached, and a cached one is re-verified. Runs in Node and workerd.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_OCSP_URL } from '../../../src/platform/simulator/nvidia-chain.js';
import { type SimulatedStatus, simulatedResponder } from '../../../src/platform/simulator/nvidia-ocsp.js';
import type { CertificateCache } from '../../../src/verify/kds.js';
import { aiaOcspUrl, NVIDIA_OCSP_URL } from '../../../src/verify/nvidia/ocsp-fetch.js';
import { type ChainToCheck, checkRevocation } from '../../../src/verify/nvidia/revocation.js';
import { AT, HOUR, type OcspFixture, ocspFixture } from './ocsp-support.js';

const codes = (r: { violations: { code: string }[] }) => r.violations.map((x) => x.code);

function memoryCache(): CertificateCache & { entries: Map<string, { value: Uint8Array; ttl: number }> } {
  const entries = new Map<string, { value: Uint8Array; ttl: number }>();
  return {
    entries,
    get: async (k) => entries.get(k)?.value ?? null,
    put: async (k, value, ttl) => {
      entries.set(k, { value, ttl });
    },
  };
}

describe('OCSP for NVIDIA chains under gpu.ocsp', () => {
  let f: OcspFixture;
  let chain: ChainToCheck;
  beforeAll(async () => {
    f = await ocspFixture();
    chain = { certs: f.certs, field: 'rims.driver.chain', skipLeaf: false };
  });
  /** Signed answers for the leaf (under the intermediate) and the intermediate (under the root). */
  const answers = async (leaf: SimulatedStatus = { kind: 'good' }, over: { nextUpdate?: Date } = {}) => [
    await f.answer({ status: leaf, ...over }),
    await f.answer({ cert: f.sim.certs[1]!.der, issuer: f.sim.certs[2]! }),
  ];

  it('saved good answers for every certificate but the root: no violation, statuses recorded', async () => {
    const r = await checkRevocation([chain], AT, { policy: 'require', saved: await answers() });
    expect(r.violations).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.certificates.map((c) => [c.field, c.status, c.source])).toEqual([
      ['rims.driver.chain[0]', 'good', 'saved'],
      ['rims.driver.chain[1]', 'good', 'saved'],
    ]);
  });

  it("the device chain's leaf (made by the GPU) is not asked about", async () => {
    const device = { ...chain, field: 'chain', skipLeaf: true };
    const [, intermediate] = await answers();
    const r = await checkRevocation([device], AT, { policy: 'require', saved: [intermediate!] });
    expect(r.violations).toEqual([]);
    expect(r.certificates.map((c) => c.field)).toEqual(['chain[1]']);
  });

  it('require: a certificate without an answer is ocsp_unavailable', async () => {
    const [leaf] = await answers();
    const r = await checkRevocation([chain], AT, { policy: 'require', saved: [leaf!] });
    expect(codes(r)).toEqual(['ocsp_unavailable']);
    expect(r.violations[0]!.field).toBe('rims.driver.chain[1]');
    expect(codes(await checkRevocation([chain], AT, { policy: 'require' }))).toEqual([
      'ocsp_unavailable',
      'ocsp_unavailable',
    ]);
  });

  it('best-effort: a missing answer is a recorded warning, not a violation', async () => {
    const r = await checkRevocation([chain], AT, { policy: 'best-effort' });
    expect(r.violations).toEqual([]);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain('revocation not checked for SIMULATED NVIDIA GSP BROM');
    expect(r.certificates.map((c) => c.status)).toEqual(['unchecked', 'unchecked']);
  });

  it('best-effort still refuses revoked, unknown, stale, badly signed and garbage answers', async () => {
    const policy = 'best-effort' as const;
    const revoked = await answers({ kind: 'revoked', at: new Date(AT.getTime() - HOUR), reason: 6 });
    expect(codes(await checkRevocation([chain], AT, { policy, saved: revoked }))).toEqual(['cert_revoked']);
    const unknown = await answers({ kind: 'unknown' });
    expect(codes(await checkRevocation([chain], AT, { policy, saved: unknown }))).toEqual([
      'ocsp_status_unknown',
    ]);
    const stale = await answers({ kind: 'good' }, { nextUpdate: new Date(AT.getTime() - 1) });
    expect(codes(await checkRevocation([chain], AT, { policy, saved: stale }))).toEqual(['ocsp_expired']);
    const [leaf, intermediate] = await answers();
    const flipped = leaf!.slice();
    flipped[flipped.length - 10]! ^= 1; // inside the ECDSA signature
    expect(codes(await checkRevocation([chain], AT, { policy, saved: [flipped, intermediate!] }))).toEqual([
      'ocsp_signature_invalid',
    ]);
    const garbage = new TextEncoder().encode('not an OCSP response');
    const g = await checkRevocation([chain], AT, { policy, saved: [garbage, leaf!, intermediate!] });
    expect(codes(g)).toEqual(['ocsp_invalid']);
    expect(g.violations[0]!.field).toBe('ocsp[0]');
  });

  it('the responder URL: configured, else the AIA (http://… from the CA), else NVIDIA’s', async () => {
    expect(aiaOcspUrl(f.certs[0]!)).toBe(SIMULATED_OCSP_URL);
    expect(aiaOcspUrl(f.certs[2]!)).toBeNull();
    expect(NVIDIA_OCSP_URL).toBe('https://ocsp.ndis.nvidia.com');
    const responder = simulatedResponder(
      pairs(),
      () => ({ kind: 'good' }),
      () => AT,
    );
    await checkRevocation([chain], AT, { policy: 'require', fetch: { post: responder.post } });
    expect(responder.requests.map((q) => q.url)).toEqual([SIMULATED_OCSP_URL, SIMULATED_OCSP_URL]);
    const configured = simulatedResponder(
      pairs(),
      () => ({ kind: 'good' }),
      () => AT,
    );
    await checkRevocation([chain], AT, {
      policy: 'require',
      fetch: { post: configured.post, url: 'https://o.example' },
    });
    expect(configured.requests.map((q) => q.url)).toEqual(['https://o.example', 'https://o.example']);
  });

  const pairs = () => [
    { cert: f.sim.certs[0]!, issuer: f.sim.certs[1]! },
    { cert: f.sim.certs[1]!, issuer: f.sim.certs[2]! },
  ];

  it('live: a fresh 32-byte nonce per request, echoed; good answers cached until nextUpdate and reused', async () => {
    let now = AT;
    const responder = simulatedResponder(
      pairs(),
      () => ({ kind: 'good' }),
      () => now,
    );
    const cache = memoryCache();
    const options = { policy: 'require' as const, fetch: { post: responder.post, cache } };
    const r = await checkRevocation([chain], AT, options);
    expect(r.violations).toEqual([]);
    expect(r.certificates.map((c) => c.source)).toEqual(['network', 'network']);
    expect(responder.requests.map((q) => q.nonce?.length)).toEqual([32, 32]);
    expect(responder.requests[0]!.nonce).not.toEqual(responder.requests[1]!.nonce);
    expect([...cache.entries.values()].map((e) => e.ttl)).toEqual([86_400, 86_400]);
    expect([...cache.entries.keys()][0]).toMatch(
      /^gpu-ocsp:2\.16\.840\.1\.101\.3\.4\.2\.2:[0-9a-f]{96}:[0-9a-f]{96}:10/,
    );
    const again = await checkRevocation([chain], new Date(AT.getTime() + HOUR), options);
    expect(again.violations).toEqual([]);
    expect(again.certificates.map((c) => c.source)).toEqual(['cache', 'cache']);
    expect(responder.requests).toHaveLength(2);
    // Past the cached answers' nextUpdate: re-verification fails, so the responder is asked again.
    const later = new Date(AT.getTime() + 30 * HOUR);
    now = later;
    const fresh = await checkRevocation([chain], later, options);
    expect(fresh.violations).toEqual([]);
    expect(fresh.certificates.map((c) => c.source)).toEqual(['network', 'network']);
    expect(responder.requests).toHaveLength(4);
  });

  it('live: a revoked answer is refused and never cached', async () => {
    const responder = simulatedResponder(
      pairs(),
      (serial) =>
        serial === f.certs[0]!.serialNumber ? { kind: 'revoked', at: AT, reason: 1 } : { kind: 'good' },
      () => AT,
    );
    const cache = memoryCache();
    const r = await checkRevocation([chain], AT, {
      policy: 'best-effort',
      fetch: { post: responder.post, cache },
    });
    expect(codes(r)).toEqual(['cert_revoked']);
    expect(cache.entries.size).toBe(1);
  });

  it('live: a replayed answer without our nonce is refused (a stale "good" cannot be served to us)', async () => {
    const old = await f.answer(); // validly signed, in its window, but answers no request of ours
    const r = await checkRevocation([{ ...chain, certs: f.certs.slice(0, 2).concat(f.certs[2]!) }], AT, {
      policy: 'require',
      fetch: { post: async () => old },
    });
    expect(codes(r)).toContain('ocsp_invalid');
    expect(r.violations[0]!.message).toContain('nonce');
  });

  it('unreachable or failing responder: ocsp_unavailable under require, a warning under best-effort', async () => {
    const down = {
      post: async (): Promise<Uint8Array> => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const req = await checkRevocation([chain], AT, { policy: 'require', fetch: down });
    expect(codes(req)).toEqual(['ocsp_unavailable', 'ocsp_unavailable']);
    expect(req.violations[0]!.message).toContain('ECONNREFUSED');
    const http500 = {
      post: async () => ({ ok: false, status: 500, arrayBuffer: async () => new ArrayBuffer(0) }),
    };
    expect(codes(await checkRevocation([chain], AT, { policy: 'require', fetch: http500 }))).toEqual([
      'ocsp_unavailable',
      'ocsp_unavailable',
    ]);
    const best = await checkRevocation([chain], AT, { policy: 'best-effort', fetch: down });
    expect(best.violations).toEqual([]);
    expect(best.warnings.join('\n')).toContain('ECONNREFUSED');
  });

  it('a cache that fails is a miss; a poisoned cache entry is re-verified and replaced', async () => {
    const responder = simulatedResponder(
      pairs(),
      () => ({ kind: 'good' }),
      () => AT,
    );
    const broken: CertificateCache = {
      get: async (): Promise<Uint8Array | null> => {
        throw new Error('KV down');
      },
      put: async (): Promise<void> => {
        throw new Error('KV down');
      },
    };
    const r = await checkRevocation([chain], AT, {
      policy: 'require',
      fetch: { post: responder.post, cache: broken },
    });
    expect(r.violations).toEqual([]);
    const cache = memoryCache();
    const poison = { get: async () => new TextEncoder().encode('poison'), put: cache.put };
    const p = await checkRevocation([chain], AT, {
      policy: 'require',
      fetch: { post: responder.post, cache: poison },
    });
    expect(p.violations).toEqual([]);
    expect(p.certificates.map((c) => c.source)).toEqual(['network', 'network']);
  });
});
