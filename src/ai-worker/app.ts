/**
 * The AI worker's HTTP API (docs/services.md, "AI worker") as a Hono app. No `node:*`: it runs
 * wherever Hono does, and tests drive it with `app.request()`; the Node server is `main.ts`.
 *
 *   GET  /healthz              {status: "ok" | "starting", role: "worker", manifestDigest, simulated, keys}
 *   GET  /v1/worker            {certificate, simulated, manifestDigest}   (503 not_ready before registration)
 *   GET  /v1/models            OpenAI's model list (plain: model names are routing data)
 *   POST /v1/chat/completions  sealed → sealed (SSE when stream: true)
 *   POST /v1/completions       sealed → sealed (SSE when stream: true)
 *   POST /v1/embeddings        sealed → sealed
 *
 * Every error is OpenAI's error JSON with a code of `src/http/errors.ts`; every answer is
 * `cache-control: no-store`.
 */
import { Hono } from 'hono';
import { toBase64Url } from '../bytes.js';
import type { EnvelopeCrypto } from '../envelope/envelope-crypto.js';
import { MemoryReplayGuard, type ReplayGuard } from '../envelope/replay-guard.js';
import { errorResponse } from '../http/errors.js';
import type { RandomSource } from '../keys/random.js';
import { MODEL_ROUTES, type ModelBackend } from '../model/types.js';
import type { Sha256State } from '../receipts/receipt.js';
import { consoleLog, type WorkerLog } from './log.js';
import type { ReceiptSigner } from './receipt-signer.js';
import { failure, handleSealed, type SealedExchangeDeps } from './sealed-exchange.js';
import type { WorkerKeyStore } from './worker-keys.js';

export interface WorkerAppDeps {
  keys: WorkerKeyStore;
  model: ModelBackend;
  manifestDigest: string;
  simulated: boolean;
  /** The worker's certificate (DER) once the service issued one. */
  certificate: () => Uint8Array | null;
  /** Milliseconds (Date.now by default). */
  clock?: () => number;
  /** Default: one in-memory guard for this process. */
  replayGuard?: ReplayGuard;
  /** Oldest sealed request accepted, in seconds. Default 300. */
  maxAgeSeconds?: number;
  /** Clock skew tolerated towards the future, in seconds. Default 60. */
  maxFutureSkewSeconds?: number;
  /** Largest request body. Default 16 MiB. */
  maxBodyBytes?: number;
  log?: WorkerLog;
  /** Signs receipts (docs/protocol.md "Receipts"): the key and the certificate, null before registration. */
  receiptSigner?: () => ReceiptSigner | null;
  /** The envelope's crypto backend; default WebCrypto. The Node server passes node:crypto's (server.ts). */
  envelopeCrypto?: EnvelopeCrypto;
  /** SHA-256 for receipt hashes; default WebCrypto / noble. The Node server passes node:crypto's. */
  sha256?: () => Sha256State;
  /** A whole body's SHA-256 hex in one call; the Node server passes node:crypto's `hash`. */
  sha256Hex?: (bytes: Uint8Array) => string;
  /** The response salt's source (public bytes); the Node server passes a pool (node-salt-pool.ts). */
  saltRandom?: RandomSource;
  /** A sealed stream's least ms between writes after the first (sealed-stream-body.ts); default 4. */
  streamFrameIntervalMs?: number;
}

/** Oldest sealed request accepted, in seconds (docs/services.md "AI worker: precise behaviour"). */
export const DEFAULT_MAX_AGE_SECONDS = 300;

/**
 * What the sealed routes run on (sealed-exchange.ts), shared by the Hono app and the Node server's
 * direct path (node-listener.ts) — one replay guard for both.
 */
export function createWorkerExchange(deps: WorkerAppDeps): SealedExchangeDeps {
  const clock = deps.clock ?? Date.now;
  const log = deps.log ?? consoleLog;
  const now = () => Math.floor(clock() / 1000);
  return {
    keys: deps.keys,
    model: deps.model,
    replayGuard: deps.replayGuard ?? new MemoryReplayGuard(),
    now,
    maxAgeSeconds: deps.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
    maxFutureSkewSeconds: deps.maxFutureSkewSeconds ?? 60,
    maxBodyBytes: deps.maxBodyBytes ?? 16 * 1024 * 1024,
    log,
    ...(deps.envelopeCrypto ? { envelopeCrypto: deps.envelopeCrypto } : {}),
    ...(deps.sha256 ? { sha256: deps.sha256 } : {}),
    ...(deps.sha256Hex ? { sha256Hex: deps.sha256Hex } : {}),
    ...(deps.saltRandom ? { saltRandom: deps.saltRandom } : {}),
    ...(deps.streamFrameIntervalMs !== undefined
      ? { streamFrameIntervalMs: deps.streamFrameIntervalMs }
      : {}),
    ...(deps.receiptSigner
      ? { receipts: { signer: deps.receiptSigner, manifestDigest: deps.manifestDigest } }
      : {}),
  };
}

/** `exchange`: the sealed routes' state, when the caller serves them elsewhere too (server.ts). */
export function createWorkerApp(deps: WorkerAppDeps, exchange = createWorkerExchange(deps)): Hono {
  const { now, log } = exchange;
  const app = new Hono();

  // Nothing a worker answers may be cached by anything between it and the gateway.
  app.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });

  app.get('/healthz', (c) => {
    const keys = deps.keys.count(now());
    return c.json({
      status: keys > 0 ? 'ok' : 'starting',
      role: 'worker',
      manifestDigest: deps.manifestDigest,
      simulated: deps.simulated,
      keys,
      // Key ids and registration are public; the gateway's /readyz needs a worker holding its key.
      keyIds: deps.keys.keyIds?.(now()) ?? [],
      registered: deps.certificate() !== null,
    });
  });

  app.get('/v1/worker', (c) => {
    const certificate = deps.certificate();
    if (!certificate) return errorResponse('not_ready', 'worker is not registered yet');
    return c.json({
      certificate: toBase64Url(certificate),
      simulated: deps.simulated,
      manifestDigest: deps.manifestDigest,
    });
  });

  app.get('/v1/models', async (c) => {
    try {
      return c.json(await deps.model.listModels(c.req.raw.signal));
    } catch (e) {
      return failure(e, log, 'model list');
    }
  });

  for (const route of MODEL_ROUTES) {
    app.post(route, (c) => handleSealed(exchange, route, c.req.raw));
  }

  // Known paths with another method: 405 (RFC 9110 §15.5.6 requires Allow).
  const allowed: Record<string, string> = {
    '/healthz': 'GET',
    '/v1/worker': 'GET',
    '/v1/models': 'GET',
    ...Object.fromEntries(MODEL_ROUTES.map((r) => [r, 'POST'])),
  };
  for (const [path, allow] of Object.entries(allowed)) {
    app.all(path, () => errorResponse('method_not_allowed', `use ${allow}`, { headers: { allow } }));
  }
  app.notFound(() => errorResponse('not_found', 'no such route'));
  app.onError((e) => failure(e, log, 'request'));
  return app;
}
