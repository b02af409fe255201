/**
 * The real SEV-SNP sets as verifier inputs (report, leaf, AMD cert_chain, a time inside validity),
 * and an in-memory KDS that serves the real files by URL and counts calls — the one fake here:
 * there is no network in tests.
 */

import { AMD_ROOTS, type TrustAnchor } from '../../src/verify/amd-roots.js';
import type { CertificateCache, KdsFetcher } from '../../src/verify/kds.js';
import { vectors } from '../support/vectors.js';

export const v = vectors();

const DAY_MS = 86_400_000;

export interface RealSet {
  name: string;
  report: Uint8Array;
  leaf: Uint8Array;
  /** The cert_chain PEM (ASK/ASVK then ARK) bytes. */
  chain: Uint8Array;
  /** Path of the chain under the test data root, e.g. amd-roots/ask_ark_milan.pem. */
  chainPath: string;
  expected: Expected;
  /** The leaf's notBefore + 1 day: inside every certificate's validity. */
  at: Date;
}

export interface Expected {
  product: string;
  files: { report: string; endorsement_cert: string; ask_ark_chain: string };
  report: {
    version: number;
    signing_key: 'VCEK' | 'VLEK';
    chip_id: string;
    reported_tcb: { fmcSPL?: number; blSPL: number; teeSPL: number; snpSPL: number; ucodeSPL: number };
  };
  endorsement_cert: { not_before: string; not_after: string; sha256_fingerprint: string };
}

export function loadSet(name: string): RealSet {
  const dir = `snp/${name}`;
  const expected = v.json<Expected>(`${dir}/expected.json`);
  const chainPath = expected.files.ask_ark_chain.replace(/^\.\.\/\.\.\//, '');
  return {
    name,
    report: v.bytes(`${dir}/${expected.files.report}`),
    leaf: v.bytes(`${dir}/${expected.files.endorsement_cert}`),
    chain: v.bytes(chainPath),
    chainPath,
    expected,
    at: new Date(new Date(expected.endorsement_cert.not_before).getTime() + DAY_MS),
  };
}

/** All three AMD roots as anchors, as a production manifest would list them. */
export const AMD_ANCHORS: TrustAnchor[] = AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product }));

export function anchorsFor(...products: string[]): TrustAnchor[] {
  return AMD_ANCHORS.filter((a) => products.includes(a.product));
}

/** A fake KDS serving `routes` (URL → bytes); anything else answers 404. Counts every call. */
export function fakeKds(routes: Record<string, Uint8Array>): { fetch: KdsFetcher; calls: string[] } {
  const calls: string[] = [];
  const fetch: KdsFetcher = async (url) => {
    calls.push(url);
    const body = routes[url];
    if (body === undefined) return { ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0) };
    return { ok: true, status: 200, arrayBuffer: async () => body.slice().buffer as ArrayBuffer };
  };
  return { fetch, calls };
}

/** An in-memory cache recording what was put, with which TTL. */
export function memoryCache(): CertificateCache & {
  entries: Map<string, { value: Uint8Array; ttl: number }>;
} {
  const entries = new Map<string, { value: Uint8Array; ttl: number }>();
  return {
    entries,
    get: async (key) => entries.get(key)?.value.slice() ?? null,
    put: async (key, value, ttl) => {
      entries.set(key, { value: value.slice(), ttl });
    },
  };
}

export function codes(violations: readonly { code: string }[]): string[] {
  return violations.map((x) => x.code);
}
