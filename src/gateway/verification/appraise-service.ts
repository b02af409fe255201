/**
 * One fresh appraisal of the attestation service for a given nonce (docs/verifiability.md): ask the
 * service for evidence bound to that nonce (its `POST /v1/attestation`), verify the bundle against
 * the gateway's own manifest exactly as the key-rotation DO does (`verifyEvidenceBundle`), and sign
 * the outcome as an EAR. A bundle that does not verify — or does not even parse — still gives an
 * EAR, `contraindicated`: a bad verdict is reported, never hidden. Only an unreachable service
 * gives no verdict at all (the caller answers 503).
 *
 * No prompt data is involved: the only input is the nonce.
 */
import { type Appraisal, type EarClaims, earClaims } from '../../attestation/ear.js';
import { type EvidenceBundle, parseEvidenceBundle } from '../../attestation/evidence-bundle.js';
import { appraisalOf } from '../../attestation/service-appraisal.js';
import { type BundleVerdict, verifyEvidenceBundle } from '../../attestation/verify-evidence-bundle.js';
import { toBase64Url, toHex } from '../../bytes.js';
import { gatewayAuthHeaders } from '../../keys/attestation-request-auth.js';
import type { GatewayKey } from '../../keys/gateway-key.js';
import { callJson, type Fetcher } from '../../service-client/http.js';
import { kekContext } from '../../service-client/kek-binding.js';
import type { KvNamespace } from '../cf-types.js';
import { nowMs, nowSeconds } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import { gatewayIdentity } from '../gateway-identity.js';
import { kvCertificateCache, kvCollateralCache } from '../kv/kv-store.js';
import { earSigner } from './ear-signer.js';

/**
 * The signature that puts this call in the service's budget for the gateway's public calls
 * (keys/attestation-request-auth.ts, kind "public"; docs/protocol.md): anonymous, it would draw
 * from the anonymous budget of the gateway's egress address, which every other Worker shares.
 * Where the manifest pins no key this gateway derives (its rotation cannot run either), the call
 * goes anonymous.
 */
async function publicCallHeaders(config: GatewayConfig, nonce: Uint8Array): Promise<Record<string, string>> {
  let key: GatewayKey;
  try {
    key = await gatewayIdentity(config.secret, config.manifest);
  } catch {
    return {};
  }
  return gatewayAuthHeaders(key, kekContext(config.manifestDigest), nonce, nowSeconds(), 'public');
}

/** A bundle: a manifest ≤ 256 KiB and four certificates ≤ 16 KiB each, base64url (×4/3): < 1 MiB. */
const MAX_BUNDLE_BYTES = 1024 * 1024;

export interface ServiceAppraisal {
  nonce: Uint8Array;
  /** The evidence bundle exactly as the service sent it (JSON). */
  evidence: Record<string, unknown>;
  bundle: EvidenceBundle | null;
  verdict: BundleVerdict | null;
  appraisal: Appraisal;
  claims: EarClaims;
  ear: string;
}

export async function appraiseService(input: {
  config: GatewayConfig;
  kv: KvNamespace;
  nonce: Uint8Array;
  fetch: Fetcher;
}): Promise<ServiceAppraisal> {
  const { config, nonce } = input;
  // Throws fetch_failed when the service cannot be reached or refuses: no evidence, no verdict.
  const evidence = await callJson(
    { baseUrl: config.serviceUrl, fetch: input.fetch },
    'POST',
    '/v1/attestation',
    { nonce: toBase64Url(nonce) },
    MAX_BUNDLE_BYTES,
    await publicCallHeaders(config, nonce),
  );
  let bundle: EvidenceBundle | null = null;
  let verdict: BundleVerdict | null = null;
  let appraisal: Appraisal;
  try {
    bundle = parseEvidenceBundle(evidence);
  } catch {
    bundle = null;
  }
  if (bundle) {
    verdict = await verifyEvidenceBundle({
      bundle,
      manifest: config.manifest,
      manifestDigest: config.manifestDigest,
      role: 'attestation-service',
      nonce,
      now: new Date(nowMs()),
      kds: { fetch: (url) => input.fetch(url), cache: kvCertificateCache(input.kv), revocation: true },
      pcs: {
        fetch: (url) => input.fetch(url),
        baseUrl: config.pcsBaseUrl,
        ...(config.pcsRootCaCrlUrl ? { rootCaCrlUrl: config.pcsRootCaCrlUrl } : {}),
        cache: kvCollateralCache(input.kv),
      },
    });
    appraisal = await appraisalOf(verdict, config.manifest);
  } else {
    appraisal = {
      trusted: false,
      simulated: false,
      violations: [{ code: 'report_malformed' }],
      measurement: null,
    };
  }
  const claims = earClaims({
    appraisal,
    nonceHex: toHex(nonce),
    manifestDigest: config.manifestDigest,
    iat: nowSeconds(),
  });
  const signer = await earSigner(config.secret);
  return { nonce, evidence, bundle, verdict, appraisal, claims, ear: await signer.sign(claims) };
}
