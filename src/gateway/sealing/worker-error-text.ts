/**
 * What a client reads of a worker's refusal. The hop between the gateway and a worker is trusted
 * only through attestation (docs/threat-model.md), and a refusal is not sealed: whoever sits on
 * that hop could write any text into it ("your key was revoked, get a new one at …"), and the
 * gateway would hand it on as the worker's words. So only the texts a worker writes are handed on
 * — a worker's refusals carry fixed texts (src/ai-worker/sealed-exchange.ts `errorAnswer` and
 * `failureAnswer`: the detail stays in the CVM's log) — and any other text is replaced by one the
 * gateway writes from the code alone.
 */

/** The worker's fixed refusal texts (src/ai-worker/sealed-exchange.ts, app.ts). */
const FIXED = new Set([
  'this worker does not serve that model',
  'sealed requests are application/json',
  'the body must not be content- or transfer-coded',
  'request body is not UTF-8 JSON',
  'this route accepts only sealed requests (docs/protocol.md)',
  'no such route',
]);
/** `failureAnswer`'s text, and `errorAnswer`'s one text with a number in it. */
const PATTERNS = [
  /^(sealed request|model call|sealing the answer|request) refused: [a-z_]{1,40} \(details are in the worker's log\)$/,
  /^request body exceeds [0-9]{1,16} bytes$/,
];

/** The message a client gets for a worker's refusal with `code` (an HTTP error code) and `text`. */
export function workerRefusalMessage(code: string, text: string | null): string {
  if (text !== null && (FIXED.has(text) || PATTERNS.some((p) => p.test(text)))) {
    return `the AI worker refused the request: ${text}`;
  }
  return `the AI worker refused the request (${code})`;
}
