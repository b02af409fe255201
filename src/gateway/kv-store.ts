/**
 * Every KV key the gateway reads or writes, and its value shape (docs/gateway.md "KV"). KV has no
 * compare-and-set and is eventually consistent, so it is only ever a cache of what the key-rotation
 * Durable Object decided: the DO is the single writer of `keys:` and `att:`; request isolates only
 * read. `apikey:` entries are written by operators (wrangler kv key put).
 *
 *   apikey:<sha256 hex of the key>         {name?: string, createdAt?: number}         no TTL
 *   att:<manifestDigest>:<nonce hex>       AttestationRecord (JSON)                    TTL ≤ evidence
 *   att:<manifestDigest>:current           {nonce, verifiedAt, expiresAt}              same TTL
 *   keys:<manifestDigest>                  PublishedKeys (JSON, keys wrapped)          until last notAfter
 *   snp-kds:<KDS URL>                      certificate bytes (DER or PEM)              ≤ 7 d, ≤ notAfter
 */
import { toHex } from '../bytes.js';
import type { CertificateCache } from '../verify/kds.js';
import { kdsCacheKey } from '../verify/kds.js';
import type { StoredKek } from './at-rest.js';
import type { KvNamespace } from './cf-types.js';

/** Cloudflare KV refuses an expirationTtl below 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;

export const kvKeys = {
  apiKey: (sha256Hex: string) => `apikey:${sha256Hex}`,
  attestation: (digest: string, nonceHex: string) => `att:${digest}:${nonceHex}`,
  attestationCurrent: (digest: string) => `att:${digest}:current`,
  keys: (digest: string) => `keys:${digest}`,
  kds: kdsCacheKey,
};

/** What the gateway keeps of a verified attestation of the service (public values only). */
export interface AttestationRecord {
  v: 1;
  manifestDigest: string;
  nonce: string;
  verifiedAt: number;
  expiresAt: number;
  simulated: boolean;
  product: string;
  measurement: string;
  reportedTcb: Record<string, number | undefined>;
  leafSha256: string;
  leafNotAfter: number;
  rootSha256: string;
  /** The service's attested public keys, base64url. */
  hpke: string;
  signing: string;
}

export interface AttestationPointer {
  nonce: string;
  verifiedAt: number;
  expiresAt: number;
}

/** The KEKs the DO promoted (each confirmed by the service), wrapped at rest. */
export interface PublishedKeys {
  v: 1;
  manifestDigest: string;
  updatedAt: number;
  keys: StoredKek[];
}

export async function readJson<T>(kv: KvNamespace, key: string): Promise<T | null> {
  const text = await kv.get(key, 'text');
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Writes both the record and the `current` pointer with the same TTL. */
export async function putAttestation(kv: KvNamespace, record: AttestationRecord, ttlSeconds: number) {
  const pointer: AttestationPointer = {
    nonce: record.nonce,
    verifiedAt: record.verifiedAt,
    expiresAt: record.expiresAt,
  };
  await kv.put(kvKeys.attestation(record.manifestDigest, record.nonce), JSON.stringify(record), {
    expirationTtl: ttlSeconds,
  });
  await kv.put(kvKeys.attestationCurrent(record.manifestDigest), JSON.stringify(pointer), {
    expirationTtl: ttlSeconds,
  });
}

export async function putPublishedKeys(kv: KvNamespace, published: PublishedKeys, now: number) {
  const last = Math.max(0, ...published.keys.map((k) => k.notAfter));
  if (last <= now) {
    await kv.delete(kvKeys.keys(published.manifestDigest));
    return;
  }
  await kv.put(kvKeys.keys(published.manifestDigest), JSON.stringify(published), {
    expirationTtl: Math.max(KV_MIN_TTL_SECONDS, last - now),
  });
}

/** The verifier's KDS certificate cache (src/verify/kds.ts) backed by KV. */
export function kvCertificateCache(kv: KvNamespace): CertificateCache {
  return {
    async get(key) {
      const value = await kv.get(key, 'arrayBuffer');
      return value === null ? null : new Uint8Array(value);
    },
    async put(key, value, ttlSeconds) {
      await kv.put(key, value, { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.floor(ttlSeconds)) });
    },
  };
}

export function nonceHex(nonce: Uint8Array): string {
  return toHex(nonce);
}
