/**
 * OCSP messages (RFC 6960) as a verifier needs them: the request it sends and the response it
 * judges. Structures are decoded and encoded with @peculiar/asn1-ocsp (the family of the
 * @peculiar/asn1-x509 already used for certificates: a well-kept ASN.1 schema instead of a
 * hand-written one); the bytes a signature covers — tbsResponseData — are cut from the response
 * with the strict DER reader (der.ts), never re-encoded, so the signature is checked on what the
 * responder signed. Nothing here says a response is valid or trusted: that is
 * src/verify/nvidia/ocsp.ts. Errors are `malformed_evidence` with an exact message.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT … OPTIONAL }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING,
 *                                    certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }   (§4.2.1)
 */
import {
  BasicOCSPResponse,
  CertID,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { fromHex, toArrayBuffer, toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { readTlv, TAG_SEQUENCE, type Tlv } from './der.js';

/** Hash algorithms a CertID may name (RFC 6960 §4.1.1 leaves it open; RFC 5019 §2.1.1 uses SHA-1). */
export const CERT_ID_HASHES = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
} as const;
export type CertIdHash = (typeof CERT_ID_HASHES)[keyof typeof CERT_ID_HASHES];

/** OID of a CertID hash name. */
export function certIdHashOid(hash: CertIdHash): string {
  return Object.entries(CERT_ID_HASHES).find(([, h]) => h === hash)![0];
}

/** CertID (§4.1.1): which certificate a request asks about or a single response answers. */
export interface OcspCertId {
  /** Dotted OID of hashAlgorithm. */
  hashOid: string;
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
  /** serialNumber's INTEGER contents as written, lower-case hex (as Certificate.serialNumber). */
  serialNumber: string;
}

export type OcspCertStatus =
  | { kind: 'good' }
  | { kind: 'revoked'; revocationTime: Date; reason: number | null }
  | { kind: 'unknown' };

export interface OcspSingleResponse {
  certId: OcspCertId;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate: Date | null;
}

export interface OcspResponse {
  /** responseStatus (§4.2.1); the fields below are present only when it is 0 (successful). */
  responseStatus: number;
  /** tbsResponseData exactly as received, tag and length included: the signed bytes. */
  tbs: Uint8Array;
  /** Dotted OID of signatureAlgorithm and its parameters' DER (null when absent). */
  signatureOid: string;
  signatureParameters: Uint8Array | null;
  /** signature BIT STRING contents (the DER Ecdsa-Sig-Value for ECDSA). */
  signature: Uint8Array;
  /** ResponderID (§4.2.2.3): the responder's Name (DER) or the SHA-1 of its key. */
  responderId: { byName: Uint8Array } | { byKey: Uint8Array };
  producedAt: Date;
  responses: readonly OcspSingleResponse[];
  /** The id-pkix-ocsp-nonce responseExtension's value (§4.4.1, RFC 8954), or null when absent. */
  nonce: Uint8Array | null;
  /** OIDs of critical responseExtensions other than the nonce (a verifier must refuse them). */
  unknownCriticalExtensions: readonly string[];
  /** certs [0]: certificates that help to verify the signature (§4.2.1), DER. */
  certs: readonly Uint8Array[];
}

function bad(message: string, cause?: unknown): SealgateError {
  return new SealgateError('malformed_evidence', `OCSP response: ${message}`, { field: 'ocsp' }, { cause });
}

function certIdOf(id: CertID): OcspCertId {
  return {
    hashOid: id.hashAlgorithm.algorithm,
    issuerNameHash: new Uint8Array(id.issuerNameHash.buffer),
    issuerKeyHash: new Uint8Array(id.issuerKeyHash.buffer),
    serialNumber: toHex(new Uint8Array(id.serialNumber)),
  };
}

function statusOf(
  s: BasicOCSPResponse['tbsResponseData']['responses'][number]['certStatus'],
): OcspCertStatus {
  if (s.revoked !== undefined) {
    const reason = s.revoked.revocationReason;
    return {
      kind: 'revoked',
      revocationTime: s.revoked.revocationTime,
      reason: reason === undefined ? null : Number(reason.reason),
    };
  }
  if (s.good !== undefined) return { kind: 'good' };
  if (s.unknown !== undefined) return { kind: 'unknown' };
  throw bad('certStatus is none of good, revoked, unknown');
}

/** Nesting deeper than this is not an OCSP response (a certificate in `certs` is about 10 deep). */
const MAX_DEPTH = 24;

/**
 * The whole value is strict DER (X.690 §10), which the library alone does not enforce (it reads
 * BER): every TLV minimal and definite (der.ts), nested TLVs exactly filling their parent, INTEGER
 * and ENUMERATED contents non-empty and minimal (§8.3.2), BOOLEAN one octet 00 or FF (§11.1).
 * OCTET STRING contents are not descended into; the BasicOCSPResponse is checked on its own.
 */
function checkStrictDer(bytes: Uint8Array, start: number, end: number, depth: number): void {
  if (depth > MAX_DEPTH) throw bad('nested too deeply');
  for (let pos = start; pos < end; ) {
    const t = readTlv(bytes, pos, 'OCSP');
    if (t.end > end) throw bad('an element overruns its parent');
    const n = t.end - t.start;
    if (t.tag === 0x02 || t.tag === 0x0a) {
      const b0 = bytes[t.start]!;
      const b1 = bytes[t.start + 1]!;
      if (n === 0 || (n > 1 && ((b0 === 0 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80)))) {
        throw bad('an INTEGER or ENUMERATED is not minimal');
      }
    } else if (t.tag === 0x01 && (n !== 1 || (bytes[t.start] !== 0 && bytes[t.start] !== 0xff))) {
      throw bad('a BOOLEAN is not DER');
    } else if (t.tag & 0x20) {
      checkStrictDer(bytes, t.start, t.end, depth + 1);
    }
    pos = t.end;
  }
}

/** What must be compared or verified byte for byte, cut from the BasicOCSPResponse as received. */
interface RawParts {
  /** tbsResponseData, tag and length included: the signed bytes. */
  tbs: Uint8Array;
  responderId: OcspResponse['responderId'];
  /** certs [0]: each certificate's DER as received. */
  certs: Uint8Array[];
}

/** The TLVs inside `parent`, each with the offset of its tag. */
function elements(bytes: Uint8Array, parent: Tlv, name: string): { at: number; tlv: Tlv }[] {
  const out: { at: number; tlv: Tlv }[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const tlv = readTlv(bytes, pos, name);
    if (tlv.end > parent.end) throw bad(`${name}: element overruns its parent`);
    out.push({ at: pos, tlv });
    pos = tlv.end;
  }
  return out;
}

/**
 * tbsResponseData, the ResponderID (`[1] EXPLICIT Name` | `[2] EXPLICIT KeyHash` after an optional
 * `[0]` version, §4.2.1) and `certs [0] EXPLICIT SEQUENCE OF Certificate`, as received: the library
 * decodes the rest, but signatures and name comparisons must see the responder's own bytes.
 */
function rawParts(basic: Uint8Array): RawParts {
  const outer = readTlv(basic, 0, 'BasicOCSPResponse');
  if (outer.tag !== TAG_SEQUENCE || outer.end !== basic.length)
    throw bad('BasicOCSPResponse is not one SEQUENCE');
  const parts = elements(basic, outer, 'BasicOCSPResponse');
  const tags = parts.map((p) => p.tlv.tag).join(',');
  // SEQUENCE tbsResponseData, SEQUENCE signatureAlgorithm, BIT STRING signature, [0] certs OPTIONAL.
  if (tags !== '48,48,3' && tags !== '48,48,3,160')
    throw bad('BasicOCSPResponse is not { SEQUENCE, SEQUENCE, BIT STRING, [0]? }');
  const tbs = parts[0]!;
  const fields = elements(basic, tbs.tlv, 'tbsResponseData');
  const rid = fields[0]?.tlv.tag === 0xa0 ? fields[1] : fields[0];
  if (rid === undefined || (rid.tlv.tag !== 0xa1 && rid.tlv.tag !== 0xa2))
    throw bad('ResponderID is neither byName [1] nor byKey [2]');
  const inner = elements(basic, rid.tlv, 'ResponderID');
  if (inner.length !== 1) throw bad('ResponderID does not hold exactly one value');
  const value = inner[0]!;
  const responderId =
    rid.tlv.tag === 0xa1
      ? { byName: basic.slice(value.at, value.tlv.end) }
      : { byKey: basic.slice(value.tlv.start, value.tlv.end) };
  const certs: Uint8Array[] = [];
  const certsPart = parts[3];
  if (certsPart !== undefined) {
    const seq = elements(basic, certsPart.tlv, 'certs');
    if (certsPart.tlv.tag !== 0xa0 || seq.length !== 1 || seq[0]!.tlv.tag !== TAG_SEQUENCE)
      throw bad('certs is not [0] EXPLICIT SEQUENCE OF Certificate');
    for (const c of elements(basic, seq[0]!.tlv, 'certs')) certs.push(basic.slice(c.at, c.tlv.end));
  }
  return { tbs: basic.slice(tbs.at, tbs.tlv.end), responderId, certs };
}

function parseBasic(basicDer: Uint8Array, responseStatus: number): OcspResponse {
  checkStrictDer(basicDer, 0, basicDer.length, 0);
  const raw = rawParts(basicDer);
  const basic = AsnConvert.parse(toArrayBuffer(basicDer), BasicOCSPResponse);
  const data = basic.tbsResponseData;
  if (data.version !== 0) throw bad(`ResponseData version ${data.version} is not v1`);
  let nonce: Uint8Array | null = null;
  const unknownCritical: string[] = [];
  for (const e of data.responseExtensions ?? []) {
    if (e.extnID === id_pkix_ocsp_nonce) nonce = nonceValue(new Uint8Array(e.extnValue.buffer));
    else if (e.critical) unknownCritical.push(e.extnID);
  }
  const params = basic.signatureAlgorithm.parameters;
  return {
    responseStatus,
    tbs: raw.tbs,
    signatureOid: basic.signatureAlgorithm.algorithm,
    signatureParameters: params === undefined || params === null ? null : new Uint8Array(params),
    signature: new Uint8Array(basic.signature),
    responderId: raw.responderId,
    producedAt: data.producedAt,
    responses: data.responses.map((r) => ({
      certId: certIdOf(r.certID),
      status: statusOf(r.certStatus),
      thisUpdate: r.thisUpdate,
      nextUpdate: r.nextUpdate ?? null,
    })),
    nonce,
    unknownCriticalExtensions: unknownCritical,
    certs: raw.certs,
  };
}

/**
 * The nonce extension's value is `Nonce ::= OCTET STRING` (RFC 8954 §2.1); some responders put the
 * raw nonce in extnValue without the inner OCTET STRING (RFC 2560's loose wording). Only the RFC
 * 8954 form is read; anything else is returned as written, so it cannot equal a nonce we sent.
 */
function nonceValue(extnValue: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(AsnConvert.parse(toArrayBuffer(extnValue), OctetString).buffer);
  } catch {
    return extnValue;
  }
}

/** Decodes an OCSPResponse (DER). A non-successful status parses too, with no body. */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  let response: OCSPResponse;
  try {
    const outer = readTlv(der, 0, 'OCSPResponse');
    if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) throw bad('not one DER SEQUENCE');
    checkStrictDer(der, 0, der.length, 0);
    response = AsnConvert.parse(toArrayBuffer(der), OCSPResponse);
  } catch (e) {
    if (e instanceof SealgateError && e.code === 'malformed_evidence') throw e;
    throw bad(`does not decode: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  const status = Number(response.responseStatus);
  if (status !== OCSPResponseStatus.successful) {
    return {
      responseStatus: status,
      tbs: new Uint8Array(0),
      signatureOid: '',
      signatureParameters: null,
      signature: new Uint8Array(0),
      responderId: { byKey: new Uint8Array(0) },
      producedAt: new Date(0),
      responses: [],
      nonce: null,
      unknownCriticalExtensions: [],
      certs: [],
    };
  }
  const bytes = response.responseBytes;
  if (bytes === undefined) throw bad('a successful response without responseBytes');
  if (bytes.responseType !== id_pkix_ocsp_basic)
    throw bad(`responseType ${bytes.responseType} is not id-pkix-ocsp-basic`);
  try {
    return parseBasic(new Uint8Array(bytes.response.buffer), status);
  } catch (e) {
    if (e instanceof SealgateError && e.code === 'malformed_evidence') throw e;
    throw bad(`BasicOCSPResponse does not decode: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/**
 * An OCSPRequest (§4.1.1) for one certificate, unsigned (requests need no signature, §4.1.2),
 * with the nonce as a requestExtension (§4.4.1; RFC 8954: 1..32 bytes) when given. Critical, as
 * nvtrust sends it to NVIDIA's responder: a responder that cannot honour it must refuse.
 */
export function buildOcspRequest(certId: OcspCertId, nonce: Uint8Array | null): Uint8Array {
  if (nonce !== null && (nonce.length < 1 || nonce.length > 32)) {
    throw new SealgateError('invalid_argument', 'OCSP nonce must be 1..32 bytes (RFC 8954 §2.1)');
  }
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: certIdHashOid(hashNameOf(certId.hashOid)) }),
    issuerNameHash: new OctetString(certId.issuerNameHash),
    issuerKeyHash: new OctetString(certId.issuerKeyHash),
    serialNumber: toArrayBuffer(fromHex(certId.serialNumber)),
  });
  const tbsRequest = new TBSRequest({ requestList: [new Request({ reqCert })] });
  if (nonce !== null) {
    tbsRequest.requestExtensions = [
      new Extension({
        extnID: id_pkix_ocsp_nonce,
        critical: true,
        extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
      }),
    ];
  }
  return new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest })));
}

/** The WebCrypto name of a CertID hash OID, or throws `invalid_argument`. */
export function hashNameOf(oid: string): CertIdHash {
  const name = CERT_ID_HASHES[oid as keyof typeof CERT_ID_HASHES];
  if (name === undefined) throw new SealgateError('invalid_argument', `CertID hash ${oid} is not supported`);
  return name;
}

/** The subjectPublicKey BIT STRING's key bits (without tag, length and unused-bits octet). */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = readTlv(spki, 0, 'subjectPublicKeyInfo');
  if (outer.tag !== TAG_SEQUENCE) throw bad('subjectPublicKeyInfo is not a SEQUENCE');
  const alg = readTlv(spki, outer.start, 'subjectPublicKeyInfo.algorithm');
  const key = readTlv(spki, alg.end, 'subjectPublicKeyInfo.subjectPublicKey');
  if (key.tag !== 0x03 || key.end !== outer.end || key.end - key.start < 1 || spki[key.start] !== 0) {
    throw bad('subjectPublicKey is not a BIT STRING with no unused bits');
  }
  return spki.slice(key.start + 1, key.end);
}

/**
 * The CertID of `cert` under its issuer (§4.1.1): issuerNameHash over the issuer's Name as DER
 * (the certificate's issuer field, which the chain check made equal to the issuer's subject),
 * issuerKeyHash over the issuer's subjectPublicKey bits (the value without tag, length and
 * unused-bits octet, as OpenSSL computes it).
 */
export async function ocspCertId(
  cert: { issuer: Uint8Array; serialNumber: string },
  issuer: { spki: Uint8Array },
  hash: CertIdHash,
): Promise<OcspCertId> {
  const digest = async (b: Uint8Array) => new Uint8Array(await crypto.subtle.digest(hash, b as BufferSource));
  return {
    hashOid: certIdHashOid(hash),
    issuerNameHash: await digest(cert.issuer),
    issuerKeyHash: await digest(subjectPublicKeyBits(issuer.spki)),
    serialNumber: cert.serialNumber,
  };
}
