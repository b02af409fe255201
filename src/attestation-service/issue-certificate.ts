/**
 * Issuing a worker certificate (format: src/service-client/worker-certificate.ts, docs/services.md).
 * Signed with the service's attested `signing` key, ECDSA P-384 with SHA-384 (RFC 5758 §3.2).
 * Validity: from `now` to now + min(24 h, the manifest's KEK lifetime) — a certificate is how a
 * worker keeps receiving keys, so it must not outlive the keys it was attested for.
 *
 * The TBSCertificate is built from @peculiar/asn1-x509's structures and serialized once, then
 * signed here: @peculiar/x509's generator re-parses extensions and truncates OID arcs beyond 2^53
 * (Sealgate's UUID arc is 128 bits), see src/der/write.ts.
 */
import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate,
  Extension,
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { encodeGpuSummaries, type GpuSummary } from '../attestation/gpu-summary.js';
import { fromHex, sha256, toArrayBuffer, toHex } from '../bytes.js';
import { ecdsaP1363ToDer } from '../der/ecdsa-signature.js';
import { octetString } from '../der/write.js';
import { SealgateError } from '../errors.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { encodeCommonNameDer } from '../service-client/certificate-der.js';
import {
  encodeBoolean,
  encodeOctetString,
  MAX_WORKER_CERT_SECONDS,
  WORKER_CERT_ISSUER,
  WORKER_CERT_OIDS,
  WORKER_CERT_SUBJECT,
} from '../service-client/worker-certificate.js';

/** The worker's receipt-signing key (src/receipts/receipt.ts: ES256). */
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';

export interface WorkerCertificateInput {
  /** The service's signing key pair (ECDSA P-384). */
  issuer: CryptoKeyPair;
  /** The worker's attested `signing` key, SPKI DER. */
  workerSigningKey: Uint8Array;
  /** The worker's attested `hpke` key (raw X-Wing public key); the certificate carries its SHA-256. */
  workerHpkeKey: Uint8Array;
  measurement: Uint8Array;
  manifestDigest: string;
  /** SHA-256 (hex) of the worker's attested configuration document. */
  configDigest: string;
  /** The worker's verified GPUs; none: no `gpus` extension. */
  gpus?: readonly GpuSummary[];
  simulated: boolean;
  now: Date;
  /** The manifest's keyPolicy.lifetimeSeconds. */
  lifetimeSeconds: number;
  random?: RandomSource;
}

export interface IssuedCertificate {
  der: Uint8Array;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  hpkeKeySha256: Uint8Array;
}

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `issueWorkerCertificate: ${message}`);
};

function extension(oid: string, value: Uint8Array): Extension {
  return new Extension({ extnID: oid, critical: false, extnValue: new OctetString(toArrayBuffer(value)) });
}

/** A standard extension made by @peculiar/x509 (small OIDs: its round trip is exact). */
const standard = (e: x509.Extension): Extension => AsnConvert.parse(e.rawData, Extension);

export async function issueWorkerCertificate(input: WorkerCertificateInput): Promise<IssuedCertificate> {
  if (!Number.isSafeInteger(input.lifetimeSeconds) || input.lifetimeSeconds <= 0) {
    fail('lifetimeSeconds must be a positive integer');
  }
  if (!/^[0-9a-f]{64}$/.test(input.manifestDigest)) fail('manifest digest must be 64 lower-case hex');
  if (!/^[0-9a-f]{64}$/.test(input.configDigest)) fail('config digest must be 64 lower-case hex');
  if (!(input.measurement instanceof Uint8Array) || input.measurement.length !== 48)
    fail('measurement must be 48 bytes');
  let subjectKey: CryptoKey;
  try {
    subjectKey = await crypto.subtle.importKey('spki', toArrayBuffer(input.workerSigningKey), P256, true, [
      'verify',
    ]);
  } catch {
    return fail('worker signing key is not P-256 SPKI');
  }
  // Whole seconds: X.509 times have no fraction (RFC 5280 §4.1.2.5.1).
  const start = Math.floor(input.now.getTime() / 1000);
  const notBefore = new Date(start * 1000);
  const notAfter = new Date((start + Math.min(MAX_WORKER_CERT_SECONDS, input.lifetimeSeconds)) * 1000);
  // RFC 5280 §4.1.2.2: positive, at most 20 octets. 16 random bytes, top bit clear and first byte
  // non-zero, so the INTEGER is minimal as written.
  const serial = drawRandom(input.random ?? systemRandom, 16, 'a certificate serial');
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const hpkeKeySha256 = await sha256(input.workerHpkeKey);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', subjectKey));
  const signatureAlgorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA384 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: signatureAlgorithm,
    issuer: AsnConvert.parse(toArrayBuffer(encodeCommonNameDer(WORKER_CERT_ISSUER)), Name),
    validity: new Validity({ notBefore, notAfter }),
    subject: AsnConvert.parse(toArrayBuffer(encodeCommonNameDer(WORKER_CERT_SUBJECT)), Name),
    subjectPublicKeyInfo: AsnConvert.parse(toArrayBuffer(spki), SubjectPublicKeyInfo),
    extensions: new Extensions([
      standard(new x509.BasicConstraintsExtension(false, undefined, true)),
      standard(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)),
      standard(await x509.SubjectKeyIdentifierExtension.create(subjectKey, false, crypto)),
      standard(await x509.AuthorityKeyIdentifierExtension.create(input.issuer.publicKey, false, crypto)),
      extension(WORKER_CERT_OIDS.measurement, encodeOctetString(input.measurement)),
      extension(WORKER_CERT_OIDS.manifestDigest, encodeOctetString(fromHex(input.manifestDigest, 32))),
      extension(WORKER_CERT_OIDS.hpkeKeySha256, encodeOctetString(hpkeKeySha256)),
      extension(WORKER_CERT_OIDS.simulated, encodeBoolean(input.simulated)),
      extension(WORKER_CERT_OIDS.configDigest, encodeOctetString(fromHex(input.configDigest, 32))),
      ...(input.gpus && input.gpus.length > 0
        ? [extension(WORKER_CERT_OIDS.gpus, octetString(encodeGpuSummaries(input.gpus)))]
        : []),
    ]),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const p1363 = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, input.issuer.privateKey, tbsDer),
  );
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm,
    signatureValue: toArrayBuffer(ecdsaP1363ToDer(p1363)),
  });
  return {
    der: new Uint8Array(AsnConvert.serialize(cert)),
    serialNumber: toHex(serial),
    notBefore,
    notAfter,
    hpkeKeySha256,
  };
}
