/**
 * Serving the AI worker on Node (node:http; sealed routes direct, the rest through Hono —
 * node-listener.ts): `startWorker` checks the manifest, refuses a model endpoint the manifest
 * does not allow (effective-config.ts), picks the model (MODEL_URL or the built-in one), starts attesting to the service in the background and
 * listens at once — answering 503 `not_ready` on the sealed routes until it holds a key. In-process
 * and awaitable, so tests and `npm start` run the same code as `main.ts`. Port 0 picks a free port;
 * the returned `url` has the real one.
 */

import type { Hono } from 'hono';
import { loadManifestForPlatform } from '../dev/program-config.js';
import { listenNode } from '../dev/serve.js';
import { MemoryReplayGuard } from '../envelope/replay-guard.js';
import { SealgateError } from '../errors.js';
import { createBuiltinModel } from '../model/builtin.js';
import { createNodeHttpFetch } from '../model/node-http-fetch.js';
import type { ModelBackend, TranslatableRoute } from '../model/types.js';
import { createUpstreamModel } from '../model/upstream.js';
import type { GpuEvidenceProvider } from '../platform/gpu-types.js';
import { nodeSignatures } from '../platform/node-signature-backend.js';
import { bannerBox, simulatedTee } from '../platform/simulated-banner.js';
import type { AttestationPlatform } from '../platform/types.js';
import type { Manifest } from '../policy/manifest-types.js';
import { BUILTIN_ENDPOINT } from '../policy/model-endpoint.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import { createWorkerApp, createWorkerExchange, DEFAULT_MAX_AGE_SECONDS, type WorkerAppDeps } from './app.js';
import { WorkerSession, type WorkerSessionOptions } from './attest-to-service.js';
import { workerBodyBudget } from './body-budget.js';
import { effectiveConfig } from './effective-config.js';
import { consoleLog, type WorkerLog } from './log.js';
import { nodeEnvelopeCrypto } from './node-envelope-crypto.js';
import { createWorkerListener } from './node-listener.js';
import { nodeReceiptKey } from './node-receipt-key.js';
import { createSaltPool } from './node-salt-pool.js';
import { nodeSha256, nodeSha256Hex } from './node-sha256.js';
import { RestartReplayGuard } from './restart-replay-guard.js';

export const DEFAULT_PORT = 8789;
export const DEFAULT_HOST = '127.0.0.1';

/**
 * The loud notice of a simulated platform, naming the TEE it simulates (its evidence proves nothing
 * about real hardware, whichever it is).
 */
export function simulatedBanner(kind: AttestationPlatform['kind']): string {
  return bannerBox([
    `SIMULATED HARDWARE: this AI worker runs on the ${simulatedTee(kind)} simulator.`,
    'Its evidence proves nothing about real hardware: the prompts it',
    "opens are protected by nothing but this machine's operator.",
  ]);
}

export interface StartWorkerOptions {
  /** The exact manifest bytes (UTF-8 JSON), loaded once. */
  manifestBytes: Uint8Array;
  /** The attestation service (SEALGATE_SERVICE_URL). */
  serviceUrl: string;
  platform: AttestationPlatform;
  /** TDX collateral for the service's quote when its bundle lacks it (SEALGATE_PCS_URL). */
  pcs?: PcsOptions;
  /** The VM's GPUs (SEALGATE_GPU_COMMAND or simulated); required when the manifest's worker role has `gpu`. */
  gpus?: GpuEvidenceProvider;
  /** MODEL_URL: an OpenAI-compatible server; absent → the built-in model. */
  modelUrl?: string;
  /** MODEL_API_KEY. */
  modelApiKey?: string;
  /** MODEL_NATIVE_APIS: the routes MODEL_URL answers itself; the others are translated to chat. */
  modelNativeRoutes?: readonly TranslatableRoute[];
  /** SEALGATE_STREAM_FRAME_INTERVAL_MS: a sealed stream's pacing (sealed-stream-body.ts). */
  streamFrameIntervalMs?: number;
  /** SEALGATE_BODY_MIB_IN_FLIGHT: bytes of sealed request bodies held at once (body-budget.ts). */
  bodyBytesInFlight?: number;
  /** SEALGATE_BODY_MIB_PER_PEER: each peer's share of them (body-budget.ts; ≤ bodyBytesInFlight). */
  bodyBytesPerPeer?: number;
  /** SEALGATE_WRITE_STALL_SECONDS × 1000: how long an answer may wait for its peer (node-listener.ts). */
  writeStallMs?: number;
  /**
   * Replaces the backend (tests, embedding), not the configuration: the attested configuration is
   * still made from modelUrl and modelApiKey (the built-in model when both are absent).
   */
  model?: ModelBackend;
  /** Default 8789; 0 for an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Milliseconds (Date.now by default). */
  clock?: () => number;
  log?: WorkerLog;
  /** Passed to the session (key polling, backoff, service calls). */
  session?: Pick<
    WorkerSessionOptions,
    | 'fetch'
    | 'pollIntervalMs'
    | 'retryInitialMs'
    | 'retryMaxMs'
    | 'minRefreshIntervalMs'
    | 'serviceTimeoutMs'
    | 'identity'
  >;
  /** Sealed-request window (seconds), default 300. */
  maxAgeSeconds?: number;
}

export interface RunningWorker {
  url: string;
  port: number;
  manifestDigest: string;
  simulated: boolean;
  /** Resolves once the worker holds a key (stays pending while the service refuses it). */
  ready: Promise<void>;
  session: WorkerSession;
  app: Hono;
  close(): Promise<void>;
}

/**
 * Starts the worker in order: manifest → allowed model endpoint → GPU provider → model → session →
 * app → listen → attest in the background. Every check that can refuse runs before anything
 * listens or attests, so a misconfigured worker fails at start, never at its first request.
 */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const log = opts.log ?? consoleLog;
  const { platform } = opts;
  const { manifest, manifestDigest } = await loadManifestForPlatform(
    opts.manifestBytes,
    platform,
    'AI worker',
  );
  const config = await allowedModelConfig(manifest, opts);
  requireGpuProvider(manifest, opts.gpus);
  warnIfSimulated(opts, log);
  const { model, modelFetch } = chooseModel(opts, config.config.model.endpoint);
  const clock = opts.clock ?? Date.now;
  const session = createSession(opts, { manifestDigest, configBytes: config.bytes, clock, log });
  const appDeps = workerAppDeps(opts, { session, model, manifestDigest, clock, log });
  const exchange = createWorkerExchange(appDeps);
  const app = createWorkerApp(appDeps, exchange);

  // The sealed routes straight on node:http, the rest through Hono (node-listener.ts).
  const listening = await listenNode(
    createWorkerListener(
      app,
      exchange,
      workerBodyBudget(opts.bodyBytesInFlight, opts.bodyBytesPerPeer),
      opts.writeStallMs,
    ),
    {
      port: opts.port ?? DEFAULT_PORT,
      host: opts.host ?? DEFAULT_HOST,
    },
  );
  const { url, port } = listening;
  log('info', 'AI worker listening', {
    url,
    manifestDigest,
    simulated: platform.simulated,
    platform: platform.description,
    model: model.description,
    configDigest: config.digest,
    service: opts.serviceUrl,
  });
  session.start();
  session.ready.then(
    () => log('info', 'AI worker ready: holds a key', { url }),
    () => undefined,
  );
  const close = onceClose(async () => {
    await session.close();
    await listening.close();
    modelFetch?.close();
    log('info', 'AI worker stopped', { url });
  });
  return {
    url,
    port,
    manifestDigest,
    simulated: platform.simulated,
    ready: session.ready,
    session,
    app,
    close,
  };
}

/** Before anything listens or attests: the model endpoint must be one the manifest allows. */
function allowedModelConfig(manifest: Manifest, opts: StartWorkerOptions) {
  return effectiveConfig(manifest, {
    ...(opts.modelUrl !== undefined ? { url: opts.modelUrl } : {}),
    ...(opts.modelApiKey ? { apiKey: opts.modelApiKey } : {}),
  });
}

/** Fail at start, not at every registration: a role that requires GPUs needs a GPU provider. */
function requireGpuProvider(manifest: Manifest, gpus: GpuEvidenceProvider | undefined): void {
  const gpuMin = manifest.roles.worker?.gpu?.count.min ?? 0;
  if (gpuMin > 0 && !gpus) {
    throw new SealgateError(
      'invalid_argument',
      `AI worker: the manifest's /roles/worker/gpu requires at least ${gpuMin} GPU(s) but no GPU provider is configured (SEALGATE_GPU_COMMAND, or SEALGATE_GPUS with the simulator)`,
    );
  }
}

/** Simulated CPU or GPU evidence is announced loudly: it proves nothing about real hardware. */
function warnIfSimulated(opts: StartWorkerOptions, log: WorkerLog): void {
  if (!opts.platform.simulated && !opts.gpus?.simulated) return;
  log('warn', 'SIMULATED HARDWARE', {
    banner: simulatedBanner(opts.platform.kind),
    platform: opts.platform.description,
    ...(opts.gpus ? { gpus: opts.gpus.description } : {}),
  });
}

/**
 * The backend: opts.model if given, else the attested endpoint (MODEL_URL) or the built-in model.
 * `modelFetch` is set only when this call made it, so close() closes only what it owns.
 */
function chooseModel(
  opts: StartWorkerOptions,
  endpoint: string,
): { model: ModelBackend; modelFetch: { close(): void } | undefined } {
  // The model call over node:http, not undici's fetch: less CPU per request (node-http-fetch.ts).
  const modelFetch = opts.model || !opts.modelUrl ? undefined : createNodeHttpFetch();
  const model =
    opts.model ??
    (endpoint !== BUILTIN_ENDPOINT
      ? createUpstreamModel({
          baseUrl: endpoint,
          ...(modelFetch ? { fetch: modelFetch } : {}),
          ...(opts.modelApiKey ? { apiKey: opts.modelApiKey } : {}),
          ...(opts.modelNativeRoutes ? { nativeRoutes: opts.modelNativeRoutes } : {}),
        })
      : createBuiltinModel());
  return { model, modelFetch };
}

interface StartContext {
  manifestDigest: string;
  clock: () => number;
  log: WorkerLog;
}

/** The session attests with the exact manifest bytes and the attested model configuration. */
function createSession(
  opts: StartWorkerOptions,
  ctx: StartContext & { configBytes: Uint8Array },
): WorkerSession {
  return new WorkerSession({
    serviceUrl: opts.serviceUrl,
    platform: opts.platform,
    ...(opts.pcs ? { pcs: opts.pcs } : {}),
    // Node: signatures through node:crypto (src/platform/node-signature-backend.ts).
    signatures: nodeSignatures,
    // Receipts signed through node:crypto on this thread, not WebCrypto's thread pool (node-receipt-key.ts).
    receiptKey: nodeReceiptKey,
    ...(opts.gpus ? { gpus: opts.gpus } : {}),
    manifest: opts.manifestBytes.slice(),
    manifestDigest: ctx.manifestDigest,
    config: ctx.configBytes,
    clock: ctx.clock,
    log: ctx.log,
    ...opts.session,
  });
}

/** The app reads keys, certificate and receipt signer from the session at each request. */
function workerAppDeps(
  opts: StartWorkerOptions,
  ctx: StartContext & { session: WorkerSession; model: ModelBackend },
): WorkerAppDeps {
  const { session } = ctx;
  const maxAgeSeconds = opts.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  // A request sealed before this process started may have been served by the one before it.
  const replayGuard = new RestartReplayGuard(new MemoryReplayGuard(), {
    startedAt: Math.floor(ctx.clock() / 1000),
    maxAgeSeconds,
  });
  return {
    keys: session.keys,
    model: ctx.model,
    manifestDigest: ctx.manifestDigest,
    simulated: opts.platform.simulated,
    certificate: () => session.certificate,
    receiptSigner: () => session.receiptSigner,
    // node:crypto's synchronous calls, not WebCrypto's thread-pool jobs (node-envelope-crypto.ts).
    envelopeCrypto: nodeEnvelopeCrypto,
    sha256: nodeSha256,
    sha256Hex: nodeSha256Hex,
    saltRandom: createSaltPool(),
    clock: ctx.clock,
    log: ctx.log,
    maxAgeSeconds,
    replayGuard,
    ...(opts.streamFrameIntervalMs !== undefined
      ? { streamFrameIntervalMs: opts.streamFrameIntervalMs }
      : {}),
  };
}

/** close() runs its steps once; a second call returns the first call's promise. */
function onceClose(steps: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= steps();
    return closing;
  };
}
