/**
 * The verification page's view model (page/verification-html.ts renders it): a fresh appraisal of
 * the attestation service for a gateway nonce, the service's MEASUREMENT and reported TCB against
 * the manifest, the workers it attested — only those whose certificates verify under the service
 * key the hardware evidence just bound — the key windows and last attestation from the key-rotation
 * DO, and the manifest history. A part that cannot be had (service down, DO error) is shown as
 * missing; it never turns into a better verdict.
 */
import { fromBase64Url, toHex } from '../../bytes.js';
import { isSealgateError } from '../../errors.js';
import { TDX_DEFAULTS } from '../../policy/evaluate-tdx.js';
import type { SnpReferenceValues, SnpTcbMinimum } from '../../policy/manifest-types.js';
import { callJson } from '../../service-client/http.js';
import { verifyWorkerCertificate } from '../../service-client/worker-certificate.js';
import { nowMs, nowSeconds } from '../clock.js';
import type { RotationState } from '../durable-objects/key-rotation.js';
import { observeManifest } from '../durable-objects/manifest-log.js';
import { rotationStub } from '../durable-objects/rotation-client.js';
import { log } from '../log.js';
import type { RouteContext } from '../routes/verification/context.js';
import { appraiseService, type ServiceAppraisal } from '../verification/appraise-service.js';
import { issueGatewayNonce } from '../verification/gateway-nonce.js';
import type { PageKey, PageModel, PageTcb, PageVerdict, PageWorker } from './verification-html.js';

const iso = (seconds: number | null | undefined) =>
  typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : null;

const VERDICT_DETAIL: Record<PageVerdict, string> = {
  'no-verdict':
    'The attestation service did not answer with evidence: nothing is verified, and the gateway sends no prompt anywhere.',
  verified:
    'The attestation service proved with hardware evidence (AMD SEV-SNP or Intel TDX), just now, that it runs code the manifest allows.',
  'verified-simulated':
    'The evidence checks out against the manifest — but it comes from a SIMULATOR the development manifest trusts, not from hardware.',
  'not-verified':
    'The attestation service’s evidence does not hold against the manifest: the gateway does not trust it.',
};

/**
 * The TEE the service's evidence comes from; without evidence (the service did not answer), the one
 * the manifest's service role accepts, or null when it accepts both.
 */
function teeOf(platform: string | undefined, snp: boolean, tdx: boolean): PageModel['tee'] {
  if (platform === 'tdx' || (platform === undefined && tdx && !snp)) return 'Intel TDX';
  if (platform === 'sev-snp' || (platform === undefined && snp && !tdx)) return 'AMD SEV-SNP';
  return null;
}

export async function buildPageModel(rc: RouteContext): Promise<PageModel> {
  const { config } = rc;
  const serviceRef = config.manifest.roles['attestation-service']?.snp;
  const tdxRef = config.manifest.roles['attestation-service']?.tdx;
  const nonce = (await issueGatewayNonce(config.secret, nowSeconds())).nonce;
  const result = await appraise(rc, nonce);
  const claims = result?.verdict?.claims ?? null;
  const tdx = result?.verdict?.tdx ?? null;
  const expected = tdx ? (tdxRef?.mrTd ?? []) : (serviceRef?.measurements ?? []);
  const sub = result?.claims.submods['attestation-service'];
  const verdict = verdictOf(result);
  const measurement = result?.appraisal.measurement ?? null;
  const workers = result?.verdict?.keys?.signing
    ? await attestedWorkers(rc, result.verdict.keys.signing)
    : null;
  const rotation = await rotationState(rc);
  return {
    verdict,
    verdictDetail: VERDICT_DETAIL[verdict],
    simulated: config.simulated || result?.appraisal.simulated === true,
    tee: teeOf(result?.bundle?.platform, serviceRef !== undefined, tdxRef !== undefined),
    manifestName: config.manifest.name,
    manifestDigest: config.manifestDigest,
    earStatus: sub?.['ear.status'] ?? null,
    nonce: toHex(nonce),
    product: tdx ? 'Intel TDX' : (claims?.product ?? null),
    rootSha256: tdx ? tdx.rootSha256 : (claims?.chain.rootSha256 ?? null),
    violations: sub?.['sealgate.violations'] ?? [],
    service: result
      ? {
          label: `attestation service ${tdx || result.bundle?.platform === 'tdx' ? 'MRTD' : 'MEASUREMENT'}`,
          actual: measurement,
          expected,
          ok: measurement !== null && expected.includes(measurement),
        }
      : null,
    tcb: claims && serviceRef ? tcbAgainstMinimum(claims, serviceRef) : [],
    tdx: tdx
      ? {
          tcbStatus: tdx.tcb.status,
          allowedStatuses: [...(tdxRef?.tcbStatuses ?? TDX_DEFAULTS.tcbStatuses)],
          advisoryIds: [...tdx.tcb.advisoryIds],
          tdxModule: tdx.tcb.tdxModule?.id ?? null,
          rtmrs: tdx.body.rtmrs.map((r) => toHex(r)),
          fmspc: tdx.fmspc,
        }
      : null,
    workers,
    keys: pageKeys(rotation),
    lastServiceAttestation: iso(rotation?.lastAttestation?.verifiedAt),
    nextRotation: typeof rotation?.alarm === 'number' ? new Date(rotation.alarm).toISOString() : null,
    history: await manifestHistory(rc),
    generatedAt: new Date(nowMs()).toISOString(),
  };
}

/** The key-rotation object's keys, their windows as ISO times. */
function pageKeys(rotation: RotationState | null): PageKey[] {
  return (rotation?.keys ?? []).map((k) => ({
    kid: k.kid,
    notBefore: iso(k.notBefore)!,
    notAfter: iso(k.notAfter)!,
    confirmed: k.confirmed,
  }));
}

/** The service appraised for `nonce`, or null when it did not answer with evidence. */
async function appraise(rc: RouteContext, nonce: Uint8Array): Promise<ServiceAppraisal | null> {
  try {
    return await appraiseService({ config: rc.config, kv: rc.env.SEALGATE_KV, nonce, fetch: rc.fetch });
  } catch (e) {
    log('warn', 'page_attestation_failed', {
      code: isSealgateError(e) ? e.code : 'internal',
      message: (e as Error).message,
    });
    return null;
  }
}

function verdictOf(result: ServiceAppraisal | null): PageVerdict {
  if (!result) return 'no-verdict';
  if (!result.appraisal.trusted) return 'not-verified';
  return result.appraisal.simulated ? 'verified-simulated' : 'verified';
}

type VerifiedClaims = NonNullable<NonNullable<ServiceAppraisal['verdict']>['claims']>;

/** Each TCB component the evidence reports or the manifest bounds, against its minimum. */
function tcbAgainstMinimum(claims: VerifiedClaims, serviceRef: SnpReferenceValues): PageTcb[] {
  const tcb: PageTcb[] = [];
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
  return tcb;
}

/** What the key-rotation DO holds (no key material), or null when it cannot be asked. */
async function rotationState(rc: RouteContext): Promise<RotationState | null> {
  try {
    return await rotationStub(rc.env, rc.config.manifestDigest).state();
  } catch (e) {
    log('warn', 'page_rotation_state_failed', { message: (e as Error).message });
    return null;
  }
}

async function manifestHistory(rc: RouteContext): Promise<PageModel['history']> {
  if (!rc.env.MANIFEST_LOG) return [];
  try {
    const h = await observeManifest(rc.env.MANIFEST_LOG, rc.config.manifestDigest);
    return h.entries.map((e) => ({
      seq: e.seq,
      manifestDigest: e.manifestDigest,
      firstServedAt: iso(e.firstServedAt)!,
    }));
  } catch (e) {
    log('warn', 'page_manifest_log_failed', { message: (e as Error).message });
    return [];
  }
}

/** The service's worker list, keeping only certificates that verify under the attested service key. */
async function attestedWorkers(
  rc: RouteContext,
  serviceSigningKey: Uint8Array,
): Promise<PageWorker[] | null> {
  // A worker's measurement is its SEV-SNP MEASUREMENT or its TDX MRTD: either list of the role's.
  const worker = rc.config.manifest.roles.worker;
  const allowed = [...(worker?.snp?.measurements ?? []), ...(worker?.tdx?.mrTd ?? [])];
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
        configDigest: cert.configDigest,
        gpus: cert.gpus,
      });
    } catch (e) {
      log('warn', 'page_worker_certificate_refused', { message: (e as Error).message });
    }
  }
  return out;
}
