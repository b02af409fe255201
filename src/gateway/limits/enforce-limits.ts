/**
 * Per-key limits on the sealed routes (docs/gateway.md "Limits and budgets"), after the API key:
 *
 * 1. budget and tokens per minute, from the isolate's copy of the key's standing
 *    (standing-cache.ts; a stale copy is refreshed through `waitUntil`, never awaited):
 *    over the budget → 429 `insufficient_quota` (`x-should-retry: false`), over the tpm → 429
 *    `rate_limit_exceeded` with `Retry-After` (the end of the minute);
 * 2. requests per minute, through the key's tier of the Workers Rate Limiting binding → 429
 *    `rate_limit_exceeded` with `Retry-After` (the end of the 10 s window);
 * 3. the answer: OpenAI's `x-ratelimit-*` headers, and for a metered key its tokens counted
 *    (usage-meter.ts) and settled in its KeyUsage Durable Object through `waitUntil` once it ended.
 *
 * Invariant: no request waits on a Durable Object. A key whose limits name a binding the Worker
 * lacks is refused (500 `internal_error`, logged `limits_unconfigured`): a limit that cannot be
 * enforced never becomes no limit.
 */
import type { MiddlewareHandler } from 'hono';
import { errorResponse, type HttpErrorCode } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';
import type { ExecutionContextLike, RateLimitBinding } from '../cf-types.js';
import { nowMs } from '../clock.js';
import { executionContextOf } from '../execution-context.js';
import { log } from '../log.js';
import { isMetered, type KeyLimits, rpmBindingName } from './key-limits.js';
import { limitHeaders } from './limit-headers.js';
import { countRequest, type RequestWindow } from './request-window.js';
import { settleUsage, standingOf } from './standing-cache.js';
import { UsageMeter } from './usage-meter.js';
import { msToMinuteEnd, tokenRefusal, type UsageStanding } from './usage-windows.js';

export function enforceLimits(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limits = c.get('apiKeyLimits');
    if (!limits) return next();
    const hash = c.get('apiKeyHash');
    const now = nowMs();
    const ctx = executionContextOf(c);
    const usage = c.env.KEY_USAGE;
    const rateLimiter = limits.rpm === undefined ? null : rpmBinding(c.env, limits.rpm);
    if ((isMetered(limits) && !usage) || rateLimiter === undefined) {
      log('error', 'limits_unconfigured', { rpm: limits.rpm ?? null, keyUsage: Boolean(usage) });
      return errorResponse('internal_error', 'the limits of this API key cannot be enforced');
    }
    let standing: UsageStanding | null = null;
    if (usage && isMetered(limits)) {
      const known = standingOf(usage, hash, now);
      if (known.refresh) defer(ctx, known.refresh, 'standing_refresh_failed');
      standing = known.standing;
      const refusal = tokenRefusal(limits, standing);
      if (refusal) return refuse(refusal, limits, null, standing, now);
    }
    let requests: RequestWindow | null = null;
    if (rateLimiter && limits.rpm !== undefined) {
      const { success } = await rateLimiter.limit({ key: hash });
      requests = countRequest(hash, limits.rpm, now);
      if (!success) return refuse('rate_limit_exceeded', limits, requests, standing, now);
    }
    if (usage && isMetered(limits)) {
      const meter = new UsageMeter(c.req.path);
      c.set('usageMeter', meter);
      const settled = meter.settled.then((tokens) => settleUsage(usage, hash, tokens, nowMs()));
      defer(ctx, settled, 'usage_settle_failed');
    }
    await next();
    // A stream's meter finishes when the stream ends (sealing/stream-answer.ts); anything else is over.
    const type = c.res.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream')) c.get('usageMeter')?.finish();
    for (const [name, value] of Object.entries(limitHeaders({ limits, requests, standing, now }))) {
      c.res.headers.set(name, value);
    }
  };
}

/** The key's tier binding; undefined when the Worker has none of that name. */
function rpmBinding(env: object, rpm: number): RateLimitBinding | undefined {
  const binding = (env as Record<string, unknown>)[rpmBindingName(rpm)];
  const ok = typeof binding === 'object' && binding !== null && 'limit' in binding;
  return ok ? (binding as RateLimitBinding) : undefined;
}

function refuse(
  code: Extract<HttpErrorCode, 'rate_limit_exceeded' | 'insufficient_quota'>,
  limits: KeyLimits,
  requests: RequestWindow | null,
  standing: UsageStanding | null,
  now: number,
): Response {
  const headers = limitHeaders({ limits, requests, standing, now });
  if (code === 'insufficient_quota') {
    // Retrying cannot help before the budget period ends: the SDKs honour `x-should-retry`.
    return errorResponse(code, 'this API key has used its token budget for the period', {
      headers: { ...headers, 'x-should-retry': 'false' },
    });
  }
  const waitMs = requests ? requests.resetMs : msToMinuteEnd(now);
  return errorResponse(code, `this API key is over its ${requests ? 'requests' : 'tokens'} per minute`, {
    headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
  });
}

/** Work that outlives the answer; a failure is logged, never the request's. */
function defer(ctx: ExecutionContextLike | undefined, work: Promise<unknown>, event: string): void {
  const done = work.catch((e: unknown) => log('warn', event, { message: (e as Error).message }));
  ctx?.waitUntil(done);
}
