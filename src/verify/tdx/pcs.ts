/**
 * Intel's Provisioning Certification Service (PCS API v4), or a PCCS cache in front of it: where a
 * verifier gets the collateral of a TD quote at run time, in the same shape as the KDS fetcher
 * (../kds.ts): network and storage passed in, failures returned as messages, never thrown.
 *
 *   TCB info      GET {base}/tdx/certification/v4/tcb?fmspc={FMSPC}        header TCB-Info-Issuer-Chain
 *   QE identity   GET {base}/tdx/certification/v4/qe/identity               header SGX-Enclave-Identity-Issuer-Chain
 *   PCK CRL       GET {base}/sgx/certification/v4/pckcrl?ca={platform|processor}&encoding=der
 *                                                                           header SGX-PCK-CRL-Issuer-Chain
 *   Root CA CRL   GET {rootCaCrlUrl} (default Intel's IntelSGXRootCA.der)
 * Issuer chains come URL-encoded (PEM) in the headers. FMSPC and the CA come from the quote's PCK
 * certificate (its SGX extensions and its issuer's CN).
 *
 * Caching: the assembled collateral (QuoteCollateralV3 JSON) is stored only after it verified with
 * the quote it was fetched for — every check on the collateral itself passed — and for at most
 * `ttlSeconds`, never past the earliest `nextUpdate` of TCB info, QE identity and both CRLs. What
 * comes out of the cache is verified again like bytes from the network.
 */
import { isBytes, toHex, utf8 } from '../../bytes.js';
import { parseCrl } from '../../der/crl.js';
import { isSealgateError } from '../../errors.js';
import { parseQuote } from '../../evidence/tdx/parse-quote.js';
import { decodePckExtensions, OID_SGX_EXTENSIONS } from '../../evidence/tdx/pck-extensions.js';
import { readCappedBody } from '../capped-body.js';
import { parseCollateralJson, splitSignedJson, type TdxCollateral } from './collateral.js';
import { CN, parsePemChain } from './intel-chain.js';
import { parseQeIdentity } from './qe-identity.js';
import { parseTcbInfo } from './tcb-info.js';
import { verifyTdxEvidence } from './verify-tdx.js';

export const PCS_BASE_URL = 'https://api.trustedservices.intel.com';
export const INTEL_ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';
export const PCS_DEFAULT_TTL_SECONDS = 24 * 3600;
export const PCS_MIN_TTL_SECONDS = 60;
const MAX_BODY_BYTES = 256 * 1024;

export interface PcsResponseLike {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  body?: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface CollateralCache {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
}

export interface PcsOptions {
  fetch: (url: string) => Promise<PcsResponseLike>;
  /** PCS or a PCCS (e.g. https://pccs.example/); default Intel's PCS. No trailing slash needed. */
  baseUrl?: string;
  rootCaCrlUrl?: string;
  cache?: CollateralCache;
  ttlSeconds?: number;
  /** SGX Root CAs the collateral must chain to before it is cached (verify-tdx.ts `roots`); default Intel's. */
  roots?: readonly string[];
}

/**
 * Why there is no collateral: `unavailable` — the PCS/PCCS did not answer usably (network, HTTP
 * status, unreadable or empty body, over the size cap); `malformed` — it answered, and what it
 * answered is not collateral (or the quote names no platform to ask for).
 */
export type CollateralResult =
  | { ok: true; collateral: TdxCollateral; fromCache: boolean; cached: boolean }
  | { ok: false; error: string; reason: 'unavailable' | 'malformed' };

/** A PCS answer that could not be had, as opposed to one that does not parse. */
class Unavailable {
  constructor(readonly error: string) {}
}

/** Fields of violations that concern the collateral itself, not the quote. */
const COLLATERAL_FIELDS = new Set([
  'tcbInfo',
  'qeIdentity',
  'tcbInfoIssuerChain',
  'qeIdentityIssuerChain',
  'pckCrlIssuerChain',
  'rootCaCrl',
  'pckCrl',
  'tcbInfo.fmspc',
]);

export function pcsCacheKey(base: string, fmspc: string, ca: string): string {
  return `tdx-pcs:${base}|${fmspc}|${ca}`;
}

/** FMSPC (upper-case hex, as PCS takes it) and CA (platform/processor) of a quote's PCK certificate. */
export async function pcsQueryOf(
  quoteBytes: Uint8Array,
): Promise<{ fmspc: string; ca: string } | { error: string }> {
  try {
    const quote = parseQuote(quoteBytes);
    const certs = await parsePemChain(quote.pckChainPem, 'pckChain', []);
    const leaf = certs?.[0];
    const ext = leaf?.extensions.find((e) => e.oid === OID_SGX_EXTENSIONS);
    if (!certs || certs.length < 2 || !ext) return { error: 'the quote carries no usable PCK certificate' };
    const ca = certs[1]!.subjectCn === CN.pckProcessorCa ? 'processor' : 'platform';
    return { fmspc: toHex(decodePckExtensions(ext.value).fmspc).toUpperCase(), ca };
  } catch (e) {
    if (!isSealgateError(e)) throw e;
    return { error: e.message };
  }
}

async function get(
  pcs: PcsOptions,
  url: string,
): Promise<{ bytes: Uint8Array; res: PcsResponseLike } | Unavailable> {
  let res: PcsResponseLike;
  try {
    res = await pcs.fetch(url);
  } catch (e) {
    return new Unavailable(`PCS fetch of ${url} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res || typeof res.arrayBuffer !== 'function')
    return new Unavailable(`PCS fetcher returned no response for ${url}`);
  if (!res.ok) return new Unavailable(`PCS fetch of ${url} answered HTTP ${res.status}`);
  let bytes: Uint8Array;
  try {
    const capped = await readCappedBody(res, MAX_BODY_BYTES);
    if (capped === null) return new Unavailable(`PCS body of ${url} is over ${MAX_BODY_BYTES} bytes`);
    bytes = capped;
  } catch (e) {
    return new Unavailable(
      `PCS body of ${url} could not be read: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (bytes.length === 0 || bytes.length > MAX_BODY_BYTES)
    return new Unavailable(`PCS body of ${url} is ${bytes.length} bytes`);
  return { bytes, res };
}

function header(res: PcsResponseLike, name: string, url: string): string {
  const v = res.headers.get(name);
  if (v === null) throw new Error(`PCS answer of ${url} has no ${name} header`);
  return decodeURIComponent(v);
}

/** The QuoteCollateralV3 JSON of a collateral (hex CRLs and signatures), as cached and as the CLI reads it. */
export function collateralJson(c: TdxCollateral): string {
  return JSON.stringify({
    tcb_info: c.tcbInfo,
    tcb_info_signature: toHex(c.tcbInfoSignature),
    tcb_info_issuer_chain: c.tcbInfoIssuerChain,
    qe_identity: c.qeIdentity,
    qe_identity_signature: toHex(c.qeIdentitySignature),
    qe_identity_issuer_chain: c.qeIdentityIssuerChain,
    root_ca_crl: c.rootCaCrl ? toHex(c.rootCaCrl) : null,
    pck_crl: c.pckCrl ? toHex(c.pckCrl) : null,
    pck_crl_issuer_chain: c.pckCrlIssuerChain,
  });
}

async function fetchAll(
  pcs: PcsOptions,
  base: string,
  fmspc: string,
  ca: string,
): Promise<TdxCollateral | Unavailable | string> {
  const urls = {
    tcb: `${base}/tdx/certification/v4/tcb?fmspc=${fmspc}`,
    qe: `${base}/tdx/certification/v4/qe/identity`,
    pckCrl: `${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`,
    rootCrl: pcs.rootCaCrlUrl ?? INTEL_ROOT_CA_CRL_URL,
  };
  const [tcb, qe, pckCrl, rootCrl] = await Promise.all(
    [urls.tcb, urls.qe, urls.pckCrl, urls.rootCrl].map((u) => get(pcs, u)),
  );
  for (const r of [tcb, qe, pckCrl, rootCrl]) if (r instanceof Unavailable) return r;
  const [t, q, p, r] = [tcb, qe, pckCrl, rootCrl] as { bytes: Uint8Array; res: PcsResponseLike }[];
  try {
    const tcbSplit = splitSignedJson(utf8.decode(t!.bytes), 'tcbInfo');
    const qeSplit = splitSignedJson(utf8.decode(q!.bytes), 'enclaveIdentity');
    return {
      tcbInfo: tcbSplit.body,
      tcbInfoSignature: tcbSplit.signature,
      tcbInfoIssuerChain: header(t!.res, 'TCB-Info-Issuer-Chain', urls.tcb),
      qeIdentity: qeSplit.body,
      qeIdentitySignature: qeSplit.signature,
      qeIdentityIssuerChain: header(q!.res, 'SGX-Enclave-Identity-Issuer-Chain', urls.qe),
      rootCaCrl: r!.bytes,
      pckCrl: p!.bytes,
      pckCrlIssuerChain: header(p!.res, 'SGX-PCK-CRL-Issuer-Chain', urls.pckCrl),
    };
  } catch (e) {
    return `PCS answers do not assemble into collateral: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Seconds until the earliest nextUpdate of the collateral (it verified, so every part parses). */
function secondsValid(c: TdxCollateral, now: Date): number {
  const ends = [
    parseTcbInfo(c.tcbInfo).nextUpdate,
    parseQeIdentity(c.qeIdentity).nextUpdate,
    parseCrl(c.rootCaCrl!).nextUpdate,
    parseCrl(c.pckCrl!).nextUpdate,
  ];
  return Math.floor((Math.min(...ends.map((d) => d.getTime())) - now.getTime()) / 1000);
}

/** The collateral of `quote`: from the cache when present, else fetched, verified, then cached. Never throws. */
export async function fetchCollateral(
  pcs: PcsOptions,
  quote: Uint8Array,
  now: Date,
): Promise<CollateralResult> {
  if (!isBytes(quote)) return { ok: false, error: 'quote: expected bytes', reason: 'malformed' };
  const query = await pcsQueryOf(quote);
  if ('error' in query) return { ok: false, error: query.error, reason: 'malformed' };
  const base = (pcs.baseUrl ?? PCS_BASE_URL).replace(/\/+$/, '');
  const key = pcsCacheKey(base, query.fmspc, query.ca);
  if (pcs.cache) {
    try {
      const hit = await pcs.cache.get(key);
      if (hit) return { ok: true, collateral: parseCollateralJson(hit), fromCache: true, cached: false };
    } catch {
      // A broken cache or a cached value that no longer parses is a miss.
    }
  }
  const collateral = await fetchAll(pcs, base, query.fmspc, query.ca);
  if (collateral instanceof Unavailable) return { ok: false, error: collateral.error, reason: 'unavailable' };
  if (typeof collateral === 'string') return { ok: false, error: collateral, reason: 'malformed' };
  let cached = false;
  if (pcs.cache) {
    const r = await verifyTdxEvidence({ quote, collateral, now, ...(pcs.roots ? { roots: pcs.roots } : {}) });
    const bad = r.violations.filter((v) => COLLATERAL_FIELDS.has(v.field ?? '') || v.code.startsWith('crl_'));
    const ttl = Math.min(
      pcs.ttlSeconds ?? PCS_DEFAULT_TTL_SECONDS,
      bad.length === 0 ? secondsValid(collateral, now) : 0,
    );
    if (bad.length === 0 && ttl >= PCS_MIN_TTL_SECONDS) {
      try {
        await pcs.cache.put(key, collateralJson(collateral), ttl);
        cached = true;
      } catch {
        // A cache that cannot store only costs a later fetch.
      }
    }
  }
  return { ok: true, collateral, fromCache: false, cached };
}
