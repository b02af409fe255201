/**
 * What the AI worker needs from a model: the routes it serves (MODEL_ROUTES) and the model list.
 * Two implementations: the built-in deterministic model (`builtin.ts`) and any OpenAI-compatible
 * server at MODEL_URL (`upstream.ts`), both serving Messages and Responses through
 * `api-routes.ts`. Runtime-neutral: no `node:*`.
 *
 * A backend sees the *opened* request body (plain fields and sealed content merged) and answers
 * either one JSON object or a stream of SSE `data:` payloads — exactly the strings the API's server
 * writes after `data: ` (on chat a `chat.completion.chunk` JSON text, and finally `[DONE]`), which
 * the worker seals one by one (docs/protocol.md, sealed streams).
 */

/**
 * The routes a worker serves for sealed requests: OpenAI's (API reference, "Endpoints") and
 * Anthropic's Messages. `/v1/messages` and `/v1/responses` are answered natively by a model server
 * that speaks them, else translated to and from chat completions (api-routes.ts, src/api/).
 */
export const MODEL_ROUTES = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/messages',
  '/v1/responses',
  '/v1/audio/transcriptions',
] as const;
export type ModelRoute = (typeof MODEL_ROUTES)[number];

/** The routes whose API the model server may speak natively (MODEL_NATIVE_APIS), else translated. */
export const TRANSLATABLE_ROUTES = ['/v1/messages', '/v1/responses'] as const;
export type TranslatableRoute = (typeof TRANSLATABLE_ROUTES)[number];

/** OpenAI's terminator of a streamed answer: the last `data:` payload. */
export const SSE_DONE = '[DONE]';

export interface ModelCall {
  /** The opened OpenAI request body. */
  body: Record<string, unknown>;
  /** Aborts the model call (the client went away, the worker shuts down). */
  signal?: AbortSignal;
}

export type ModelAnswer =
  | { readonly kind: 'json'; readonly body: Record<string, unknown> }
  /**
   * `events` yields each `data:` payload as it arrives and throws if the model fails. Chat and
   * completions end with `[DONE]`; Messages with `message_stop`, Responses with `response.completed`
   * or `response.incomplete` (their APIs have no `[DONE]`: stream-end.ts).
   */
  | {
      readonly kind: 'stream';
      readonly events: AsyncIterable<string>;
      /**
       * The same stream a burst at a time (an upstream's network read: one or more events, in
       * order), when the backend has it that way. A consumer takes `batches` or `events`, never
       * both; `batches` spares it one asynchronous step per event (the sealer queues a burst at once).
       */
      readonly batches?: AsyncIterable<readonly string[]>;
    };

/** An entry of OpenAI's `GET /v1/models` list. */
export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelBackend {
  /** For logs and health: "builtin" or "upstream http://127.0.0.1:8000". */
  readonly description: string;
  /** OpenAI's `GET /v1/models` body: `{object: "list", data: [...]}`. */
  listModels(signal?: AbortSignal): Promise<{ object: 'list'; data: ModelInfo[] }>;
  /**
   * Whether this backend serves `model`; `undefined` when only the model server can tell (an
   * upstream is asked, and answers for itself).
   */
  servesModel(model: string): boolean | undefined;
  /**
   * Answers one request. A stream is answered (`kind: "stream"`) exactly when `body.stream === true`.
   * Throws SealgateError: `invalid_argument` for a request the model refuses, `fetch_failed` when
   * the model server cannot be reached, `model_error` when it answers badly.
   */
  call(route: ModelRoute, call: ModelCall): Promise<ModelAnswer>;
}

export function isModelRoute(route: string): route is ModelRoute {
  return (MODEL_ROUTES as readonly string[]).includes(route);
}
