/**
 * The receipt bundle (docs/protocol.md "Receipts"): everything needed to check one answer offline,
 * as the gateway serves it at `GET /v1/receipts/{id}` and as `sealgate verify-receipt` reads it:
 *
 *   { "v": 1,
 *     "receipt": "<compact JWS, receipt.ts>",
 *     "workerCertificate": "<base64url DER of the worker certificate the receipt names>",
 *     "serviceEvidence": { …the attestation service's evidence bundle the gateway verified… } }
 *
 * The manifest is inside `serviceEvidence` (its exact bytes, `manifest`). Parsing is strict: no
 * unknown fields, canonical base64url only — and `serviceEvidence` must be spelled exactly as its
 * own encoder spells the values it decodes to, so that no byte of a bundle can change without
 * changing what is verified.
 */
import {
  type EvidenceBundle,
  encodeEvidenceBundle,
  parseEvidenceBundle,
} from '../attestation/evidence-bundle.js';
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { canonicalizeJson } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';
import { MAX_WORKER_CERT_BYTES } from '../service-client/worker-certificate.js';
import { type ParsedReceipt, parseReceipt } from './receipt.js';

export const RECEIPT_BUNDLE_VERSION = 1;

export interface ReceiptBundle {
  receipt: ParsedReceipt;
  workerCertificate: Uint8Array;
  serviceEvidence: EvidenceBundle;
}

function malformed(message: string): SealgateError {
  return new SealgateError('malformed_evidence', `receipt bundle: ${message}`);
}

export function encodeReceiptBundle(input: {
  receipt: string;
  workerCertificate: Uint8Array;
  serviceEvidence: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    v: RECEIPT_BUNDLE_VERSION,
    receipt: input.receipt,
    workerCertificate: toBase64Url(input.workerCertificate),
    serviceEvidence: input.serviceEvidence,
  };
}

/** Parses a bundle (JSON text or value). Throws `malformed_evidence`. */
export function parseReceiptBundle(input: unknown): ReceiptBundle {
  let json = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch {
      throw malformed('not JSON');
    }
  }
  if (!isRecord(json)) throw malformed('not a JSON object');
  const o = json as Record<string, unknown>;
  const names = Object.keys(o).sort().join(',');
  if (names !== 'receipt,serviceEvidence,v,workerCertificate') {
    throw malformed('must have exactly v, receipt, workerCertificate, serviceEvidence');
  }
  if (o.v !== RECEIPT_BUNDLE_VERSION) throw malformed('unsupported version');
  const receipt = parseReceipt(o.receipt);
  if (typeof o.workerCertificate !== 'string' || !/^[A-Za-z0-9_-]+$/.test(o.workerCertificate)) {
    throw malformed('workerCertificate must be base64url');
  }
  const workerCertificate = fromBase64Url(o.workerCertificate);
  if (
    toBase64Url(workerCertificate) !== o.workerCertificate ||
    workerCertificate.length > MAX_WORKER_CERT_BYTES
  ) {
    throw malformed('workerCertificate must be canonical base64url of at most 16 KiB');
  }
  const serviceEvidence = parseEvidenceBundle(o.serviceEvidence);
  // One spelling: the evidence parser accepts non-canonical base64url (unused low bits set), so
  // compare the canonical JSON of what was given with that of its re-encoding.
  let same = false;
  try {
    same = canonicalizeJson(o.serviceEvidence) === canonicalizeJson(encodeEvidenceBundle(serviceEvidence));
  } catch {
    same = false;
  }
  if (!same) throw malformed('serviceEvidence is not in canonical form');
  return { receipt, workerCertificate, serviceEvidence };
}
