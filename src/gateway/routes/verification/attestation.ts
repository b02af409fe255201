/**
 * Attesting the service for anyone (docs/verifiability.md, docs/gateway.md):
 *
 *   GET /v1/attestation?nonce=HEX   fresh evidence of the attestation service bound to the caller's
 *                                   32-byte nonce (64 hex characters), the manifest, and the
 *                                   gateway's verdict as a signed EAR. Without `nonce` the gateway
 *                                   draws one itself (a gateway nonce, verification/gateway-nonce.ts).
 *   GET /v1/attestation/nonce       a gateway nonce: for clients that cannot draw good randomness;
 *                                   any edge instance accepts it back, statelessly, for one window.
 *   GET /.well-known/jwks.json      the public key that signs the EARs (RFC 7517).
 *
 * `/v1/attestation` is rate limited per client (durable-objects/attestation-rate-limit.ts): 429 `rate_limited` + Retry-After.
 */
import { NONCE_LENGTH } from '../../../attestation/report-data.js';
import { fromHex, toHex } from '../../../bytes.js';
import { isSealgateError } from '../../../errors.js';
import { errorResponse } from '../../../http/errors.js';
import { callJson } from '../../../service-client/http.js';
import { nowSeconds } from '../../clock.js';
import { takeAttestationToken } from '../../durable-objects/attestation-rate-limit.js';
import { observeManifest } from '../../durable-objects/manifest-log.js';
import { DEFAULT_ATTESTATIONS_PER_MINUTE } from '../../durable-objects/token-bucket.js';
import { log } from '../../log.js';
import { appraiseService } from '../../verification/appraise-service.js';
import { earSigner } from '../../verification/ear-signer.js';
import {
  checkGatewayNonce,
  issueGatewayNonce,
  looksLikeGatewayNonce,
  NONCE_WINDOW_SECONDS,
} from '../../verification/gateway-nonce.js';
import type { RouteContext } from './context.js';

const NO_STORE = { 'cache-control': 'no-store' };

export type NonceParse =
  | { ok: true; nonce: Uint8Array; source: 'caller' | 'gateway' }
  | { ok: false; response: Response };

/** The caller's nonce: exactly the 32 bytes REPORT_DATA binds, as 64 hex characters. */
export async function parseCallerNonce(value: string | undefined, secret: string): Promise<NonceParse> {
  if (value === undefined) {
    return { ok: true, nonce: (await issueGatewayNonce(secret, nowSeconds())).nonce, source: 'gateway' };
  }
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    return {
      ok: false,
      response: errorResponse(
        'invalid_request',
        `nonce must be ${NONCE_LENGTH} bytes as ${2 * NONCE_LENGTH} hex characters`,
        {
          param: 'nonce',
        },
      ),
    };
  }
  const nonce = fromHex(value.toLowerCase(), NONCE_LENGTH);
  if (!looksLikeGatewayNonce(nonce)) return { ok: true, nonce, source: 'caller' };
  const check = await checkGatewayNonce(secret, nonce, nowSeconds());
  if (!check.ok) {
    return {
      ok: false,
      response: errorResponse(
        'invalid_request',
        `gateway nonce ${check.reason}: fetch a new one or use your own`,
        {
          param: 'nonce',
        },
      ),
    };
  }
  return { ok: true, nonce, source: 'gateway' };
}

/** Takes one token of the caller's bucket; a Response (429 or 503) when the call must not go on. */
export async function rateLimited(rc: RouteContext): Promise<Response | null> {
  const ns = rc.env.ATTESTATION_RATE_LIMIT;
  if (!ns) {
    log('error', 'gateway_misconfigured', { reason: 'ATTESTATION_RATE_LIMIT binding missing' });
    return errorResponse('not_ready', 'attestation is not configured on this gateway');
  }
  const perMinute = Number(rc.env.ATTESTATION_RATE_PER_MINUTE ?? DEFAULT_ATTESTATIONS_PER_MINUTE);
  const capacity =
    Number.isSafeInteger(perMinute) && perMinute >= 1 ? perMinute : DEFAULT_ATTESTATIONS_PER_MINUTE;
  const take = await takeAttestationToken(ns, rc.request, capacity);
  if (take.ok) return null;
  return errorResponse('rate_limited', 'too many attestations from this client, retry later', {
    headers: { 'retry-after': String(take.retryAfterSeconds) },
  });
}

export async function getAttestation(rc: RouteContext): Promise<Response> {
  const params = new URL(rc.request.url).searchParams.getAll('nonce');
  // Two nonces: which one the evidence binds would be our choice, not the caller's. Refused.
  if (params.length > 1) {
    return errorResponse('invalid_request', 'give one nonce', { param: 'nonce' });
  }
  const parsed = await parseCallerNonce(params[0], rc.config.secret);
  if (!parsed.ok) return parsed.response;
  const limited = await rateLimited(rc);
  if (limited) return limited;
  let result: Awaited<ReturnType<typeof appraiseService>>;
  try {
    result = await appraiseService({
      config: rc.config,
      kv: rc.env.SEALGATE_KV,
      nonce: parsed.nonce,
      fetch: rc.fetch,
    });
  } catch (e) {
    log('error', 'public_attestation_failed', {
      code: isSealgateError(e) ? e.code : 'internal',
      message: (e as Error).message,
    });
    return errorResponse('no_attested_service', 'the attestation service did not answer with evidence', {
      headers: { 'retry-after': '5' },
    });
  }
  if (rc.env.MANIFEST_LOG) {
    const note = observeManifest(rc.env.MANIFEST_LOG, rc.config.manifestDigest).catch(() => undefined);
    rc.ctx?.waitUntil(note);
  }
  const sub = result.claims.submods['attestation-service'];
  return Response.json(
    {
      object: 'sealgate.attestation',
      nonce: toHex(result.nonce),
      nonceSource: parsed.source,
      manifestDigest: rc.config.manifestDigest,
      // The exact manifest text whose digest is manifestDigest (the service's own copy is in the evidence).
      manifest: rc.env.SEALGATE_MANIFEST,
      evidence: result.evidence,
      ear: result.ear,
      status: sub['ear.status'],
      simulated: sub['sealgate.simulated'],
      violations: sub['sealgate.violations'],
      // Which TEE the service's evidence is ("sev-snp" | "tdx"; null when it did not parse).
      tee: result.bundle?.platform ?? null,
      ...(sub['sealgate.tdx'] ? { tdx: sub['sealgate.tdx'] } : {}),
      // The service's worker certificates, passed through for the client to verify itself
      // (sealgate verify-endpoint): each names its configuration digest and its GPUs.
      workers: result.verdict?.verdict === 'trusted' ? await listedWorkerCertificates(rc) : null,
    },
    { headers: NO_STORE },
  );
}

const MAX_LISTED_WORKERS = 64;

/** The certificates of `GET /v1/workers` on the service, or null when it does not answer. */
async function listedWorkerCertificates(rc: RouteContext): Promise<string[] | null> {
  try {
    const listed = await callJson({ baseUrl: rc.config.serviceUrl, fetch: rc.fetch }, 'GET', '/v1/workers');
    const data = Array.isArray(listed.data) ? listed.data : [];
    return data
      .map((w: unknown) => (w as { certificate?: unknown } | null)?.certificate)
      .filter((c): c is string => typeof c === 'string')
      .slice(0, MAX_LISTED_WORKERS);
  } catch (e) {
    log('warn', 'attestation_workers_failed', { message: (e as Error).message });
    return null;
  }
}

export async function getGatewayNonce(rc: RouteContext): Promise<Response> {
  const issued = await issueGatewayNonce(rc.config.secret, nowSeconds());
  return Response.json(
    { nonce: toHex(issued.nonce), expiresAt: issued.expiresAt, windowSeconds: NONCE_WINDOW_SECONDS },
    { headers: NO_STORE },
  );
}

export async function getJwks(rc: RouteContext): Promise<Response> {
  const signer = await earSigner(rc.config.secret);
  return Response.json({ keys: [signer.publicJwk] }, { headers: { 'cache-control': 'public, max-age=300' } });
}
