/**
 * Anthropic's error JSON on `/v1/messages` (API reference: "Errors"): every error this route
 * answers — 401, 404 for an unknown model, 405, 413, 415, a refusal, a 503 — is made by the one
 * error model (src/http/errors.ts) and rewritten here, last, into
 * `{"type":"error","error":{"type","message","code"}}`, so the Anthropic SDKs raise their typed
 * errors. Status and headers (`Retry-After`, `Allow`, `WWW-Authenticate`) stay as they were.
 * On `/v1/models`, which both APIs share, only for a request from an Anthropic SDK (its
 * `anthropic-version` header: src/api/anthropic/models.ts).
 */
import type { MiddlewareHandler } from 'hono';
import { anthropicErrorBody } from '../../api/anthropic/errors.js';
import { isAnthropicRequest } from '../../api/anthropic/models.js';
import { isHttpErrorCode } from '../../http/errors.js';
import type { AppEnv } from '../app-env.js';

export function anthropicErrors(opts: { onlyFromAnthropicSdk?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (opts.onlyFromAnthropicSdk && !isAnthropicRequest(c.req.raw.headers)) return;
    const res = c.res;
    if (res.status < 400 || !/^application\/json/i.test(res.headers.get('content-type') ?? '')) return;
    const body = (await res
      .clone()
      .json()
      .catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
    const code = body?.error?.code;
    if (!isHttpErrorCode(code)) return;
    const message = typeof body?.error?.message === 'string' ? body.error.message : code;
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    c.res = undefined;
    c.res = new Response(JSON.stringify(anthropicErrorBody(code, message)), { status: res.status, headers });
  };
}
