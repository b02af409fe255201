/**
 * The text of an answer from an endpoint the CLI is checking — one it does not trust yet. It is
 * read with a byte cap counted as the bytes arrive (src/http/read-limited.ts): an endpoint that
 * streams without end gets a refusal, not the CLI's memory (an unbounded `res.text()` aborted the
 * process out of memory within seconds against a local stream). The cap is the strict JSON
 * parser's bound on a text (MAX_JSON_TEXT_LENGTH, 1 MiB); the answers read here are far smaller
 * (an attestation answer about 24 KB, a receipt bundle about 30 KB, a manifest history a few KB).
 */
import { SealgateError } from '../errors.js';
import { readLimited } from '../http/read-limited.js';
import { MAX_JSON_TEXT_LENGTH } from '../json/strict-json.js';

export const MAX_ANSWER_BYTES = MAX_JSON_TEXT_LENGTH;

/** The answer's body as text (lossy UTF-8, as `res.text()`), or `fetch_failed` past the cap. */
export async function answerText(res: Response, where: string): Promise<string> {
  const bytes = await readLimited(res.body, res.headers.get('content-length'), MAX_ANSWER_BYTES);
  if (bytes === null) {
    throw new SealgateError('fetch_failed', `${where} answered more than ${MAX_ANSWER_BYTES} bytes`);
  }
  return new TextDecoder().decode(bytes);
}
