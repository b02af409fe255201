/**
 * Counts the tokens of one answer of a metered key from the usage the answer itself reports: a
 * JSON answer's `usage`, a stream's usage events — chat and completions: the chunk with a `usage`
 * object (`stream_options.include_usage`); Messages: the input tokens of `message_start` or of
 * the last `message_delta` (the larger) and its output tokens; Responses: `response.completed` / `response.incomplete`'s `response.usage`.
 *
 * A chat or completions stream whose client did not ask for usage is asked for it anyway
 * (`prepare` sets `stream_options.include_usage`), and the usage-only chunk the client did not ask
 * for is withheld from it (`chunk` answers false), so every streamed answer is counted. The answer
 * may then carry `"usage": null` in its other chunks, as OpenAI's own does in that mode.
 *
 * A stream that did not end with its usage reported — a model server that ignores
 * `include_usage`, or a client that went away before the usage came (it comes last) — is charged at
 * least one token per event it received (plus a Messages stream's input tokens), and at least one
 * token in all: a lower bound (servers stream about one token per event), never nothing, so leaving
 * early — even before the first event — or a server without usage cannot make a metered key free.
 *
 * `settled` resolves once, with the tokens counted, when the answer is over: a JSON answer at once,
 * a stream when it ends or breaks, an error with 0.
 */

import { type StreamStep, streamStep } from '../../api/stream-end.js';
import { sumTokenCounts, tokenCount } from '../../api/token-count.js';
import { isRawJsonNumber } from '../../json/exact-numbers.js';

const STREAM_USAGE_ROUTES = new Set(['/v1/chat/completions', '/v1/completions']);

const USAGE_OBJECT = /"usage"\s*:\s*\{/;

type Obj = Record<string, unknown>;
// A number kept as its source text (json/exact-numbers.ts) is an object to `typeof`, not to JSON.
const isObj = (x: unknown): x is Obj =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !isRawJsonNumber(x);
const count = (x: unknown): number => tokenCount(x) ?? 0;

/**
 * The tokens a `usage` object reports, in OpenAI's, Responses' or Anthropic's shape: `total_tokens`
 * when it is a count, else the sum of the parts (a `"total_tokens": null` must not make the answer
 * free when its parts are reported).
 */
export function usageTokens(usage: unknown): number {
  if (!isObj(usage)) return 0;
  const total = tokenCount(usage.total_tokens);
  if (total !== undefined) return total;
  return sumTokenCounts(
    usage.prompt_tokens,
    usage.completion_tokens,
    usage.input_tokens,
    usage.output_tokens,
    usage.cache_creation_input_tokens,
    usage.cache_read_input_tokens,
  );
}

export class UsageMeter {
  readonly settled: Promise<number>;
  readonly #route: string;
  #resolve!: (tokens: number) => void;
  #done = false;
  /** The client did not ask for stream usage; the gateway did (`prepare`). */
  #withhold = false;
  #tokens = 0;
  /** A usage report was seen. */
  #reported = false;
  /** The stream's final event came (src/api/stream-end.ts). */
  #complete = false;
  /** The worker answered with a stream (`finishStream`). */
  #streamed = false;
  /** Stream events released to the client. */
  #events = 0;
  /** Messages streams: input tokens (`message_start`, `message_delta`) and the latest output count. */
  #input = 0;
  #output = 0;

  constructor(route: string) {
    this.#route = route;
    this.settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The body to seal: a chat or completions stream always asks for its usage. */
  prepare(body: Record<string, unknown>): Record<string, unknown> {
    if (!STREAM_USAGE_ROUTES.has(this.#route) || body.stream !== true) return body;
    const given = body.stream_options;
    // `null` is "no options" to OpenAI and vLLM alike: left as is, the stream would come without its
    // usage and be charged per event only, never for its prompt. Anything else that is not an
    // object, or an `include_usage` that is not a boolean, is left for the model server to refuse,
    // as the client sent it (overwritten, the client's error would be hidden).
    if (given !== undefined && given !== null && !isObj(given)) return body;
    const options = isObj(given) ? given : {};
    if (options.include_usage === true) return body;
    if (options.include_usage !== undefined && typeof options.include_usage !== 'boolean') return body;
    this.#withhold = true;
    return { ...body, stream_options: { ...options, include_usage: true } };
  }

  /** A JSON answer, opened: its `usage` is the count. */
  json(body: unknown): void {
    this.#tokens = isObj(body) ? usageTokens(body.usage) : 0;
    this.#reported = true;
    this.#complete = true;
    this.finish();
  }

  /** One opened stream payload; false when it is the usage chunk the client did not ask for. */
  chunk(data: string, step: StreamStep = streamStep(this.#route, data)): boolean {
    const keep = this.#read(data);
    if (step === 'end') this.#complete = true;
    else if (keep) this.#events += 1;
    return keep;
  }

  #read(data: string): boolean {
    // Only an event with a usage object counts: most chunks are parsed by nothing here.
    if (!USAGE_OBJECT.test(data)) return true;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return true;
    }
    if (!isObj(event)) return true;
    if (this.#route === '/v1/messages') return this.#messagesEvent(event);
    if (this.#route === '/v1/responses') {
      const response = event.response;
      if (isObj(response) && (event.type === 'response.completed' || event.type === 'response.incomplete')) {
        this.#tokens = usageTokens(response.usage);
        this.#reported = true;
      }
      return true;
    }
    if (!isObj(event.usage)) return true;
    this.#tokens = usageTokens(event.usage);
    this.#reported = true;
    // The usage-only chunk (`choices: []`) goes to the client only if it asked for it.
    return !(this.#withhold && Array.isArray(event.choices) && event.choices.length === 0);
  }

  #messagesEvent(event: Obj): true {
    if (event.type === 'message_start' && isObj(event.message)) {
      const usage = event.message.usage;
      if (isObj(usage)) {
        this.#reported = true;
        this.#input =
          count(usage.input_tokens) +
          count(usage.cache_creation_input_tokens) +
          count(usage.cache_read_input_tokens);
        this.#output = count(usage.output_tokens);
      }
    } else if (event.type === 'message_delta' && isObj(event.usage)) {
      // Anthropic's message_delta usage is cumulative ("Streaming Messages"), input counts
      // included when given: a stream translated from chat completions learns them only at its
      // end, so its message_start says 0 and only this event has the prompt's count. Never lower
      // than message_start's.
      const usage = event.usage;
      this.#reported = true;
      this.#output = count(usage.output_tokens);
      this.#input = Math.max(
        this.#input,
        sumTokenCounts(usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens),
      );
    }
    this.#tokens = this.#input + this.#output;
    return true;
  }

  /** A stream the worker answered is over (idempotent): ended, broken or left by its client. */
  finishStream(): void {
    this.#streamed = true;
    this.finish();
  }

  /** The answer is over (idempotent): `settled` resolves with what was counted. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    const exact = this.#reported && this.#complete;
    const bound = this.#input + Math.max(this.#tokens - this.#input, this.#events);
    // A stream the worker answered costs at least one token, so a client that leaves before its
    // first event (the prompt already taken by the model) does not go free either.
    this.#resolve(exact ? this.#tokens : Math.max(this.#streamed ? 1 : 0, bound));
  }
}
