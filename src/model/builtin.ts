/**
 * The built-in model: what answers when no MODEL_URL is configured, so the whole stack runs anywhere
 * (docs/services.md, "AI worker"). Deterministic (`builtin-text.ts` says what it answers and how it
 * counts tokens), streams word by word, reports usage, and speaks OpenAI's exact response shapes
 * (API reference: "The chat completion object", "The chat completion chunk object", "The completion
 * object", "The embedding object"), so the official SDKs parse it.
 *
 * Streams follow OpenAI: the first chunk of a choice carries `delta.role`, then one chunk per word,
 * then a chunk with an empty delta and `finish_reason`; with `stream_options.include_usage` every
 * chunk has `usage: null` and one extra chunk with `choices: []` carries the usage; `[DONE]` last.
 */
import { builtinTranscription } from '../api/transcriptions/builtin.js';
import { parseTranscriptionForm, readSealedForm } from '../api/transcriptions/form.js';
import { sha256, toHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { withApiRoutes } from './api-routes.js';
import {
  embed,
  float32Base64,
  readDimensions,
  readEmbeddingInputs,
  readEncodingFormat,
} from './builtin-embeddings.js';
import {
  COMPLETIONS_DEFAULT_MAX_TOKENS,
  chatReplyWords,
  choiceCount,
  completionWords,
  countWords,
  limitWords,
  maxTokens,
  readChatMessages,
  stopSequences,
  untilStop,
} from './builtin-text.js';
import { type ModelAnswer, type ModelBackend, type ModelCall, type ModelRoute, SSE_DONE } from './types.js';

export const BUILTIN_MODEL_ID = 'sealgate-builtin';
/** Sent as OpenAI's `system_fingerprint`: changes when the built-in model's answers change. */
export const BUILTIN_FINGERPRINT = 'sealgate-builtin-v1';

export interface BuiltinModelOptions {
  /** Model ids it answers to (default `["sealgate-builtin"]`); e.g. add "gpt-4o-mini" for an app's dev setup. */
  models?: readonly string[];
  /** Unix seconds for `created` (injected: the model itself reads no clock). */
  now?: () => number;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The built-in model's own refusal, written for the API client (sealed to it). */
function invalid(message: string): never {
  throw new SealgateError('invalid_argument', message, undefined, { clientMessage: message });
}

function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** `stream`, and whether a streamed answer ends with a usage chunk. */
function streamMode(
  body: Record<string, unknown>,
  allowStream: boolean,
): { stream: boolean; usage: boolean } {
  const stream = body.stream === true;
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') {
    invalid('stream must be a boolean');
  }
  if (stream && !allowStream) invalid('stream is not supported on this route');
  const so = body.stream_options;
  if (so === undefined || so === null) return { stream, usage: false };
  if (typeof so !== 'object' || Array.isArray(so)) invalid('stream_options must be an object');
  if (!stream) invalid('stream_options is only allowed when stream is true');
  const include = (so as { include_usage?: unknown }).include_usage;
  if (include !== undefined && include !== null && typeof include !== 'boolean') {
    invalid('stream_options.include_usage must be a boolean');
  }
  return { stream, usage: include === true };
}

function refuseLogprobs(body: Record<string, unknown>): void {
  const lp = body.logprobs;
  if (lp !== undefined && lp !== null && lp !== false)
    invalid('logprobs are not supported by the built-in model');
}

/** Absent, null, or one of `free`: a choice that leaves the model free not to call anything. */
const leavesFree = (v: unknown, free: readonly unknown[]) =>
  v === undefined || v === null || free.includes(v);

/**
 * The built-in model writes plain text and never calls a tool. A request that needs otherwise is
 * refused rather than answered in a shape it did not ask for (the openai SDK's `parse()` would
 * throw on the text; a forced tool call would silently not happen; audio asked for would not
 * come): `response_format` other than text, a `tool_choice` that forces a call ("required", or a
 * named function), the deprecated `function_call` naming a function, and audio output
 * (`modalities` other than ["text"], or `audio`). Tools or functions offered with "auto" or "none"
 * are fine: the model may always answer without calling one.
 */
function refuseWhatTextCannotMeet(body: Record<string, unknown>): void {
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    const type = typeof format === 'object' ? (format as { type?: unknown }).type : undefined;
    if (type !== 'text')
      invalid('response_format other than {"type":"text"} is not supported by the built-in model');
  }
  if (!leavesFree(body.tool_choice, ['auto', 'none']) || !leavesFree(body.function_call, ['auto', 'none'])) {
    invalid(
      'a tool_choice or function_call that forces a call is not supported by the built-in model (it never calls tools)',
    );
  }
  const modalities = body.modalities;
  const textOnly = Array.isArray(modalities) && modalities.length === 1 && modalities[0] === 'text';
  if (!leavesFree(modalities, []) && !textOnly)
    invalid('the built-in model answers modalities ["text"] only');
  if (!leavesFree(body.audio, [])) invalid('audio output is not supported by the built-in model');
}

async function idFor(prefix: string, body: Record<string, unknown>): Promise<string> {
  return `${prefix}-${toHex(await sha256(utf8.encode(JSON.stringify(body)))).slice(0, 24)}`;
}

export function createBuiltinModel(options: BuiltinModelOptions = {}): ModelBackend {
  const models = [...(options.models ?? [BUILTIN_MODEL_ID])];
  if (models.length === 0 || models.some((m) => typeof m !== 'string' || m.length === 0)) {
    throw new SealgateError('invalid_argument', 'createBuiltinModel: models must be non-empty strings');
  }
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));

  // Messages and Responses are answered through their translation to chat (src/api/).
  return withApiRoutes({
    description: 'builtin',
    async listModels() {
      const created = now();
      return {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model' as const, created, owned_by: 'sealgate' })),
      };
    },
    servesModel: (model) => models.includes(model),
    async call(route: ModelRoute, call: ModelCall): Promise<ModelAnswer> {
      const { body } = call;
      if (typeof body.model !== 'string' || !models.includes(body.model)) {
        invalid('model is not served by the built-in model');
      }
      const head = { created: now(), model: body.model };
      switch (route) {
        case '/v1/chat/completions':
          return await chat(body, head, call.signal);
        case '/v1/completions':
          return await completions(body, head, call.signal);
        case '/v1/embeddings':
          return await embeddings(body, head.model);
        case '/v1/audio/transcriptions':
          return {
            kind: 'json',
            body: builtinTranscription(await parseTranscriptionForm(readSealedForm(body))),
          };
        default:
          return invalid('unknown route');
      }
    },
  });
}

interface Head {
  created: number;
  model: string;
}

async function chat(body: Record<string, unknown>, h: Head, signal?: AbortSignal): Promise<ModelAnswer> {
  const mode = streamMode(body, true);
  refuseLogprobs(body);
  refuseWhatTextCannotMeet(body);
  const n = choiceCount(body);
  const reading = readChatMessages(body.messages);
  const cut = untilStop(chatReplyWords(reading.lastUserText), stopSequences(body), '');
  const { words, finishReason } = limitWords(cut.words, maxTokens(body, undefined));
  // The stop sequence that ended the answer, as vLLM's OpenAI-compatible server names it on a choice
  // (`stop_reason`; docs/gateway.md): the Messages translation's `stop_sequence` comes from it.
  const stopped = finishReason === 'stop' && cut.stop !== null ? { stop_reason: cut.stop } : {};
  const id = await idFor('chatcmpl', body);
  const total = usage(reading.promptTokens, n * words.length);
  const base = { id, object: 'chat.completion', created: h.created, model: h.model };
  const indices = Array.from({ length: n }, (_, i) => i);
  if (!mode.stream) {
    return {
      kind: 'json',
      body: {
        ...base,
        system_fingerprint: BUILTIN_FINGERPRINT,
        choices: indices.map((index) => ({
          index,
          message: { role: 'assistant', content: words.join(' '), refusal: null },
          logprobs: null,
          finish_reason: finishReason,
          ...stopped,
        })),
        usage: total,
      },
    };
  }
  const chunk = (choices: unknown[]) =>
    JSON.stringify({
      ...base,
      object: 'chat.completion.chunk',
      system_fingerprint: BUILTIN_FINGERPRINT,
      choices,
      ...(mode.usage ? { usage: null } : {}),
    });
  const choice = (index: number, delta: Record<string, unknown>, finish: string | null = null) => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  function* events(): Generator<string> {
    for (const i of indices) yield chunk([choice(i, { role: 'assistant', content: '' })]);
    for (let w = 0; w < words.length; w++) {
      for (const i of indices) yield chunk([choice(i, { content: w === 0 ? words[w] : ` ${words[w]}` })]);
    }
    for (const i of indices) yield chunk([{ ...choice(i, {}, finishReason), ...stopped }]);
    if (mode.usage) {
      yield JSON.stringify({
        ...base,
        object: 'chat.completion.chunk',
        system_fingerprint: BUILTIN_FINGERPRINT,
        choices: [],
        usage: total,
      });
    }
    yield SSE_DONE;
  }
  return { kind: 'stream', events: paced(events(), signal) };
}

function readPrompts(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string')) return prompt;
  return invalid('prompt must be a string or a non-empty array of strings (token arrays are not supported)');
}

async function completions(
  body: Record<string, unknown>,
  h: Head,
  signal?: AbortSignal,
): Promise<ModelAnswer> {
  const mode = streamMode(body, true);
  refuseLogprobs(body);
  const n = choiceCount(body);
  const echo = body.echo === true;
  if (body.echo !== undefined && body.echo !== null && typeof body.echo !== 'boolean') {
    invalid('echo must be a boolean');
  }
  const prompts = readPrompts(body.prompt);
  const limit = maxTokens(body, COMPLETIONS_DEFAULT_MAX_TOKENS);
  const stops = stopSequences(body);
  const cut = (p: string) => limitWords(untilStop(completionWords(p), stops, ' ').words, limit);
  const answers = prompts.map((p) => ({ prompt: p, ...cut(p) }));
  const promptTokens = prompts.reduce((sum, p) => sum + countWords(p), 0);
  const completionTokens = n * answers.reduce((sum, a) => sum + a.words.length, 0);
  const total = usage(promptTokens, completionTokens);
  const id = await idFor('cmpl', body);
  const base = { id, object: 'text_completion', created: h.created, model: h.model };
  // OpenAI orders choices prompt by prompt, n per prompt: index = prompt_index · n + j.
  const choices = answers.flatMap((a) => Array.from({ length: n }, () => a));
  if (!mode.stream) {
    return {
      kind: 'json',
      body: {
        ...base,
        system_fingerprint: BUILTIN_FINGERPRINT,
        choices: choices.map((a, index) => ({
          text: (echo ? a.prompt : '') + a.words.map((w) => ` ${w}`).join(''),
          index,
          logprobs: null,
          finish_reason: a.finishReason,
        })),
        usage: total,
      },
    };
  }
  const chunk = (index: number, text: string, finish: string | null = null) =>
    JSON.stringify({
      ...base,
      system_fingerprint: BUILTIN_FINGERPRINT,
      choices: [{ text, index, logprobs: null, finish_reason: finish }],
      ...(mode.usage ? { usage: null } : {}),
    });
  function* events(): Generator<string> {
    if (echo) for (const [i, a] of choices.entries()) yield chunk(i, a.prompt);
    const longest = Math.max(...choices.map((a) => a.words.length));
    for (let w = 0; w < longest; w++) {
      for (const [i, a] of choices.entries()) if (w < a.words.length) yield chunk(i, ` ${a.words[w]}`);
    }
    for (const [i, a] of choices.entries()) yield chunk(i, '', a.finishReason);
    if (mode.usage) {
      yield JSON.stringify({ ...base, system_fingerprint: BUILTIN_FINGERPRINT, choices: [], usage: total });
    }
    yield SSE_DONE;
  }
  return { kind: 'stream', events: paced(events(), signal) };
}

async function embeddings(body: Record<string, unknown>, model: string): Promise<ModelAnswer> {
  streamMode(body, false);
  const inputs = readEmbeddingInputs(body.input);
  const dimensions = readDimensions(body.dimensions);
  const format = readEncodingFormat(body.encoding_format);
  const data: unknown[] = [];
  let tokens = 0;
  for (const [index, input] of inputs.entries()) {
    const vector = await embed(input.bytes, dimensions);
    tokens += input.tokens;
    data.push({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? float32Base64(vector) : Array.from(vector),
    });
  }
  return {
    kind: 'json',
    body: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
  };
}

/** The events as an async stream that stops between chunks once `signal` aborts (the client left). */
async function* paced(events: Iterable<string>, signal?: AbortSignal): AsyncGenerator<string> {
  for (const event of events) {
    if (signal?.aborted) return;
    yield event;
  }
}
