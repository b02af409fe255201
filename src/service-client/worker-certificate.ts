/**
 * The worker certificate (docs/services.md "Attestation service"): an X.509 v3 certificate
 * (RFC 5280) the attestation service signs, with its attested ECDSA P-384 `signing` key, for a
 * worker whose evidence it verified. Chain of trust by signatures: whoever verified the service's
 * hardware evidence knows that key, so a certificate it signed names an attested worker.
 *
 * This module is the format and its reader (the gateway, the worker and the service all read it);
 * the service's issuer is src/attestation-service/issue-certificate.ts. Sealgate's extensions sit
 * under its UUID arc (ITU-T X.667: no registration needed), all non-critical, each extnValue one
 * DER value (X.690 §8.7 OCTET STRING, §8.2 BOOLEAN):
 *
 *   <arc>.1.1  measurement       OCTET STRING (48)  the worker's launch MEASUREMENT
 *   <arc>.1.2  manifestDigest    OCTET STRING (32)  the manifest it was attested against
 *   <arc>.1.3  hpkeKeySha256     OCTET STRING (32)  SHA-256 of its attested X-Wing `hpke` key
 *   <arc>.1.4  simulated         BOOLEAN            its chain ends in a root the manifest marks simulated
 *   <arc>.1.5  configDigest      OCTET STRING (32)  SHA-256 of its attested configuration document
 *   <arc>.1.6  gpus              OCTET STRING       only for a worker with GPUs: canonical JSON of
 *                                                   its verified GPU claims (attestation/gpu-summary.ts)
 *                                                  (src/attestation/worker-config.ts: where it sends
 *                                                  opened prompts), bound in its REPORT_DATA
 *
 * Signature: ecdsa-with-SHA384 (RFC 5758 §3.2, parameters absent), checked on the exact signed
 * bytes (certificate-der.ts explains why no library re-encoding is involved).
 */
import { type GpuSummary, parseGpuSummaries } from '../attestation/gpu-summary.js';
import { constantTimeEqual, fromHex, toHex } from '../bytes.js';
import { readTlv } from '../der/der.js';
import { ecdsaDerToP1363 } from '../der/ecdsa-signature.js';
import { SealgateError } from '../errors.js';
import { parseCertificate } from '../verify/certificates.js';
import { encodeCommonNameDer } from './certificate-der.js';

export const SEALGATE_OID_ARC = '2.25.333905107900016310972470196611105242791';
/** Sub-arc .1: worker-certificate extensions. */
export const WORKER_CERT_OIDS = Object.freeze({
  measurement: `${SEALGATE_OID_ARC}.1.1`,
  manifestDigest: `${SEALGATE_OID_ARC}.1.2`,
  hpkeKeySha256: `${SEALGATE_OID_ARC}.1.3`,
  simulated: `${SEALGATE_OID_ARC}.1.4`,
  configDigest: `${SEALGATE_OID_ARC}.1.5`,
  gpus: `${SEALGATE_OID_ARC}.1.6`,
});
export const WORKER_CERT_SUBJECT = 'CN=sealgate-worker';
export const WORKER_CERT_ISSUER = 'CN=sealgate-attestation-service';
/** A worker certificate never outlives a day, whatever the key policy says. */
export const MAX_WORKER_CERT_SECONDS = 24 * 3600;
export const MAX_WORKER_CERT_BYTES = 16 * 1024;
/** AlgorithmIdentifier { ecdsa-with-SHA384 } with parameters absent (RFC 5758 §3.2), whole DER. */
export const ECDSA_SHA384_ALGORITHM = fromHex('300a06082a8648ce3d040303');
/** basicConstraints and keyUsage: the only extensions that may be critical (RFC 5280 §4.2). */
const MAY_BE_CRITICAL: ReadonlySet<string> = new Set(['2.5.29.19', '2.5.29.15']);
const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;

export interface WorkerCertificate {
  der: Uint8Array;
  /** Lower-case hex of the serial's INTEGER contents. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** The worker's attested `signing` key, SPKI DER. */
  signingKeySpki: Uint8Array;
  measurement: Uint8Array;
  manifestDigest: string;
  hpkeKeySha256: Uint8Array;
  simulated: boolean;
  /** Lower-case hex SHA-256 of the worker's configuration document. */
  configDigest: string;
  /** The worker's verified GPUs ([] when it attested none). */
  gpus: GpuSummary[];
}

function bad(message: string, cause?: unknown): SealgateError {
  return new SealgateError('malformed_certificate', `worker certificate: ${message}`, undefined, { cause });
}

/** extnValue holding one DER value of `tag` with exactly `length` content bytes. */
function single(v: Uint8Array, tag: number, length: number, name: string): Uint8Array {
  if (v.length !== 2 + length || v[0] !== tag || v[1] !== length) {
    throw bad(`extension ${name} must be one DER value of ${length} bytes`);
  }
  return v.slice(2);
}

/** DER of an extension value, for the issuer. Values here are all shorter than 128 bytes. */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 127) throw new SealgateError('internal', 'encodeOctetString: value too long');
  return Uint8Array.of(0x04, bytes.length, ...bytes);
}
export function encodeBoolean(value: boolean): Uint8Array {
  return Uint8Array.of(0x01, 0x01, value ? 0xff : 0x00);
}

/** The contents of an extnValue that is exactly one DER OCTET STRING (any definite length). */
function octetStringContent(v: Uint8Array): Uint8Array {
  let t: ReturnType<typeof readTlv>;
  try {
    t = readTlv(v, 0, 'gpus');
  } catch (e) {
    throw bad('extension gpus is not DER', e);
  }
  if (t.tag !== 0x04 || t.end !== v.length) throw bad('extension gpus must be one OCTET STRING');
  return v.slice(t.start, t.end);
}

interface Parsed extends WorkerCertificate {
  tbs: Uint8Array;
  signature: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
}

async function parse(der: Uint8Array): Promise<Parsed> {
  if (!(der instanceof Uint8Array) || der.length === 0 || der.length > MAX_WORKER_CERT_BYTES) {
    throw bad(`expected 1..${MAX_WORKER_CERT_BYTES} bytes of DER`);
  }
  if (der[0] !== 0x30) throw bad('not DER');
  // The verifier's strict reader: DER, version, names, validity, and extensions each at most once
  // with a DER critical flag (RFC 5280 §4.2). OIDs come back as dotted text, arcs of any size
  // decoded exactly, so Sealgate's 128-bit UUID arc is matched as text.
  const cert = await parseCertificate(der);
  if (cert.version !== 2) throw bad('not an X.509 v3 certificate');
  if (
    !constantTimeEqual(cert.signatureAlgorithm, ECDSA_SHA384_ALGORITHM) ||
    !constantTimeEqual(cert.tbsSignatureAlgorithm, ECDSA_SHA384_ALGORITHM)
  ) {
    throw bad('signature algorithm is not ecdsa-with-SHA384 (RFC 5758 §3.2)');
  }
  if (cert.criticalExtensions.some((oid) => !MAY_BE_CRITICAL.has(oid))) {
    throw bad('unknown critical extension (RFC 5280 §4.2)');
  }
  const ext = (name: keyof typeof WORKER_CERT_OIDS): Uint8Array => {
    const v = cert.extensions.find((e) => e.oid === WORKER_CERT_OIDS[name])?.value;
    if (!v) throw bad(`extension ${name} (${WORKER_CERT_OIDS[name]}) missing`);
    return v;
  };
  const gpuExt = cert.extensions.find((e) => e.oid === WORKER_CERT_OIDS.gpus)?.value;
  const simulatedByte = single(ext('simulated'), 0x01, 1, 'simulated')[0];
  if (simulatedByte !== 0x00 && simulatedByte !== 0xff) throw bad('simulated is not a DER BOOLEAN');
  return {
    der: cert.der,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    signingKeySpki: cert.spki,
    measurement: single(ext('measurement'), 0x04, 48, 'measurement'),
    manifestDigest: toHex(single(ext('manifestDigest'), 0x04, 32, 'manifestDigest')),
    hpkeKeySha256: single(ext('hpkeKeySha256'), 0x04, 32, 'hpkeKeySha256'),
    simulated: simulatedByte === 0xff,
    configDigest: toHex(single(ext('configDigest'), 0x04, 32, 'configDigest')),
    gpus: gpuExt === undefined ? [] : parseGpuSummaries(octetStringContent(gpuExt)),
    tbs: cert.tbs,
    signature: cert.signature,
    issuer: cert.issuer,
    subject: cert.subject,
  };
}

/** Decodes a worker certificate and its Sealgate extensions (no signature check). Throws `malformed_certificate`. */
export async function parseWorkerCertificate(der: Uint8Array): Promise<WorkerCertificate> {
  const { tbs: _t, signature: _s, issuer: _i, subject: _u, ...claims } = await parse(der);
  return claims;
}

function rejected(message: string, detail?: Record<string, unknown>): SealgateError {
  return new SealgateError('attestation_rejected', `worker certificate: ${message}`, detail);
}

let names: { issuer: Uint8Array; subject: Uint8Array } | undefined;
function expectedNames() {
  names ??= {
    issuer: encodeCommonNameDer(WORKER_CERT_ISSUER),
    subject: encodeCommonNameDer(WORKER_CERT_SUBJECT),
  };
  return names;
}

/**
 * A worker certificate signed by `issuerKey` (the service's attested `signing` key, SPKI DER or an
 * ECDSA P-384 verify key), valid at `now` — notBefore ≤ now < notAfter, one second stricter than
 * RFC 5280 §4.1.2.5's inclusive notAfter, so "valid for N s" means N — and issued for
 * `manifestDigest` when given. Throws `malformed_certificate` for bytes that
 * do not decode, `attestation_rejected` for a certificate that does not verify.
 */
export async function verifyWorkerCertificate(input: {
  certificate: Uint8Array;
  issuerKey: Uint8Array | CryptoKey;
  now: Date;
  manifestDigest?: string;
}): Promise<WorkerCertificate> {
  const parsed = await parse(input.certificate);
  const expected = expectedNames();
  if (
    !constantTimeEqual(parsed.issuer, expected.issuer) ||
    !constantTimeEqual(parsed.subject, expected.subject)
  ) {
    throw rejected('issuer or subject is not Sealgate’s');
  }
  let key: CryptoKey;
  if (input.issuerKey instanceof Uint8Array) {
    try {
      key = await crypto.subtle.importKey('spki', input.issuerKey.slice(), P384, false, ['verify']);
    } catch (cause) {
      throw new SealgateError(
        'invalid_argument',
        'verifyWorkerCertificate: issuer key is not P-384 SPKI',
        undefined,
        {
          cause,
        },
      );
    }
  } else {
    key = input.issuerKey;
  }
  let signed = false;
  try {
    signed = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      ecdsaDerToP1363(parsed.signature, 48) as BufferSource,
      parsed.tbs as BufferSource,
    );
  } catch {
    signed = false;
  }
  if (!signed) throw rejected('not signed by the attestation service’s key');
  const t = input.now.getTime();
  if (!(t >= parsed.notBefore.getTime() && t < parsed.notAfter.getTime())) {
    throw rejected('not valid now', {
      notBefore: parsed.notBefore.toISOString(),
      notAfter: parsed.notAfter.toISOString(),
    });
  }
  if (input.manifestDigest !== undefined && parsed.manifestDigest !== input.manifestDigest) {
    throw rejected('issued under another manifest', {
      expected: input.manifestDigest,
      actual: parsed.manifestDigest,
    });
  }
  const { tbs: _t, signature: _s, issuer: _i, subject: _u, ...claims } = parsed;
  return claims;
}
