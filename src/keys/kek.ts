/**
 * Key-encryption keys (KEKs): 32-byte AES-256 keys that wrap each request's data key (AES-KW,
 * RFC 3394). A KEK has a key id and a validity window in Unix seconds.
 *
 * Key id = base64url(SHA-256("sealgate/v1/kid" ‖ key)[0:16]) — 22 characters. Why derived and not
 * random: the id is self-certifying. Every holder (gateway, attestation service, worker) recomputes
 * it from the key it received, so an id can never name a different key (no bookkeeping to get wrong,
 * no way for a relay to relabel keys), and it needs no extra randomness or coordination. 128 bits
 * make accidental collisions impossible in practice; the label keeps the hash from equalling any
 * other use of SHA-256 over the same key. An id reveals nothing about a uniformly random 256-bit key.
 */
import { concatBytes, constantTimeEqual, sha256, toBase64Url, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { drawRandom, type RandomSource, systemRandom } from './random.js';
import { checkUnixSeconds } from './time.js';

export const KEK_LENGTH = 32;
/** 16 bytes as unpadded base64url. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;
const KID_LABEL = 'sealgate/v1/kid';
/** Binary KEK record (inside HPKE, see kek-transport.ts): format ‖ key ‖ notBefore ‖ notAfter. */
export const KEK_RECORD_LENGTH = 1 + KEK_LENGTH + 8 + 8;
const KEK_RECORD_FORMAT = 0x01;

export interface Kek {
  /** Derived from `key` (see above). */
  readonly kid: string;
  /** AES-256 key, 32 bytes. */
  readonly key: Uint8Array;
  /** First second (Unix) at which a sealer may pick this key. */
  readonly notBefore: number;
  /** First second (Unix) at which the key is no longer accepted, for sealing or opening. */
  readonly notAfter: number;
}

export async function deriveKeyId(key: Uint8Array): Promise<string> {
  checkKeyBytes(key, 'deriveKeyId');
  const digest = await sha256(concatBytes(utf8.encode(KID_LABEL), key));
  return toBase64Url(digest.subarray(0, 16));
}

/** A new KEK (key from `random` unless given), with its derived id. */
export async function createKek(options: {
  notBefore: number;
  notAfter: number;
  key?: Uint8Array;
  random?: RandomSource;
}): Promise<Kek> {
  const key =
    options.key === undefined
      ? drawRandom(options.random ?? systemRandom, KEK_LENGTH, 'a KEK')
      : checkKeyBytes(options.key, 'createKek').slice();
  const { notBefore, notAfter } = checkWindow(options.notBefore, options.notAfter, 'createKek');
  return Object.freeze({ kid: await deriveKeyId(key), key, notBefore, notAfter });
}

/**
 * Checks a KEK from anywhere (a literal, storage, the wire): shape, window, and that its id is the
 * one derived from its key. Returns a frozen copy.
 */
export async function checkKek(kek: unknown, fn = 'checkKek'): Promise<Kek> {
  if (typeof kek !== 'object' || kek === null) {
    throw new SealgateError('invalid_argument', `${fn}: KEK must be an object`);
  }
  const { kid, key, notBefore, notAfter } = kek as Record<string, unknown>;
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new SealgateError('invalid_argument', `${fn}: kid must be 22 base64url characters`);
  }
  const bytes = checkKeyBytes(key, fn).slice();
  const window = checkWindow(notBefore, notAfter, fn);
  const expected = await deriveKeyId(bytes);
  if (!constantTimeEqual(utf8.encode(expected), utf8.encode(kid))) {
    throw new SealgateError('invalid_argument', `${fn}: kid does not match key`, { kid });
  }
  return Object.freeze({ kid, key: bytes, ...window });
}

/** The 49-byte record carried inside HPKE: 0x01 ‖ key[32] ‖ u64be(notBefore) ‖ u64be(notAfter). */
export function encodeKekRecord(kek: Kek): Uint8Array {
  const out = new Uint8Array(KEK_RECORD_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = KEK_RECORD_FORMAT;
  out.set(checkKeyBytes(kek.key, 'encodeKekRecord'), 1);
  view.setBigUint64(1 + KEK_LENGTH, BigInt(kek.notBefore));
  view.setBigUint64(1 + KEK_LENGTH + 8, BigInt(kek.notAfter));
  return out;
}

/** Inverse of encodeKekRecord; the id is recomputed from the key. */
export async function decodeKekRecord(record: Uint8Array): Promise<Kek> {
  if (!(record instanceof Uint8Array) || record.length !== KEK_RECORD_LENGTH) {
    throw new SealgateError('decryption_failed', `KEK record must be ${KEK_RECORD_LENGTH} bytes`);
  }
  if (record[0] !== KEK_RECORD_FORMAT) {
    throw new SealgateError('decryption_failed', `KEK record: unknown format ${record[0]}`);
  }
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const nbf = view.getBigUint64(1 + KEK_LENGTH);
  const exp = view.getBigUint64(1 + KEK_LENGTH + 8);
  if (nbf > BigInt(Number.MAX_SAFE_INTEGER) || exp > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SealgateError('decryption_failed', 'KEK record: time out of range');
  }
  try {
    return await createKek({
      key: record.slice(1, 1 + KEK_LENGTH),
      notBefore: Number(nbf),
      notAfter: Number(exp),
    });
  } catch (cause) {
    throw new SealgateError('decryption_failed', 'KEK record: invalid validity window', undefined, { cause });
  }
}

function checkKeyBytes(key: unknown, fn: string): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEK_LENGTH) {
    throw new SealgateError('invalid_argument', `${fn}: key must be ${KEK_LENGTH} bytes`);
  }
  return key;
}

function checkWindow(
  notBefore: unknown,
  notAfter: unknown,
  fn: string,
): { notBefore: number; notAfter: number } {
  const nbf = checkUnixSeconds(notBefore, `${fn}: notBefore`);
  const exp = checkUnixSeconds(notAfter, `${fn}: notAfter`);
  if (exp <= nbf) throw new SealgateError('invalid_argument', `${fn}: notAfter must be after notBefore`);
  return { notBefore: nbf, notAfter: exp };
}
