/**
 * API keys. Stored only as SHA-256 hashes (KV `apikey:<hex>`, written by an operator with
 * `sealgate apikey create`), so a KV dump yields no usable key. The presented key is hashed and
 * looked up by its hash; the development key (`DEV_API_KEY` secret) is compared hash against hash in
 * constant time. Keys are never logged — not even their hashes.
 *
 * An `apikey:` entry counts only if it authenticates under GATEWAY_SECRET (kv-auth.ts, kind
 * `apiKeyEntry`: HMAC-SHA-256 under its own HKDF label, bound to the entry's KV key name, so over
 * the key's hash, and over the whole entry, limits included). Write access to the KV namespace
 * alone therefore mints no key and lifts no limit: an entry that does not authenticate (plain
 * JSON, MACed for another key's hash, edited, sealed under another secret) refuses the key like an
 * unknown one (401) and is logged `apikey_unauthenticated`.
 *
 * A key found in KV is remembered in the isolate for `API_KEY_CACHE_MS`, so that the request path
 * does not wait on a KV read per request; only authenticated acceptances are remembered, with the
 * secret they were verified under (an unknown or refused key is looked up every time, so a key
 * added or re-sealed is usable at once). A revoked key therefore keeps working for at most that
 * long in an isolate that saw it — within what KV's own propagation of a delete takes (reads are
 * cached at the edge for up to 60 s).
 *
 * The entry may state the key's limits (`{"limits": {…}}`, limits/key-limits.ts); they are
 * remembered with the acceptance, so a change made with `sealgate apikey update` reaches every
 * isolate within the same 30 s, without a restart. An authenticated entry whose limits do not parse
 * refuses the key (logged `apikey_limits_invalid`): a limit the gateway cannot read never becomes
 * no limit.
 */
import { constantTimeEqual, sha256, toHex, utf8 } from '../../bytes.js';
import { isRecord } from '../../json/object-guards.js';
import { nowMs } from '../clock.js';
import type { GatewayEnv } from '../config.js';
import { type KeyLimits, parseKeyLimits } from '../limits/key-limits.js';
import { log } from '../log.js';
import { openKvEntry } from './kv-auth.js';
import { kvKeys } from './kv-store.js';

/** OpenAI's keys are ~50–200 characters; anything far longer is not a key. */
const MAX_KEY_LENGTH = 512;

export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  const token = match?.[1];
  return token && token.length <= MAX_KEY_LENGTH ? token : null;
}

/** Anthropic's `x-api-key` header (Messages API, "Authentication"): the key itself, no scheme. */
export function xApiKey(header: string | null | undefined): string | null {
  if (!header || !/^[\x21-\x7e]+$/.test(header)) return null;
  return header.length <= MAX_KEY_LENGTH ? header : null;
}

export async function hashApiKey(key: string): Promise<string> {
  return toHex(await sha256(utf8.encode(key)));
}

/** How long an isolate trusts a KV acceptance of a key. */
export const API_KEY_CACHE_MS = 30_000;
const MAX_CACHED_KEYS = 1024;
/**
 * SHA-256 hex of an accepted key → until when (ms) it is trusted without KV, its limits, and the
 * GATEWAY_SECRET its entry authenticated under (an acceptance under another secret is not reused).
 */
const accepted = new Map<string, { until: number; limits: KeyLimits | null; secret: string }>();
let devHash: { key: string; hash: Uint8Array } | undefined;

/** For tests: forget the isolate's accepted keys. */
export function resetApiKeyCache(): void {
  accepted.clear();
}

export interface AcceptedKey {
  /** SHA-256 (hex) of the key: what identifies it from here on (it owns the request's receipts). */
  hash: string;
  /** Its limits; null for none (the development key has none). */
  limits: KeyLimits | null;
}

/**
 * The development key or a key registered in KV, else null. The hash is computed once per request,
 * here.
 */
export async function acceptedApiKey(env: GatewayEnv, key: string | null): Promise<AcceptedKey | null> {
  if (key === null) return null;
  const hash = await sha256(utf8.encode(key));
  const hex = toHex(hash);
  if (env.DEV_API_KEY) {
    if (devHash?.key !== env.DEV_API_KEY) {
      devHash = { key: env.DEV_API_KEY, hash: await sha256(utf8.encode(env.DEV_API_KEY)) };
    }
    if (constantTimeEqual(hash, devHash.hash)) return { hash: hex, limits: null };
  }
  const secret = env.GATEWAY_SECRET ?? '';
  const now = nowMs();
  const known = accepted.get(hex);
  if (known !== undefined && now < known.until && known.secret === secret) {
    return { hash: hex, limits: known.limits };
  }
  accepted.delete(hex);
  const limits = await storedLimits(env, secret, hex);
  if (limits === 'refused') return null;
  if (accepted.size >= MAX_CACHED_KEYS) accepted.delete(accepted.keys().next().value as string);
  accepted.set(hex, { until: now + API_KEY_CACHE_MS, limits, secret });
  return { hash: hex, limits };
}

/**
 * The limits of the key hashed `hex` from its KV entry, or `'refused'`: no entry, an entry that does
 * not authenticate under `secret`, or limits that do not parse (both logged, without the hash).
 */
async function storedLimits(
  env: GatewayEnv,
  secret: string,
  hex: string,
): Promise<KeyLimits | null | 'refused'> {
  const name = kvKeys.apiKey(hex);
  const text = await env.SEALGATE_KV.get(name, 'text');
  if (text === null) return 'refused';
  let value: unknown;
  try {
    value = await openKvEntry<unknown>(secret, name, text, 'apiKeyEntry');
  } catch {
    log('error', 'apikey_unauthenticated', {});
    return 'refused';
  }
  const limits = entryLimits(value);
  if (limits === 'invalid') {
    log('error', 'apikey_limits_invalid', {});
    return 'refused';
  }
  return limits;
}

/** An authenticated entry's limits; a JSON value that is not an object has none. */
function entryLimits(value: unknown): KeyLimits | null | 'invalid' {
  if (!isRecord(value)) return null;
  return parseKeyLimits((value as { limits?: unknown }).limits);
}
