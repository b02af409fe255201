/**
 * Where OCSP responses for NVIDIA's chains come from: a responder reached over HTTP (RFC 6960
 * Appendix A.1: POST, `application/ocsp-request`, the DER request as body) behind a cache, like the
 * AMD KDS fetcher (../kds.ts). Network and storage are passed in, so this runs unchanged in workerd
 * (KV), Node and tests. Failures never throw: they are a message, which the policy turns into
 * `ocsp_unavailable` (require) or a recorded warning (best-effort).
 *
 * The responder: `url` when configured, else the certificate's AIA id-ad-ocsp URL (RFC 5280
 * §4.2.2.1; NVIDIA's CAs name http://ocsp.ndis.nvidia.com), else NVIDIA_OCSP_URL — the one nvtrust
 * defaults to. Plain HTTP is acceptable because the response is signed and, when live, carries our
 * nonce; the transport adds nothing the verifier relies on.
 *
 * The request: CertID under SHA-384 (as nvtrust asks NVIDIA's responder) and a fresh 32-byte
 * nonce (RFC 8954), which a live answer must echo. Caching: like kds.ts, storage not a trust store.
 * Only a response that verified with status good is stored (`rememberOcsp`), for at most
 * `ttlSeconds` and never beyond its nextUpdate; a cached response is re-verified on every use,
 * without a nonce (it answered an earlier request), so its freshness is its thisUpdate..nextUpdate
 * window — what RFC 5019 §6 allows for cached responses. Cache read/write errors count as misses.
 */

import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityInfoAccessSyntax } from '@peculiar/asn1-x509';
import { isBytes, toArrayBuffer, toHex } from '../../bytes.js';
import type { Certificate } from '../../der/certificate.js';
import { buildOcspRequest, type OcspCertId, ocspCertId } from '../../der/ocsp.js';
import { readCappedBody } from '../capped-body.js';
import type { CertificateCache, ResponseLike } from '../kds.js';

/** NVIDIA's OCSP responder (nvtrust `OCSP_SERVICE_URL`). */
export const NVIDIA_OCSP_URL = 'https://ocsp.ndis.nvidia.com';

export const OCSP_DEFAULT_TTL_SECONDS = 24 * 3600;
const OCSP_MIN_TTL_SECONDS = 60;
/** An OCSP response is a few hundred bytes to a few KB (with a responder certificate). */
const MAX_BODY_BYTES = 64 * 1024;

const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';

/** POSTs `body` (an OCSPRequest) to `url` with Content-Type application/ocsp-request. */
export type OcspPoster = (url: string, body: Uint8Array) => Promise<ResponseLike | Uint8Array>;

export interface OcspFetchOptions {
  post: OcspPoster;
  cache?: CertificateCache;
  /** The responder for every certificate; default: each certificate's AIA, then NVIDIA_OCSP_URL. */
  url?: string;
  /** Upper bound of a cache entry's lifetime; default one day. */
  ttlSeconds?: number;
}

export type OcspFetchResult =
  | { ok: true; der: Uint8Array; nonce: Uint8Array | null; source: 'cache' | 'network'; cacheKey: string }
  | { ok: false; error: string };

/** The cache key of a CertID (documented for the gateway's KV): `gpu-ocsp:` + hash OID, hashes, serial. */
export function ocspCacheKey(id: OcspCertId): string {
  return `gpu-ocsp:${id.hashOid}:${toHex(id.issuerNameHash)}:${toHex(id.issuerKeyHash)}:${id.serialNumber}`;
}

/** The first http(s) id-ad-ocsp URL of the certificate's AIA extension, or null. */
export function aiaOcspUrl(cert: Certificate): string | null {
  const ext = cert.extensions.find((e) => e.oid === OID_AIA);
  if (ext === undefined) return null;
  try {
    const aia = AsnConvert.parse(toArrayBuffer(ext.value), AuthorityInfoAccessSyntax);
    for (const d of aia) {
      const uri = d.accessLocation.uniformResourceIdentifier;
      if (d.accessMethod === OID_AD_OCSP && uri !== undefined && /^https?:\/\//i.test(uri)) return uri;
    }
  } catch {
    return null;
  }
  return null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readBody(res: ResponseLike | Uint8Array, url: string): Promise<Uint8Array | string> {
  if (isBytes(res)) return res.slice();
  if (!res || typeof res !== 'object' || typeof res.arrayBuffer !== 'function') {
    return `the OCSP poster returned neither bytes nor a response for ${url}`;
  }
  if (!res.ok) return `OCSP responder ${url} answered HTTP ${res.status}`;
  try {
    const capped = await readCappedBody(res, MAX_BODY_BYTES);
    return capped ?? `OCSP body from ${url} is over ${MAX_BODY_BYTES} bytes, too large`;
  } catch (e) {
    return `OCSP body from ${url} could not be read: ${message(e)}`;
  }
}

/** A response for `cert` (issued by `issuer`): from the cache when present, else asked live. Never throws. */
export async function fetchOcsp(
  options: OcspFetchOptions,
  cert: Certificate,
  issuer: Certificate,
): Promise<OcspFetchResult> {
  const id = await ocspCertId(cert, issuer, 'SHA-384');
  const cacheKey = ocspCacheKey(id);
  if (options.cache) {
    try {
      const hit = await options.cache.get(cacheKey);
      if (hit !== null && isBytes(hit) && hit.length > 0) {
        return { ok: true, der: hit.slice(), nonce: null, source: 'cache', cacheKey };
      }
    } catch {
      // A broken cache is a miss.
    }
  }
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const url = options.url ?? aiaOcspUrl(cert) ?? NVIDIA_OCSP_URL;
  let res: ResponseLike | Uint8Array;
  try {
    res = await options.post(url, buildOcspRequest(id, nonce));
  } catch (e) {
    return { ok: false, error: `OCSP request to ${url} failed: ${message(e)}` };
  }
  const body = await readBody(res, url);
  if (typeof body === 'string') return { ok: false, error: body };
  if (body.length === 0) return { ok: false, error: `OCSP responder ${url} answered an empty body` };
  if (body.length > MAX_BODY_BYTES)
    return { ok: false, error: `OCSP body from ${url} is ${body.length} bytes, too large` };
  return { ok: true, der: body, nonce, source: 'network', cacheKey };
}

/** Stores a verified good response until min(ttlSeconds, nextUpdate). Never throws. */
export async function rememberOcsp(
  options: OcspFetchOptions,
  cacheKey: string,
  der: Uint8Array,
  nextUpdate: Date,
  now: Date,
): Promise<boolean> {
  if (!options.cache) return false;
  const max = options.ttlSeconds ?? OCSP_DEFAULT_TTL_SECONDS;
  const ttl = Math.floor(Math.min(max, (nextUpdate.getTime() - now.getTime()) / 1000));
  if (!(ttl >= OCSP_MIN_TTL_SECONDS)) return false;
  try {
    await options.cache.put(cacheKey, der.slice(), ttl);
    return true;
  } catch {
    return false;
  }
}
