/**
 * The sealed routes (docs/gateway.md "The sealed path"), a sub-app mounted by app.ts:
 *
 *   POST /v1/chat/completions      JSON, or SSE when `stream: true`
 *   POST /v1/completions           same
 *   POST /v1/embeddings            JSON (`stream` other than false or null: 400)
 *   POST /v1/messages              Anthropic Messages: JSON, or SSE with Anthropic's event types
 *   POST /v1/responses             OpenAI Responses: JSON, or SSE with its typed events
 *   POST /v1/audio/transcriptions  multipart/form-data, sealed whole (read-multipart-body.ts)
 *
 * The body is read and checked here (a content-coded body is refused first: http/content-coding.ts); sealed-exchange.ts seals it to a worker and opens the answer.
 */
import { Hono } from 'hono';
import { contentCodingRefused, isIdentityCoding } from '../../../http/content-coding.js';
import { errorResponse } from '../../../http/errors.js';
import { MODEL_ROUTES } from '../../../model/types.js';
import type { AppEnv, GatewayDeps } from '../../app-env.js';
import { executionContextOf } from '../../execution-context.js';
import { readJsonBody } from './read-json-body.js';
import { readMultipartBody } from './read-multipart-body.js';
import { sealedExchange } from './sealed-exchange.js';

export function sealedRoutes(deps: GatewayDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const route of MODEL_ROUTES) {
    app.post(route, async (c) => {
      const config = c.get('config');
      if (!isIdentityCoding(c.req.header('content-encoding') ?? null)) return contentCodingRefused();
      const body =
        route === '/v1/audio/transcriptions'
          ? await readMultipartBody(c.req.raw)
          : await readJsonBody(c.req.raw, config.maxBodyBytes);
      if (!body.ok) return body.response;
      if (route === '/v1/embeddings' && asksToStream(body.value)) {
        return errorResponse('invalid_request', 'embeddings do not stream', { param: 'stream' });
      }
      if (config.workerUrls.length === 0) {
        return errorResponse('no_worker_available', 'no AI worker is configured');
      }
      const meter = c.get('usageMeter');
      return sealedExchange({
        env: c.env,
        config,
        headers: c.get('sealgateHeaders'),
        owner: c.get('apiKeyHash'),
        route,
        body: meter ? meter.prepare(body.value) : body.value,
        meter,
        signal: c.req.raw.signal,
        fetch: deps.fetch,
        ctx: executionContextOf(c),
      });
    });
  }
  return app;
}

/**
 * An embeddings request that asks for a stream: no embeddings API streams, and a model server that
 * ignores the field (vLLM's request models allow and drop unknown fields) answers JSON to a worker
 * that, bound by the sealed `stream`, waits for SSE — a 502 `model_error` the SDKs retry. Refused
 * here instead, before anything is sealed.
 */
function asksToStream(body: Record<string, unknown>): boolean {
  return body.stream !== undefined && body.stream !== null && body.stream !== false;
}
