/**
 * An `apikey:` entry as `sealgate apikey` finds it in KV, judged as the gateway judges it
 * (src/gateway/kv/api-keys.ts): `sealed` authenticates under GATEWAY_SECRET (the gateway accepts
 * it); `plain` is a bare JSON object with no MAC (refused by the gateway; `apikey seal` seals it);
 * `foreign` has the authenticated format but does not verify — sealed under another secret, moved
 * from another key's name, or altered (refused; `apikey seal --old-secret-file` re-seals it only if
 * it verifies under the old secret); `unreadable` is anything else.
 */
import { openKvEntry, sealKvEntry } from '../gateway/kv/kv-auth.js';
import { isRecord } from '../json/object-guards.js';

export type StoredEntry =
  | { state: 'sealed' | 'plain'; value: Record<string, unknown> }
  | { state: 'foreign' | 'unreadable' };

/** Authenticates `text` stored under `name` with `secret`, as the gateway does. */
async function opens(secret: string, name: string, text: string): Promise<Record<string, unknown> | null> {
  try {
    const value = await openKvEntry<unknown>(secret, name, text, 'apiKeyEntry');
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

export async function storedEntry(secret: string, name: string, text: string): Promise<StoredEntry> {
  const value = await opens(secret, name, text);
  if (value !== null) return { state: 'sealed', value };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: 'unreadable' };
  }
  if (!isRecord(parsed)) return { state: 'unreadable' };
  const { v, data, mac } = parsed as { v?: unknown; data?: unknown; mac?: unknown };
  if (v !== undefined || data !== undefined || mac !== undefined) return { state: 'foreign' };
  return { state: 'plain', value: parsed };
}

/** The entry under `name` as it verifies under `old` (a secret rotated away from), or null. */
export function openUnderOldSecret(old: string, name: string, text: string) {
  return opens(old, name, text);
}

/** The text to store for `value` under `name`: authenticated under `secret`. */
export function sealApiKeyEntry(
  secret: string,
  name: string,
  value: Record<string, unknown>,
): Promise<string> {
  return sealKvEntry(secret, name, value, 'apiKeyEntry');
}
