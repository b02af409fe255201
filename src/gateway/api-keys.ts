/**
 * API keys. Stored only as SHA-256 hashes (KV `apikey:<hex>` → JSON metadata, written by an
 * operator: `wrangler kv key put apikey:$(printf %s "$KEY" | sha256sum | cut -c1-64) '{"name":"…"}'`),
 * so a KV dump yields no usable key. The presented key is hashed and looked up by its hash; the
 * development key (`DEV_API_KEY` secret) is compared hash against hash in constant time. Keys are
 * never logged — not even their hashes.
 */
import { constantTimeEqual, sha256, toHex, utf8 } from '../bytes.js';
import type { GatewayEnv } from './config.js';
import { kvKeys } from './kv-store.js';

/** OpenAI's keys are ~50–200 characters; anything far longer is not a key. */
const MAX_KEY_LENGTH = 512;

export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
  const token = match?.[1];
  return token && token.length <= MAX_KEY_LENGTH ? token : null;
}

export async function hashApiKey(key: string): Promise<string> {
  return toHex(await sha256(utf8.encode(key)));
}

/** Whether `key` is the development key or a key registered in KV. */
export async function isValidApiKey(env: GatewayEnv, key: string | null): Promise<boolean> {
  if (key === null) return false;
  const hash = await sha256(utf8.encode(key));
  if (env.DEV_API_KEY) {
    const dev = await sha256(utf8.encode(env.DEV_API_KEY));
    if (constantTimeEqual(hash, dev)) return true;
  }
  const entry = await env.SEALGATE_KV.get(kvKeys.apiKey(toHex(hash)), 'text');
  return entry !== null;
}
