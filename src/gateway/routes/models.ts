/**
 * `GET /v1/models`: the first AI worker's model list that answers (plain routing data, not sealed),
 * as OpenAI's `{object: "list", data}`.
 */
import { Hono } from 'hono';
import { errorResponse } from '../../http/errors.js';
import type { AppEnv, GatewayDeps } from '../app-env.js';
import { log } from '../log.js';

export function modelsRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
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
  return app;
}
