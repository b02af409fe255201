/**
 * The gateway's OpenAI-compatible HTTP API (Hono on workerd):
 *
 *   POST /v1/chat/completions   sealed to a worker; JSON or SSE (stream: true)
 *   POST /v1/completions        same
 *   POST /v1/embeddings         same (JSON)
 *   GET  /v1/models             the workers' model list (plain routing data)
 *   GET  /healthz               {status, manifestDigest, simulated}; no API key
 *   GET  /, /v1/attestation[/nonce], /v1/manifest, /.well-known/jwks.json
 *                               verification (routes/, docs/verifiability.md); no API key
 *
 * Every error — 404, 405, bad JSON, wrong content type, a body over the limit, a missing or wrong
 * API key — is OpenAI's error JSON with a code of src/http/errors.ts. Every answer carries
 * `x-sealgate-manifest` (the manifest digest) and, when the manifest trusts the simulator,
 * `x-sealgate-simulated: 1`; sealed answers also `x-sealgate-key-id`.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { isSealgateError } from '../errors.js';
import { errorResponse, type HttpErrorCode } from '../http/errors.js';
import { isJsonContentType } from '../http/json-content-type.js';
import { MAX_REQUEST_JSON_DEPTH, nestsDeeperThan } from '../http/json-depth.js';
import type { Kek } from '../keys/kek.js';
import { MODEL_ROUTES } from '../model/types.js';
import type { Fetcher } from '../service-client/http.js';
import type { ExecutionContextLike } from './cf-types.js';
import { type GatewayConfig, type GatewayEnv, loadConfig } from './config.js';
import { pokeRotation } from './durable-objects/rotation-client.js';
import { bearerToken, isValidApiKey } from './kv/api-keys.js';
import { currentKey, refreshFromDo } from './kv/key-cache.js';
import { log } from './log.js';
import { isReceiptPath, receiptRoutes } from './routes/receipts.js';
import { VERIFICATION_ROUTES } from './routes/verification/verification-routes.js';
import { prepareReceipt } from './sealing/receipt-check.js';
import { exchange, openJsonAnswer, openStreamAnswer } from './sealing/upstream.js';

export interface GatewayDeps {
  /** How the gateway reaches the AI workers (the global `fetch` in production). */
  fetch: Fetcher;
}

type Vars = { config: GatewayConfig; sealgateHeaders: Record<string, string> };
type AppEnv = { Bindings: GatewayEnv; Variables: Vars };

const ROUTES: Record<string, string> = {
  '/v1/chat/completions': 'POST',
  '/v1/completions': 'POST',
  '/v1/embeddings': 'POST',
  '/v1/models': 'GET',
  '/healthz': 'GET',
  ...Object.fromEntries(Object.keys(VERIFICATION_ROUTES).map((path) => [path, 'GET'])),
};

export function createGatewayApp(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(
    '*',
    cors({
      origin: (origin, c) => {
        const allowed = (c.env.CORS_ORIGINS ?? '').split(',').map((s: string) => s.trim());
        if (allowed.includes('*')) return '*';
        return allowed.includes(origin) ? origin : null;
      },
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['authorization', 'content-type', 'openai-organization', 'openai-project'],
      exposeHeaders: [
        'x-sealgate-manifest',
        'x-sealgate-key-id',
        'x-sealgate-simulated',
        'x-sealgate-receipt',
      ],
      maxAge: 600,
    }),
  );

  // Configuration first: a gateway whose manifest is broken (or simulated without consent) serves
  // nothing but a typed 503.
  app.use('*', async (c, next) => {
    const loaded = await loadConfig(c.env);
    if (!loaded.ok) {
      log('error', 'gateway_misconfigured', { reason: loaded.reason });
      return errorResponse('no_attested_service', 'the gateway is not configured to serve');
    }
    const { config } = loaded;
    c.set('config', config);
    c.set('sealgateHeaders', {
      'x-sealgate-manifest': config.manifestDigest,
      ...(config.simulated ? { 'x-sealgate-simulated': '1' } : {}),
    });
    await next();
    for (const [k, v] of Object.entries(c.get('sealgateHeaders'))) c.res.headers.set(k, v);
  });

  // 404 and 405 before authentication: they say nothing an unauthenticated caller could not guess.
  app.use('*', async (c, next) => {
    const method = ROUTES[c.req.path] ?? (isReceiptPath(c.req.path) ? 'GET' : undefined);
    if (method === undefined) return errorResponse('not_found', `no route ${c.req.path}`);
    if (c.req.method !== method) {
      return errorResponse('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}`, {
        headers: { allow: method },
      });
    }
    await next();
  });

  app.get('/healthz', (c) => {
    const config = c.get('config');
    return c.json({ status: 'ok', manifestDigest: config.manifestDigest, simulated: config.simulated });
  });

  app.use('/v1/*', async (c, next) => {
    if (VERIFICATION_ROUTES[c.req.path]) return next(); // public: verification data, no prompt data
    if (!(await isValidApiKey(c.env, bearerToken(c.req.header('authorization'))))) {
      return errorResponse('invalid_api_key', 'missing or invalid API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    await next();
  });

  app.get('/v1/models', async (c) => {
    for (const base of c.get('config').workerUrls) {
      try {
        const res = await deps.fetch(`${base}/v1/models`, { headers: { accept: 'application/json' } });
        if (!res.ok) continue;
        const body = (await res.json()) as { object?: unknown; data?: unknown };
        if (body?.object !== 'list' || !Array.isArray(body.data)) continue;
        return c.json({ object: 'list', data: body.data });
      } catch (e) {
        log('warn', 'worker_models_failed', { worker: base, message: (e as Error).message });
      }
    }
    return errorResponse('no_worker_available', 'no AI worker answered');
  });

  for (const [path, handler] of Object.entries(VERIFICATION_ROUTES)) {
    app.get(path, (c) =>
      handler({
        request: c.req.raw,
        env: c.env,
        config: c.get('config'),
        fetch: deps.fetch,
        ...executionContextOf(c),
      }),
    );
  }
  app.route('/', receiptRoutes());

  for (const route of MODEL_ROUTES) {
    app.post(route, (c) =>
      sealedRoute(c.env, c.get('config'), c.get('sealgateHeaders'), route, c.req.raw, c),
    );
  }

  app.notFound((c) => errorResponse('not_found', `no route ${c.req.path}`));
  app.onError((e) => {
    log('error', 'request_failed', { message: e.message, code: isSealgateError(e) ? e.code : 'internal' });
    return errorResponse('internal_error', 'internal error');
  });
  return app;

  async function sealedRoute(
    env: GatewayEnv,
    config: GatewayConfig,
    headers: Record<string, string>,
    route: string,
    request: Request,
    c: { executionCtx: ExecutionContextLike },
  ): Promise<Response> {
    const body = await readJsonBody(request, config.maxBodyBytes);
    if (!body.ok) return body.response;
    const { ctx } = executionContextOf(c);
    if (config.workerUrls.length === 0)
      return errorResponse('no_worker_available', 'no AI worker is configured');

    const keyOrError = async (): Promise<Kek | Response> => {
      try {
        return await currentKey(env, config, ctx);
      } catch (e) {
        log('error', 'no_key', {
          code: isSealgateError(e) ? e.code : 'internal',
          message: (e as Error).message,
        });
        // Ask the DO to (re)attest soon; the request itself never waits for an attestation.
        pokeRotation(env, config.manifestDigest, 'ensureAlarm', ctx);
        return errorResponse('no_attested_service', 'no verified attestation service holds a current key', {
          headers: { 'retry-after': '5' },
        });
      }
    };

    let kek = await keyOrError();
    if (kek instanceof Response) return kek;
    const send = (k: Kek) =>
      exchange({
        kek: k,
        route,
        body: body.value,
        workerUrls: config.workerUrls,
        fetch: deps.fetch,
        signal: request.signal,
      }).catch((e): { kind: 'error'; code: HttpErrorCode; status: number; message: string } => {
        if (isSealgateError(e, 'invalid_argument')) {
          return { kind: 'error', code: 'invalid_request', status: 400, message: e.message };
        }
        throw e;
      });
    // No worker could serve with our key: maybe the service lost its keys (restart). Ask the DO to
    // recheck the service soon (rate-limited there); the request itself never waits for it.
    const recheck = () => pokeRotation(env, config.manifestDigest, 'recheckSoon', ctx);
    let result = await send(kek);
    if (result.kind === 'unknown_key') {
      // The worker does not know our key id: our copy is stale (or the worker's). One refresh from
      // the DO, one retry — never a loop.
      await refreshFromDo(env, config, ctx);
      kek = await keyOrError();
      if (kek instanceof Response) return kek;
      result = await send(kek);
    }
    switch (result.kind) {
      case 'answer': {
        const out = {
          ...headers,
          'x-sealgate-key-id': result.kek.kid,
          'x-sealgate-receipt': result.context.requestId,
        };
        let receipt: Awaited<ReturnType<typeof prepareReceipt>>;
        try {
          receipt = await prepareReceipt({
            kv: env.SEALGATE_KV,
            secret: config.secret,
            manifestDigest: config.manifestDigest,
            ...result,
            ...(ctx ? { defer: (write: Promise<unknown>) => ctx.waitUntil(write) } : {}),
          });
        } catch (e) {
          await result.response.body?.cancel().catch(() => undefined);
          const code: HttpErrorCode = isSealgateError(e, 'unknown_key')
            ? 'no_attested_service'
            : isSealgateError(e)
              ? 'upstream_tampered'
              : 'internal_error';
          log('error', 'worker_certificate_rejected', {
            rid: result.context.requestId,
            code,
            message: (e as Error).message,
          });
          return errorResponse(
            code,
            'the AI worker’s certificate is not one a verified attestation service issued',
          );
        }
        if (result.stream) return openStreamAnswer(result, out, receipt);
        // A stream's id goes out before its receipt is checked; a refused JSON answer names none.
        const answer = await openJsonAnswer(result, out, receipt);
        if (!answer.ok) answer.headers.delete('x-sealgate-receipt');
        return answer;
      }
      case 'error':
        return errorResponse(result.code, result.message);
      case 'unknown_key':
        recheck();
        return errorResponse('no_worker_available', 'no AI worker holds the current key');
      case 'no_worker':
        recheck();
        return errorResponse('no_worker_available', 'no AI worker answered', {
          headers: { 'retry-after': '1' },
        });
    }
  }
}

/** The execution context when there is one (`app.request()` in tests has none and throws). */
function executionContextOf(c: { executionCtx: ExecutionContextLike }): { ctx?: ExecutionContextLike } {
  try {
    return { ctx: c.executionCtx };
  } catch {
    return {};
  }
}

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/** The request's JSON object, read with a byte limit (counted as it streams, not trusted from headers). */
export async function readJsonBody(request: Request, maxBytes: number): Promise<BodyResult> {
  const fail = (code: HttpErrorCode, message: string): BodyResult => ({
    ok: false,
    response: errorResponse(code, message),
  });
  if (!isJsonContentType(request.headers.get('content-type'))) {
    return fail('unsupported_media_type', 'the body must be application/json (UTF-8)');
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) return fail('payload_too_large', `the body exceeds ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return fail('payload_too_large', `the body exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return fail('invalid_json', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('invalid_request', 'the body must be a JSON object');
  }
  if (nestsDeeperThan(value, MAX_REQUEST_JSON_DEPTH)) {
    return fail('invalid_request', `the body nests deeper than ${MAX_REQUEST_JSON_DEPTH} levels`);
  }
  if (typeof (value as { model?: unknown }).model !== 'string') {
    return fail('invalid_request', 'model is required');
  }
  return { ok: true, value: value as Record<string, unknown> };
}
