/**
 * How each route's stream ends, by its `data` payloads alone:
 *   chat, completions  `[DONE]` (OpenAI API reference, "Streaming")
 *   /v1/messages       `{"type":"message_stop"}`; `{"type":"error"}` fails (Messages API, "Streaming")
 *   /v1/responses      `response.completed` / `response.incomplete`; `response.failed` and `error`
 *                      fail (Responses API, "Streaming events")
 * The same rule tells the worker when a native stream is complete and the gateway which event to
 * hold back until the sealed stream's end frame verified.
 */
import { isRecord } from '../json/object-guards.js';

export type StreamStep = 'more' | 'end' | 'fail';

const TYPED_ENDS: Readonly<Record<string, { end: readonly string[]; fail: readonly string[] }>> = {
  '/v1/messages': { end: ['message_stop'], fail: ['error'] },
  '/v1/responses': { end: ['response.completed', 'response.incomplete'], fail: ['response.failed', 'error'] },
};

/**
 * Whether `route`'s events are named and typed by their JSON `type` (Messages, Responses); on the
 * other routes (chat, completions) only `[DONE]` means anything, so a relay need not parse events.
 */
export function hasTypedEvents(route: string): boolean {
  return Object.hasOwn(TYPED_ENDS, route);
}

/** The SSE event name for a payload on `route`: its `type` on the typed routes, none otherwise. */
export function sseEventName(route: string, data: string): string | undefined {
  if (!Object.hasOwn(TYPED_ENDS, route)) return undefined;
  return typeOf(data);
}

export function streamStep(route: string, data: string): StreamStep {
  const rule = Object.hasOwn(TYPED_ENDS, route) ? TYPED_ENDS[route] : undefined;
  if (!rule) return data === '[DONE]' ? 'end' : 'more';
  return stepOfType(rule, typeOf(data));
}

/**
 * `streamStep` and `sseEventName` of one payload, from one parse of it (a relay needs both per
 * event; on the typed routes each is a JSON.parse of the whole event).
 */
export function streamEventOf(route: string, data: string): { step: StreamStep; name: string | undefined } {
  const rule = Object.hasOwn(TYPED_ENDS, route) ? TYPED_ENDS[route] : undefined;
  if (!rule) return { step: data === '[DONE]' ? 'end' : 'more', name: undefined };
  const type = typeOf(data);
  return { step: stepOfType(rule, type), name: type };
}

/**
 * Whether a chat or completions payload (not `[DONE]`) is a chunk a client can take: a JSON object
 * without an in-band `error` (vLLM and OpenAI report a failure mid-stream as a data object with
 * `error`; older vLLM as `object: "error"`). The openai SDK JSON-parses every such payload and throws
 * on `error` (core/streaming.js), so anything else would reach the app as the SDK's parse error or
 * as an error it did not get from us. The worker applies the same rule to its model server's stream.
 */
export function isChatChunk(data: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return false;
  }
  if (!isRecord(value)) return false;
  const { error, object } = value as { error?: unknown; object?: unknown };
  return (error === undefined || error === null) && object !== 'error';
}

function stepOfType(rule: { end: readonly string[]; fail: readonly string[] }, type: string | undefined) {
  if (type === undefined) return 'fail';
  if (rule.end.includes(type)) return 'end';
  return rule.fail.includes(type) ? 'fail' : 'more';
}

function typeOf(data: string): string | undefined {
  try {
    const value: unknown = JSON.parse(data);
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}
