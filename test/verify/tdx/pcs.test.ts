/**
 * The PCS/PCCS collateral fetcher with an in-memory PCS serving the real phala-v4 collateral as
 * Intel's API does (JSON bodies with the signature beside the signed value, issuer chains
 * URL-encoded in headers, CRLs as DER): the fetched collateral verifies the quote; it is cached
 * only after verifying, for no longer than the earliest nextUpdate; the base URL is configurable
 * (a PCCS); HTTP errors and tampered answers are not cached.
 */
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/bytes.js';
import { fetchCollateral, type PcsResponseLike } from '../../../src/verify/tdx/pcs.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { loadTdx, v } from './support.js';

function fakePcs(base: string, tamper = false) {
  const s = loadTdx('phala-v4-uptodate');
  const c = s.collateral;
  const calls: string[] = [];
  const answer = (body: Uint8Array, headers: Record<string, string> = {}): PcsResponseLike => ({
    ok: true,
    status: 200,
    headers: { get: (n: string) => headers[n] ?? null },
    arrayBuffer: async () => body.slice().buffer,
  });
  const tcbBody = `{"tcbInfo":${tamper ? c.tcbInfo.replace('"version":3', '"version": 3') : c.tcbInfo},"signature":"${toHex(c.tcbInfoSignature)}"}`;
  const routes: Record<string, PcsResponseLike> = {
    [`${base}/tdx/certification/v4/tcb?fmspc=B0C06F000000`]: answer(utf8.encode(tcbBody), {
      'TCB-Info-Issuer-Chain': encodeURIComponent(c.tcbInfoIssuerChain),
    }),
    [`${base}/tdx/certification/v4/qe/identity`]: answer(
      utf8.encode(`{"enclaveIdentity":${c.qeIdentity},"signature":"${toHex(c.qeIdentitySignature)}"}`),
      { 'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(c.qeIdentityIssuerChain) },
    ),
    [`${base}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`]: answer(c.pckCrl!, {
      'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(c.pckCrlIssuerChain!),
    }),
    'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der': answer(c.rootCaCrl!),
  };
  const fetch = async (url: string): Promise<PcsResponseLike> => {
    calls.push(url);
    return (
      routes[url] ?? {
        ok: false,
        status: 404,
        headers: { get: () => null },
        arrayBuffer: async () => new ArrayBuffer(0),
      }
    );
  };
  const store = new Map<string, { value: string; ttl: number }>();
  const cache = {
    get: async (k: string) => store.get(k)?.value ?? null,
    put: async (k: string, value: string, ttl: number) => void store.set(k, { value, ttl }),
  };
  return { s, calls, fetch, store, cache };
}

describe.skipIf(!v.present)(`PCS collateral fetcher ${v.skipReason}`, () => {
  it('fetches by FMSPC and CA, verifies, caches until the earliest nextUpdate, then serves from cache', async () => {
    const f = fakePcs('https://api.trustedservices.intel.com');
    const r = await fetchCollateral(
      { fetch: f.fetch, cache: f.cache, ttlSeconds: 90 * 86400 },
      f.s.quote,
      f.s.at,
    );
    expect(r.ok && r.cached).toBe(true);
    expect(f.calls).toHaveLength(4);
    const verified = await verifyTdxEvidence({
      quote: f.s.quote,
      collateral: r.ok ? r.collateral : f.s.collateral,
      now: f.s.at,
    });
    expect(verified.claims?.tcb.status).toBe('UpToDate');
    const [entry] = [...f.store.values()];
    // At 2025-06-20T00:00Z the earliest nextUpdate is the PCK CRL's, 2025-07-19T10:00:35Z.
    expect(entry!.ttl).toBe((Date.parse('2025-07-19T10:00:35Z') - f.s.at.getTime()) / 1000);
    const again = await fetchCollateral({ fetch: f.fetch, cache: f.cache }, f.s.quote, f.s.at);
    expect(again.ok && again.fromCache).toBe(true);
    expect(f.calls).toHaveLength(4);
  });

  it('takes a PCCS base URL (a trailing slash is dropped)', async () => {
    const g = fakePcs('https://pccs.example');
    const ok = await fetchCollateral({ fetch: g.fetch, baseUrl: 'https://pccs.example/' }, g.s.quote, g.s.at);
    expect(ok.ok).toBe(true);
    expect(g.calls.filter((u) => u.startsWith('https://pccs.example/'))).toHaveLength(3);
  });

  it('does not cache collateral that does not verify, and reports HTTP errors', async () => {
    const f = fakePcs('https://api.trustedservices.intel.com', true);
    const r = await fetchCollateral({ fetch: f.fetch, cache: f.cache }, f.s.quote, f.s.at);
    expect(r.ok && !r.cached).toBe(true);
    expect(f.store.size).toBe(0);
    const missing = await fetchCollateral(
      { fetch: f.fetch, baseUrl: 'https://nowhere.example' },
      f.s.quote,
      f.s.at,
    );
    expect(missing.ok).toBe(false);
    expect(missing.ok ? '' : missing.error).toMatch(/HTTP 404/);
    expect(missing.ok ? '' : missing.reason).toBe('unavailable');
  });
});
