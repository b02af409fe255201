/**
 * `GET /v1/models`: the first AI worker's model list that answers (plain routing data, not sealed),
 * as OpenAI's `{object: "list", data}`; `GET /v1/models/{model}` (the SDKs' `models.retrieve`): that
 * list's entry for the model, or 404 `model_not_found`. Each worker gets `MODELS_FETCH_MS` for its
 * whole answer and at most `MODELS_MAX_BYTES` of it: a worker that hangs (before its head or
 * mid-body) or floods is skipped like one that is down, so the route always answers, and
 * `no_worker_available` when none did. A request from an Anthropic SDK (`anthropic-version`) gets
 * Anthropic's Models API shapes instead (src/api/anthropic/models.ts; its errors are rewritten by
 * middleware/anthropic-errors.ts, app.ts).
 */
import { Hono } from 'hono';
import { anthropicModelInfo, anthropicModelPage, isAnthropicRequest } from '../../api/anthropic/models.js';
import { utf8 } from '../../bytes.js';
import { bodyWithin } from '../../http/body-within.js';
import { errorResponse } from '../../http/errors.js';
import { readLimited } from '../../http/read-limited.js';
import type { AppEnv, GatewayDeps } from '../app-env.js';
import { log } from '../log.js';

/** Time for one worker's whole answer (head and body), as the readiness probe allows. */
export const MODELS_FETCH_MS = 2_000;
/** A model list is small routing data; 1 MiB is thousands of models. */
export const MODELS_MAX_BYTES = 1 << 20;
const MODEL_PREFIX = '/v1/models/';

async function workerModels(deps: GatewayDeps, base: string): Promise<unknown[] | null> {
  const deadline = AbortSignal.timeout(MODELS_FETCH_MS);
  const res = await deps.fetch(`${base}/v1/models`, {
    headers: { accept: 'application/json' },
    signal: deadline,
  });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  const bytes = await readLimited(
    bodyWithin(res.body, deadline),
    res.headers.get('content-length'),
    MODELS_MAX_BYTES,
  );
  if (bytes === null) throw new Error(`model list over ${MODELS_MAX_BYTES} bytes`);
  const body = JSON.parse(utf8.decode(bytes)) as { object?: unknown; data?: unknown };
  return body?.object === 'list' && Array.isArray(body.data) ? body.data : null;
}

/** The first worker's list that answers, or null when none did. */
async function firstModelList(deps: GatewayDeps, workerUrls: readonly string[]): Promise<unknown[] | null> {
  for (const base of workerUrls) {
    try {
      const data = await workerModels(deps, base);
      if (data) return data;
    } catch (e) {
      log('warn', 'worker_models_failed', { worker: base, message: (e as Error).message });
    }
  }
  return null;
}

export function modelsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/v1/models', async (c) => {
    const data = await firstModelList(deps, c.get('config').workerUrls);
    if (!data) return errorResponse('no_worker_available', 'no AI worker answered');
    if (isAnthropicRequest(c.req.raw.headers)) return c.json(anthropicModelPage(data));
    return c.json({ object: 'list', data });
  });
  app.get(`${MODEL_PREFIX}:model`, async (c) => {
    const data = await firstModelList(deps, c.get('config').workerUrls);
    if (!data) return errorResponse('no_worker_available', 'no AI worker answered');
    const model = c.req.param('model');
    const entry = data.find((m) => (m as { id?: unknown } | null)?.id === model);
    if (!entry) return errorResponse('model_not_found', 'no AI worker serves that model');
    return c.json(isAnthropicRequest(c.req.raw.headers) ? anthropicModelInfo(entry) : entry);
  });
  return app;
}

/** For the gateway's 404/405 check: `/v1/models/<model>` (one segment; `/` in an id comes as %2F). */
export function isModelPath(path: string): boolean {
  return (
    path.startsWith(MODEL_PREFIX) &&
    path.length > MODEL_PREFIX.length &&
    !path.slice(MODEL_PREFIX.length).includes('/')
  );
}
