/**
 * The one reader of a body with a byte limit, counted as the bytes arrive (a `content-length`
 * header is only an early refusal, never trusted as the size: RFC 9110 §8.6). Runtime-neutral.
 * A failing stream rejects with its own error; callers say what a cut body means to them.
 */
import { concatBytes } from '../bytes.js';

/** The whole body, or null as soon as it is known to exceed `max` bytes (the stream is cancelled). */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  max: number,
): Promise<Uint8Array | null> {
  if (Number(contentLength ?? Number.NaN) > max) {
    await body?.cancel().catch(() => undefined);
    return null;
  }
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    parts.push(value);
  }
  return concatBytes(...parts);
}

/** RFC 9110 §8.6: Content-Length = 1*DIGIT (at most 15 digits here: beyond any body we accept). */
export function isContentLengthSyntax(header: string): boolean {
  return /^[0-9]{1,15}$/.test(header.trim());
}
