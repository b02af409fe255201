/**
 * `GET /readyz` (no API key): 200 only when a sealed request can be served now — the gateway holds
 * a key the verified attestation service confirmed, and at least one AI worker says it holds that
 * key and is registered (its `/healthz`: key ids are public). Otherwise 503 with `Retry-After` and
 * `{"status":"not_ready","missing":[…]}` naming what is missing: `key` (no confirmed key yet; the
 * key-rotation DO is asked to attest) or `worker` (no worker holds it yet, or none answered). When
 * a worker answers that it is registered yet lacks the key, the service it got its keys from no
 * longer holds ours (restarted: it keeps keys in memory), so the DO is asked to recheck it
 * (`recheckSoon`: re-attest, re-upload; at most once per 15 s there) — a gateway restarted within a
 * rotation interval of its service, with its KV and DO kept (`npm start` again), would otherwise
 * wait for the next rotation.
 * `/healthz` stays liveness: it answers as soon as the gateway runs.
 *
 * The route is public, and a verdict costs a `/healthz` probe of every worker, so the isolate keeps
 * its verdict for `READY_VERDICT_TTL_MS` and concurrent calls share the one round in flight (as
 * jose's remote JWKS shares its pending fetch): a flood of `/readyz` costs at most one probe round
 * per TTL per isolate. So a round ends within WORKER_PROBE_MS whatever a worker does: its head and
 * body both come by then (`bodyWithin`), or it is not answering. The verdict is plain data; each
 * caller builds its own Response.
 */
import { Hono } from 'hono';
import { utf8 } from '../../bytes.js';
import { bodyWithin } from '../../http/body-within.js';
import { readLimited } from '../../http/read-limited.js';
import type { Kek } from '../../keys/kek.js';
import type { Fetcher } from '../../service-client/http.js';
import type { AppEnv, GatewayDeps } from '../app-env.js';
import type { ExecutionContextLike } from '../cf-types.js';
import { nowMs } from '../clock.js';
import type { GatewayConfig, GatewayEnv } from '../config.js';
import { pokeRotation } from '../durable-objects/rotation-client.js';
import { executionContextOf } from '../execution-context.js';
import { currentKey } from '../kv/key-cache.js';

/** How long one worker's `/healthz` (head and body) may take before it counts as not answering. */
const WORKER_PROBE_MS = 2_000;
/** A worker's `/healthz` is a few key ids; a longer body is no answer to go by. */
const MAX_HEALTH_BYTES = 64 * 1024;
/** How long an isolate answers `/readyz` from its last verdict. */
export const READY_VERDICT_TTL_MS = 2_000;

type Verdict =
  | { ready: true; keyId: string }
  | { ready: false; missing: 'key' | 'worker'; detail: string; retryAfter: number };

/** The last verdict (per manifest digest) and the round in flight. */
let last: { digest: string; until: number; verdict: Verdict } | undefined;
let inFlight: { digest: string; verdict: Promise<Verdict> } | undefined;

/** For tests: forget the isolate's verdict. */
export function resetReadinessCache(): void {
  last = undefined;
  inFlight = undefined;
}

export function readinessRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/readyz', async (c) => {
    const verdict = await readiness(c.env, c.get('config'), deps.fetch, executionContextOf(c));
    if (verdict.ready) {
      return c.json({ status: 'ready', keyId: verdict.keyId }, 200, { 'cache-control': 'no-store' });
    }
    const body = { status: 'not_ready', missing: [verdict.missing], detail: verdict.detail };
    return c.json(body, 503, { 'retry-after': String(verdict.retryAfter), 'cache-control': 'no-store' });
  });
  return app;
}

/** The isolate's verdict if fresh, else the round in flight, else a new round. */
function readiness(
  env: GatewayEnv,
  config: GatewayConfig,
  fetch: Fetcher,
  ctx: ExecutionContextLike | undefined,
): Promise<Verdict> {
  const digest = config.manifestDigest;
  if (last?.digest === digest && nowMs() < last.until) return Promise.resolve(last.verdict);
  if (inFlight?.digest === digest) return inFlight.verdict;
  const verdict = probeRound(env, config, fetch, ctx).then((v) => {
    last = { digest, until: nowMs() + READY_VERDICT_TTL_MS, verdict: v };
    inFlight = undefined;
    return v;
  });
  inFlight = { digest, verdict };
  return verdict;
}

/** One round: the current key, then every worker's `/healthz`. Never rejects. */
async function probeRound(
  env: GatewayEnv,
  config: GatewayConfig,
  fetch: Fetcher,
  ctx: ExecutionContextLike | undefined,
): Promise<Verdict> {
  let kek: Kek;
  try {
    kek = await currentKey(env, config, ctx);
  } catch {
    pokeRotation(env, config.manifestDigest, 'ensureAlarm', ctx);
    const detail = 'no key confirmed by a verified attestation service yet';
    return { ready: false, missing: 'key', detail, retryAfter: 2 };
  }
  const holders = await Promise.all(config.workerUrls.map((url) => holdsKey(fetch, url, kek.kid)));
  if (!holders.includes('holds')) {
    if (holders.includes('lacks')) pokeRotation(env, config.manifestDigest, 'recheckSoon', ctx);
    return {
      ready: false,
      missing: 'worker',
      detail: 'no AI worker holds the current key yet',
      retryAfter: 1,
    };
  }
  return { ready: true, keyId: kek.kid };
}

/** A worker's `/healthz` of the key: held, lacked by a registered worker, or no answer to go by. */
async function holdsKey(fetch: Fetcher, base: string, kid: string): Promise<'holds' | 'lacks' | 'unknown'> {
  try {
    const deadline = AbortSignal.timeout(WORKER_PROBE_MS);
    const res = await fetch(`${base}/healthz`, { headers: { accept: 'application/json' }, signal: deadline });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return 'unknown';
    }
    // Head and body within the deadline (a round in flight is every caller's): bodyWithin.
    const bytes = await readLimited(
      bodyWithin(res.body, deadline),
      res.headers.get('content-length'),
      MAX_HEALTH_BYTES,
    );
    if (bytes === null) return 'unknown';
    const health = JSON.parse(utf8.decode(bytes)) as { keyIds?: unknown; registered?: unknown };
    if (health.registered !== true || !Array.isArray(health.keyIds)) return 'unknown';
    return health.keyIds.includes(kid) ? 'holds' : 'lacks';
  } catch {
    return 'unknown';
  }
}
