/**
 * Sealing a non-streamed OpenAI response (AI worker) and opening it (gateway).
 *
 * Sealed body (JSON):  { ["usage": {…},] "sealgate": { "v": 1, "rs", "ct" } }
 *
 * rs  = 32 random bytes chosen by the responder (salt of K_resp, see data-key.ts)
 * ct  = AES-256-GCM(K_resp, nonce = 0^96, JSON(rest), AAD)
 * AAD = LP("sealgate/v1/response") ‖ LP(kid) ‖ LP(rid) ‖ LP(route) ‖ LP(JCS(plain))
 *
 * A fixed nonce is sound because K_resp encrypts exactly one message: it is derived from a fresh
 * DEK *and* a fresh rs. The AAD ties the response to the request it answers (kid, rid, route) and
 * authenticates the plain `usage`.
 *
 * `usage` is plain only when it has the metering shape — an object whose values are non-negative
 * integers, null, or objects of those (OpenAI's `prompt_tokens_details` etc.). Any other `usage`
 * stays sealed: a surprising model server costs metering visibility, never confidentiality.
 */
import { SealgateError } from '../errors.js';
import { canonicalizeJson as canonicalJson } from '../json/canonical.js';
import { isWellFormedString } from '../json/strict-json.js';
import { decodeBase64UrlField, jsBase64Url } from '../keys/encoding.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';

import {
  HKDF_INFO,
  IV_LENGTH,
  isEnvelopeCrypto,
  RESPONSE_SALT_LENGTH,
  type RequestContext,
  TAG_LENGTH,
} from './data-key.js';
import {
  decodeSealedObject,
  ENVELOPE_FIELD,
  encodeJsonObject,
  isPlainObject,
  PROTOCOL_VERSION,
  parseJsonInput,
  responseAad,
} from './wire.js';

const ZERO_NONCE = new Uint8Array(IV_LENGTH);
const ENVELOPE_KEYS = ['ct', 'rs', 'v'];
const MAX_USAGE_KEYS = 32;
const WHAT = 'sealed response';

export interface SealedResponse {
  readonly usage?: Readonly<Record<string, unknown>>;
  readonly sealgate: { readonly v: 1; readonly rs: string; readonly ct: string };
}

export async function sealResponse(
  context: RequestContext,
  body: unknown,
  options: { random?: RandomSource } = {},
): Promise<SealedResponse> {
  const fn = 'sealResponse';
  checkContext(context, fn);
  if (!isPlainObject(body)) throw new SealgateError('invalid_argument', `${fn}: body must be a JSON object`);
  const plain: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'usage' && isMeteringUsage(v)) plain.usage = v;
    else Object.defineProperty(rest, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const restBytes = encodeJsonObject(rest, fn);
  const rs = drawRandom(options.random ?? systemRandom, RESPONSE_SALT_LENGTH, 'a response salt');
  const key = await context.crypto.deriveAesKey(context.dek, rs, HKDF_INFO.response);
  const ct = await context.crypto.gcmSeal(key, ZERO_NONCE, aadFor(context, plain), restBytes);
  const b64 = context.crypto.base64url ?? jsBase64Url;
  return { ...plain, [ENVELOPE_FIELD]: { v: PROTOCOL_VERSION, rs: b64.encode(rs), ct: b64.encode(ct) } };
}

/** Opens a sealed response (parsed JSON or its text) for the request behind `context`. */
export async function openResponse(
  context: RequestContext,
  sealedInput: unknown,
): Promise<Record<string, unknown>> {
  checkContext(context, 'openResponse');
  const fail = (message: string): never => {
    throw new SealgateError('decryption_failed', `${WHAT}: ${message}`);
  };
  const sealed = parseJsonInput(sealedInput, WHAT);
  if (!isPlainObject(sealed)) return fail('expected a JSON object');
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sealed)) {
    if (k === ENVELOPE_FIELD) continue;
    if (k !== 'usage') return fail(`unexpected field "${k}"`);
    if (!isMeteringUsage(v)) return fail('usage must be an object of non-negative integers');
    plain.usage = v;
  }
  const env = sealed[ENVELOPE_FIELD];
  if (!isPlainObject(env)) return fail(`"${ENVELOPE_FIELD}" must be an object`);
  const pt = await openResponseEnvelope(context, env, aadFor(context, plain), WHAT);
  // The gateway writes the answer on to its client: numbers beyond 2^53 stay as the model wrote them.
  const rest = decodeSealedObject(pt, WHAT, true);
  if (Object.hasOwn(plain, 'usage') && Object.hasOwn(rest, 'usage'))
    return fail('usage both plain and sealed');
  return { ...rest, ...plain };
}

/** The plain-usage rule (docs/protocol.md "Plaintext allow-list"). */
export function isMeteringUsage(value: unknown): value is Record<string, unknown> {
  return isCountsObject(value, true);
}

// Module-level, not closures per call (tsx names each per-call closure with a defineProperty).
function isCount(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

/** At most MAX_USAGE_KEYS well-formed names of ≤ 64 characters, each a count or (`nested`) such an object. */
function isCountsObject(v: unknown, nested: boolean): boolean {
  if (!isPlainObject(v)) return false;
  const entries = Object.entries(v);
  if (entries.length > MAX_USAGE_KEYS) return false;
  for (const [k, x] of entries) {
    if (k.length > 64 || !isWellFormedString(k)) return false;
    if (!isCount(x) && !(nested && isCountsObject(x, false))) return false;
  }
  return true;
}

function aadFor(context: RequestContext, plain: Record<string, unknown>): Uint8Array {
  return responseAad({
    kid: context.kid,
    requestId: context.requestId,
    route: context.route,
    plainJson: canonicalJson(plain),
  });
}

export function checkContext(context: unknown, fn: string): asserts context is RequestContext {
  if (
    !isPlainObject(context) ||
    typeof context.kid !== 'string' ||
    typeof context.requestId !== 'string' ||
    typeof context.route !== 'string' ||
    typeof context.model !== 'string' ||
    !isEnvelopeCrypto(context.crypto) ||
    !context.crypto.isDek(context.dek)
  ) {
    throw new SealgateError('invalid_argument', `${fn}: context must come from sealRequest or openRequest`);
  }
}

/**
 * Opens the envelope `{v, rs, ct}` of a sealed answer or error (exactly those members, `v` the
 * protocol's): K_resp = HKDF(DEK, salt = rs, "sealgate/v1/response-key") (data-key.ts), then
 * AES-256-GCM with the zero nonce under `aad` — each label its own, so neither opens as the other.
 * `rs` is RESPONSE_SALT_LENGTH bytes and `ct` at least the tag, each canonical base64url
 * (RFC 4648 §5). Anything else is `decryption_failed` naming `what`.
 */
export async function openResponseEnvelope(
  context: RequestContext,
  env: Record<string, unknown>,
  aad: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  const fail = (message: string): never => {
    throw new SealgateError('decryption_failed', `${what}: ${message}`);
  };
  if (Object.keys(env).sort().join(',') !== ENVELOPE_KEYS.join(',')) {
    return fail(`"${ENVELOPE_FIELD}" must have exactly v, rs, ct`);
  }
  if (env.v !== PROTOCOL_VERSION) return fail('unsupported version');
  const codec = context.crypto.base64url ?? jsBase64Url;
  const rs = decodeBase64UrlField(env.rs, {
    code: 'decryption_failed',
    message: `${what}: rs must be ${RESPONSE_SALT_LENGTH} bytes of canonical base64url`,
    length: RESPONSE_SALT_LENGTH,
    codec,
  });
  const ct = decodeBase64UrlField(env.ct, {
    code: 'decryption_failed',
    message: `${what}: ct must be at least ${TAG_LENGTH} bytes of canonical base64url`,
    minLength: TAG_LENGTH,
    codec,
  });
  const key = await context.crypto.deriveAesKey(context.dek, rs, HKDF_INFO.response);
  return await context.crypto.gcmOpen(key, ZERO_NONCE, aad, ct, `${what}: authentication failed`);
}
