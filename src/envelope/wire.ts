/**
 * Version 1 of the sealed-request protocol on the wire: version number, AAD labels and layouts, and
 * the checks for the identifiers that the AAD binds. docs/protocol.md is the normative text.
 *
 * Every AAD is LP(label) ‖ LP(field) ‖ … with LP(x) = u32be(len(x)) ‖ x, strings as UTF-8 and
 * integers as u64be (so the AAD parses back unambiguously whatever the fields contain).
 */
import { utf8 } from '../bytes.js';
import { type ErrorCode, SealgateError } from '../errors.js';
import { keepExactNumbers } from '../json/exact-numbers.js';
import { lengthPrefixed, u64be } from '../keys/encoding.js';

export const PROTOCOL_VERSION = 1;

export const AAD_LABEL = Object.freeze({
  request: 'sealgate/v1/request',
  response: 'sealgate/v1/response',
  /** A sealed error answer (error-response.ts): never opens as an answer, nor an answer as it. */
  error: 'sealgate/v1/error',
  /**
   * Stream format 3 (binary records, stream.ts): its own label, so no frame of format 1 or 2 opens
   * as one of format 3, whatever its bytes.
   */
  stream: 'sealgate/v3/stream',
});

/** The key under which the envelope sits in a sealed JSON body. */
export const ENVELOPE_FIELD = 'sealgate';

/** Request ids: OpenAI-style ids, UUIDs, ULIDs; printable and safe to log. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A route is a URL path the way the gateway routed it: "/v1/chat/completions". */
const ROUTE_PATTERN = /^\/[\x21-\x7e]{0,255}$/;
const MAX_MODEL_LENGTH = 256;

export function requestAad(f: {
  kid: string;
  requestId: string;
  ts: number;
  route: string;
  plainJson: string;
}): Uint8Array {
  return lengthPrefixed(
    REQUEST_LABEL,
    textBytes(f.kid),
    textBytes(f.requestId),
    u64be(f.ts),
    textBytes(f.route),
    textBytes(f.plainJson),
  );
}

export function responseAad(f: {
  kid: string;
  requestId: string;
  route: string;
  plainJson: string;
}): Uint8Array {
  return lengthPrefixed(
    RESPONSE_LABEL,
    textBytes(f.kid),
    textBytes(f.requestId),
    textBytes(f.route),
    textBytes(f.plainJson),
  );
}

/** AAD of a sealed error answer: LP("sealgate/v1/error") ‖ LP(kid) ‖ LP(rid) ‖ LP(route). */
export function errorAad(f: { kid: string; requestId: string; route: string }): Uint8Array {
  return lengthPrefixed(ERROR_LABEL, textBytes(f.kid), textBytes(f.requestId), textBytes(f.route));
}

// The labels' bytes, encoded once (lengthPrefixed copies them; nothing writes to them).
const REQUEST_LABEL = utf8.encode(AAD_LABEL.request);
const RESPONSE_LABEL = utf8.encode(AAD_LABEL.response);
const ERROR_LABEL = utf8.encode(AAD_LABEL.error);
const SHORT_TEXT = 256;

/**
 * UTF-8 of an AAD field. A short ASCII string (key and request ids, routes, the usual plain JSON)
 * is copied code unit by code unit — for ASCII exactly its UTF-8 — instead of one TextEncoder call
 * per field (four per AAD, two AADs per request: 3.9 → 1.5 µs per AAD in isolation); the first
 * code unit above 0x7f, or a longer string, goes to the encoder.
 */
function textBytes(s: string): Uint8Array {
  if (s.length > SHORT_TEXT) return utf8.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return utf8.encode(s);
    out[i] = c;
  }
  return out;
}

export function streamFrameAad(f: {
  kid: string;
  requestId: string;
  route: string;
  seq: number;
  end: FrameEnd;
}): Uint8Array {
  return streamFrameAads(f)(f.seq, f.end);
}

/**
 * A stream frame's last AAD byte: 0x00 a data frame, 0x01 the end frame, 0x02 an error frame (the
 * worker's sealed failure: docs/protocol.md "Sealed stream"). One frame never opens as another.
 */
export type FrameEnd = boolean | 'error';

/**
 * The AAD of every frame of one stream: the label and ids, the same for all of them, are encoded
 * once; each frame appends its seq and end. Byte for byte `streamFrameAad` (lengthPrefixed is the
 * concatenation of each part's u32be(length) ‖ part).
 */
export function streamFrameAads(f: {
  kid: string;
  requestId: string;
  route: string;
}): (seq: number, end: FrameEnd) => Uint8Array {
  const head = lengthPrefixed(
    utf8.encode(AAD_LABEL.stream),
    utf8.encode(f.kid),
    utf8.encode(f.requestId),
    utf8.encode(f.route),
  );
  // u32be(8) ‖ u64be(seq) ‖ u32be(1) ‖ end
  const tailLength = 4 + 8 + 4 + 1;
  return (seq, end) => {
    const out = new Uint8Array(head.length + tailLength);
    out.set(head);
    const view = new DataView(out.buffer, head.length);
    view.setUint32(0, 8);
    view.setBigUint64(4, BigInt(seq));
    view.setUint32(12, 1);
    out[out.length - 1] = end === 'error' ? 2 : end ? 1 : 0;
    return out;
  };
}

/** Stream frame nonce: u32be(0) ‖ u64be(seq) — unique per frame under a per-response key. */
export function streamNonce(seq: number): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(u64be(seq), 4);
  return nonce;
}

export function checkRequestId(value: unknown, name: string, code: ErrorCode = 'invalid_argument'): string {
  if (typeof value !== 'string' || !REQUEST_ID_PATTERN.test(value)) {
    throw new SealgateError(
      code,
      `${name} must be 1–128 characters of [A-Za-z0-9._:-], starting alphanumeric`,
    );
  }
  return value;
}

export function checkRoute(value: unknown, name: string): string {
  if (typeof value !== 'string' || !ROUTE_PATTERN.test(value)) {
    throw new SealgateError(
      'invalid_argument',
      `${name} must be a path of printable ASCII starting with "/"`,
    );
  }
  return value;
}

export function isValidModel(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_MODEL_LENGTH &&
    !/\p{Cc}/u.test(value) &&
    !/\p{Cs}/u.test(value)
  );
}

/** Parses JSON text or passes a value through; broken JSON is `decryption_failed` (framing). */
export function parseJsonInput(input: unknown, what: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    throw new SealgateError('decryption_failed', `${what}: not JSON`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Decrypted bytes → JSON object; anything else is `decryption_failed` (cannot happen from a good
 * sealer). With `exactNumbers` (a request re-serialised for the model server, an answer for the
 * client), a number beyond ±(2^53 − 1) is kept as the sealer wrote it (json/exact-numbers.ts),
 * parsed a second time only when the first parse found one.
 */
export function decodeSealedObject(
  pt: Uint8Array,
  what: string,
  exactNumbers = false,
): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(pt);
    value = JSON.parse(text);
  } catch {
    throw new SealgateError('decryption_failed', `${what}: sealed content is not JSON`);
  }
  if (exactNumbers) value = keepExactNumbers(value, text);
  if (!isPlainObject(value))
    throw new SealgateError('decryption_failed', `${what}: sealed content is not an object`);
  return value;
}

/** JSON text of a body part; bodies are JSON by construction, but a caller may hand us anything. */
export function encodeJsonObject(value: Record<string, unknown>, fn: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new SealgateError('invalid_argument', `${fn}: body is not JSON-serialisable`);
  return utf8.encode(text);
}
