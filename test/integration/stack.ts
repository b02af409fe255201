/**
 * The services on loopback and SIMULATED hardware (createDevelopmentEnvironment), for end-to-end
 * tests: the attestation service (`startService`), AI workers (`startWorker`), and a client that
 * does what the gateway does with the gateway's library code — `attestService` with its own nonce,
 * `uploadKek`, then `sealRequest` per request. Nothing is mocked.
 */
import { expect } from 'vitest';
import { type RunningWorker, startWorker } from '../../src/ai-worker/main.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import { fromBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import {
  createTdxDevelopmentEnvironment,
  type TdxDevelopmentEnvironment,
} from '../../src/dev/environment-tdx.js';
import { nodeGpuOcsp } from '../../src/dev/gpu-ocsp.js';
import { serveOcspResponder } from '../../src/dev/ocsp-responder-server.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { gpuChainResponder } from '../../src/platform/simulator/gpu-ocsp-responder.js';
import type { AttestationPlatform } from '../../src/platform/types.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';
import { type AttestedService, attestService } from '../../src/service-client/attest-service.js';
import { uploadKek } from '../../src/service-client/keys.js';
import { verifyWorkerCertificate } from '../../src/service-client/worker-certificate.js';

export const CHAT = '/v1/chat/completions';
export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface LogEntry {
  level: string;
  event: string;
  detail: Record<string, unknown>;
}

/** A log that tests can wait on: `until(predicate)` resolves at the first matching entry. */
export function recordingLog() {
  const entries: LogEntry[] = [];
  const waiters: { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[] = [];
  const log = (level: string, event: string, detail: Record<string, unknown> = {}) => {
    const entry = { level, event, detail };
    entries.push(entry);
    for (const w of [...waiters]) {
      if (w.match(entry)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  };
  const until = (match: (e: LogEntry) => boolean) =>
    new Promise<LogEntry>((resolve) => {
      const found = entries.find(match);
      if (found) resolve(found);
      else waiters.push({ match, resolve });
    });
  return { entries, log, until };
}

export interface Stack {
  env: DevelopmentEnvironment | TdxDevelopmentEnvironment;
  service: RunningService;
  serviceLog: ReturnType<typeof recordingLog>;
  /** The service as the client attested it (its own nonce). */
  attested: AttestedService;
  /** The key the client uploaded first. */
  kek: Kek;
  /** A worker on the development worker measurement (or `platform`), polling fast. */
  startWorker(opts?: {
    platform?: AttestationPlatform;
    modelUrl?: string;
    log?: ReturnType<typeof recordingLog>['log'];
  }): Promise<RunningWorker>;
  /** A new KEK, uploaded to the service the way the gateway does. */
  uploadNewKek(): Promise<Kek>;
  /** Seals like the gateway: fresh request id, now, the first key unless another is given. */
  seal(body: Record<string, unknown>, opts?: { route?: string; key?: Kek }): ReturnType<typeof sealRequest>;
  close(): Promise<void>;
}

async function withManifestEdit<E extends DevelopmentEnvironment | TdxDevelopmentEnvironment>(
  env: E,
  edit: ((m: Record<string, unknown>) => void) | undefined,
): Promise<E> {
  if (!edit) return env;
  const m = JSON.parse(env.manifestText) as Record<string, unknown>;
  edit(m);
  const manifestText = `${JSON.stringify(m, null, 2)}\n`;
  const manifestBytes = new TextEncoder().encode(manifestText);
  return {
    ...env,
    manifestText,
    manifestBytes,
    manifest: parseManifest(manifestBytes),
    manifestDigest: await manifestDigest(manifestBytes),
  };
}

/**
 * `tee`: the simulated TEE both services run on (default SEV-SNP). `gpus`: simulated GPUs the
 * worker role requires and every worker started here presents, with a simulated OCSP responder
 * over HTTP for the service (the role's `gpu.ocsp` is "require"). `editManifest` changes the
 * development manifest's JSON before anything starts (both services then run the edited bytes).
 */
export async function startStack(
  opts: { tee?: 'sev-snp' | 'tdx'; gpus?: number; editManifest?: (m: Record<string, unknown>) => void } = {},
): Promise<Stack> {
  const gpus = opts.gpus ?? 0;
  const env = await withManifestEdit(
    opts.tee === 'tdx'
      ? await createTdxDevelopmentEnvironment({ now: new Date(), clock: () => new Date(), gpus })
      : await createDevelopmentEnvironment({ now: new Date(), gpus }),
    opts.editManifest,
  );
  const responder =
    gpus > 0 ? await serveOcspResponder(await gpuChainResponder(env.gpuChain, () => new Date())) : undefined;
  const serviceLog = recordingLog();
  const service = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port: 0,
    log: serviceLog.log,
    ...(responder ? { gpuOcsp: nodeGpuOcsp(responder.url) } : {}),
  });
  const workers: RunningWorker[] = [];
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const attested = await attestService({
    baseUrl: service.url,
    fetch: (url, init) => fetch(url, init),
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: new Date(),
    nonce,
  });
  expect(attested.nonce).toEqual(nonce);
  expect(attested.simulated).toBe(true);
  const uploadNewKek = async () => {
    const now = nowSeconds();
    const kek = await createKek({ notBefore: now - 5, notAfter: now + 600 });
    await uploadKek({
      gatewayKey: env.gatewayKey,
      baseUrl: service.url,
      fetch: (url, init) => fetch(url, init),
      service: attested,
      kek,
      manifestDigest: env.manifestDigest,
    });
    return kek;
  };
  const kek = await uploadNewKek();
  let counter = 0;
  return {
    env,
    service,
    serviceLog,
    attested,
    kek,
    uploadNewKek,
    async startWorker(opts = {}) {
      const worker = await startWorker({
        manifestBytes: env.manifestBytes,
        serviceUrl: service.url,
        platform: opts.platform ?? env.workerPlatform,
        ...(env.workerGpus ? { gpus: env.workerGpus } : {}),
        port: 0,
        log: opts.log ?? (() => undefined),
        ...(opts.modelUrl ? { modelUrl: opts.modelUrl } : {}),
        // Fast polling and retries so tests do not wait on production intervals (not asserted on).
        session: { pollIntervalMs: 200, retryInitialMs: 50, retryMaxMs: 200, minRefreshIntervalMs: 0 },
      });
      workers.push(worker);
      return worker;
    },
    seal(body, opts = {}) {
      return sealRequest({
        kek: opts.key ?? kek,
        route: opts.route ?? CHAT,
        requestId: `e2e-${++counter}`,
        body,
        now: nowSeconds(),
      });
    },
    async close() {
      for (const w of workers) await w.close();
      await service.close();
      await responder?.close();
    },
  };
}

/**
 * The certificate `worker` serves (GET /v1/worker) verifies under the signing key the client
 * attested, for this manifest, and names the worker role's SIMULATED measurement.
 */
export async function expectWorkerCertificate(
  stack: Stack,
  worker: RunningWorker,
): Promise<Awaited<ReturnType<typeof verifyWorkerCertificate>>> {
  const { certificate } = (await (await fetch(`${worker.url}/v1/worker`)).json()) as { certificate: string };
  const cert = await verifyWorkerCertificate({
    certificate: fromBase64Url(certificate),
    issuerKey: stack.attested.signingKey,
    now: new Date(),
    manifestDigest: stack.env.manifestDigest,
  });
  expect(cert.measurement).toEqual(stack.env.measurements.worker);
  expect(cert.simulated).toBe(true);
  return cert;
}
