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
 * attestation); request isolates write `rcpt:` (one per answer) and only read the rest.
 *
 * `rcpt-svc:` is a trust decision — the keys it lists vouch for worker certificates — so, like
 * `keys:` and `att:`, it is an authenticated entry (kv-auth.ts, MAC bound to its name): KV is not
 * trusted (docs/threat-model.md), and a key written there by anyone but the DO is never used.
 * `rcpt:` and `rcpt-ev:` need no MAC: the gateway only serves them, and whoever reads a receipt
 * bundle verifies its whole chain offline (src/receipts/verify-receipt.ts). The evidence
 * is stored once per attestation, not once per receipt. Nothing here is secret: no prompt, no
 * answer, no key material — only hashes, public keys, certificates and hardware evidence.
 */
import { type EvidenceBundle, encodeEvidenceBundle } from '../../attestation/evidence-bundle.js';
import { fromBase64Url, sha256, toBase64Url, toHex, utf8 } from '../../bytes.js';
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
  input: { manifestDigest: string; bundle: EvidenceBundle; signingKey: Uint8Array; now: number },
): Promise<string> {
  const text = canonicalizeJson(encodeEvidenceBundle(input.bundle));
  const evidenceSha256 = toHex(await sha256(utf8.encode(text)));
  await kv.put(receiptKeys.evidence(evidenceSha256), text, { expirationTtl: EVIDENCE_TTL_SECONDS });
  const signing = toBase64Url(input.signingKey);
  const previous = await readReceiptServices(kv, secret, input.manifestDigest);
  const others = previous.filter((s) => s.signing !== signing);
  const list: ReceiptServices = {
    v: 1,
    manifestDigest: input.manifestDigest,
    services: [{ signing, evidenceSha256, verifiedAt: input.now }, ...others].slice(0, MAX_SERVICES),
  };
  const name = receiptKeys.services(input.manifestDigest);
  await kv.put(name, await sealKvEntry(secret, name, list), { expirationTtl: RECEIPT_TTL_SECONDS });
  return evidenceSha256;
}

/** The services whose keys vouch for worker certificates; an entry that does not verify counts as none. */
export async function readReceiptServices(
  kv: KvNamespace,
  secret: string,
  manifestDigest: string,
): Promise<ReceiptService[]> {
  const read = await readAuthenticated<ReceiptServices>(kv, secret, receiptKeys.services(manifestDigest));
  const list = read.ok ? read.value : null;
  if (!list || list.manifestDigest !== manifestDigest || !Array.isArray(list.services)) return [];
  return list.services.filter((s) => typeof s?.signing === 'string' && typeof s.evidenceSha256 === 'string');
}

export async function putReceipt(kv: KvNamespace, id: string, record: ReceiptRecord): Promise<void> {
  await kv.put(receiptKeys.receipt(id), JSON.stringify(record), { expirationTtl: RECEIPT_TTL_SECONDS });
}

/** The stored bundle for `id` as served by `GET /v1/receipts/{id}`, or null. */
export async function readReceiptBundle(
  kv: KvNamespace,
  id: string,
): Promise<Record<string, unknown> | null> {
  const record = await readPlainJson<ReceiptRecord>(kv, receiptKeys.receipt(id));
  if (record?.v !== 1) return null;
  const evidence = await readPlainJson<Record<string, unknown>>(
    kv,
    receiptKeys.evidence(record.serviceEvidenceSha256),
  );
  if (!evidence) return null;
  return {
    v: 1,
    receipt: record.receipt,
    workerCertificate: record.workerCertificate,
    serviceEvidence: evidence,
  };
}

export function spkiOf(service: ReceiptService): Uint8Array {
  return fromBase64Url(service.signing);
}

/** `rcpt:` and `rcpt-ev:` are served, not trusted (see the top of this file): plain JSON. */
async function readPlainJson<T>(kv: KvNamespace, key: string): Promise<T | null> {
  const text = await kv.get(key, 'text');
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
