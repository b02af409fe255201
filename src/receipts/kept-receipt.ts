/**
 * The receipt a client keeps (docs/protocol.md "Receipts", docs/gateway.md "Receipts"): what the
 * gateway hands out with every answer it checked, so that no KV write is on the request path —
 *
 *   {"v":1,"receipt":"<compact JWS>","workerCertificate":"<b64u DER>","serviceEvidenceSha256":"<hex>"}
 *
 * as the `x-sealgate-receipt-data` header of a JSON answer, and as the SSE comment line
 * `: sealgate-receipt <that JSON>` just before a stream's final event (an SSE comment, WHATWG HTML
 * §9.2.6 "lines starting with ':' are ignored": every SDK's parser drops it, none chokes on it).
 * It is the receipt bundle (bundle.ts) with the service's evidence named by the SHA-256 of its
 * canonical JSON instead of carried: that evidence is the same for every answer of an attestation
 * and is served by `GET /v1/receipt-evidence/{sha256}`. `toReceiptBundle` joins the two after
 * checking the digest, so the bundle verified is exactly the one the gateway checked against.
 *
 * The text is plain ASCII JSON (base64url and hex values only): a valid HTTP field value as is
 * (RFC 9110 §5.5). Its size is bounded: Node's HTTP parser (undici, node:http) refuses a response
 * whose header section exceeds 16 KiB by default, so one header stays ≤ 8 KiB; a receipt ≤ 4 KiB
 * (receipt.ts) and the worker certificates our services issue (~2 KiB DER) fit in ~5 KiB.
 */
import { fromBase64Url, sha256, toBase64Url, toHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { canonicalizeJson } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';
import { RECEIPT_BUNDLE_VERSION } from './bundle.js';
import { parseReceipt } from './receipt.js';

export const KEPT_RECEIPT_HEADER = 'x-sealgate-receipt-data';
/** The SSE comment's first word; the kept receipt's JSON follows after one space. */
export const KEPT_RECEIPT_COMMENT = 'sealgate-receipt';
/** Largest kept receipt the gateway sends in a header (characters = bytes: ASCII only). */
export const MAX_KEPT_RECEIPT_LENGTH = 8 * 1024;

export interface KeptReceipt {
  receipt: string;
  /** base64url DER. */
  workerCertificate: string;
  /** SHA-256 (hex) of the canonical JSON of the service evidence the gateway checked against. */
  serviceEvidenceSha256: string;
}

function malformed(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `kept receipt: ${message}`);
}

/** The kept receipt's text (fixed field order; ASCII only). */
export function encodeKeptReceipt(kept: KeptReceipt): string {
  return JSON.stringify({
    v: RECEIPT_BUNDLE_VERSION,
    receipt: kept.receipt,
    workerCertificate: kept.workerCertificate,
    serviceEvidenceSha256: kept.serviceEvidenceSha256,
  });
}

/** The SSE comment line (with its line feed) that carries a kept receipt in a stream. */
export function keptReceiptComment(text: string): string {
  return `: ${KEPT_RECEIPT_COMMENT} ${text}\n`;
}

/**
 * True when `text` is a kept receipt rather than a full bundle: it names the evidence by digest
 * (a bundle carries `serviceEvidence` itself), or it holds a stream's receipt comment line.
 */
export function isKeptReceiptText(text: string): boolean {
  return (
    text.includes(`: ${KEPT_RECEIPT_COMMENT} `) ||
    (text.includes('"serviceEvidenceSha256"') && !text.includes('"serviceEvidence"'))
  );
}

/**
 * Parses a kept receipt: its JSON, a stream's comment line as received, or a saved stream holding
 * that line. Strict: exactly these
 * fields, a receipt that parses, canonical base64url, 64 lower-case hex. Throws `malformed_evidence`.
 */
export function parseKeptReceipt(input: string): KeptReceipt {
  // The comment line alone, or a whole saved SSE stream holding it: the JSON after the prefix.
  const prefix = `: ${KEPT_RECEIPT_COMMENT} `;
  const at = input.startsWith(prefix) ? 0 : input.indexOf(`\n${prefix}`) + 1;
  const text =
    at > 0 || input.startsWith(prefix) ? input.slice(at + prefix.length).split('\n')[0]! : input.trim();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('not JSON');
  }
  if (!isRecord(json)) throw malformed('not a JSON object');
  const o = json as Record<string, unknown>;
  if (Object.keys(o).sort().join(',') !== 'receipt,serviceEvidenceSha256,v,workerCertificate') {
    throw malformed('must have exactly v, receipt, workerCertificate, serviceEvidenceSha256');
  }
  if (o.v !== RECEIPT_BUNDLE_VERSION) throw malformed('unsupported version');
  parseReceipt(o.receipt);
  const cert = o.workerCertificate;
  if (
    typeof cert !== 'string' ||
    !/^[A-Za-z0-9_-]+$/.test(cert) ||
    toBase64Url(fromBase64Url(cert)) !== cert
  ) {
    throw malformed('workerCertificate must be canonical base64url');
  }
  if (typeof o.serviceEvidenceSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.serviceEvidenceSha256)) {
    throw malformed('serviceEvidenceSha256 must be 64 lower-case hex characters');
  }
  return {
    receipt: o.receipt as string,
    workerCertificate: cert,
    serviceEvidenceSha256: o.serviceEvidenceSha256,
  };
}

/**
 * The receipt bundle (bundle.ts) of a kept receipt and the evidence fetched for it: refused unless
 * the SHA-256 of the evidence's canonical JSON is the digest the kept receipt names (whoever served
 * the evidence is not trusted: a different evidence cannot stand in).
 */
export async function toReceiptBundle(
  kept: KeptReceipt,
  serviceEvidence: unknown,
): Promise<Record<string, unknown>> {
  let canonical: string;
  try {
    canonical = canonicalizeJson(serviceEvidence);
  } catch {
    throw malformed('the service evidence is not JSON');
  }
  if (toHex(await sha256(utf8.encode(canonical))) !== kept.serviceEvidenceSha256) {
    throw malformed('the service evidence is not the one the receipt names (SHA-256 differs)');
  }
  return {
    v: RECEIPT_BUNDLE_VERSION,
    receipt: kept.receipt,
    workerCertificate: kept.workerCertificate,
    serviceEvidence,
  };
}
