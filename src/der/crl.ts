/**
 * A strict reader of X.509 v2 CRLs (RFC 5280 §5.1), for any issuer: Intel's PCS CRLs (ECDSA P-256
 * SHA-256) today, AMD's KDS CRLs (RSASSA-PSS) later. Decoding only; the signature is checked by
 * `verifyCrlSignature` with a caller-supplied scheme, so that the algorithm stays pluggable.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
 *                                  signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER (v2 = 1) OPTIONAL, signature AlgorithmIdentifier,
 *     issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 *     revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 *       revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 *
 * Strict: DER as the certificate reader reads it (minimal lengths, nothing trailing, every element
 * inside its parent); version, when present, is v2 (§5.1.2.1), and extensions require v2;
 * nextUpdate is required here (§5.1.2.5: conforming issuers include it, and a CRL without one cannot
 * be judged current); the inner and outer signature algorithms are byte-equal (§5.1.1.2);
 * revokedCertificates, when present, is non-empty (§5.1.2.6); a critical CRL extension other than
 * those understood here (§5.2: CRL number, authority key identifier, issuing distribution point
 * as a whole-CRL scope) makes the CRL unusable (§5.2: "MUST NOT use the CRL"); a delta CRL or an
 * issuingDistributionPoint that narrows the scope is refused, critical or not. Every failure is
 * `SealgateError('malformed_certificate')` whose message starts with "CRL:".
 */
import { SealgateError } from '../errors.js';
import { readTlv, type Tlv } from './der.js';
import { childTlvs, decodeOid, readName, readTime } from './x509-fields.js';

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  sequence: 0x30,
  crlExtensions: 0xa0,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const;

/** Critical CRL extensions this reader understands (RFC 5280 §5.2.3, §5.2.1, §5.2.5). */
const UNDERSTOOD_CRITICAL = new Set(['2.5.29.20', '2.5.29.35', '2.5.29.28']);
/** issuingDistributionPoint (§5.2.5) and deltaCRLIndicator (§5.2.4): read whatever their criticality. */
const OID_IDP = '2.5.29.28';
const OID_DELTA_CRL = '2.5.29.27';

export interface ParsedCrl {
  der: Uint8Array;
  /** tbsCertList, tag and length included: the signed bytes. */
  tbs: Uint8Array;
  /** The outer signatureAlgorithm, whole DER (equal to the TBSCertList's). */
  signatureAlgorithm: Uint8Array;
  /** signatureValue without the unused-bits byte. */
  signature: Uint8Array;
  /** The issuer Name, whole DER: compared byte for byte with the issuing certificate's subject. */
  issuer: Uint8Array;
  issuerText: string;
  thisUpdate: Date;
  nextUpdate: Date;
  /** userCertificate serials, as INTEGER contents in lower-case hex (as `ParsedCertificate.serialNumber`). */
  revokedSerials: ReadonlySet<string>;
  /** OIDs of the crlExtensions, in order. */
  extensions: readonly string[];
}

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `CRL: ${message}`);
}

function tlv(der: Uint8Array, offset: number, name: string): Tlv {
  try {
    return readTlv(der, offset, name);
  } catch (e) {
    throw bad((e as Error).message);
  }
}

function children(der: Uint8Array, parent: Tlv, name: string): Tlv[] {
  try {
    return childTlvs(der, parent, name);
  } catch (e) {
    throw bad((e as Error).message.replace(/^certificate: /, ''));
  }
}

function expectTag(t: Tlv | undefined, tag: number, name: string): Tlv {
  if (t === undefined) throw bad(`${name} missing`);
  if (t.tag !== tag) throw bad(`${name}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** Times and names through the certificate reader, with its errors re-labelled for CRLs. */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw bad((e as Error).message.replace(/^certificate: /, ''));
  }
}

function isTime(t: Tlv | undefined): boolean {
  return t !== undefined && (t.tag === TAG.utcTime || t.tag === TAG.generalizedTime);
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A CertificateSerialNumber: a minimal, non-empty INTEGER (RFC 5280 §4.1.2.2, X.690 §8.3.2). */
function serialHex(der: Uint8Array, t: Tlv): string {
  expectTag(t, TAG.integer, 'userCertificate');
  const v = der.subarray(t.start, t.end);
  if (v.length === 0) throw bad('userCertificate: empty INTEGER');
  if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
    throw bad('userCertificate: non-minimal INTEGER');
  }
  return hex(v);
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function readExtensionList(
  der: Uint8Array,
  list: Tlv,
  name: string,
): { oid: string; critical: boolean; value: Tlv }[] {
  expectTag(list, TAG.sequence, name);
  const out: { oid: string; critical: boolean; value: Tlv }[] = [];
  const seen = new Set<string>();
  const items = children(der, list, name);
  if (items.length === 0) throw bad(`${name}: empty (SIZE (1..MAX))`);
  for (const ext of items) {
    expectTag(ext, TAG.sequence, `${name} entry`);
    const parts = children(der, ext, `${name} entry`);
    const id = expectTag(parts[0], 0x06, `${name} extnID`);
    const oid = guarded(() => decodeOid(der, id.start, id.end, `${name} extnID`));
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === TAG.boolean) {
      const b = parts[i]!;
      if (b.end - b.start !== 1 || der[b.start] !== 0xff)
        throw bad(`${oid}: critical must be TRUE or absent (DER)`);
      critical = true;
      i++;
    }
    const value = expectTag(parts[i], TAG.octetString, `${oid} extnValue`);
    if (parts.length !== i + 1) throw bad(`${oid}: trailing elements`);
    if (seen.has(oid)) throw bad(`${oid} appears twice`);
    seen.add(oid);
    out.push({ oid, critical, value });
  }
  return out;
}

function readRevoked(der: Uint8Array, list: Tlv, v2: boolean): Set<string> {
  const serials = new Set<string>();
  const entries = children(der, list, 'revokedCertificates');
  if (entries.length === 0) throw bad('revokedCertificates: present but empty (§5.1.2.6)');
  for (const entry of entries) {
    expectTag(entry, TAG.sequence, 'revokedCertificates entry');
    const [serial, date, exts, ...rest] = children(der, entry, 'revokedCertificates entry');
    if (serial === undefined || !isTime(date) || rest.length > 0) {
      throw bad('revokedCertificates entry is not { userCertificate, revocationDate, crlEntryExtensions? }');
    }
    guarded(() => readTime(der, date!, 'revocationDate'));
    if (exts !== undefined) {
      if (!v2) throw bad('crlEntryExtensions require version v2');
      for (const e of readExtensionList(der, exts, 'crlEntryExtensions')) {
        if (e.critical) throw bad(`critical CRL entry extension ${e.oid} is not understood`);
      }
    }
    serials.add(serialHex(der, serial));
  }
  return serials;
}

/** Parses one DER CRL (throws `malformed_certificate`). Nothing here says it is authentic or current. */
export function parseCrl(input: Uint8Array): ParsedCrl {
  if (!(input instanceof Uint8Array))
    throw new SealgateError('invalid_argument', 'CRL: expected a Uint8Array');
  const der = input.slice();
  const outer = expectTag(tlv(der, 0, 'CertificateList'), TAG.sequence, 'CertificateList');
  if (outer.end !== der.length) throw bad('trailing bytes after the CertificateList');
  const parts = children(der, outer, 'CertificateList');
  if (parts.length !== 3) throw bad(`expected 3 elements in CertificateList, got ${parts.length}`);
  const tbsT = expectTag(parts[0], TAG.sequence, 'tbsCertList');
  const algT = expectTag(parts[1], TAG.sequence, 'signatureAlgorithm');
  const sigT = expectTag(parts[2], TAG.bitString, 'signatureValue');
  if (sigT.end - sigT.start < 2 || der[sigT.start] !== 0) throw bad('signatureValue has unused bits');

  const fields = children(der, tbsT, 'tbsCertList');
  let i = 0;
  let v2 = false;
  if (fields[0]?.tag === TAG.integer) {
    const f = fields[0];
    if (f.end - f.start !== 1 || der[f.start] !== 1) throw bad('version must be v2 (1) when present');
    v2 = true;
    i = 1;
  }
  const innerAlg = expectTag(fields[i], TAG.sequence, 'tbsCertList.signature');
  const issuerT = expectTag(fields[i + 1], TAG.sequence, 'issuer');
  const thisT = fields[i + 2];
  const nextT = fields[i + 3];
  if (!isTime(thisT)) throw bad('thisUpdate missing');
  if (!isTime(nextT)) throw bad('nextUpdate missing (required here, RFC 5280 §5.1.2.5)');
  let j = i + 4;
  let revoked = new Set<string>();
  if (fields[j]?.tag === TAG.sequence) revoked = readRevoked(der, fields[j++]!, v2);
  const extensions: string[] = [];
  if (fields[j]?.tag === TAG.crlExtensions) {
    if (!v2) throw bad('crlExtensions require version v2');
    const wrapped = children(der, fields[j++]!, 'crlExtensions');
    if (wrapped.length !== 1) throw bad('crlExtensions: [0] must hold one SEQUENCE');
    for (const e of readExtensionList(der, wrapped[0]!, 'crlExtensions')) {
      if (e.critical && !UNDERSTOOD_CRITICAL.has(e.oid))
        throw bad(`critical CRL extension ${e.oid} is not understood`);
      checkCompleteScope(der, e);
      extensions.push(e.oid);
    }
  }
  if (j !== fields.length) throw bad('unexpected fields at the end of tbsCertList');

  const signatureAlgorithm = der.slice(algT.start - headerLength(algT), algT.end);
  const innerBytes = der.slice(innerAlg.start - headerLength(innerAlg), innerAlg.end);
  if (hex(innerBytes) !== hex(signatureAlgorithm)) {
    throw bad('signatureAlgorithm differs from tbsCertList.signature (§5.1.1.2)');
  }
  const name = guarded(() => readName(der, issuerT, 'issuer'));
  const thisUpdate = guarded(() => readTime(der, thisT!, 'thisUpdate'));
  const nextUpdate = guarded(() => readTime(der, nextT!, 'nextUpdate'));
  if (nextUpdate.getTime() < thisUpdate.getTime()) throw bad('nextUpdate is before thisUpdate');
  return {
    der,
    tbs: der.slice(tbsT.start - headerLength(tbsT), tbsT.end),
    signatureAlgorithm,
    signature: der.slice(sigT.start + 1, sigT.end),
    issuer: der.slice(issuerT.start - headerLength(issuerT), issuerT.end),
    issuerText: name.text,
    thisUpdate,
    nextUpdate,
    revokedSerials: revoked,
    extensions,
  };
}

/**
 * A CRL that covers only part of its issuer's certificates cannot show that a certificate outside
 * that part is unrevoked, and every caller here asks "is this CA or leaf listed?" of a complete
 * CRL. So, critical or not: a delta CRL (§5.2.4) is refused, and an issuingDistributionPoint
 * (§5.2.5) may carry at most its distributionPoint name — onlyContainsUserCerts [1],
 * onlyContainsCACerts [2], onlySomeReasons [3], indirectCRL [4] and onlyContainsAttributeCerts [5]
 * each narrow the scope (§6.3.3 (b)(2)) and are refused.
 */
function checkCompleteScope(der: Uint8Array, e: { oid: string; value: Tlv }): void {
  if (e.oid === OID_DELTA_CRL) throw bad('a delta CRL (deltaCRLIndicator) is not a complete CRL');
  if (e.oid !== OID_IDP) return;
  const idp = expectTag(
    tlv(der, e.value.start, 'issuingDistributionPoint'),
    TAG.sequence,
    'issuingDistributionPoint',
  );
  if (idp.end !== e.value.end) throw bad('issuingDistributionPoint: trailing bytes');
  const fields = children(der, idp, 'issuingDistributionPoint');
  if (fields.length > 1 || (fields.length === 1 && fields[0]!.tag !== 0xa0)) {
    throw bad('issuingDistributionPoint narrows the scope of the CRL (RFC 5280 §5.2.5): not a complete CRL');
  }
}

/**
 * Bytes of tag and length before a TLV's content. `readTlv` accepts only one-byte tags and minimal
 * lengths (X.690 §10.1), so the header is determined by the content length alone.
 */
function headerLength(t: Tlv): number {
  let len = t.end - t.start;
  if (len < 0x80) return 2;
  let n = 0;
  for (; len > 0; len = Math.floor(len / 256)) n++;
  return 2 + n;
}

/**
 * A signature scheme: says whether `signature` over `signed` verifies for the algorithm named by
 * `algorithm` (an AlgorithmIdentifier's whole DER). It must return false for any algorithm it does
 * not implement.
 */
export type SignatureScheme = (
  algorithm: Uint8Array,
  signature: Uint8Array,
  signed: Uint8Array,
) => Promise<boolean>;

/** True when the CRL's signature over its TBSCertList verifies under `scheme`. */
export async function verifyCrlSignature(crl: ParsedCrl, scheme: SignatureScheme): Promise<boolean> {
  try {
    return await scheme(crl.signatureAlgorithm, crl.signature, crl.tbs);
  } catch {
    return false;
  }
}

/** True when `at` lies in [thisUpdate, nextUpdate] (RFC 5280 §6.3.3 (a)(1)–(2)). */
export function crlIsCurrent(crl: ParsedCrl, at: Date): boolean {
  const t = at.getTime();
  return crl.thisUpdate.getTime() <= t && t <= crl.nextUpdate.getTime();
}
