/**
 * A simulated NVIDIA OCSP responder (RFC 6960): signs BasicOCSPResponses with ecdsa-with-SHA384
 * under the issuing CA's key or a delegated responder certificate (nvidia-chain.ts), so tests get
 * good, revoked, unknown, expired, wrong-signer and garbage answers from real signatures, and the
 * fetcher (src/verify/nvidia/ocsp-fetch.ts) a responder to POST to. Nothing here is NVIDIA's:
 * the chains it answers for are the simulator's.
 */
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension, Name } from '@peculiar/asn1-x509';
import { toArrayBuffer } from '../../bytes.js';
import { parseX509Certificate } from '../../der/certificate.js';
import { ecdsaP1363ToDer } from '../../der/ecdsa-signature.js';
import {
  type CertIdHash,
  hashNameOf,
  type OcspCertId,
  ocspCertId,
  subjectPublicKeyBits,
} from '../../der/ocsp.js';
import { ECDSA_SHA384, type SimulatedCertificate } from './nvidia-chain.js';

const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';

export type SimulatedStatus =
  | { kind: 'good' }
  | { kind: 'revoked'; at: Date; reason?: number }
  | { kind: 'unknown' };

export interface OcspAnswer {
  /** The certificate answered for, and its issuer. */
  cert: Uint8Array;
  issuer: SimulatedCertificate;
  status: SimulatedStatus;
  thisUpdate: Date;
  /** null: no nextUpdate. */
  nextUpdate: Date | null;
  /** The signer: the issuer itself (default) or a delegated responder, carried in `certs`. */
  signer?: SimulatedCertificate;
  nonce?: Uint8Array;
  /** CertID hash; default SHA-384 (nvtrust's). */
  hash?: CertIdHash;
  producedAt?: Date;
  /** Compute the CertID's issuerKeyHash from this certificate's key instead of the issuer's. */
  certIdKeyFrom?: Uint8Array;
  /** Write this issuerNameHash into the CertID instead of the right one. */
  certIdNameHash?: Uint8Array;
  /** Label the signature with this algorithm OID (it is still ECDSA with SHA-384). */
  signatureOid?: string;
  /** Name the signer by the SHA-1 of its key (§4.2.2.3 byKey) instead of by Name. */
  responderIdByKey?: boolean;
  /** More responseExtensions, after the nonce. */
  extensions?: readonly { oid: string; critical: boolean; value: Uint8Array }[];
}

function certIdAsn(id: OcspCertId): CertID {
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: id.hashOid }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: toArrayBuffer(hexBytes(id.serialNumber)),
  });
}

/** SHA-1 of the subjectPublicKey bits (RFC 6960 §4.2.2.3 KeyHash). */
async function keyHash(spki: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-1', subjectPublicKeyBits(spki) as BufferSource));
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

function statusAsn(s: SimulatedStatus): CertStatus {
  if (s.kind === 'good') return new CertStatus({ good: null });
  if (s.kind === 'unknown') return new CertStatus({ unknown: null });
  return new CertStatus({
    revoked: new RevokedInfo({
      revocationTime: s.at,
      revocationReason: s.reason === undefined ? undefined : new CRLReason(s.reason),
    }),
  });
}

/** A signed, successful OCSPResponse (DER) answering for `a.cert`. */
export async function signOcspResponse(a: OcspAnswer): Promise<Uint8Array> {
  const cert = await parseX509Certificate(a.cert);
  const issuer = await parseX509Certificate(a.issuer.der);
  const signer = a.signer ?? a.issuer;
  const signerCert = await parseX509Certificate(signer.der);
  const keyOf = a.certIdKeyFrom ? await parseX509Certificate(a.certIdKeyFrom) : issuer;
  const computed = await ocspCertId(cert, keyOf, a.hash ?? 'SHA-384');
  const id = a.certIdNameHash ? { ...computed, issuerNameHash: a.certIdNameHash } : computed;
  const data = new ResponseData({
    responderID: a.responderIdByKey
      ? new ResponderID({ byKey: new OctetString(await keyHash(signerCert.spki)) })
      : new ResponderID({ byName: AsnConvert.parse(toArrayBuffer(signerCert.subject), Name) }),
    producedAt: a.producedAt ?? a.thisUpdate,
    responses: [
      new SingleResponse({
        certID: certIdAsn(id),
        certStatus: statusAsn(a.status),
        thisUpdate: a.thisUpdate,
        nextUpdate: a.nextUpdate ?? undefined,
      }),
    ],
  });
  const extensions = (a.extensions ?? []).map(
    (e) => new Extension({ extnID: e.oid, critical: e.critical, extnValue: new OctetString(e.value) }),
  );
  if (a.nonce !== undefined) {
    extensions.unshift(
      new Extension({
        extnID: id_pkix_ocsp_nonce,
        extnValue: new OctetString(AsnConvert.serialize(new OctetString(a.nonce))),
      }),
    );
  }
  if (extensions.length > 0) data.responseExtensions = extensions;
  const tbs = AsnConvert.serialize(data);
  const p1363 = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA384, signer.keys.privateKey, tbs));
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: a.signatureOid ?? OID_ECDSA_WITH_SHA384 }),
    signature: toArrayBuffer(ecdsaP1363ToDer(p1363)),
    certs: a.signer ? [AsnConvert.parse(toArrayBuffer(a.signer.der), Certificate)] : undefined,
  });
  return wrap(new Uint8Array(AsnConvert.serialize(basic)));
}

function wrap(basic: Uint8Array): Uint8Array {
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basic) }),
  });
  return new Uint8Array(AsnConvert.serialize(response));
}

/** An unsigned error answer (§4.2.1), e.g. tryLater (3). */
export function errorOcspResponse(status: OCSPResponseStatus): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
}

/** The nonce and CertID serial of an OCSPRequest (DER), as a responder reads them. */
export function readOcspRequest(der: Uint8Array): {
  serialNumber: string;
  hashOid: string;
  nonce: Uint8Array | null;
} {
  const req = AsnConvert.parse(toArrayBuffer(der), OCSPRequest);
  const one = req.tbsRequest.requestList[0];
  if (one === undefined) throw new RangeError('OCSP request lists no certificate');
  const ext = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  const nonce = ext ? new Uint8Array(AsnConvert.parse(ext.extnValue.buffer, OctetString).buffer) : null;
  const serial = new Uint8Array(one.reqCert.serialNumber);
  return {
    serialNumber: Array.from(serial, (b) => b.toString(16).padStart(2, '0')).join(''),
    hashOid: one.reqCert.hashAlgorithm.algorithm,
    nonce,
  };
}

export interface SimulatedResponder {
  /** An OcspPoster: answers a DER OCSPRequest as the responder would, echoing its nonce. */
  post(url: string, body: Uint8Array): Promise<Uint8Array>;
  /** Every request received (URL and parsed request), for tests. */
  requests: { url: string; serialNumber: string; nonce: Uint8Array | null }[];
}

/**
 * A responder for `certs` (each with its issuer), answering `statusOf(serial)` with a window of
 * `now() - 1 h .. now() + 1 day`, signed by the issuing CA, under the CertID hash asked for.
 */
export function simulatedResponder(
  known: readonly { cert: SimulatedCertificate; issuer: SimulatedCertificate }[],
  statusOf: (serialNumber: string) => SimulatedStatus,
  now: () => Date,
): SimulatedResponder {
  const requests: SimulatedResponder['requests'] = [];
  return {
    requests,
    async post(url, body) {
      const req = readOcspRequest(body);
      requests.push({ url, serialNumber: req.serialNumber, nonce: req.nonce });
      const hit = known.find((k) => k.cert.serial.toLowerCase() === req.serialNumber);
      if (hit === undefined) return errorOcspResponse(OCSPResponseStatus.unauthorized);
      const t = now().getTime();
      return signOcspResponse({
        cert: hit.cert.der,
        issuer: hit.issuer,
        status: statusOf(req.serialNumber),
        thisUpdate: new Date(t - 3600_000),
        nextUpdate: new Date(t + 86_400_000),
        nonce: req.nonce ?? undefined,
        hash: hashNameOf(req.hashOid),
      });
    },
  };
}
