/**
 * `GET /readyz` (no API key): 200 only when a sealed request can be served now — the gateway holds
 * a key the verified attestation service confirmed, and at least one AI worker says it holds that
 * key and is registered (its `/healthz`: key ids are public). Otherwise 503 with `Retry-After` and
 * `{"status":"not_ready","missing":[…]}` naming what is missing: `key` (no confirmed key yet; the
 * key-rotation DO is asked to attest) or `worker` (no worker holds it yet, or none answered).
 * `/healthz` stays liveness: it answers as soon as the gateway runs.
 */
import { Hono } from 'hono';
import type { Kek } from '../../keys/kek.js';
import type { Fetcher } from '../../service-client/http.js';
import type { AppEnv, GatewayDeps } from '../app-env.js';
import { pokeRotation } from '../durable-objects/rotation-client.js';
import { executionContextOf } from '../execution-context.js';
import { currentKey } from '../kv/key-cache.js';

/** How long one worker's `/healthz` may take before it counts as not answering. */
const WORKER_PROBE_MS = 2_000;

export function readinessRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/readyz', async (c) => {
    const config = c.get('config');
    const ctx = executionContextOf(c);
    const notReady = (missing: string, detail: string, retryAfter: number) =>
      c.json({ status: 'not_ready', missing: [missing], detail }, 503, {
        'retry-after': String(retryAfter),
        'cache-control': 'no-store',
      });
    let kek: Kek;
    try {
      kek = await currentKey(c.env, config, ctx);
    } catch {
      pokeRotation(c.env, config.manifestDigest, 'ensureAlarm', ctx);
      return notReady('key', 'no key confirmed by a verified attestation service yet', 2);
    }
    const holders = await Promise.all(config.workerUrls.map((url) => holdsKey(deps.fetch, url, kek.kid)));
    if (!holders.includes(true)) return notReady('worker', 'no AI worker holds the current key yet', 1);
    return c.json({ status: 'ready', keyId: kek.kid }, 200, { 'cache-control': 'no-store' });
  });
  return app;
}

async function holdsKey(fetch: Fetcher, base: string, kid: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/healthz`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(WORKER_PROBE_MS),
    });
    if (!res.ok) return false;
    const health = (await res.json()) as { keyIds?: unknown; registered?: unknown };
    return health.registered === true && Array.isArray(health.keyIds) && health.keyIds.includes(kid);
  } catch {
    return false;
  }
}
