/**
 * Sealing an error answer (AI worker, after it opened the request) and opening it (gateway).
 * docs/protocol.md "Sealed error answer" is the normative text.
 *
 * Body (JSON, media type ERROR_CONTENT_TYPE):  { "sealgate": { "v": 1, "rs", "ct" } }
 *
 * rs  = 32 random bytes chosen by the responder (salt of K_resp, as for an answer: data-key.ts)
 * ct  = AES-256-GCM(K_resp, nonce = 0^96, JSON({code, message, status}), AAD)
 * AAD = LP("sealgate/v1/error") ‖ LP(kid) ‖ LP(rid) ‖ LP(route)
 *
 * The label is the authenticated marker: an error never opens as an answer (label
 * "sealgate/v1/response") nor an answer as an error. K_resp encrypts one message, since every
 * answer — JSON, stream or error — draws its own rs. The HTTP status, the error code and the
 * message are inside the seal, so the hop between gateway and worker can neither choose them nor
 * read the message (which may be the model server's own words about the prompt).
 */
import { SealgateError } from '../errors.js';
import { jsBase64Url } from '../keys/encoding.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { HKDF_INFO, IV_LENGTH, RESPONSE_SALT_LENGTH, type RequestContext } from './data-key.js';
import { checkContext, openResponseEnvelope } from './response.js';
import {
  decodeSealedObject,
  ENVELOPE_FIELD,
  encodeJsonObject,
  errorAad,
  isPlainObject,
  PROTOCOL_VERSION,
  parseJsonInput,
} from './wire.js';

/** The media type of a sealed error answer (its own, so no reader takes it for an answer). */
export const ERROR_CONTENT_TYPE = 'application/vnd.sealgate.error+json';
/** Longest message, in UTF-16 code units; a longer one is cut to it (ending in "…"). */
export const MAX_ERROR_MESSAGE_LENGTH = 2048;

const ZERO_NONCE = new Uint8Array(IV_LENGTH);
const WHAT = 'sealed error';
const CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/**
 * Characters a message turns into a space (`errorMessageText`): C0/C1 controls (a terminal escape,
 * a line break that forges a log line), lone surrogates (not text), the line and paragraph
 * separators, and the explicit bidi embeddings, overrides and isolates (LRE…RLO U+202A–U+202E,
 * LRI…PDI U+2066–U+2069; UAX #9 §2.1–2.4), which reorder the text after them: CVE-2021-42574,
 * "Trojan Source".
 */
const SPACED = /[\p{Cc}\p{Cs}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
/**
 * Invisible characters a message drops: the implicit bidi marks ALM U+061C, LRM U+200E, RLM U+200F
 * (UAX #9 §2.6: they move neutral characters, e.g. punctuation and digits, to a side — Trojan
 * Source's lesser tool) and the tag characters U+E0000–U+E007F (Default_Ignorable_Code_Point, shown
 * as nothing, and so Restricted by UTS #39 §3.1; a run of them spells ASCII no reader sees, smuggled
 * past a human to whatever reads the text next). An error message has no use for either:
 * right-to-left text needs neither, its letters carry their own direction (their Bidi_Class, UAX #9
 * §3.2), so Arabic and Hebrew pass as they are. Dropped,
 * not spaced: they show nothing, so the message reads as it did. An emoji subdivision flag loses
 * its tags and shows as its base flag, U+1F3F4.
 */
const DROPPED = /[\u061c\u200e\u200f\u{e0000}-\u{e007f}]/u;
const UNSAFE = new RegExp(`${SPACED.source}|${DROPPED.source}`, 'u');
const SPACED_ALL = new RegExp(SPACED.source, 'gu');
const DROPPED_ALL = new RegExp(DROPPED.source, 'gu');

/** What a sealed error says: an HTTP error status, a code of the closed set, a message. */
export interface SealedErrorContent {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * A message as text a client can show: control characters, lone surrogates, line and paragraph
 * separators and bidirectional embeddings, overrides and isolates each become a space (`SPACED`:
 * an override could make a message read otherwise than it is), bidi marks and tag characters are
 * dropped (`DROPPED`), and the rest is cut to MAX_ERROR_MESSAGE_LENGTH.
 */
export function errorMessageText(message: string): string {
  const text = message.replace(DROPPED_ALL, '').replace(SPACED_ALL, ' ').trim();
  if (text.length <= MAX_ERROR_MESSAGE_LENGTH) return text;
  // Cut before a high surrogate whose pair would be split.
  let end = MAX_ERROR_MESSAGE_LENGTH - 1;
  if (/[\ud800-\udbff]/.test(text[end - 1]!)) end -= 1;
  return `${text.slice(0, end)}…`;
}

function isErrorContent(
  value: Record<string, unknown>,
): value is Record<string, unknown> & SealedErrorContent {
  const { status, code, message } = value;
  return (
    Object.keys(value).sort().join(',') === 'code,message,status' &&
    Number.isInteger(status) &&
    (status as number) >= 400 &&
    (status as number) <= 599 &&
    typeof code === 'string' &&
    CODE_PATTERN.test(code) &&
    typeof message === 'string' &&
    message.length > 0 &&
    message.length <= MAX_ERROR_MESSAGE_LENGTH &&
    !UNSAFE.test(message)
  );
}

/**
 * The plaintext a sealed error carries: JSON {code, message, status}, the message made plain text
 * (`errorMessageText`; the code when nothing is left). Shared with the stream's error frame
 * (envelope/stream.ts). Refuses (`invalid_argument`) what is not an error in its domains.
 */
export function errorPlaintext(error: SealedErrorContent, fn: string): Uint8Array {
  const message = errorMessageText(error.message) || error.code;
  const content = { code: error.code, message, status: error.status };
  if (!isErrorContent(content)) {
    throw new SealgateError(
      'invalid_argument',
      `${fn}: an error needs a status 400–599, a code and a message`,
    );
  }
  return encodeJsonObject(content, fn);
}

/** Reads an opened error plaintext: exactly {code, message, status} in their domains, else `decryption_failed`. */
export function errorContentOf(pt: Uint8Array, what: string): SealedErrorContent {
  const content = decodeSealedObject(pt, what);
  if (!isErrorContent(content)) {
    throw new SealgateError(
      'decryption_failed',
      `${what}: content is not exactly {code, message, status} in their domains`,
    );
  }
  return { status: content.status, code: content.code, message: content.message };
}

export async function sealErrorResponse(
  context: RequestContext,
  error: SealedErrorContent,
  options: { random?: RandomSource } = {},
): Promise<{ readonly sealgate: { readonly v: 1; readonly rs: string; readonly ct: string } }> {
  const fn = 'sealErrorResponse';
  checkContext(context, fn);
  const pt = errorPlaintext(error, fn);
  const rs = drawRandom(options.random ?? systemRandom, RESPONSE_SALT_LENGTH, 'a response salt');
  const key = await context.crypto.deriveAesKey(context.dek, rs, HKDF_INFO.response);
  const ct = await context.crypto.gcmSeal(key, ZERO_NONCE, aadFor(context), pt);
  const b64 = context.crypto.base64url ?? jsBase64Url;
  return { [ENVELOPE_FIELD]: { v: PROTOCOL_VERSION, rs: b64.encode(rs), ct: b64.encode(ct) } };
}

/**
 * Opens a sealed error (parsed JSON or its text) for the request behind `context`. Anything that
 * does not authenticate under the error label, or opens to other than exactly {code, message,
 * status} in their domains, is `decryption_failed`.
 */
export async function openErrorResponse(
  context: RequestContext,
  input: unknown,
): Promise<SealedErrorContent> {
  checkContext(context, 'openErrorResponse');
  const fail = (message: string): never => {
    throw new SealgateError('decryption_failed', `${WHAT}: ${message}`);
  };
  const sealed = parseJsonInput(input, WHAT);
  if (!isPlainObject(sealed) || Object.keys(sealed).join(',') !== ENVELOPE_FIELD) {
    return fail(`expected exactly {"${ENVELOPE_FIELD}": …}`);
  }
  const env = sealed[ENVELOPE_FIELD];
  if (!isPlainObject(env)) return fail(`"${ENVELOPE_FIELD}" must have exactly v, rs, ct`);
  return errorContentOf(await openResponseEnvelope(context, env, aadFor(context), WHAT), WHAT);
}

function aadFor(context: RequestContext): Uint8Array {
  return errorAad({ kid: context.kid, requestId: context.requestId, route: context.route });
}
