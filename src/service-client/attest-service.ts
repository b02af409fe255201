/**
 * Step 1 of the flow (docs/architecture.md "Flow"): the gateway attests the attestation service.
 * It sends a fresh 32-byte nonce to `POST /v1/attestation` and trusts the service only if the evidence bundle
 * passes `verifyEvidenceBundle` against the gateway's OWN manifest, digest, nonce and the role
 * `attestation-service` — chain to a root the manifest pins, report signature, every reference
 * value, REPORT_DATA recomputed from our nonce, our digest and the presented keys, and the
 * service's manifest digest equal to ours. Only then are its keys returned: `hpke` (to seal KEKs
 * to) and `signing` (which signs worker certificates).
 *
 * Runtime-neutral: `fetch` and `now` are injected; the nonce is drawn at call time.
 */
import { type EvidenceBundle, parseEvidenceBundle } from '../attestation/evidence-bundle.js';
import { NONCE_LENGTH } from '../attestation/report-data.js';
import { type BundleVerdict, verifyEvidenceBundle } from '../attestation/verify-evidence-bundle.js';
import { toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import type { SnpClaims } from '../evidence/snp/types.js';
import { gatewayAuthHeaders } from '../keys/attestation-request-auth.js';
import type { GatewayKey } from '../keys/gateway-key.js';
import { importPublicKey } from '../keys/hpke.js';
import type { Manifest } from '../policy/manifest-types.js';
import type { ChainCache } from '../verify/chain-cache.js';
import type { KdsOptions } from '../verify/kds.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import type { Violation } from '../verify/violations.js';
import { callJson, DEFAULT_MAX_ANSWER_BYTES, type Fetcher } from './http.js';
import { kekContext } from './kek-binding.js';

export interface AttestServiceOptions {
  baseUrl: string;
  fetch: Fetcher;
  /** The verifier's own manifest and its digest. */
  manifest: Manifest;
  manifestDigest: string;
  now: Date;
  /** For evidence that arrives without its certificates (AMD KDS). */
  kds?: KdsOptions;
  /** For TDX evidence that arrives without its collateral (Intel PCS or a PCCS). */
  pcs?: PcsOptions;
  /** Verified AMD upper chains (src/verify/chain-cache.ts): keep one per isolate/process. */
  chainCache?: ChainCache;
  /** Signature checks (src/verify/signature-backend.ts); default WebCrypto, Node passes node:crypto. */
  signatures?: SignatureBackend;
  /** 32 bytes; default fresh from the CSPRNG. Give one only to bind the attestation to your own value. */
  nonce?: Uint8Array;
  /**
   * The gateway's identity key: signs the request (src/keys/attestation-request-auth.ts) so the
   * service counts it against the gateway's own budget, not the anonymous one.
   */
  gatewayKey?: GatewayKey;
  signal?: AbortSignal;
}

export interface AttestedService {
  baseUrl: string;
  verdict: BundleVerdict & { verdict: 'trusted' };
  /** X-Wing public key (1216 bytes): seal KEKs to it (purpose `kek-upload`). */
  hpkePublicKey: Uint8Array;
  /** ECDSA P-384 SPKI DER: the key worker certificates must be signed with. */
  signingKey: Uint8Array;
  /** SEV-SNP claims; null when the service runs on TDX. */
  claims: SnpClaims | null;
  /** Intel TDX claims; null when the service runs on SEV-SNP. */
  tdx: TdxClaims | null;
  /** The chain ends in a root the manifest marks `simulated`. */
  simulated: boolean;
  nonce: Uint8Array;
  manifestDigest: string;
  /** The evidence bundle that verified (kept for receipts, docs/protocol.md "Receipts"). */
  bundle: EvidenceBundle;
}

function rejected(
  message: string,
  violations: Violation[],
  extra: Record<string, unknown> = {},
  cause?: unknown,
) {
  return new SealgateError(
    'attestation_rejected',
    `attestation service: ${message}`,
    { violations, ...extra },
    { cause },
  );
}

export async function attestService(opts: AttestServiceOptions): Promise<AttestedService> {
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime())) {
    throw new SealgateError('invalid_argument', 'attestService: now must be a valid Date');
  }
  const nonce = opts.nonce ?? crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
    throw new SealgateError('invalid_argument', `attestService: nonce must be ${NONCE_LENGTH} bytes`);
  }
  const headers = gatewayAuthHeaders(
    opts.gatewayKey,
    kekContext(opts.manifestDigest),
    nonce,
    Math.floor(opts.now.getTime() / 1000),
  );
  const answer = await callJson(
    opts,
    'POST',
    '/v1/attestation',
    { nonce: toBase64Url(nonce) },
    DEFAULT_MAX_ANSWER_BYTES,
    headers,
  );
  let bundle: EvidenceBundle;
  try {
    bundle = parseEvidenceBundle(answer);
  } catch (e) {
    throw rejected(`malformed evidence bundle (${(e as Error).message})`, [], {}, e);
  }
  const verdict = await verifyEvidenceBundle({
    bundle,
    manifest: opts.manifest,
    manifestDigest: opts.manifestDigest,
    role: 'attestation-service',
    nonce,
    now: opts.now,
    ...(opts.kds ? { kds: opts.kds } : {}),
    ...(opts.pcs ? { pcs: opts.pcs } : {}),
    ...(opts.chainCache ? { chainCache: opts.chainCache } : {}),
    ...(opts.signatures ? { signatures: opts.signatures } : {}),
  });
  if (verdict.verdict !== 'trusted' || (!verdict.claims && !verdict.tdx) || !verdict.keys) {
    const codes = verdict.violations.map((v) => v.code).join(', ');
    throw rejected(`evidence rejected (${codes})`, verdict.violations);
  }
  const { hpke, signing } = verdict.keys;
  if (Object.keys(verdict.keys).sort().join(',') !== 'hpke,signing' || !hpke || !signing) {
    throw rejected('keys must be exactly hpke and signing', [], { keyNames: Object.keys(verdict.keys) });
  }
  let hpkePublicKey: Uint8Array;
  try {
    hpkePublicKey = importPublicKey(hpke);
    await crypto.subtle.importKey('spki', signing.slice(), { name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'verify',
    ]);
  } catch (e) {
    throw rejected('presented keys are not an X-Wing key and a P-384 SPKI', [], {}, e);
  }
  return {
    baseUrl: opts.baseUrl,
    verdict: verdict as BundleVerdict & { verdict: 'trusted' },
    hpkePublicKey,
    signingKey: signing.slice(),
    claims: verdict.claims,
    tdx: verdict.tdx,
    simulated: verdict.simulated,
    nonce: nonce.slice(),
    manifestDigest: opts.manifestDigest,
    bundle,
  };
}
