/**
 * API keys. Stored only as SHA-256 hashes (KV `apikey:<hex>` → JSON metadata, written by an
 * operator: `wrangler kv key put apikey:$(printf %s "$KEY" | sha256sum | cut -c1-64) '{"name":"…"}'`),
 * so a KV dump yields no usable key. The presented key is hashed and looked up by its hash; the
 * development key (`DEV_API_KEY` secret) is compared hash against hash in constant time. Keys are
 * never logged — not even their hashes.
 *
 * A key found in KV is remembered in the isolate for `API_KEY_CACHE_MS`, so that the request path
 * does not wait on a KV read per request; only acceptances are remembered (an unknown key is looked
 * up every time, so a key added is usable at once). A revoked key therefore keeps working for at
 * most that long in an isolate that saw it — within what KV's own propagation of a delete takes
 * (reads are cached at the edge for up to 60 s).
 */
import { constantTimeEqual, sha256, toHex, utf8 } from '../../bytes.js';
import { nowMs } from '../clock.js';
import type { GatewayEnv } from '../config.js';
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
/** SHA-256 hex of an accepted key → until when (ms) it is trusted without KV. */
const accepted = new Map<string, number>();
let devHash: { key: string; hash: Uint8Array } | undefined;

/** For tests: forget the isolate's accepted keys. */
export function resetApiKeyCache(): void {
  accepted.clear();
}

/**
 * The SHA-256 (hex) of `key` when it is the development key or a key registered in KV, else null.
 * The hash is what identifies the key from here on (it owns the receipts the request makes), so it
 * is computed once per request, here.
 */
export async function acceptedApiKeyHash(env: GatewayEnv, key: string | null): Promise<string | null> {
  if (key === null) return null;
  const hash = await sha256(utf8.encode(key));
  const hex = toHex(hash);
  if (env.DEV_API_KEY) {
    if (devHash?.key !== env.DEV_API_KEY) {
      devHash = { key: env.DEV_API_KEY, hash: await sha256(utf8.encode(env.DEV_API_KEY)) };
    }
    if (constantTimeEqual(hash, devHash.hash)) return hex;
  }
  const now = nowMs();
  const until = accepted.get(hex);
  if (until !== undefined && now < until) return hex;
  accepted.delete(hex);
  const entry = await env.SEALGATE_KV.get(kvKeys.apiKey(hex), 'text');
  if (entry === null) return null;
  if (accepted.size >= MAX_CACHED_KEYS) accepted.delete(accepted.keys().next().value as string);
  accepted.set(hex, now + API_KEY_CACHE_MS);
  return hex;
}
