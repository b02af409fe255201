/**
 * `GET /` — the verification page (docs/verifiability.md "The page at /"). Public (no API key):
 * verification information only, no prompt data, no secret. Each load attests the service afresh
 * with a gateway nonce (so it shares the caller's `/v1/attestation` rate limit), then shows:
 * the verdict (and the EAR status), the service's MEASUREMENT against the manifest, its reported
 * TCB against the manifest's minimum, the workers the service attested — only those whose
 * certificates verify under the service key the hardware evidence just bound — the key windows
 * and the last attestation from the key-rotation DO, and the manifest history.
 */
import { fromBase64Url, toHex } from '../../../bytes.js';
import { isSealgateError } from '../../../errors.js';
import type { SnpTcbMinimum } from '../../../policy/manifest-types.js';
import { callJson } from '../../../service-client/http.js';
import { verifyWorkerCertificate } from '../../../service-client/worker-certificate.js';
import { nowMs, nowSeconds } from '../../clock.js';
import type { RotationState } from '../../durable-objects/key-rotation.js';
import { observeManifest } from '../../durable-objects/manifest-log.js';
import { rotationStub } from '../../durable-objects/rotation-client.js';
import { log } from '../../log.js';
import {
  esc,
  type PageModel,
  type PageTcb,
  type PageWorker,
  renderVerificationPage,
} from '../../page/verification-html.js';
import { appraiseService, type ServiceAppraisal } from '../../verification/appraise-service.js';
import { issueGatewayNonce } from '../../verification/gateway-nonce.js';
import { rateLimited } from './attestation.js';
import type { RouteContext } from './context.js';

const iso = (seconds: number | null | undefined) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // Nothing on the page runs or loads: say so to the browser (no script, no frame, no fetch).
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

export async function getVerificationPage(rc: RouteContext): Promise<Response> {
  const limited = await rateLimited(rc);
  if (limited) {
    const retry = limited.headers.get('retry-after') ?? '60';
    return new Response(
      `<!doctype html><meta charset="utf-8"><title>Sealgate — verification</title><p>Too many verifications from this client; retry in ${esc(retry)} s.</p>`,
      { status: limited.status, headers: { ...HTML_HEADERS, 'retry-after': retry } },
    );
  }
  const model = await buildModel(rc);
  return new Response(renderVerificationPage(model), { status: 200, headers: HTML_HEADERS });
}

async function buildModel(rc: RouteContext): Promise<PageModel> {
  const { config } = rc;
  const manifest = config.manifest;
  const serviceRef = manifest.roles['attestation-service']?.snp;
  const nonce = (await issueGatewayNonce(config.secret, nowSeconds())).nonce;
  let result: ServiceAppraisal | null = null;
  try {
    result = await appraiseService({ config, kv: rc.env.SEALGATE_KV, nonce, fetch: rc.fetch });
  } catch (e) {
    log('warn', 'page_attestation_failed', {
      code: isSealgateError(e) ? e.code : 'internal',
      message: (e as Error).message,
    });
  }
  const claims = result?.verdict?.claims ?? null;
  const sub = result?.claims.submods['attestation-service'];
  const verdict: PageModel['verdict'] = !result
    ? 'no-verdict'
    : result.appraisal.trusted
      ? result.appraisal.simulated
        ? 'verified-simulated'
        : 'verified'
      : 'not-verified';
  const detail = {
    'no-verdict':
      'The attestation service did not answer with evidence: nothing is verified, and the gateway sends no prompt anywhere.',
    verified:
      'The attestation service proved with AMD SEV-SNP hardware evidence, just now, that it runs code the manifest allows.',
    'verified-simulated':
      'The evidence checks out against the manifest — but it comes from a SIMULATOR the development manifest trusts, not from hardware.',
    'not-verified':
      'The attestation service’s evidence does not hold against the manifest: the gateway does not trust it.',
  }[verdict];

  const measurement = result?.appraisal.measurement ?? null;
  const tcb: PageTcb[] = [];
  if (claims && serviceRef) {
    const minimum: SnpTcbMinimum | undefined = serviceRef.minimumTcb[claims.product];
    for (const c of ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const) {
      const reported = claims.reportedTcb[c];
      const min = minimum?.[c];
      if (reported === undefined && min === undefined) continue;
      tcb.push({
        component: c,
        reported: reported ?? null,
        minimum: min ?? null,
        ok: reported !== undefined && (min === undefined || reported >= min),
      });
    }
  }

  const workers = result?.verdict?.keys?.signing
    ? await attestedWorkers(rc, result.verdict.keys.signing)
    : null;
  let rotation: RotationState | null = null;
  try {
    rotation = await rotationStub(rc.env, config.manifestDigest).state();
  } catch (e) {
    log('warn', 'page_rotation_state_failed', { message: (e as Error).message });
  }
  let history: PageModel['history'] = [];
  if (rc.env.MANIFEST_LOG) {
    try {
      const h = await observeManifest(rc.env.MANIFEST_LOG, config.manifestDigest);
      history = h.entries.map((e) => ({
        seq: e.seq,
        manifestDigest: e.manifestDigest,
        firstServedAt: iso(e.firstServedAt)!,
      }));
    } catch (e) {
      log('warn', 'page_manifest_log_failed', { message: (e as Error).message });
    }
  }
  return {
    verdict,
    verdictDetail: detail,
    simulated: config.simulated || result?.appraisal.simulated === true,
    manifestName: manifest.name,
    manifestDigest: config.manifestDigest,
    earStatus: sub?.['ear.status'] ?? null,
    nonce: toHex(nonce),
    product: claims?.product ?? null,
    rootSha256: claims?.chain.rootSha256 ?? null,
    violations: sub?.['sealgate.violations'] ?? [],
    service: result
      ? {
          label: 'attestation service MEASUREMENT',
          actual: measurement,
          expected: serviceRef?.measurements ?? [],
          ok: measurement !== null && (serviceRef?.measurements ?? []).includes(measurement),
        }
      : null,
    tcb,
    workers,
    keys: (rotation?.keys ?? []).map((k) => ({
      kid: k.kid,
      notBefore: iso(k.notBefore)!,
      notAfter: iso(k.notAfter)!,
      confirmed: k.confirmed,
    })),
    lastServiceAttestation: iso(rotation?.lastAttestation?.verifiedAt),
    nextRotation: typeof rotation?.alarm === 'number' ? new Date(rotation.alarm).toISOString() : null,
    history,
    generatedAt: new Date(nowMs()).toISOString(),
  };
}

/** The service's worker list, keeping only certificates that verify under the attested service key. */
async function attestedWorkers(
  rc: RouteContext,
  serviceSigningKey: Uint8Array,
): Promise<PageWorker[] | null> {
  const allowed = rc.config.manifest.roles.worker?.snp.measurements ?? [];
  let listed: Record<string, unknown>;
  try {
    listed = await callJson({ baseUrl: rc.config.serviceUrl, fetch: rc.fetch }, 'GET', '/v1/workers');
  } catch (e) {
    log('warn', 'page_workers_failed', { message: (e as Error).message });
    return null;
  }
  const data = Array.isArray(listed.data) ? (listed.data as { certificate?: unknown }[]) : [];
  const key = await crypto.subtle.importKey(
    'spki',
    serviceSigningKey.slice(),
    { name: 'ECDSA', namedCurve: 'P-384' },
    false,
    ['verify'],
  );
  const out: PageWorker[] = [];
  for (const entry of data.slice(0, 64)) {
    if (typeof entry?.certificate !== 'string') continue;
    try {
      const cert = await verifyWorkerCertificate({
        certificate: fromBase64Url(entry.certificate),
        issuerKey: key,
        now: new Date(nowMs()),
        manifestDigest: rc.config.manifestDigest,
      });
      const measurement = toHex(cert.measurement);
      out.push({
        serialNumber: cert.serialNumber,
        measurement,
        allowed: allowed.includes(measurement),
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        simulated: cert.simulated,
      });
    } catch (e) {
      log('warn', 'page_worker_certificate_refused', { message: (e as Error).message });
    }
  }
  return out;
}
