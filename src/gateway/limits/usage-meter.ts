/**
 * Counts the tokens of one answer of a metered key from the usage the answer itself reports: a
 * JSON answer's `usage`, a stream's usage events — chat and completions: the chunk with a `usage`
 * object (`stream_options.include_usage`); Messages: `message_start`'s input tokens (or
 * `message_delta`'s, when larger) and `message_delta`'s output tokens; Responses:
 * `response.completed` / `response.incomplete`'s `response.usage`.
 *
 * A chat or completions stream whose client did not ask for usage is asked for it anyway
 * (`prepare` sets `stream_options.include_usage`), and the usage-only chunk the client did not ask
 * for is withheld from it (`chunk` answers false), so every streamed answer is counted. The answer
 * may then carry `"usage": null` in its other chunks, as OpenAI's own does in that mode.
 *
 * The usage comes last, so a client that leaves a metered stream early does not end its count: the
 * relay reads the worker's stream on to its end (sealing/stream-answer.ts). Only when the usage
 * still never came — a model server that reports none, a stream that broke, a drain cut at its
 * deadline — is the answer charged an estimate that errs high (`finish`):
 * - the prompt: the usage's own prompt count when one came, else the request body's UTF-8 bytes
 *   (`prepare`'s body; a byte-level BPE token covers at least one byte of text, and the JSON adds
 *   more bytes than a chat template adds tokens per message; images by URL are the exception) —
 *   but not for a stream that ended with the worker's sealed failure (`workerFailed`: the model
 *   failed, the client got an error, not an answer);
 * - the output: the reported output, or at least one token per event released (servers stream
 *   about one token per event), whichever is more; at least one token in all for a stream;
 * - a JSON answer without a usage report: the request's bytes plus the answer's (embeddings: the
 *   request's only; a transcription: the answer's, or its `duration` as below if that is more —
 *   its request is audio, whose bytes are no estimate of anything).
 * A transcription billed by duration (`{type: "duration", seconds}`) counts AUDIO_TOKENS_PER_SECOND
 * per second of audio.
 * An estimate is logged (`usage_estimated`), so an operator sees a model server that reports none.
 *
 * `settled` resolves once, with the tokens counted, when the answer is over: a JSON answer at once,
 * a stream when it ends or breaks, an error with 0.
 */

import { type StreamStep, streamStep } from '../../api/stream-end.js';
import { sumTokenCounts, tokenCount } from '../../api/token-count.js';
import { utf8 } from '../../bytes.js';
import { isJsonObject } from '../../json/object-guards.js';
import { log } from '../log.js';

const STREAM_USAGE_ROUTES = new Set(['/v1/chat/completions', '/v1/completions']);
const TRANSCRIPTIONS = '/v1/audio/transcriptions';
/** The count fields of every usage shape read here; a usage with none of them reports no tokens. */
const COUNT_FIELDS = [
  'total_tokens',
  'prompt_tokens',
  'completion_tokens',
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/**
 * Tokens per second of audio for a transcription billed by duration: the positions a Whisper
 * encoder makes of it (Radford et al. 2022, "Robust Speech Recognition via Large-Scale Weak
 * Supervision", §2.2: a log-Mel spectrogram of 10 ms stride through a stride-2 convolution, 1500
 * positions per 30 s window), so a key's token budget bounds its audio too. It errs high against
 * token-billed transcription models, as every estimate here does.
 */
export const AUDIO_TOKENS_PER_SECOND = 50;

type Obj = Record<string, unknown>;
// A number kept as its source text (json/exact-numbers.ts) is an object to `typeof`, not to JSON.
const isObj = isJsonObject;
const count = (x: unknown): number => tokenCount(x) ?? 0;
/** A Messages usage object's input tokens: uncached, cache writes and cache reads (saturated). */
const inputTokens = (u: Obj): number =>
  sumTokenCounts(u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens);

/**
 * The tokens a `usage` object reports, in OpenAI's, Responses' or Anthropic's shape: the largest of
 * `total_tokens` and the sums of its parts — OpenAI's prompt + completion, Responses' and
 * Anthropic's input + output (+ Anthropic's cache writes and reads) — so neither a missing or
 * `null` total nor a total smaller than its own parts makes an answer cheaper than its parts. The
 * two shapes' parts are summed apart: a server that reports both names of one count is not charged
 * twice. Every count is read by src/api/token-count.ts: a fractional one rounded up, a negative or
 * non-numeric one as Number.MAX_SAFE_INTEGER — never as 0.
 */
export function usageTokens(usage: unknown): number {
  if (!isObj(usage)) return 0;
  const openai = sumTokenCounts(usage.prompt_tokens, usage.completion_tokens);
  const typed = sumTokenCounts(
    usage.input_tokens,
    usage.output_tokens,
    usage.cache_creation_input_tokens,
    usage.cache_read_input_tokens,
  );
  return Math.max(tokenCount(usage.total_tokens) ?? 0, openai, typed, durationTokens(usage));
}

/** A transcription's `{type: "duration", seconds}` in tokens (saturated); 0 for any other usage. */
function durationTokens(usage: Obj): number {
  if (usage.type !== 'duration') return 0;
  return audioTokens(usage.seconds) ?? 0;
}

/** Seconds of audio (read as a token count is: src/api/token-count.ts) in tokens; undefined if absent. */
function audioTokens(seconds: unknown): number | undefined {
  const read = tokenCount(seconds);
  return read === undefined ? undefined : Math.min(read * AUDIO_TOKENS_PER_SECOND, Number.MAX_SAFE_INTEGER);
}

/** Whether `usage` reports any count: a token field, or a transcription's duration in seconds (not `{}`). */
export function reportsTokens(usage: unknown): usage is Record<string, unknown> {
  if (!isObj(usage)) return false;
  if (usage.type === 'duration' && tokenCount(usage.seconds) !== undefined) return true;
  return COUNT_FIELDS.some((field) => tokenCount(usage[field]) !== undefined);
}

/** UTF-8 bytes of a JSON value as sent: the estimate's unit (one token covers at least one byte). */
const jsonBytes = (value: unknown): number => utf8.encode(JSON.stringify(value) ?? '').length;

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
  /** Stream events opened, but a withheld usage chunk (after a client left: read on, not sent). */
  #events = 0;
  /** Messages streams: input tokens (`message_start`) and the latest output count (`message_delta`). */
  #input = 0;
  #output = 0;
  /** The body sealed to the worker (`prepare`): the prompt's estimate when no report counts it. */
  #body: Record<string, unknown> | undefined;
  /** The stream ended with the worker's sealed failure (`workerFailed`). */
  #failed = false;

  constructor(route: string) {
    this.#route = route;
    this.settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The body to seal: a chat or completions stream always asks for its usage. */
  prepare(body: Record<string, unknown>): Record<string, unknown> {
    this.#body = body;
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
    this.#body = { ...body, stream_options: { ...options, include_usage: true } };
    return this.#body;
  }

  /**
   * A JSON answer, opened: its `usage` is the count; without one that reports tokens, the
   * request's bytes and (but for embeddings, whose answer is vectors) the answer's.
   */
  json(body: unknown): void {
    const usage = isObj(body) ? body.usage : undefined;
    if (reportsTokens(usage)) {
      this.#tokens = usageTokens(usage);
    } else {
      const answer = this.#route === '/v1/embeddings' ? 0 : jsonBytes(body);
      const audio = this.#route === TRANSCRIPTIONS && isObj(body) ? (audioTokens(body.duration) ?? 0) : 0;
      this.#tokens = Math.min(this.#promptEstimate() + Math.max(answer, audio), Number.MAX_SAFE_INTEGER);
      log('warn', 'usage_estimated', {
        route: this.#route,
        tokens: this.#tokens,
        why: 'no usage in the answer',
      });
    }
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
        this.#count(response.usage);
      }
      return true;
    }
    if (!isObj(event.usage)) return true;
    this.#count(event.usage);
    // The usage-only chunk (`choices: []`) goes to the client only if it asked for it.
    return !(this.#withhold && Array.isArray(event.choices) && event.choices.length === 0);
  }

  /** A whole usage object (chat, completions, Responses): the count, the prompt in it. */
  #count(usage: unknown): void {
    if (!reportsTokens(usage)) return; // `{}` reports nothing: no count, not a count of 0
    this.#tokens = usageTokens(usage);
    this.#reported = true;
  }

  #messagesEvent(event: Obj): true {
    if (event.type === 'message_start' && isObj(event.message)) {
      const usage = event.message.usage;
      if (reportsTokens(usage)) {
        this.#reported = true;
        this.#input = inputTokens(usage);
        this.#output = count(usage.output_tokens);
      }
    } else if (event.type === 'message_delta' && reportsTokens(event.usage)) {
      // Anthropic's message_delta usage is cumulative ("Streaming Messages": "The token counts in the
      // usage field of the message_delta event are cumulative"). Its input counts, when present,
      // are the whole prompt's: the worker's translation (src/api/anthropic/stream.ts) reports them
      // only there, after its message_start's zeros, so they count when larger.
      this.#reported = true;
      this.#input = Math.max(this.#input, inputTokens(event.usage));
      this.#output = count(event.usage.output_tokens);
    }
    this.#tokens = Math.min(this.#input + this.#output, Number.MAX_SAFE_INTEGER);
    return true;
  }

  /**
   * The stream ended with the worker's sealed failure (its model failed): not estimated at its
   * prompt's bytes — the client got an error — only at what it was sent (and a reported prompt).
   */
  workerFailed(): void {
    this.#failed = true;
  }

  /**
   * A report counted the prompt: a whole usage object (chat, completions, Responses), or a
   * Messages input count above 0 (a translated stream's `message_start` says 0 until its end).
   */
  get #promptKnown(): boolean {
    return this.#route === '/v1/messages' ? this.#input > 0 : this.#reported;
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
    // Not a stream: what `json` counted or estimated, 0 when no answer came (an error, a client
    // gone before it). A stream: its report when whole and counting the prompt, else the estimate.
    const exact = !this.#streamed || (this.#reported && this.#complete && this.#promptKnown);
    this.#resolve(exact ? this.#tokens : this.#estimate());
  }

  /**
   * A stream without its usage at its end: the prompt as reported, else estimated; the output as
   * reported or one token per event, whichever is more; at least one token in all — a client that
   * leaves before its first event (the prompt already taken by the model) does not go free.
   */
  #estimate(): number {
    const prompt = this.#promptKnown ? this.#input : this.#failed ? 0 : this.#promptEstimate();
    const output = Math.max(this.#tokens - this.#input, this.#events);
    const tokens = Math.min(Math.max(1, prompt + output), Number.MAX_SAFE_INTEGER);
    log('warn', 'usage_estimated', { route: this.#route, tokens, why: 'the stream ended without its usage' });
    return tokens;
  }

  /** The prompt's bytes as sealed (0 for audio, or when `prepare` never ran). */
  #promptEstimate(): number {
    if (this.#route === TRANSCRIPTIONS || this.#body === undefined) return 0;
    return jsonBytes(this.#body);
  }
}
