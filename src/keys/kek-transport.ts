/**
 * Moving a KEK between attested parties: the gateway seals it to the attestation service
 * (`HPKE_INFO.kekUpload`), the service seals it to each attested worker (`HPKE_INFO.kekRelease`).
 *
 * Wire form (JSON): { "v": 1, "kid": <22 chars>, "enc": <base64url 1120 bytes>, "ct": <base64url 65 bytes> }
 * HPKE plaintext:   the 49-byte KEK record (kek.ts)
 * HPKE aad:         u32be(len(kid)) ‖ kid ‖ u32be(len(context)) ‖ context
 *
 * `kid` travels in the clear so a receiver can skip keys it already holds without an HPKE open; it is
 * bound by the aad and re-derived from the opened key, so it cannot be relabelled. `context` is the
 * caller's binding (e.g. the attestation nonce or the recipient's evidence digest), empty by default.
 */
import { toBase64Url, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';
import { decodeBase64UrlField, lengthPrefixed } from './encoding.js';
import { HPKE_INFO, openWithPrivateKey, sealToPublicKey, XWING_ENC_LENGTH } from './hpke.js';
import {
  checkKek,
  decodeKekRecord,
  encodeKekRecord,
  KEK_RECORD_LENGTH,
  type Kek,
  KID_PATTERN,
} from './kek.js';
import type { RandomSource } from './random.js';

export type KekPurpose = 'kek-upload' | 'kek-release';

export interface SealedKek {
  readonly v: 1;
  readonly kid: string;
  readonly enc: string;
  readonly ct: string;
}

const INFO: Record<KekPurpose, string> = {
  'kek-upload': HPKE_INFO.kekUpload,
  'kek-release': HPKE_INFO.kekRelease,
};
const SEALED_KEYS = ['ct', 'enc', 'kid', 'v'];

export async function sealKek(
  publicKey: Uint8Array,
  kek: Kek,
  options: { purpose: KekPurpose; context?: Uint8Array; random?: RandomSource },
): Promise<SealedKek> {
  const checked = await checkKek(kek, 'sealKek');
  const info = infoFor(options.purpose, 'sealKek');
  const { enc, ciphertext } = await sealToPublicKey(publicKey, encodeKekRecord(checked), {
    info,
    aad: aadFor(checked.kid, options.context, 'sealKek'),
    ...(options.random ? { random: options.random } : {}),
  });
  return Object.freeze({ v: 1, kid: checked.kid, enc: toBase64Url(enc), ct: toBase64Url(ciphertext) });
}

/** Opens a SealedKek (parsed JSON). Malformed input and failed authentication are `decryption_failed`. */
export async function openKek(
  privateKey: Uint8Array,
  sealed: unknown,
  options: { purpose: KekPurpose; context?: Uint8Array },
): Promise<Kek> {
  const info = infoFor(options.purpose, 'openKek');
  if (!isRecord(sealed)) {
    throw new SealgateError('decryption_failed', 'sealed KEK: expected a JSON object');
  }
  const keys = Object.keys(sealed).sort();
  if (keys.join(',') !== SEALED_KEYS.join(',')) {
    throw new SealgateError('decryption_failed', 'sealed KEK: fields must be exactly v, kid, enc, ct');
  }
  const { v, kid, enc, ct } = sealed as Record<string, unknown>;
  if (v !== 1) throw new SealgateError('decryption_failed', 'sealed KEK: unsupported version');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new SealgateError('decryption_failed', 'sealed KEK: kid must be 22 base64url characters');
  }
  const encBytes = wireBytes(enc, 'enc', XWING_ENC_LENGTH);
  const ctBytes = wireBytes(ct, 'ct', KEK_RECORD_LENGTH + 16);
  const record = await openWithPrivateKey(
    privateKey,
    { enc: encBytes, ciphertext: ctBytes },
    { info, aad: aadFor(kid, options.context, 'openKek') },
  );
  const kek = await decodeKekRecord(record);
  record.fill(0);
  // Unreachable unless the sealer lied about kid (the aad binds the kid it chose, the record the key).
  if (kek.kid !== kid) throw new SealgateError('decryption_failed', 'sealed KEK: kid does not match key');
  return kek;
}

function infoFor(purpose: unknown, fn: string): string {
  if (purpose !== 'kek-upload' && purpose !== 'kek-release') {
    throw new SealgateError('invalid_argument', `${fn}: purpose must be "kek-upload" or "kek-release"`);
  }
  return INFO[purpose];
}

function aadFor(kid: string, context: unknown, fn: string): Uint8Array {
  if (context !== undefined && !(context instanceof Uint8Array)) {
    throw new SealgateError('invalid_argument', `${fn}: context must be a Uint8Array`);
  }
  return lengthPrefixed(utf8.encode(kid), context ?? new Uint8Array(0));
}

function wireBytes(value: unknown, name: string, length: number): Uint8Array {
  return decodeBase64UrlField(value, {
    code: 'decryption_failed',
    message: `sealed KEK: ${name} must be ${length} bytes of canonical base64url`,
    length,
  });
}
