/**
 * Revocation of NVIDIA's chains by OCSP, under the role's policy (docs/manifest.md `gpu.ocsp`).
 * Which certificates (as nvtrust's `ocsp_certificate_chain_validation`): every certificate but the
 * root, except the device chain's leaf — the attestation-key certificate the GPU's firmware makes
 * at boot, which no responder knows. For each, a response is taken from the saved ones (offline,
 * matched by CertID), else from the fetcher (cache, then the responder), and judged by ocsp.ts.
 *
 * Policy, and why `require` is the default: a revoked GPU identity or RIM signer is exactly what a
 * verifier exists to refuse, and an attacker who can block the responder must not turn "revoked"
 * into "unchecked". So under `require` a certificate without a response is `ocsp_unavailable`.
 * `best-effort` trades that for availability: a missing response (none saved, responder
 * unreachable) is a warning recorded in the result and claims. Under both, a response that is
 * there but fails verification, is stale, says unknown, or says revoked (certificateHold
 * included: nvtrust's default tolerates holds and 14–90-day grace periods after revocation; we
 * do not) is a violation.
 */
import type { Certificate } from '../../der/certificate.js';
import { type OcspResponse, parseOcspResponse } from '../../der/ocsp.js';
import { isSealgateError } from '../../errors.js';
import { type Violation, violation } from '../violations.js';
import { checkOcspResponse, type OcspCheck, type OcspStatus, singleResponseFor } from './ocsp.js';
import { fetchOcsp, type OcspFetchOptions, rememberOcsp } from './ocsp-fetch.js';

export const OCSP_POLICIES = ['require', 'best-effort'] as const;
export type OcspPolicy = (typeof OCSP_POLICIES)[number];

/** The default when a role's `gpu` section has no `ocsp`: fail closed. */
export const DEFAULT_OCSP_POLICY: OcspPolicy = 'require';

export interface RevocationOptions {
  policy: OcspPolicy;
  /** OCSPResponses (DER) saved earlier, for offline checks; matched to certificates by CertID. */
  saved?: readonly Uint8Array[];
  /** Live responses (and a cache); absent: only `saved` is used. */
  fetch?: OcspFetchOptions;
}

export interface CertificateRevocation {
  /** Where the certificate sits, e.g. "chain[2]" or "rims.driver.chain[0]". */
  field: string;
  subject: string;
  serialNumber: string;
  /** "unchecked": no response was available (a best-effort warning). */
  status: OcspStatus | 'unchecked';
  source: 'saved' | 'cache' | 'network' | null;
}

export interface RevocationResult {
  violations: Violation[];
  /** Best-effort gaps, for people: which certificate went unchecked and why. */
  warnings: string[];
  certificates: CertificateRevocation[];
}

export interface ChainToCheck {
  /** Leaf first, root last; already verified by ecdsa-chain.ts. */
  certs: readonly Certificate[];
  field: string;
  /** The device chain: its leaf (index 0) has no OCSP record. */
  skipLeaf: boolean;
}

interface Saved {
  index: number;
  der: Uint8Array;
  response: OcspResponse;
}

/** Parses the saved responses once; one that does not decode is itself a violation. */
export function parseSaved(saved: readonly Uint8Array[], out: Violation[]): Saved[] {
  const list: Saved[] = [];
  for (const [index, der] of saved.entries()) {
    try {
      list.push({ index, der, response: parseOcspResponse(der) });
    } catch (e) {
      if (!isSealgateError(e)) throw e;
      out.push(
        violation('ocsp_invalid', `saved response ${index}: ${e.message}`, { field: `ocsp[${index}]` }),
      );
    }
  }
  return list;
}

async function fromSaved(
  saved: readonly Saved[],
  cert: Certificate,
  issuer: Certificate,
): Promise<Saved | null> {
  for (const s of saved) if ((await singleResponseFor(s.response, cert, issuer)) !== null) return s;
  return null;
}

type Outcome = { check: OcspCheck; source: CertificateRevocation['source'] } | { unavailable: string };

/** A live or cached response, verified; a cached one that no longer verifies is asked again. */
async function fromFetch(
  options: OcspFetchOptions,
  cert: Certificate,
  issuer: Certificate,
  at: Date,
  field: string,
): Promise<Outcome> {
  let useCache = options.cache !== undefined;
  for (;;) {
    const got = await fetchOcsp(useCache ? options : { ...options, cache: undefined }, cert, issuer);
    if (!got.ok) return { unavailable: got.error };
    const check = await checkOcspResponse({ response: got.der, cert, issuer, at, nonce: got.nonce, field });
    if (got.source === 'cache' && check.violations.length > 0) {
      useCache = false;
      continue;
    }
    if (got.source === 'network' && check.status === 'good' && check.nextUpdate !== null) {
      await rememberOcsp(options, got.cacheKey, got.der, check.nextUpdate, at);
    }
    return { check, source: got.source };
  }
}

async function one(
  cert: Certificate,
  issuer: Certificate,
  field: string,
  at: Date,
  options: RevocationOptions,
  saved: readonly Saved[],
): Promise<Outcome> {
  const s = await fromSaved(saved, cert, issuer);
  if (s !== null) {
    const check = await checkOcspResponse({ response: s.der, cert, issuer, at, nonce: null, field });
    return { check, source: 'saved' };
  }
  if (options.fetch) return fromFetch(options.fetch, cert, issuer, at, field);
  return { unavailable: 'no saved OCSP response answers it and live fetching is off' };
}

/** Every certificate of every chain through OCSP under `options.policy`. Never throws for bad input. */
export async function checkRevocation(
  chains: readonly ChainToCheck[],
  at: Date,
  options: RevocationOptions,
): Promise<RevocationResult> {
  const result: RevocationResult = { violations: [], warnings: [], certificates: [] };
  const saved = parseSaved(options.saved ?? [], result.violations);
  for (const chain of chains) {
    for (let i = chain.skipLeaf ? 1 : 0; i < chain.certs.length - 1; i++) {
      const cert = chain.certs[i]!;
      const field = `${chain.field}[${i}]`;
      const outcome = await one(cert, chain.certs[i + 1]!, field, at, options, saved);
      const entry = { field, subject: cert.subjectText, serialNumber: cert.serialNumber };
      if ('unavailable' in outcome) {
        const text = `revocation not checked for ${cert.subjectCn ?? cert.subjectText}: ${outcome.unavailable}`;
        if (options.policy === 'require')
          result.violations.push(violation('ocsp_unavailable', text, { field }));
        else result.warnings.push(text);
        result.certificates.push({ ...entry, status: 'unchecked', source: null });
        continue;
      }
      result.violations.push(...outcome.check.violations);
      result.certificates.push({
        ...entry,
        status: outcome.check.status ?? 'unchecked',
        source: outcome.source,
      });
    }
  }
  return result;
}
