/**
 * The key exchange: HPKE (RFC 9180) in base mode with one fixed suite,
 *
 *   KEM  X-Wing (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem; HPKE kem_id 0x647a)
 *   KDF  HKDF-SHA256 (kdf_id 0x0001)
 *   AEAD AES-256-GCM (aead_id 0x0002)
 *
 * Why X-Wing (docs/protocol.md "Why X-Wing (measured)"): a KEK sealed here protects every prompt
 * sealed under it, so a recorded KEK upload is worth harvesting now and decrypting later; the
 * post-quantum half removes that. Its cost is paid once per KEK rotation, never per request.
 * X-Wing's X25519 comes from @hpke/dhkem-x25519 (pure JS), so it needs no WebCrypto X25519 and runs
 * unchanged in workerd, Node and browsers.
 *
 * One suite only: there is nothing to negotiate, hence nothing to downgrade. A new suite is a new
 * protocol version (docs/protocol.md "Versioning").
 */
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { drawRandom, type RandomSource, systemRandom } from './random.js';

/** X-Wing sizes (draft-connolly-cfrg-xwing-kem §5): seed-form private key, pk = pk_M ‖ pk_X, ct = ct_M ‖ ct_X. */
export const XWING_PRIVATE_KEY_LENGTH = 32;
export const XWING_PUBLIC_KEY_LENGTH = 1216;
export const XWING_ENC_LENGTH = 1120;
/** Encapsulation randomness: eseed = m (ML-KEM, 32) ‖ ek_X (X25519, 32), draft §5.4. */
export const XWING_ESEED_LENGTH = 64;
/** AES-256-GCM tag (RFC 9180 §7.3: Nt = 16). */
const TAG_LENGTH = 16;

/** RFC 9180 §5 suite identifiers, recorded for interop (the suite object below uses them). */
export const HPKE_SUITE = Object.freeze({ kemId: 0x647a, kdfId: 0x0001, aeadId: 0x0002 });

/**
 * HPKE `info` strings (RFC 9180 §5.1: bound into the key schedule). One per purpose, so a ciphertext
 * made for one purpose never opens as another.
 */
export const HPKE_INFO = Object.freeze({
  /** Gateway → attestation service: a KEK. */
  kekUpload: 'sealgate/v1/kek-upload',
  /** Attestation service → AI worker: a KEK. */
  kekRelease: 'sealgate/v1/kek-release',
});
/** Any `info` must name Sealgate, the protocol version and a purpose. */
const INFO_PATTERN = /^sealgate\/v1\/[a-z0-9-]+(\/[a-z0-9-]+)*$/;

export interface KeyExchangeKeyPair {
  /** X-Wing encapsulation key, 1216 bytes. */
  readonly publicKey: Uint8Array;
  /** X-Wing decapsulation key in seed form, 32 bytes. Never leaves the CVM that made it. */
  readonly privateKey: Uint8Array;
}

export interface HpkeSealed {
  /** The KEM ciphertext (RFC 9180 `enc`), 1120 bytes. */
  readonly enc: Uint8Array;
  /** AES-256-GCM ciphertext ‖ tag. */
  readonly ciphertext: Uint8Array;
}

export interface HpkeOptions {
  /** Purpose string, e.g. HPKE_INFO.kekUpload. */
  info: string;
  /** Additional authenticated data (default empty). */
  aad?: Uint8Array;
}

// Built lazily: nothing runs at import time (workerd refuses randomness there).
let suite: CipherSuite | undefined;
function getSuite(): CipherSuite {
  suite ??= new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  return suite;
}
function getKem(): XWing {
  return getSuite().kem as XWing;
}

/** A fresh key pair: the private key is 32 random bytes (draft §5.2 GenerateKeyPair). */
export async function generateKeyExchangeKeyPair(
  options: { random?: RandomSource } = {},
): Promise<KeyExchangeKeyPair> {
  const seed = drawRandom(options.random ?? systemRandom, XWING_PRIVATE_KEY_LENGTH, 'an X-Wing seed');
  return keyPairFromSeed(seed);
}

/** The key pair whose private key is `seed` (draft §5.2 GenerateKeyPairDerand). */
export async function keyPairFromSeed(seed: Uint8Array): Promise<KeyExchangeKeyPair> {
  checkBytes(seed, XWING_PRIVATE_KEY_LENGTH, 'keyPairFromSeed: seed');
  // @hpke reads `.buffer`: hand it a copy whose buffer is exactly the seed.
  const pair = await getKem().generateKeyPairDerand(seed.slice());
  const publicKey = new Uint8Array(await getKem().serializePublicKey(pair.publicKey)).slice();
  return Object.freeze({ publicKey, privateKey: seed.slice() });
}

/** The public key as unpadded base64url (RFC 4648 §5) of its 1216 raw bytes. */
export function exportPublicKey(publicKey: Uint8Array): string {
  return toBase64Url(importPublicKey(publicKey));
}

/**
 * Accepts raw bytes or base64url and returns validated raw bytes: exact length, and the ML-KEM part
 * passes FIPS 203 §7.2's encapsulation-key check (every 12-bit coefficient < q), so a malformed key
 * fails here with a clear message rather than deep inside encapsulation.
 */
export function importPublicKey(input: Uint8Array | string): Uint8Array {
  let raw: Uint8Array;
  if (typeof input === 'string') {
    raw = fromBase64Url(input);
    if (toBase64Url(raw) !== input) {
      throw new SealgateError('invalid_argument', 'importPublicKey: not canonical base64url');
    }
  } else if (input instanceof Uint8Array) {
    raw = input.slice();
  } else {
    throw new SealgateError('invalid_argument', 'importPublicKey: expected Uint8Array or base64url string');
  }
  checkBytes(raw, XWING_PUBLIC_KEY_LENGTH, 'importPublicKey: public key');
  if (!mlKem768KeyInRange(raw)) {
    throw new SealgateError('invalid_argument', 'importPublicKey: ML-KEM-768 coefficient out of range');
  }
  return raw;
}

/** Single-shot HPKE seal (RFC 9180 §6.1 SealBase). `eseed` is for test vectors only. */
export async function sealToPublicKey(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  options: HpkeOptions & { random?: RandomSource },
): Promise<HpkeSealed> {
  const pk = importPublicKey(publicKey);
  if (!(plaintext instanceof Uint8Array)) {
    throw new SealgateError('invalid_argument', 'sealToPublicKey: plaintext must be a Uint8Array');
  }
  const info = checkInfo(options.info, 'sealToPublicKey');
  const aad = checkAad(options.aad, 'sealToPublicKey');
  const eseed = drawRandom(options.random ?? systemRandom, XWING_ESEED_LENGTH, 'X-Wing encapsulation');
  try {
    const kem = getKem();
    const recipientPublicKey = await kem.deserializePublicKey(pk);
    const sealed = await getSuite().seal({ recipientPublicKey, info, ekm: eseed }, plaintext.slice(), aad);
    return Object.freeze({ enc: new Uint8Array(sealed.enc).slice(), ciphertext: new Uint8Array(sealed.ct) });
  } catch (cause) {
    throw new SealgateError('internal', 'sealToPublicKey: HPKE seal failed', undefined, { cause });
  } finally {
    eseed.fill(0);
  }
}

/** Single-shot HPKE open (RFC 9180 §6.1 OpenBase). Any failure is `decryption_failed`. */
export async function openWithPrivateKey(
  privateKey: Uint8Array,
  sealed: HpkeSealed,
  options: HpkeOptions,
): Promise<Uint8Array> {
  checkBytes(privateKey, XWING_PRIVATE_KEY_LENGTH, 'openWithPrivateKey: private key');
  const info = checkInfo(options.info, 'openWithPrivateKey');
  const aad = checkAad(options.aad, 'openWithPrivateKey');
  if (typeof sealed !== 'object' || sealed === null) {
    throw new SealgateError('decryption_failed', 'hpke: sealed must be { enc, ciphertext }');
  }
  const { enc, ciphertext } = sealed;
  if (!(enc instanceof Uint8Array) || enc.length !== XWING_ENC_LENGTH) {
    throw new SealgateError('decryption_failed', `hpke: enc must be ${XWING_ENC_LENGTH} bytes`);
  }
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < TAG_LENGTH) {
    throw new SealgateError('decryption_failed', `hpke: ciphertext must be at least ${TAG_LENGTH} bytes`);
  }
  const kem = getKem();
  let recipientKey: CryptoKey;
  try {
    recipientKey = await kem.importKey('raw', privateKey.slice().buffer, false);
  } catch (cause) {
    throw new SealgateError('invalid_argument', 'openWithPrivateKey: private key rejected', undefined, {
      cause,
    });
  }
  try {
    // ML-KEM decapsulation never fails (implicit rejection, FIPS 203 §6.3): a bad `enc` yields a
    // pseudorandom secret, and the AEAD tag check below is what rejects it.
    const pt = await getSuite().open({ recipientKey, enc: enc.slice(), info }, ciphertext.slice(), aad);
    return new Uint8Array(pt);
  } catch (cause) {
    throw new SealgateError('decryption_failed', 'hpke: open failed', undefined, { cause });
  }
}

function checkBytes(value: unknown, length: number, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new SealgateError('invalid_argument', `${name} must be a Uint8Array`);
  if (value.length !== length) {
    throw new SealgateError('invalid_argument', `${name} must be ${length} bytes, got ${value.length}`);
  }
}

function checkInfo(info: unknown, fn: string): Uint8Array {
  if (typeof info !== 'string' || !INFO_PATTERN.test(info)) {
    throw new SealgateError('invalid_argument', `${fn}: info must look like "sealgate/v1/<purpose>"`);
  }
  return new TextEncoder().encode(info);
}

function checkAad(aad: unknown, fn: string): Uint8Array {
  if (aad === undefined) return new Uint8Array(0);
  if (!(aad instanceof Uint8Array))
    throw new SealgateError('invalid_argument', `${fn}: aad must be a Uint8Array`);
  return aad.slice();
}

/** FIPS 203 §7.2 "modulus check": ByteEncode12(ByteDecode12(ek[0:1152])) == ek[0:1152]. */
function mlKem768KeyInRange(pk: Uint8Array): boolean {
  const Q = 3329;
  let ok = true;
  for (let i = 0; i < 1152; i += 3) {
    const b0 = pk[i]!;
    const b1 = pk[i + 1]!;
    const b2 = pk[i + 2]!;
    // Two 12-bit little-endian coefficients per 3 bytes (FIPS 203 Algorithm 6, d = 12).
    const c0 = b0 | ((b1 & 0x0f) << 8);
    const c1 = (b1 >> 4) | (b2 << 4);
    ok = ok && c0 < Q && c1 < Q;
  }
  return ok;
}
