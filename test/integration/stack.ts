/**
 * The services on loopback and SIMULATED hardware (createDevelopmentEnvironment), for end-to-end
 * tests: the attestation service (`startService`), AI workers (`startWorker`), and a client that
 * does what the gateway does with the gateway's library code — `attestService` with its own nonce,
 * `uploadKek`, then `sealRequest` per request. Nothing is mocked.
 */
import { expect } from 'vitest';
import { type RunningWorker, startWorker } from '../../src/ai-worker/main.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import {
  createDevelopmentEnvironment,
  type DevelopmentEnvironment,
  type DevSnpPlatform,
} from '../../src/dev/environment.js';
import { sealRequest } from '../../src/envelope/request.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { type AttestedService, attestService } from '../../src/service-client/attest-service.js';
import { uploadKek } from '../../src/service-client/keys.js';

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
  env: DevelopmentEnvironment;
  service: RunningService;
  serviceLog: ReturnType<typeof recordingLog>;
  /** The service as the client attested it (its own nonce). */
  attested: AttestedService;
  /** The key the client uploaded first. */
  kek: Kek;
  /** A worker on the development worker measurement (or `platform`), polling fast. */
  startWorker(opts?: {
    platform?: DevSnpPlatform;
    modelUrl?: string;
    log?: ReturnType<typeof recordingLog>['log'];
  }): Promise<RunningWorker>;
  /** A new KEK, uploaded to the service the way the gateway does. */
  uploadNewKek(): Promise<Kek>;
  /** Seals like the gateway: fresh request id, now, the first key unless another is given. */
  seal(body: Record<string, unknown>, opts?: { route?: string; key?: Kek }): ReturnType<typeof sealRequest>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const env = await createDevelopmentEnvironment({ now: new Date() });
  const serviceLog = recordingLog();
  const service = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port: 0,
    log: serviceLog.log,
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
    },
  };
}
