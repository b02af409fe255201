/**
 * Keys at rest. A KEK opens every prompt sealed under it, so it is never written in plaintext —
 * not to Durable Object storage, not to KV. Each KEK record (src/keys/kek.ts, 49 bytes) is sealed
 * with AES-256-GCM under a key derived with HKDF-SHA256 from the `GATEWAY_SECRET` secret:
 *
 *   K_rest = HKDF(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = "sealgate/gateway/v1/at-rest", 32)
 *   wrapped = b64u(iv[12] ‖ AES-256-GCM(K_rest, iv, AAD, record))
 *   AAD     = LP("sealgate/gateway/v1/kek-at-rest") ‖ LP(manifestDigest) ‖ LP(kid)
 *
 * The AAD ties a wrapped key to its id and manifest, so a record copied under another id or into
 * another manifest's entry does not open. Whoever can read KV but not the secret learns key ids
 * and windows, never keys.
 */

import { concatBytes, fromBase64Url, toArrayBuffer, toBase64Url, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { lengthPrefixed } from '../../keys/encoding.js';
import { decodeKekRecord, encodeKekRecord, type Kek } from '../../keys/kek.js';
import { SECRET_KEY_LABELS, secretKey } from '../secret-keys.js';

const AAD_LABEL = 'sealgate/gateway/v1/kek-at-rest';
const IV_LENGTH = 12;

/** A KEK as stored: id and window in the clear (for scheduling and lookups), the key wrapped. */
export interface StoredKek {
  kid: string;
  notBefore: number;
  notAfter: number;
  wrapped: string;
}

function restKey(secret: string): Promise<CryptoKey> {
  return secretKey(secret, SECRET_KEY_LABELS.atRest, { name: 'AES-GCM', length: 256 }, [
    'encrypt',
    'decrypt',
  ]);
}

function aad(manifestDigest: string, kid: string): Uint8Array {
  return concatBytes(
    lengthPrefixed(utf8.encode(AAD_LABEL)),
    lengthPrefixed(utf8.encode(manifestDigest)),
    lengthPrefixed(utf8.encode(kid)),
  );
}

export async function wrapKek(secret: string, manifestDigest: string, kek: Kek): Promise<StoredKek> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const record = encodeKekRecord(kek);
  try {
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: toArrayBuffer(aad(manifestDigest, kek.kid)) },
        await restKey(secret),
        toArrayBuffer(record),
      ),
    );
    return {
      kid: kek.kid,
      notBefore: kek.notBefore,
      notAfter: kek.notAfter,
      wrapped: toBase64Url(concatBytes(iv, ct)),
    };
  } finally {
    record.fill(0);
  }
}

/** Opens a stored KEK; the id and window must be the ones inside the record. */
export async function unwrapKek(secret: string, manifestDigest: string, stored: StoredKek): Promise<Kek> {
  const fail = (message: string, cause?: unknown): never => {
    throw new SealgateError('decryption_failed', `stored KEK: ${message}`, { kid: stored?.kid }, { cause });
  };
  if (typeof stored?.kid !== 'string' || typeof stored.wrapped !== 'string') return fail('malformed entry');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(stored.wrapped);
  } catch (e) {
    return fail('not base64url', e);
  }
  if (bytes.length <= IV_LENGTH + 16) return fail('too short');
  let record: Uint8Array;
  try {
    record = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: bytes.slice(0, IV_LENGTH),
          additionalData: toArrayBuffer(aad(manifestDigest, stored.kid)),
        },
        await restKey(secret),
        bytes.slice(IV_LENGTH),
      ),
    );
  } catch (e) {
    return fail('does not open under GATEWAY_SECRET', e);
  }
  const kek = await decodeKekRecord(record);
  record.fill(0);
  if (kek.kid !== stored.kid || kek.notBefore !== stored.notBefore || kek.notAfter !== stored.notAfter) {
    return fail('id or window differs from the sealed record');
  }
  return kek;
}
