/**
 * The built-in model's text: what it "reads" from a request, what it answers, and how it counts.
 *
 * Tokens, honestly: the built-in model has no tokenizer, so a token here is a **word** — a maximal
 * run of non-whitespace characters (`/\S+/gu`; whitespace per ECMAScript `\s`). `prompt_tokens`
 * counts the words of every text the request carries (all messages' text content, or the prompts,
 * or the embedding inputs; roles and JSON structure are not counted), `completion_tokens` the words
 * of the answer — which is also exactly the number of content chunks a stream carries, since the
 * answer is streamed one word per chunk. Real tokenizers count differently (about 1.3 tokens per
 * English word for BPE vocabularies); these numbers are for plumbing and metering tests, not billing.
 *
 * The answers are deterministic functions of the request (no clock, no randomness), so a test can
 * predict them: chat quotes the last user message and repeats it backwards; completions continue a
 * prompt with its words in reverse order. Both end before a `stop` sequence and after `max_tokens`
 * words, whichever comes first.
 */
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';

/** At most this many words of the user's message are quoted back. */
export const QUOTE_WORDS = 24;
/** OpenAI's default `max_tokens` for /v1/completions (API reference: "Defaults to 16"). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

export function words(text: string): string[] {
  return text.match(/\S+/gu) ?? [];
}

export function countWords(text: string): number {
  return words(text).length;
}

/** The built-in model's own refusal, written for the API client (sealed to it). */
function invalid(message: string): never {
  throw new SealgateError('invalid_argument', message, undefined, { clientMessage: message });
}

/**
 * The text of a chat message's `content`: a string, or an array of content parts of which the
 * `text` parts are read (OpenAI "ChatCompletionContentPart"; images, audio and files are accepted
 * and ignored), or null (an assistant message that only calls tools).
 */
export function messageText(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) invalid(`${where}.content must be a string, an array of parts, or null`);
  const texts: string[] = [];
  content.forEach((part, i) => {
    if (typeof part !== 'object' || part === null || typeof (part as { type?: unknown }).type !== 'string') {
      invalid(`${where}.content[${i}] must be an object with a string "type"`);
    }
    const p = part as { type: string; text?: unknown; refusal?: unknown };
    if (p.type === 'text') {
      if (typeof p.text !== 'string') invalid(`${where}.content[${i}].text must be a string`);
      texts.push(p.text);
    } else if (p.type === 'refusal' && typeof p.refusal === 'string') {
      texts.push(p.refusal);
    }
  });
  return texts.join('\n');
}

export interface ChatReading {
  /** Words of every message's text: the prompt token count. */
  promptTokens: number;
  /** The last `user` message's text ("" when there is none). */
  lastUserText: string;
}

const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

export function readChatMessages(messages: unknown): ChatReading {
  if (!Array.isArray(messages) || messages.length === 0) invalid('messages must be a non-empty array');
  let promptTokens = 0;
  let lastUserText = '';
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!isRecord(m)) invalid(`${where} must be an object`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !CHAT_ROLES.includes(role)) {
      invalid(`${where}.role must be one of ${CHAT_ROLES.join(', ')}`);
    }
    const text = messageText(content, where);
    promptTokens += countWords(text);
    if (role === 'user') lastUserText = text;
  });
  return { promptTokens, lastUserText };
}

/**
 * The chat answer, as words: `You said: "<first 24 words>" Backwards: "<the same words reversed>"`
 * (an ellipsis marks a quote that was cut). Words are rejoined with single spaces, so the streamed
 * chunks (`word`, ` word`, …) concatenate to exactly the non-streamed content.
 */
export function chatReplyWords(lastUserText: string): string[] {
  const said = words(lastUserText);
  if (said.length === 0) return words('You said nothing. Send a user message and I will quote it back.');
  const quoted = said.slice(0, QUOTE_WORDS);
  const more = said.length > QUOTE_WORDS ? ' …' : '';
  return words(
    `You said: "${quoted.join(' ')}${more}" Backwards: "${[...quoted].reverse().join(' ')}${more}"`,
  );
}

/** The completion of `prompt`: its words in reverse order, each preceded by a space. */
export function completionWords(prompt: string): string[] {
  return words(prompt).reverse();
}

/** `max_tokens` / `max_completion_tokens` (positive integer or null) → the word limit. */
export function maxTokens(body: Record<string, unknown>, fallback: number | undefined): number | undefined {
  const fields = ['max_completion_tokens', 'max_tokens'] as const;
  for (const field of fields) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      invalid(`${field} must be a positive integer`);
    }
    return v;
  }
  return fallback;
}

/** OpenAI's `n`: how many choices per prompt (1 when absent). Capped, as OpenAI caps it at 128. */
export function choiceCount(body: Record<string, unknown>, max = 8): number {
  const n = body.n;
  if (n === undefined || n === null) return 1;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max) {
    invalid(`n must be an integer from 1 to ${max}`);
  }
  return n;
}

/** OpenAI's cap on stop sequences (API reference: "stop", up to 4). */
export const MAX_STOP_SEQUENCES = 4;

/** OpenAI's `stop`: a string or an array of 1–4 strings, or null; an empty string is refused. */
export function stopSequences(body: Record<string, unknown>): string[] {
  const stop = body.stop;
  if (stop === undefined || stop === null) return [];
  const list: unknown[] = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : [];
  if (
    list.length === 0 ||
    list.length > MAX_STOP_SEQUENCES ||
    list.some((s) => typeof s !== 'string' || s.length === 0)
  ) {
    invalid(`stop must be a non-empty string or an array of 1 to ${MAX_STOP_SEQUENCES} non-empty strings`);
  }
  return list as string[];
}

/**
 * The answer up to the first occurrence of any stop sequence, as words (OpenAI "stop": the returned
 * text does not contain it), and the sequence it stopped on (`null`: none occurs; of two at the same
 * place, the first in the request's list). The answer's text is `lead` + the words joined by single
 * spaces (chat: no lead; completions: each word after a space, so a lead of one space). A cut inside
 * a word keeps the word's start; the space before a cut is dropped with the rest, as an answer is
 * whole words joined by single spaces (so usage stays one token per streamed chunk).
 */
export function untilStop(
  all: string[],
  stops: readonly string[],
  lead: '' | ' ',
): { words: string[]; stop: string | null } {
  const text = lead + all.join(' ');
  let first: { at: number; stop: string } | null = null;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first === null || at < first.at)) first = { at, stop };
  }
  return first ? { words: words(text.slice(0, first.at)), stop: first.stop } : { words: all, stop: null };
}

/** Cuts `all` to `limit` words; `length` when something was cut (OpenAI finish_reason). */
export function limitWords(
  all: string[],
  limit: number | undefined,
): { words: string[]; finishReason: 'stop' | 'length' } {
  if (limit === undefined || all.length <= limit) return { words: all, finishReason: 'stop' };
  return { words: all.slice(0, limit), finishReason: 'length' };
}
