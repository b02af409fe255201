/**
 * The model server's own error message, from the body of its error answer. The dialects in use:
 * OpenAI and Anthropic `{"error": {"message"}}` (vLLM since 0.6 too), vLLM's older
 * `{"object": "error", "message"}`, Ollama and llama.cpp's `{"error": "<text>"}`, and FastAPI's
 * `{"detail": "<text>"}`. Anything else — not JSON, an HTML page of a proxy — has none.
 *
 * The message may quote the prompt: it travels only inside the sealed error answer
 * (src/envelope/error-response.ts, which also makes it plain text and bounds it) and is never
 * logged (SealgateError `clientMessage`).
 */
import { isRecord } from '../json/object-guards.js';

/** Most bytes of an error answer read for its message. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

export function serverErrorMessage(value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const error = value.error;
  const text =
    typeof error === 'string'
      ? error
      : isRecord(error) && typeof error.message === 'string'
        ? error.message
        : typeof value.message === 'string'
          ? value.message
          : typeof value.detail === 'string'
            ? value.detail
            : undefined;
  return text?.trim() ? text : undefined;
}

/** `serverErrorMessage` of an error answer's text. */
export function serverErrorText(text: string): string | undefined {
  try {
    return serverErrorMessage(JSON.parse(text));
  } catch {
    return undefined;
  }
}
