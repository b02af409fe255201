/**
 * What the gateway keeps for receipts in KV (docs/gateway.md "KV", docs/protocol.md "Receipts"):
 *
 *   rcpt:<request id>              ReceiptRecord: the compact receipt, the worker certificate
 *                                  and the digest of the service evidence   TTL RECEIPT_TTL_SECONDS
 *   rcpt-ev:<sha256 hex>           the service's evidence bundle exactly as the gateway verified it
 *                                  (JSON, encodeEvidenceBundle)             TTL RECEIPT_TTL + 2 d
 *   rcpt-svc:<manifestDigest>      ReceiptServices: the signing keys of the last services the DO
 *                                  verified, newest first, each with its evidence's digest
 *                                                                           TTL RECEIPT_TTL
 *
 * The key-rotation DO is the single writer of `rcpt-ev:` and `rcpt-svc:` (after each verified
 * attestation); request isolates write `rcpt:` (one per answer, only with RECEIPT_STORAGE=kv) and
 * only read the rest.
 *
 * KV is not trusted (docs/threat-model.md), so all three are authenticated entries (kv-auth.ts,
 * MAC under GATEWAY_SECRET bound to the KV key name), like `keys:` and `att:`; an entry that does
 * not verify counts as absent. `rcpt-svc:` is a trust decision — the keys it lists vouch for worker
 * certificates — and is also checked for freshness: a list whose newest service was verified more
 * than `maxAgeSeconds` ago (an authentic but old entry written back) lists no service. `rcpt:`
 * carries its owner, the SHA-256 of the API key that made the request: a receipt is served only
 * to that key (and as "no such receipt" to any other). The evidence is stored once per
 * attestation, not once per receipt. Nothing here is secret: no prompt, no answer, no key
 * material — only hashes, public keys, certificates and hardware evidence.
 */
import { type EvidenceBundle, encodeEvidenceBundle } from '../../attestation/evidence-bundle.js';
import { constantTimeEqual, fromBase64Url, sha256, toBase64Url, toHex, utf8 } from '../../bytes.js';
import { canonicalizeJson } from '../../json/canonical.js';
import type { KvNamespace } from '../cf-types.js';
import { sealKvEntry } from './kv-auth.js';
import { readAuthenticated } from './kv-store.js';

/** How long a receipt can be fetched from the gateway (7 days). */
export const RECEIPT_TTL_SECONDS = 7 * 24 * 3600;
/** Evidence outlives the receipts that point at it: they are made up to a rotation interval later. */
const EVIDENCE_TTL_SECONDS = RECEIPT_TTL_SECONDS + 2 * 24 * 3600;
/** Service keys kept for checking worker certificates (a restarted service has a new key). */
const MAX_SERVICES = 4;

export const receiptKeys = {
  receipt: (id: string) => `rcpt:${id}`,
  evidence: (sha256Hex: string) => `rcpt-ev:${sha256Hex}`,
  services: (manifestDigest: string) => `rcpt-svc:${manifestDigest}`,
};

export interface ReceiptRecord {
  v: 1;
  /** SHA-256 (hex) of the API key that made the request. */
  owner: string;
  receipt: string;
  /** base64url DER. */
  workerCertificate: string;
  serviceEvidenceSha256: string;
}

export interface ReceiptService {
  /** The service's attested `signing` key, SPKI DER, base64url. */
  signing: string;
  evidenceSha256: string;
  verifiedAt: number;
  /**
   * The service's evidence chains to a root the manifest marks `simulated` (the DO's verdict). A
   * worker certificate it issued must carry the same flag (receipt-check.ts).
   */
  simulated: boolean;
}

export interface ReceiptServices {
  v: 1;
  manifestDigest: string;
  services: ReceiptService[];
}

/**
 * DO side, after a verified attestation: store the evidence once (by digest) and put its service
 * key first in the list the request path checks worker certificates against.
 */
export async function recordServiceForReceipts(
  kv: KvNamespace,
  secret: string,
  input: {
    manifestDigest: string;
    bundle: EvidenceBundle;
    signingKey: Uint8Array;
    now: number;
    simulated: boolean;
  },
): Promise<string> {
  const evidence = encodeEvidenceBundle(input.bundle);
  const evidenceSha256 = toHex(await sha256(utf8.encode(canonicalizeJson(evidence))));
  const evidenceName = receiptKeys.evidence(evidenceSha256);
  await kv.put(evidenceName, await sealKvEntry(secret, evidenceName, evidence), {
    expirationTtl: EVIDENCE_TTL_SECONDS,
  });
  const signing = toBase64Url(input.signingKey);
  const previous = await readReceiptServices(kv, secret, input.manifestDigest);
  const others = previous.filter((s) => s.signing !== signing);
  const list: ReceiptServices = {
    v: 1,
    manifestDigest: input.manifestDigest,
    services: [
      { signing, evidenceSha256, verifiedAt: input.now, simulated: input.simulated },
      ...others,
    ].slice(0, MAX_SERVICES),
  };
  const name = receiptKeys.services(input.manifestDigest);
  await kv.put(name, await sealKvEntry(secret, name, list), { expirationTtl: RECEIPT_TTL_SECONDS });
  return evidenceSha256;
}

/**
 * The services whose keys vouch for worker certificates, newest first; an entry that does not
 * verify counts as none, and so does one whose newest service is older than `fresh.maxAgeSeconds`
 * at `fresh.now` (seconds). Without `fresh` (the DO, extending its own list) age is not checked.
 */
export async function readReceiptServices(
  kv: KvNamespace,
  secret: string,
  manifestDigest: string,
  fresh?: { now: number; maxAgeSeconds: number },
): Promise<ReceiptService[]> {
  const read = await readAuthenticated<ReceiptServices>(kv, secret, receiptKeys.services(manifestDigest));
  const list = read.ok ? read.value : null;
  if (!list || list.manifestDigest !== manifestDigest || !Array.isArray(list.services)) return [];
  const services = list.services.filter(
    (s) =>
      typeof s?.signing === 'string' &&
      typeof s.evidenceSha256 === 'string' &&
      Number.isSafeInteger(s.verifiedAt) &&
      // An entry without the flag (written before it existed) vouches for nothing: fail closed.
      typeof s.simulated === 'boolean',
  );
  const newest = services[0]?.verifiedAt;
  if (fresh && !(newest !== undefined && fresh.now - newest <= fresh.maxAgeSeconds)) return [];
  return services;
}

export async function putReceipt(
  kv: KvNamespace,
  secret: string,
  id: string,
  record: ReceiptRecord,
): Promise<void> {
  const name = receiptKeys.receipt(id);
  await kv.put(name, await sealKvEntry(secret, name, record), { expirationTtl: RECEIPT_TTL_SECONDS });
}

/**
 * The stored bundle for `id` as served by `GET /v1/receipts/{id}` to the API key whose SHA-256 is
 * `owner`; null when there is none, when an entry does not authenticate, or when another key owns it.
 */
export async function readReceiptBundle(
  kv: KvNamespace,
  secret: string,
  id: string,
  owner: string,
): Promise<Record<string, unknown> | null> {
  const read = await readAuthenticated<ReceiptRecord>(kv, secret, receiptKeys.receipt(id));
  const record = read.ok ? read.value : null;
  if (record?.v !== 1 || typeof record.owner !== 'string') return null;
  if (!constantTimeEqual(utf8.encode(record.owner), utf8.encode(owner))) return null;
  const evidence = await readReceiptEvidence(kv, secret, record.serviceEvidenceSha256);
  if (!evidence) return null;
  return {
    v: 1,
    receipt: record.receipt,
    workerCertificate: record.workerCertificate,
    serviceEvidence: evidence,
  };
}

/**
 * The service evidence stored under `sha256Hex` (written by the DO once per attestation, whatever
 * RECEIPT_STORAGE says), for `GET /v1/receipt-evidence/{sha256}`; null when absent or inauthentic.
 */
export async function readReceiptEvidence(
  kv: KvNamespace,
  secret: string,
  sha256Hex: string,
): Promise<Record<string, unknown> | null> {
  const ev = await readAuthenticated<Record<string, unknown>>(kv, secret, receiptKeys.evidence(sha256Hex));
  return ev.ok ? ev.value : null;
}

export function spkiOf(service: ReceiptService): Uint8Array {
  return fromBase64Url(service.signing);
}
