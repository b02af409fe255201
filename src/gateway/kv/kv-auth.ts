/**
 * Authenticated KV entries. KV is outside the gateway's trust (threat model: "a tampered KV"):
 * whoever can write the namespace could otherwise swap the published key list or the cached
 * attestation. So every entry the gateway trusts (`keys:`, `att:`) is stored as
 *
 *   {"v": 1, "data": "<JSON text>", "mac": b64u(HMAC-SHA-256(K_kv, M))}
 *   K_kv = HKDF-SHA256(salt = "", IKM = UTF-8(GATEWAY_SECRET), info = "sealgate/gateway/v1/kv-entry")
 *   M    = LP("sealgate/gateway/v1/kv-entry") ‖ LP(KV key name) ‖ LP(UTF-8(data))
 *
 * (RFC 2104 / RFC 5869). The HKDF label differs from the at-rest wrapping key's (at-rest.ts), so the
 * two keys are independent. The MAC covers the exact `data` bytes (no re-serialisation) and the KV
 * key name, so an entry moved under another name (another manifest digest, another nonce, the
 * `current` pointer) does not verify. Freshness is not the MAC's job: readers check the expiry
 * inside `data` (an old but authentic entry is refused once stale). An entry that does not verify
 * is a typed `decryption_failed`, logged, and never used.
 *
 * Operator-written `apikey:` entries (api-keys.ts, `sealgate apikey`) take the same format under
 * their own label, "sealgate/gateway/v1/apikey-entry", both as the HKDF `info` and as the first
 * field of M: a MAC the gateway makes for its own entries never verifies as an API key's, and the
 * other way round (RFC 5869 §3.2). Bound to `apikey:<sha256 of the key>`, the MAC ties the whole
 * entry, limits included, to one key.
 */

import { fromBase64Url, toArrayBuffer, toBase64Url, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import { lengthPrefixed } from '../../keys/encoding.js';
import { SECRET_KEY_LABELS, secretKey } from '../secret-keys.js';

/** Whose entry: the gateway's own (`keys:`, `att:`, `rcpt…:`) or an operator's `apikey:`. */
export type KvEntryKind = 'kvEntry' | 'apiKeyEntry';

function macKey(secret: string, kind: KvEntryKind): Promise<CryptoKey> {
  return secretKey(secret, SECRET_KEY_LABELS[kind], { name: 'HMAC', hash: 'SHA-256', length: 256 }, [
    'sign',
    'verify',
  ]);
}

function macInput(kind: KvEntryKind, name: string, data: string): ArrayBuffer {
  const label = utf8.encode(SECRET_KEY_LABELS[kind]);
  return toArrayBuffer(lengthPrefixed(label, utf8.encode(name), utf8.encode(data)));
}

/** The stored text of `value` under KV key `name`. */
export async function sealKvEntry(
  secret: string,
  name: string,
  value: unknown,
  kind: KvEntryKind = 'kvEntry',
): Promise<string> {
  const data = JSON.stringify(value);
  const key = await macKey(secret, kind);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, macInput(kind, name, data)));
  return JSON.stringify({ v: 1, data, mac: toBase64Url(mac) });
}

/** The value stored under `name`; throws `decryption_failed` when the entry does not authenticate. */
export async function openKvEntry<T>(
  secret: string,
  name: string,
  text: string,
  kind: KvEntryKind = 'kvEntry',
): Promise<T> {
  const fail = (message: string, cause?: unknown): never => {
    throw new SealgateError('decryption_failed', `KV entry ${name}: ${message}`, { name }, { cause });
  };
  let entry: { v?: unknown; data?: unknown; mac?: unknown };
  try {
    entry = JSON.parse(text) as typeof entry;
  } catch (e) {
    return fail('not JSON', e);
  }
  if (entry?.v !== 1 || typeof entry.data !== 'string' || typeof entry.mac !== 'string') {
    return fail('not an authenticated entry');
  }
  let mac: Uint8Array;
  try {
    mac = fromBase64Url(entry.mac);
  } catch (e) {
    return fail('MAC is not base64url', e);
  }
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify(
    'HMAC',
    await macKey(secret, kind),
    toArrayBuffer(mac),
    macInput(kind, name, entry.data),
  );
  if (!ok) return fail('MAC does not verify under GATEWAY_SECRET');
  try {
    return JSON.parse(entry.data) as T;
  } catch (e) {
    return fail('data is not JSON', e);
  }
}
