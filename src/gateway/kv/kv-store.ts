/**
 * Every KV key the gateway reads or writes, and its value shape (docs/gateway.md "KV"). KV has no
 * compare-and-set and is eventually consistent, so it is only ever a cache of what the key-rotation
 * Durable Object decided: the DO is the single writer of `keys:` and `att:`; request isolates only
 * read. `apikey:` entries are written by operators (`sealgate apikey`, sealed under GATEWAY_SECRET).
 *
 *   apikey:<sha256 hex of the key>         MAC'd {name?, createdAt?, limits?} (apiKeyEntry)  no TTL
 *   att:<manifestDigest>:<nonce hex>       MAC'd AttestationRecord                     TTL ≤ evidence
 *   att:<manifestDigest>:current           MAC'd {nonce, verifiedAt, expiresAt}        same TTL
 *   keys:<manifestDigest>                  MAC'd PublishedKeys (keys also wrapped)     until last notAfter
 *   snp-kds:<KDS URL>                      certificate bytes (DER or PEM)              ≤ 7 d, ≤ notAfter
 *
 * "MAC'd": `kv-auth.ts` (HMAC-SHA-256 under a key derived from GATEWAY_SECRET, bound to the KV key
 * name; `apikey:` entries under their own label, kind `apiKeyEntry`, read in api-keys.ts). Readers
 * verify it and the entry's own freshness, and never use an entry that fails either.
 * `snp-kds:` entries need no MAC: a certificate is used only after it chains to a pinned AMD root.
 */
import { toHex } from '../../bytes.js';
import type { CertificateCache } from '../../verify/kds.js';
import { kdsCacheKey } from '../../verify/kds.js';
import type { CollateralCache } from '../../verify/tdx/pcs.js';
import type { KvNamespace } from '../cf-types.js';
import { log } from '../log.js';
import type { StoredKek } from './at-rest.js';
import { openKvEntry, sealKvEntry } from './kv-auth.js';

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

/**
 * What an authenticated entry holds: `missing` (absent), `rejected` (present but its MAC does not
 * verify — altered, moved from another key name, written without the secret; logged, never used).
 */
export type KvRead<T> = { ok: true; value: T } | { ok: false; reason: 'missing' | 'rejected' };

export async function readAuthenticated<T>(
  kv: KvNamespace,
  secret: string,
  name: string,
): Promise<KvRead<T>> {
  const text = await kv.get(name, 'text');
  if (text === null) return { ok: false, reason: 'missing' };
  try {
    return { ok: true, value: await openKvEntry<T>(secret, name, text) };
  } catch (e) {
    log('error', 'kv_entry_rejected', { name, message: (e as Error).message });
    return { ok: false, reason: 'rejected' };
  }
}

/** The published keys of `digest`, authenticated (whether each key is still valid is the ring's job). */
export async function readPublishedKeys(
  kv: KvNamespace,
  secret: string,
  digest: string,
): Promise<KvRead<PublishedKeys>> {
  const read = await readAuthenticated<PublishedKeys>(kv, secret, kvKeys.keys(digest));
  if (read.ok && (read.value?.manifestDigest !== digest || !Array.isArray(read.value.keys))) {
    log('error', 'kv_entry_rejected', { name: kvKeys.keys(digest), message: 'not this manifest' });
    return { ok: false, reason: 'rejected' };
  }
  return read;
}

/**
 * The cached verified attestation of the service under `digest`, if authentic and still fresh at
 * `now`: the `current` pointer and the record it names must both verify, agree on nonce and digest,
 * and be before their `expiresAt`. `stale` is an authentic entry past its expiry (KV TTLs are not
 * exact, and an old entry can be written back by whoever controls KV).
 */
export async function readAttestation(
  kv: KvNamespace,
  secret: string,
  digest: string,
  now: number,
): Promise<{ ok: true; value: AttestationRecord } | { ok: false; reason: 'missing' | 'rejected' | 'stale' }> {
  const pointer = await readAuthenticated<AttestationPointer>(kv, secret, kvKeys.attestationCurrent(digest));
  if (!pointer.ok) return pointer;
  if (typeof pointer.value?.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(pointer.value.nonce)) {
    return { ok: false, reason: 'rejected' };
  }
  const name = kvKeys.attestation(digest, pointer.value.nonce);
  const record = await readAuthenticated<AttestationRecord>(kv, secret, name);
  if (!record.ok) return record;
  const r = record.value;
  if (r?.v !== 1 || r.manifestDigest !== digest || r.nonce !== pointer.value.nonce) {
    log('error', 'kv_entry_rejected', { name, message: 'record does not match its pointer' });
    return { ok: false, reason: 'rejected' };
  }
  if (!(r.expiresAt > now) || !(pointer.value.expiresAt > now)) return { ok: false, reason: 'stale' };
  return { ok: true, value: r };
}

/** Writes both the record and the `current` pointer with the same TTL, each MAC'd under its name. */
export async function putAttestation(
  kv: KvNamespace,
  secret: string,
  record: AttestationRecord,
  ttlSeconds: number,
) {
  const pointer: AttestationPointer = {
    nonce: record.nonce,
    verifiedAt: record.verifiedAt,
    expiresAt: record.expiresAt,
  };
  const recordName = kvKeys.attestation(record.manifestDigest, record.nonce);
  await kv.put(recordName, await sealKvEntry(secret, recordName, record), { expirationTtl: ttlSeconds });
  const pointerName = kvKeys.attestationCurrent(record.manifestDigest);
  await kv.put(pointerName, await sealKvEntry(secret, pointerName, pointer), { expirationTtl: ttlSeconds });
}

export async function putPublishedKeys(
  kv: KvNamespace,
  secret: string,
  published: PublishedKeys,
  now: number,
) {
  const name = kvKeys.keys(published.manifestDigest);
  const last = Math.max(0, ...published.keys.map((k) => k.notAfter));
  if (last <= now) {
    await kv.delete(name);
    return;
  }
  await kv.put(name, await sealKvEntry(secret, name, published), {
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

/**
 * The verifier's TDX collateral cache (src/verify/tdx/pcs.ts) backed by KV: pcs.ts stores only
 * collateral that verified, for no longer than its earliest nextUpdate, and verifies what it reads
 * back like bytes from the network — so a KV entry is a cache, never a trust input.
 */
export function kvCollateralCache(kv: KvNamespace): CollateralCache {
  return {
    get: (key) => kv.get(key, 'text'),
    async put(key, value, ttlSeconds) {
      await kv.put(key, value, { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.floor(ttlSeconds)) });
    },
  };
}

export function nonceHex(nonce: Uint8Array): string {
  return toHex(nonce);
}
