/**
 * The request's execution context, for `waitUntil` work that outlives the response. Hono's
 * `c.executionCtx` throws where there is none (`app.request()` in tests): then there is no
 * context, and such work runs unawaited.
 */
import type { ExecutionContextLike } from './cf-types.js';

export function executionContextOf(c: {
  readonly executionCtx: ExecutionContextLike;
}): ExecutionContextLike | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
