/**
 * Shared by the attestation-service and service-client tests: a service app on the REAL simulator
 * with real keys, a movable clock, captured logs, and a worker that makes real evidence.
 */
import type { Hono } from 'hono';
import { encodeEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { gpuEvidenceDigest } from '../../src/attestation/gpu-binding.js';
import type { BundleGpu } from '../../src/attestation/gpu-bundle.js';
import { computeReportData } from '../../src/attestation/report-data.js';
import { encodeWorkerConfig, workerConfig, workerConfigDigest } from '../../src/attestation/worker-config.js';
import { createServiceApp } from '../../src/attestation-service/app.js';
import type { RegistrationLimits } from '../../src/attestation-service/register-admission.js';
import type { LogLevel } from '../../src/attestation-service/runtime.js';
import { generateServiceKeys, type ServiceKeys } from '../../src/attestation-service/service-keys.js';
import type { DevelopmentEnvironment } from '../../src/dev/environment.js';
import type { GatewayKey } from '../../src/keys/gateway-key.js';
import { generateKeyExchangeKeyPair, type KeyExchangeKeyPair } from '../../src/keys/hpke.js';
import type { SealedKek } from '../../src/keys/kek-transport.js';
import { type SignedKekUpload, signKekUpload } from '../../src/keys/kek-upload.js';
import { bundleEvidenceOf } from '../../src/platform/bundle-evidence.js';
import { gpuChainResponder } from '../../src/platform/simulator/gpu-ocsp-responder.js';
import type { AttestationPlatform } from '../../src/platform/types.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import type { OcspFetchOptions } from '../../src/verify/nvidia/ocsp-fetch.js';

/** RSA-4096 chain generation can take tens of seconds on a loaded machine (more in workerd). */
export const ENV_TIMEOUT_MS = 240_000;
/** A fixed start inside the dev chain's validity (it is issued at `now`). */
export const T0 = new Date('2026-03-01T12:00:00Z');
export const T0_SECONDS = Math.floor(T0.getTime() / 1000);

export interface LogEntry {
  level: LogLevel;
  event: string;
  detail: Record<string, unknown>;
}

export interface TestService {
  app: Hono;
  keys: ServiceKeys;
  logs: LogEntry[];
  clock: { now: Date };
  /** `fetch` that goes through `app.request` (no network). */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
}

/** `sealed` signed as the gateway does (src/keys/kek-upload.ts), by `key` (default: the dev gateway's). */
export function signUpload(
  env: DevelopmentEnvironment,
  svc: { keys: ServiceKeys },
  sealed: SealedKek,
  opts: { key?: GatewayKey; digest?: string; serviceHpkeKey?: Uint8Array } = {},
): SignedKekUpload {
  return signKekUpload(opts.key ?? env.gatewayKey, sealed, {
    manifestDigest: kekContext(opts.digest ?? env.manifestDigest),
    serviceHpkeKey: opts.serviceHpkeKey ?? svc.keys.hpke.publicKey,
  });
}

export async function makeService(
  env: DevelopmentEnvironment,
  overrides: {
    manifestBytes?: Uint8Array;
    manifestDigest?: string;
    platform?: AttestationPlatform;
    allowUnpinnedGateway?: boolean;
    /** Default with GPUs: the simulated chain's responder, in process, on the service's clock. */
    gpuOcsp?: OcspFetchOptions;
    registrationLimits?: RegistrationLimits;
  } = {},
): Promise<TestService> {
  const keys = await generateServiceKeys();
  const logs: LogEntry[] = [];
  const clock = { now: T0 };
  const manifestBytes = overrides.manifestBytes ?? env.manifestBytes;
  const responder = env.workerGpus ? await gpuChainResponder(env.gpuChain, () => clock.now) : null;
  const gpuOcsp = overrides.gpuOcsp ?? (responder ? { post: responder.post } : undefined);
  const app = createServiceApp({
    manifestBytes,
    manifest: parseManifest(manifestBytes),
    manifestDigest: overrides.manifestDigest ?? (await manifestDigest(manifestBytes)),
    platform: overrides.platform ?? env.servicePlatform,
    keys,
    now: () => clock.now,
    log: (level, event, detail = {}) => logs.push({ level, event, detail }),
    ...(overrides.allowUnpinnedGateway ? { allowUnpinnedGateway: true } : {}),
    ...(gpuOcsp ? { gpuOcsp } : {}),
    ...(overrides.registrationLimits ? { registrationLimits: overrides.registrationLimits } : {}),
  });
  const fetch = async (url: string, init?: RequestInit) => app.request(url, init);
  return {
    app,
    keys,
    logs,
    clock,
    fetch,
    post: async (path, body, headers = {}) =>
      app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: async (path) => app.request(path),
  };
}

export interface TestWorker {
  hpke: KeyExchangeKeyPair;
  signing: CryptoKeyPair;
  signingSpki: Uint8Array;
}

export async function makeWorkerIdentity(): Promise<TestWorker> {
  const hpke = await generateKeyExchangeKeyPair();
  const signing = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const signingSpki = new Uint8Array(await crypto.subtle.exportKey('spki', signing.publicKey));
  return { hpke, signing, signingSpki };
}

/** The configuration of a worker on the built-in model (src/attestation/worker-config.ts). */
export const BUILTIN_CONFIG = encodeWorkerConfig(workerConfig({ apiKey: false }));

/**
 * A worker's evidence bundle: REPORT_DATA for `reportNonce` (default: `nonce`), the bundle saying
 * `nonce`. Different values make evidence for one nonce presented as the answer to another.
 * `config` is the configuration presented (default the built-in model's; null: none) and
 * `boundConfig` the one REPORT_DATA binds (default `config`; null: none).
 */
export async function workerBundle(
  env: DevelopmentEnvironment,
  worker: TestWorker,
  nonce: Uint8Array,
  opts: {
    platform?: AttestationPlatform;
    reportNonce?: Uint8Array;
    keys?: Record<string, Uint8Array>;
    config?: Uint8Array | null;
    boundConfig?: Uint8Array | null;
    /** GPU evidence presented (default none) and the list REPORT_DATA binds (default `gpus`). */
    gpus?: BundleGpu[];
    boundGpus?: BundleGpu[];
  } = {},
): Promise<Record<string, unknown>> {
  const keys = opts.keys ?? { hpke: worker.hpke.publicKey, signing: worker.signingSpki };
  const config = opts.config === undefined ? BUILTIN_CONFIG : opts.config;
  const bound = opts.boundConfig === undefined ? config : opts.boundConfig;
  const boundGpus = opts.boundGpus ?? opts.gpus;
  const reportData = await computeReportData({
    role: 'worker',
    nonce: opts.reportNonce ?? nonce,
    manifestDigest: env.manifestDigest,
    keys,
    digests: {
      ...(bound ? { config: await workerConfigDigest(bound) } : {}),
      ...(boundGpus ? { gpus: await gpuEvidenceDigest(boundGpus) } : {}),
    },
  });
  const platform = opts.platform ?? env.workerPlatform;
  return encodeEvidenceBundle({
    version: 1,
    role: 'worker',
    ...(await bundleEvidenceOf(platform, reportData)),
    simulated: true,
    nonce,
    manifest: env.manifestBytes,
    keys,
    ...(config ? { config } : {}),
    ...(opts.gpus ? { gpus: opts.gpus } : {}),
  });
}

export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string; type?: string; message?: string } };
  if (!body.error || typeof body.error.message !== 'string' || typeof body.error.type !== 'string') {
    throw new Error(`not an OpenAI error body: ${JSON.stringify(body)}`);
  }
  return body.error.code ?? '';
}
