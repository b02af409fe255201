/**
 * Certificates as the chain verifier needs them: the exact bytes that were signed and the exact
 * bytes of each name, so that signatures and issuer/subject chaining are checked on DER, not on a
 * library's re-encoding.
 *
 * X.509 structure: RFC 5280 §4.1 — Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue BIT STRING }; TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature,
 * issuer, validity, subject, subjectPublicKeyInfo, … }. Outer DER walking uses the parser's strict
 * reader (src/evidence/snp/der.ts); names, validity dates and extensions
 * from src/evidence/snp/x509-fields.ts.
 *
 * AMD signs every certificate of the chain (ARK, ASK/ASVK, VCEK/VLEK) with RSASSA-PSS, SHA-384,
 * MGF1-SHA-384, salt 48 (pub. 57230 §2 "Certificates"; RFC 4055 §3.1 for the parameters). The
 * signature AlgorithmIdentifier is pinned to exactly those parameters, in the two DER spellings AMD
 * has used (trailerField written or omitted); anything else is not an AMD chain.
 */
import { constantTimeEqual, fromHex, sha256, toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv } from '../evidence/snp/der.js';
import {
  type AmdCertExtensions,
  decodeAmdExtensions,
  decodeCertificate,
  decodeCertificates,
  kindFromSubjectCns,
  type RawExtension,
} from '../evidence/snp/index.js';
import { readTbsFields, readVersion } from '../evidence/snp/x509-fields.js';

const TAG_SEQUENCE = 0x30;
const TAG_BIT_STRING = 0x03;

// Both byte strings are read from AMD's real certificates (amd-roots/*.pem, snp/*/vcek.der).
/** id-RSASSA-PSS { sha384 (NULL params), mgf1(sha384), saltLength 48, trailerField 1 } — as in the ARKs/ASKs. */
const PSS_SHA384_EXPLICIT_TRAILER = fromHex(
  '304606092a864886f70d01010a3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130a303020101',
);
/** The same with trailerField omitted (its DEFAULT, as DER requires) — as in VCEKs issued since late 2024. */
const PSS_SHA384_OMITTED_TRAILER = fromHex(
  '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
);

/** RSASSA-PSS parameters of WebCrypto matching the pinned AlgorithmIdentifier. */
export const AMD_PSS_PARAMS = { name: 'RSA-PSS', saltLength: 48 } as const;

export interface ParsedCertificate {
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
  /** True when both AlgorithmIdentifiers are AMD's RSASSA-PSS SHA-384 and agree (RFC 5280 §4.1.1.2). */
  signatureAlgorithmIsAmdPss: boolean;
  /** signatureValue without the unused-bits byte. */
  signature: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  /** SubjectPublicKeyInfo, whole DER. */
  spki: Uint8Array;
  subjectCn: string | null;
  /** Every CN of the subject, in order (AMD's certificates have exactly one). */
  subjectCns: readonly string[];
  /** Every extension as (OID, extnValue), in order: what the AMD extensions are decoded from. */
  extensions: readonly RawExtension[];
  /** The subject as RFC 4514-style text, for people. */
  subjectText: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA (RFC 5280 §4.2.1.9); false when absent. */
  isCa: boolean;
  /** keyUsage keyCertSign (RFC 5280 §4.2.1.3); true when keyUsage is absent. */
  mayCertSign: boolean;
  /** OIDs of critical extensions. */
  criticalExtensions: string[];
}

function bad(message: string, cause?: unknown): SealgateError {
  return new SealgateError('malformed_certificate', `certificate: ${message}`, undefined, { cause });
}

/** The TLVs of a SEQUENCE's content, each as [start of tag, end). */
function children(der: Uint8Array, start: number, end: number, name: string): [number, number, number][] {
  const out: [number, number, number][] = [];
  let pos = start;
  while (pos < end) {
    const t = readTlv(der, pos, name);
    if (t.end > end) throw bad(`${name}: element overruns its SEQUENCE`);
    out.push([t.tag, pos, t.end]);
    pos = t.end;
  }
  return out;
}

/**
 * Parses one DER certificate (throws `malformed_certificate` with an exact message). Pure decoding:
 * nothing here says the certificate is valid or trusted.
 */
export async function parseCertificate(input: Uint8Array): Promise<ParsedCertificate> {
  const der = decodeCertificate(input);
  const outer = readTlv(der, 0, 'certificate');
  if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) throw bad('not one DER SEQUENCE');
  const parts = children(der, outer.start, outer.end, 'certificate');
  if (parts.length !== 3) throw bad(`expected 3 elements in Certificate, got ${parts.length}`);
  const [tbsP, algP, sigP] = parts as [
    [number, number, number],
    [number, number, number],
    [number, number, number],
  ];
  if (tbsP[0] !== TAG_SEQUENCE || algP[0] !== TAG_SEQUENCE || sigP[0] !== TAG_BIT_STRING) {
    throw bad('Certificate is not { SEQUENCE, SEQUENCE, BIT STRING }');
  }
  const tbs = der.slice(tbsP[1], tbsP[2]);
  const signatureAlgorithm = der.slice(algP[1], algP[2]);
  const sigTlv = readTlv(der, sigP[1], 'signatureValue');
  if (sigTlv.end - sigTlv.start < 2 || der[sigTlv.start] !== 0) throw bad('signatureValue has unused bits');
  const signature = der.slice(sigTlv.start + 1, sigTlv.end);

  const tbsTlv = readTlv(der, tbsP[1], 'tbsCertificate');
  const fields = children(der, tbsTlv.start, tbsTlv.end, 'tbsCertificate');
  // [0] version is present in every v3 certificate (AMD's are v3); then serial, signature, issuer,
  // validity, subject, subjectPublicKeyInfo.
  const tlvs = fields.map((f) => readTlv(der, f[1], 'tbsCertificate'));
  const { version, offset } = readVersion(der, tlvs);
  const at = (i: number, what: string): Uint8Array => {
    const f = fields[offset + i];
    if (f === undefined || f[0] !== TAG_SEQUENCE) throw bad(`tbsCertificate.${what} missing`);
    return der.slice(f[1], f[2]);
  };
  const serial = tlvs[offset]!; // readVersion found it and checked that it is an INTEGER
  const innerAlg = at(1, 'signature');
  const issuer = at(2, 'issuer');
  const subject = at(4, 'subject');
  const spki = at(5, 'subjectPublicKeyInfo');
  const isPss = (a: Uint8Array): boolean =>
    constantTimeEqual(a, PSS_SHA384_EXPLICIT_TRAILER) || constantTimeEqual(a, PSS_SHA384_OMITTED_TRAILER);

  // Names, validity and extensions: the strict reader of x509-fields.ts (no general ASN.1 library).
  const tlvOf = (i: number, what: string) => {
    const t = tlvs[offset + i];
    if (t === undefined) throw bad(`tbsCertificate.${what} missing`);
    return t;
  };
  const tbsFields = readTbsFields(der, {
    version,
    issuer: tlvOf(2, 'issuer'),
    validity: tlvOf(3, 'validity'),
    subject: tlvOf(4, 'subject'),
    afterSpki: tlvs.slice(offset + 6),
  });
  const cns = tbsFields.subject.cns;
  return {
    der,
    sha256: toHex(await sha256(der)),
    tbs,
    version,
    serialNumber: toHex(der.subarray(serial.start, serial.end)),
    signatureAlgorithm,
    tbsSignatureAlgorithm: innerAlg,
    signatureAlgorithmIsAmdPss: isPss(signatureAlgorithm) && constantTimeEqual(innerAlg, signatureAlgorithm),
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
    mayCertSign: tbsFields.mayCertSign,
    criticalExtensions: tbsFields.extensions.filter((e) => e.critical).map((e) => e.oid),
  };
}

/**
 * The kind (VCEK/VLEK, from the subject CN) and AMD extensions of a parsed leaf — what
 * `certificateKind` and `parseAmdCertExtensions` say of the same DER, without parsing it again.
 */
export function amdLeafIdentity(cert: ParsedCertificate): {
  kind: 'vcek' | 'vlek';
  extensions: AmdCertExtensions;
} {
  const kind = kindFromSubjectCns(cert.subjectCns);
  return { kind, extensions: decodeAmdExtensions(cert.extensions, kind) };
}

/** The issuer's RSA-PSS SHA-384 verification key from its SubjectPublicKeyInfo; null when it is not one. */
export async function importIssuerKey(issuer: Pick<ParsedCertificate, 'spki'>): Promise<CryptoKey | null> {
  try {
    return await crypto.subtle.importKey(
      'spki',
      issuer.spki as BufferSource,
      { name: 'RSA-PSS', hash: 'SHA-384' },
      false,
      ['verify'],
    );
  } catch {
    return null;
  }
}

/** True when `key` made `child`'s signature with AMD's RSASSA-PSS parameters (see `isIssuedBy`). */
export async function isSignedBy(child: ParsedCertificate, key: CryptoKey | null): Promise<boolean> {
  if (!child.signatureAlgorithmIsAmdPss || key === null) return false;
  try {
    return await crypto.subtle.verify(
      AMD_PSS_PARAMS,
      key,
      child.signature as BufferSource,
      child.tbs as BufferSource,
    );
  } catch {
    return false;
  }
}

/**
 * True when `issuer`'s RSA key made `child`'s signature with AMD's RSASSA-PSS parameters. False
 * for a wrong key, a bad signature, a non-AMD algorithm, or an issuer key that is not RSA.
 */
export async function isIssuedBy(child: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  if (!child.signatureAlgorithmIsAmdPss) return false;
  return await isSignedBy(child, await importIssuerKey(issuer));
}

/**
 * The intermediate (ASK/ASVK) and root (ARK) from what an extended report or KDS delivers:
 * either [ASK, ARK] each as DER or PEM, or one `cert_chain` PEM holding both — AMD's `cert_chain`
 * order is ASK (or ASVK) first, ARK second (pub. 57230 §4.2). Throws `malformed_certificate`.
 */
export function splitCertChain(chain: readonly Uint8Array[]): { intermediate: Uint8Array; root: Uint8Array } {
  if (!Array.isArray(chain))
    throw new SealgateError('invalid_argument', 'certificate chain: expected an array');
  const all: Uint8Array[] = [];
  for (const item of chain) all.push(...decodeCertificates(item));
  if (all.length !== 2) throw bad(`chain: expected 2 certificates (ASK/ASVK, ARK), got ${all.length}`);
  return { intermediate: all[0]!, root: all[1]! };
}
