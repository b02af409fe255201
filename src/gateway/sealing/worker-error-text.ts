/**
 * What a client reads of a worker's plain refusal. A worker refuses plainly only before it opened
 * the request (src/http/worker-errors.ts; after, its refusals are sealed: upstream.ts), and a plain
 * refusal is not authenticated: whoever sits on the hop between gateway and worker
 * (docs/threat-model.md) could write any text into it ("your key was revoked, get a new one at …"),
 * and the gateway would hand it on as the worker's words. So only the fixed texts a worker writes
 * before opening are handed on (src/ai-worker/sealed-exchange.ts `errorAnswer`, `failureAnswer`:
 * the detail stays in the CVM's log), and any other text is replaced by one the gateway writes from
 * the code alone.
 */

/** The worker's fixed texts of its refusals before opening (src/ai-worker/sealed-exchange.ts, app.ts). */
const FIXED = new Set([
  'sealed requests are application/json',
  'the body must not be content- or transfer-coded',
  'request body is not UTF-8 JSON',
  'no such route',
]);
/** `failureAnswer`'s text, and `errorAnswer`'s one text with a number in it. */
const PATTERNS = [
  /^(sealed request|request) refused: [a-z_]{1,40} \(details are in the worker's log\)$/,
  /^request body exceeds [0-9]{1,16} bytes$/,
];

/** The message a client gets for a worker's plain refusal with `code` (an HTTP error code) and `text`. */
export function workerRefusalMessage(code: string, text: string | null): string {
  if (text !== null && (FIXED.has(text) || PATTERNS.some((p) => p.test(text)))) {
    return `the AI worker refused the request: ${text}`;
  }
  return `the AI worker refused the request (${code})`;
}
