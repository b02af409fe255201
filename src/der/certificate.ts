/**
 * X.509 certificates as verifiers need them: the exact bytes that were signed and the exact bytes
 * of each name, so that signatures and issuer/subject chaining are checked on DER, not on a
 * library's re-encoding.
 *
 * RFC 5280 §4.1 — Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue BIT STRING }; TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature,
 * issuer, validity, subject, subjectPublicKeyInfo, … }. DER walking is the strict reader (der.ts);
 * names, validity dates and extensions are x509-fields.ts. Which signature algorithms and keys a
 * chain may use is the verifier's policy, not this module's.
 */
import { sha256, toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv, TAG_SEQUENCE, type Tlv } from './der.js';
import { decodeCertificate } from './pem.js';
import { readTbsFields, readVersion } from './x509-fields.js';

const TAG_BIT_STRING = 0x03;

/** One extension as written: its OID (dotted) and extnValue's contents. */
export interface CertificateExtension {
  oid: string;
  value: Uint8Array;
}

export interface Certificate {
  der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string;
  /** tbsCertificate, tag and length included: the signed bytes. */
  tbs: Uint8Array;
  /** As encoded (RFC 5280 §4.1.2.1): 0 = v1 ([0] absent), 1 = v2, 2 = v3. */
  version: number;
  /** serialNumber's INTEGER contents (two's complement, as written), lower-case hex. */
  serialNumber: string;
  /** The outer signatureAlgorithm, whole DER. */
  signatureAlgorithm: Uint8Array;
  /** The TBSCertificate's own signature AlgorithmIdentifier, whole DER (RFC 5280 §4.1.2.3). */
  tbsSignatureAlgorithm: Uint8Array;
  /** signatureValue without the unused-bits byte. */
  signature: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  /** SubjectPublicKeyInfo, whole DER. */
  spki: Uint8Array;
  subjectCn: string | null;
  /** Every CN of the subject, in order. */
  subjectCns: readonly string[];
  /** Every extension as (OID, extnValue), in order. */
  extensions: readonly CertificateExtension[];
  /** The subject as RFC 4514-style text, for people. */
  subjectText: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA (RFC 5280 §4.2.1.9); false when absent. */
  isCa: boolean;
  /**
   * basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9): how many non-self-issued intermediate
   * certificates may follow this CA in a path; null when absent (no limit).
   */
  pathLen: number | null;
  /** keyUsage keyCertSign (RFC 5280 §4.2.1.3); true when keyUsage is absent. */
  mayCertSign: boolean;
  /** keyUsage cRLSign (RFC 5280 §4.2.1.3, §6.3.3 (f)); true when keyUsage is absent. */
  mayCrlSign: boolean;
  /** OIDs of critical extensions. */
  criticalExtensions: string[];
}

function bad(message: string, cause?: unknown): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`, undefined, { cause });
}

/** A TLV inside a SEQUENCE, with `at`, the offset of its tag. */
type Child = Tlv & { at: number };

/** The TLVs of a SEQUENCE's content, in order. */
function children(der: Uint8Array, start: number, end: number, name: string): Child[] {
  const out: Child[] = [];
  let pos = start;
  while (pos < end) {
    const t = readTlv(der, pos, name);
    if (t.end > end) throw bad(`${name}: element overruns its SEQUENCE`);
    out.push({ tag: t.tag, start: t.start, end: t.end, at: pos });
    pos = t.end;
  }
  return out;
}

/** TBSCertificate field `i` after the version (0 = serialNumber), or `missing`. */
function field(fields: readonly Child[], offset: number, i: number, what: string): Child {
  const f = fields[offset + i];
  if (f === undefined) throw bad(`tbsCertificate.${what} missing`);
  return f;
}

/** The whole DER (tag and length too) of TBSCertificate field `i`, which must be a SEQUENCE. */
function sequenceField(der: Uint8Array, fields: readonly Child[], offset: number, i: number, what: string) {
  const f = fields[offset + i];
  if (f === undefined || f.tag !== TAG_SEQUENCE) throw bad(`tbsCertificate.${what} missing`);
  return der.slice(f.at, f.end);
}

/** A SHA-256 implementation (FIPS 180-4): 32 bytes of `data`'s digest. */
export type Sha256 = (data: Uint8Array) => Promise<Uint8Array>;

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * (RFC 5280 §4.1.1): the three parts, the signature without its unused-bits byte (which must be 0).
 */
function readOuter(der: Uint8Array) {
  const outer = readTlv(der, 0, 'certificate');
  if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) throw bad('not one DER SEQUENCE');
  const parts = children(der, outer.start, outer.end, 'certificate');
  if (parts.length !== 3) throw bad(`expected 3 elements in Certificate, got ${parts.length}`);
  const [tbsP, algP, sigP] = parts as [Child, Child, Child];
  if (tbsP.tag !== TAG_SEQUENCE || algP.tag !== TAG_SEQUENCE || sigP.tag !== TAG_BIT_STRING) {
    throw bad('Certificate is not { SEQUENCE, SEQUENCE, BIT STRING }');
  }
  if (sigP.end - sigP.start < 2 || der[sigP.start] !== 0) throw bad('signatureValue has unused bits');
  return {
    tbs: der.slice(tbsP.at, tbsP.end),
    tbsP,
    signatureAlgorithm: der.slice(algP.at, algP.end),
    signature: der.slice(sigP.start + 1, sigP.end),
  };
}

/**
 * Parses one DER certificate (throws `malformed_certificate` with an exact message). Pure decoding:
 * nothing here says the certificate is valid or trusted. `hash` computes the fingerprint
 * (default WebCrypto; Node's verifiers pass node:crypto's, signature-backend.ts `digest`).
 */
export async function parseX509Certificate(input: Uint8Array, hash: Sha256 = sha256): Promise<Certificate> {
  const der = decodeCertificate(input);
  const { tbs, tbsP, signatureAlgorithm, signature } = readOuter(der);
  // [0] version (absent in v1), then serial, signature, issuer, validity, subject,
  // subjectPublicKeyInfo (RFC 5280 §4.1).
  const tlvs = children(der, tbsP.start, tbsP.end, 'tbsCertificate');
  const { version, offset } = readVersion(der, tlvs);
  const serial = tlvs[offset]!; // readVersion found it and checked that it is an INTEGER
  const innerAlg = sequenceField(der, tlvs, offset, 1, 'signature');
  const issuer = sequenceField(der, tlvs, offset, 2, 'issuer');
  const subject = sequenceField(der, tlvs, offset, 4, 'subject');
  const spki = sequenceField(der, tlvs, offset, 5, 'subjectPublicKeyInfo');
  // Names, validity and extensions: the strict reader of x509-fields.ts.
  const tbsFields = readTbsFields(der, {
    version,
    issuer: field(tlvs, offset, 2, 'issuer'),
    validity: field(tlvs, offset, 3, 'validity'),
    subject: field(tlvs, offset, 4, 'subject'),
    afterSpki: tlvs.slice(offset + 6),
  });
  const cns = tbsFields.subject.cns;
  return {
    der,
    sha256: toHex(await hash(der)),
    tbs,
    version,
    serialNumber: toHex(der.subarray(serial.start, serial.end)),
    signatureAlgorithm,
    tbsSignatureAlgorithm: innerAlg,
    signature,
    issuer,
    subject,
    spki,
    subjectCn: cns.length === 1 ? cns[0]! : null,
    subjectCns: cns,
    extensions: tbsFields.extensions.map((e) => ({ oid: e.oid, value: e.value })),
    subjectText: tbsFields.subject.text,
    notBefore: tbsFields.notBefore,
    notAfter: tbsFields.notAfter,
    isCa: tbsFields.isCa,
    pathLen: tbsFields.pathLen,
    mayCertSign: tbsFields.mayCertSign,
    mayCrlSign: tbsFields.mayCrlSign,
    criticalExtensions: tbsFields.extensions.filter((e) => e.critical).map((e) => e.oid),
  };
}
