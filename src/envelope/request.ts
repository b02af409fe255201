/**
 * Sealing an OpenAI request body (gateway) and opening it (AI worker).
 *
 * Sealed body (JSON):
 *   { "model": …, ["stream": …,] ["max_tokens": …,] ["n": …,]           ← the plain allow-list
 *     "sealgate": { "v": 1, "kid", "rid", "ts", "wk", "iv", "ct" } }   ← everything else, sealed
 *
 * ct = AES-256-GCM(K_req, iv, JSON(rest), AAD) with
 * AAD = LP("sealgate/v1/request") ‖ LP(kid) ‖ LP(rid) ‖ LP(u64be(ts)) ‖ LP(route) ‖ LP(JCS(plain))
 * so the version, key id, request id, time, route, model and every other plain field are
 * authenticated: change any of them and the tag fails (`decryption_failed`). The route is not on the
 * wire — each side supplies the route it actually serves, which stops a body sealed for one endpoint
 * from being accepted on another.
 */
import { SealgateError } from '../errors.js';
import { canonicalizeJson as canonicalJson } from '../json/canonical.js';
import { type Base64UrlCodec, decodeBase64UrlField, jsBase64Url } from '../keys/encoding.js';
import { type Kek, KID_PATTERN } from '../keys/kek.js';
import type { KeyLookup } from '../keys/key-ring.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { checkUnixSeconds } from '../keys/time.js';
import {
  chooseEnvelopeCrypto,
  DEK_LENGTH,
  HKDF_INFO,
  IV_LENGTH,
  type RequestContext,
  TAG_LENGTH,
  WRAPPED_DEK_LENGTH,
} from './data-key.js';
import type { DekHandle, EnvelopeCrypto } from './envelope-crypto.js';
import type { ReplayGuard } from './replay-guard.js';
import {
  checkRequestId,
  checkRoute,
  decodeSealedObject,
  ENVELOPE_FIELD,
  encodeJsonObject,
  isPlainObject,
  isValidModel,
  PROTOCOL_VERSION,
  parseJsonInput,
  requestAad,
} from './wire.js';

/** The request fields that stay readable (routing, admission, metering). Keep this list short. */
export const PLAIN_REQUEST_FIELDS = Object.freeze(['model', 'stream', 'max_tokens', 'n'] as const);
const ENVELOPE_KEYS = ['ct', 'iv', 'kid', 'rid', 'ts', 'v', 'wk'];
const NO_SALT = new Uint8Array(0);
const WHAT = 'sealed request';

export interface SealedRequestEnvelope {
  readonly v: 1;
  readonly kid: string;
  readonly rid: string;
  readonly ts: number;
  readonly wk: string;
  readonly iv: string;
  readonly ct: string;
}

export interface SealedRequest {
  readonly model: string;
  readonly stream?: boolean | null;
  readonly max_tokens?: number | null;
  readonly n?: number | null;
  readonly sealgate: SealedRequestEnvelope;
}

export interface SealRequestInput {
  /** The sealing key: `keyRing.current(now)`. */
  kek: Kek;
  /** The OpenAI route, e.g. "/v1/chat/completions" (bound in the AAD, not sent). */
  route: string;
  /** Unique per sealing; returned to the worker and bound into the response. */
  requestId: string;
  /** The OpenAI JSON body (a plain object with a string `model`). */
  body: unknown;
  /** Unix seconds; becomes `ts`. */
  now: number;
  /** If given, must equal body.model (lets a caller assert what it routes on). */
  model?: string;
  /** Test vectors only: source of the DEK (first 32 bytes) and the IV (next 12). */
  random?: RandomSource;
  /** The crypto backend (envelope-crypto.ts); the context keeps it. Default: WebCrypto. */
  envelopeCrypto?: EnvelopeCrypto;
}

export interface OpenRequestOptions {
  /** The route this request arrived on. */
  route: string;
  /** Unix seconds. */
  now: number;
  /** Oldest accepted `ts` is now − maxAgeSeconds (1 … 86400). */
  maxAgeSeconds: number;
  /** Newest accepted `ts` is now + this (0 … 3600, default 60): clock skew between gateway and worker. */
  maxFutureSkewSeconds?: number;
  /** Rejects a second opening of the same sealed request inside the window. */
  replayGuard?: ReplayGuard;
  /** The crypto backend (envelope-crypto.ts); the context keeps it. Default: WebCrypto. */
  envelopeCrypto?: EnvelopeCrypto;
}

export async function sealRequest(
  input: SealRequestInput,
): Promise<{ sealed: SealedRequest; context: RequestContext }> {
  const fn = 'sealRequest';
  if (!isPlainObject(input)) throw new SealgateError('invalid_argument', `${fn}: expected an options object`);
  const route = checkRoute(input.route, `${fn}: route`);
  const requestId = checkRequestId(input.requestId, `${fn}: requestId`);
  const now = checkUnixSeconds(input.now, `${fn}: now`);
  const backend = chooseEnvelopeCrypto(input.envelopeCrypto, fn);
  const { kek } = input;
  if (!isPlainObject(kek) || typeof kek.kid !== 'string' || typeof kek.notAfter !== 'number') {
    throw new SealgateError('invalid_argument', `${fn}: kek must be a Kek`);
  }
  if (now >= kek.notAfter) {
    throw new SealgateError('key_expired', `${fn}: kek expired`, {
      kid: kek.kid,
      notAfter: kek.notAfter,
      now,
    });
  }
  const { plain, rest } = splitRequestBody(input.body, fn);
  if (input.model !== undefined && input.model !== plain.model) {
    throw new SealgateError('invalid_argument', `${fn}: model does not match body.model`);
  }
  const plainJson = canonicalJson(plain);
  const restBytes = encodeJsonObject(rest, fn);

  const random = input.random ?? systemRandom;
  const dek = drawRandom(random, DEK_LENGTH, 'a DEK');
  const iv = drawRandom(random, IV_LENGTH, 'the request IV');
  let wrapped: { dek: DekHandle; wk: Uint8Array };
  try {
    wrapped = await backend.importAndWrapDek(kek, dek);
  } finally {
    dek.fill(0);
  }
  const kReq = await backend.deriveAesKey(wrapped.dek, NO_SALT, HKDF_INFO.request);
  const aad = requestAad({ kid: kek.kid, requestId, ts: now, route, plainJson });
  const ct = await backend.gcmSeal(kReq, iv, aad, restBytes);

  const b64 = backend.base64url ?? jsBase64Url;
  const sealed: SealedRequest = {
    ...plain,
    [ENVELOPE_FIELD]: {
      v: PROTOCOL_VERSION,
      kid: kek.kid,
      rid: requestId,
      ts: now,
      wk: b64.encode(wrapped.wk),
      iv: b64.encode(iv),
      ct: b64.encode(ct),
    },
  } as SealedRequest;
  const context: RequestContext = Object.freeze({
    requestId,
    kid: kek.kid,
    route,
    model: plain.model,
    dek: wrapped.dek,
    crypto: backend,
  });
  return { sealed, context };
}

/**
 * Opens a sealed request (parsed JSON or its text). Order: shape → key (`unknown_key`,
 * `key_expired`) → time window (`replay_detected`) → unwrap and decrypt (`decryption_failed`) →
 * replay guard (`replay_detected`; consulted only after authentication, so forged garbage cannot
 * burn a legitimate request's slot).
 */
export async function openRequest(
  sealedInput: unknown,
  keys: KeyLookup,
  options: OpenRequestOptions,
): Promise<{ body: Record<string, unknown>; context: RequestContext }> {
  const fn = 'openRequest';
  if (!isPlainObject(options))
    throw new SealgateError('invalid_argument', `${fn}: expected an options object`);
  const route = checkRoute(options.route, `${fn}: route`);
  const now = checkUnixSeconds(options.now, `${fn}: now`);
  const maxAge = checkSeconds(options.maxAgeSeconds, 1, 86_400, `${fn}: maxAgeSeconds`);
  const maxSkew = checkSeconds(options.maxFutureSkewSeconds ?? 60, 0, 3_600, `${fn}: maxFutureSkewSeconds`);
  if (typeof keys?.get !== 'function')
    throw new SealgateError('invalid_argument', `${fn}: keys must be a KeyLookup`);
  const backend = chooseEnvelopeCrypto(options.envelopeCrypto, fn);

  const b64 = backend.base64url ?? jsBase64Url;
  const { plain, env } = parseSealedRequest(parseJsonInput(sealedInput, WHAT), b64);
  const kek = await lookUp(keys, env.kid, now);

  if (env.ts < now - maxAge) {
    throw new SealgateError('replay_detected', `${WHAT}: older than maxAgeSeconds`, { ts: env.ts, now });
  }
  if (env.ts > now + maxSkew) {
    throw new SealgateError('replay_detected', `${WHAT}: timestamp in the future`, { ts: env.ts, now });
  }

  const dek = await backend.unwrapDek(kek, env.wk, WHAT);
  const kReq = await backend.deriveAesKey(dek, NO_SALT, HKDF_INFO.request);
  const aad = requestAad({
    kid: env.kid,
    requestId: env.rid,
    ts: env.ts,
    route,
    plainJson: canonicalJson(plain),
  });
  const pt = await backend.gcmOpen(kReq, env.iv, aad, env.ct, `${WHAT}: authentication failed`);
  // Exact numbers: the worker writes this body anew for the model server (src/model/upstream.ts).
  const rest = decodeSealedObject(pt, WHAT, true);
  for (const field of PLAIN_REQUEST_FIELDS) {
    if (Object.hasOwn(rest, field)) {
      throw new SealgateError('decryption_failed', `${WHAT}: sealed content repeats plain field "${field}"`);
    }
  }

  if (options.replayGuard) {
    // The wrapped DEK is unique per sealing and canonical on the wire: the natural replay key.
    const id = `${env.kid}.${b64.encode(env.wk)}`;
    const fresh = await options.replayGuard.claim(id, env.ts + maxAge + 1, now);
    if (!fresh) throw new SealgateError('replay_detected', `${WHAT}: already opened`, { rid: env.rid });
  }

  const context: RequestContext = Object.freeze({
    requestId: env.rid,
    kid: env.kid,
    route,
    model: plain.model as string,
    dek,
    crypto: backend,
  });
  return { body: { ...plain, ...rest }, context };
}

/** Splits a body into the plain allow-list (type-checked) and the rest. */
function splitRequestBody(
  body: unknown,
  fn: string,
): { plain: Record<string, unknown> & { model: string }; rest: Record<string, unknown> } {
  if (!isPlainObject(body)) throw new SealgateError('invalid_argument', `${fn}: body must be a JSON object`);
  const plain: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  // Plain fields in allow-list order (stable wire output), everything else into `rest`, copied with
  // defineProperty so a "__proto__" key stays data.
  for (const k of PLAIN_REQUEST_FIELDS) {
    if (!Object.hasOwn(body, k)) continue;
    checkPlainRequestField(k, body[k], 'invalid_argument', `${fn}: body.${k}`);
    plain[k] = body[k];
  }
  for (const [k, v] of Object.entries(body)) {
    if ((PLAIN_REQUEST_FIELDS as readonly string[]).includes(k)) continue;
    Object.defineProperty(rest, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  if (!Object.hasOwn(plain, 'model')) {
    throw new SealgateError('invalid_argument', `${fn}: body.model must be a non-empty string`, {
      param: 'model',
      expected: 'a non-empty string',
    });
  }
  return { plain: plain as Record<string, unknown> & { model: string }, rest };
}

function checkPlainRequestField(
  field: string,
  value: unknown,
  code: 'invalid_argument' | 'decryption_failed',
  name: string,
): void {
  const ok =
    field === 'model'
      ? isValidModel(value)
      : field === 'stream'
        ? value === null || typeof value === 'boolean'
        : value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
  if (ok) return;
  const expected =
    field === 'model'
      ? 'a non-empty string of at most 256 characters, no control characters'
      : field === 'stream'
        ? 'a boolean or null'
        : 'a non-negative integer or null';
  // `param` and `expected` let a caller word its own error for the field (the gateway's 400).
  throw new SealgateError(code, `${name} must be ${expected}`, { param: field, expected });
}

interface ParsedEnvelope {
  kid: string;
  rid: string;
  ts: number;
  wk: Uint8Array;
  iv: Uint8Array;
  ct: Uint8Array;
}

/** A sealed request that does not parse (module-level: no closure per request, see encoding.ts). */
function malformed(message: string): never {
  throw new SealgateError('decryption_failed', `${WHAT}: ${message}`);
}

/** The envelope's binary fields: canonical base64url of these lengths (`minLength` for ct). */
const WK_FIELD = {
  code: 'decryption_failed',
  message: `${WHAT}: wk must be ${WRAPPED_DEK_LENGTH} bytes of canonical base64url`,
  length: WRAPPED_DEK_LENGTH,
} as const;
const IV_FIELD = {
  code: 'decryption_failed',
  message: `${WHAT}: iv must be ${IV_LENGTH} bytes of canonical base64url`,
  length: IV_LENGTH,
} as const;
const CT_FIELD = {
  code: 'decryption_failed',
  message: `${WHAT}: ct must be at least ${TAG_LENGTH} bytes of canonical base64url`,
  minLength: TAG_LENGTH,
} as const;

function parseSealedRequest(
  value: unknown,
  codec: Base64UrlCodec,
): { plain: Record<string, unknown>; env: ParsedEnvelope } {
  if (!isPlainObject(value)) return malformed('expected a JSON object');
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === ENVELOPE_FIELD) continue;
    if (!(PLAIN_REQUEST_FIELDS as readonly string[]).includes(k)) return malformed(`unexpected field "${k}"`);
    checkPlainRequestField(k, v, 'decryption_failed', `${WHAT}: ${k}`);
    plain[k] = v;
  }
  if (!Object.hasOwn(plain, 'model')) return malformed('model missing');
  const env = value[ENVELOPE_FIELD];
  if (!isPlainObject(env)) return malformed(`"${ENVELOPE_FIELD}" must be an object`);
  if (Object.keys(env).sort().join(',') !== ENVELOPE_KEYS.join(',')) {
    return malformed(`"${ENVELOPE_FIELD}" must have exactly v, kid, rid, ts, wk, iv, ct`);
  }
  if (env.v !== PROTOCOL_VERSION) return malformed('unsupported version');
  if (typeof env.kid !== 'string' || !KID_PATTERN.test(env.kid))
    return malformed('kid must be 22 base64url characters');
  const rid = checkRequestId(env.rid, `${WHAT}: rid`, 'decryption_failed');
  if (typeof env.ts !== 'number' || !Number.isSafeInteger(env.ts) || env.ts < 0) {
    return malformed('ts must be a non-negative integer');
  }
  return {
    plain,
    env: {
      kid: env.kid,
      rid,
      ts: env.ts,
      wk: decodeBase64UrlField(env.wk, { ...WK_FIELD, codec }),
      iv: decodeBase64UrlField(env.iv, { ...IV_FIELD, codec }),
      ct: decodeBase64UrlField(env.ct, { ...CT_FIELD, codec }),
    },
  };
}

async function lookUp(keys: KeyLookup, kid: string, now: number): Promise<Kek> {
  let kek: Kek;
  try {
    kek = await keys.get(kid, now);
  } catch (e) {
    if (e instanceof SealgateError) throw e;
    throw new SealgateError('internal', 'openRequest: key lookup failed', { kid }, { cause: e });
  }
  if (!kek || kek.kid !== kid)
    throw new SealgateError('internal', 'openRequest: key lookup returned another key');
  if (now >= kek.notAfter) throw new SealgateError('key_expired', 'openRequest: key expired', { kid, now });
  return kek;
}

function checkSeconds(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new SealgateError('invalid_argument', `${name} must be an integer in ${min}…${max}`);
  }
  return value;
}
