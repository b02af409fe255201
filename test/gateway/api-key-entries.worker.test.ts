/**
 * `apikey:` entries count only when they authenticate under GATEWAY_SECRET (kv/api-keys.ts,
 * kv/kv-auth.ts kind `apiKeyEntry`), in real KV through the Worker: what a writer of the KV
 * namespace alone can put there — a plain entry, an entry moved from another key's name, an entry
 * with its limits edited, one sealed under another secret or as one of the gateway's own entries —
 * is refused like an unknown key (401) and logged `apikey_unauthenticated`, without the key or its
 * hash. Past authentication the request meets the empty key store (no service here): 503.
 */
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { hashApiKey, resetApiKeyCache } from '../../src/gateway/kv/api-keys.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { sealKvEntry } from '../../src/gateway/kv/kv-auth.js';
import { resetAuthThrottle } from '../../src/gateway/middleware/auth-throttle.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { callGateway, putApiKeyEntry } from './do-helpers.js';
import { emptyRotationDo, env, gatewayDescribe, HAS_GATEWAY_BINDINGS } from './stack.js';

const digest = HAS_GATEWAY_BINDINGS ? await manifestDigest(env.SEALGATE_MANIFEST!) : '';
const OTHER_SECRET = 'another-gateway-secret-0123456789abcdef0123456789';
const errors: string[] = [];

beforeEach(() => {
  resetKeyCache();
  resetApiKeyCache();
  resetAuthThrottle();
  errors.length = 0;
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
    errors.push(String(line));
  });
  vi.stubGlobal('fetch', async () => {
    throw new TypeError('test network: unreachable');
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});
afterAll(async () => {
  if (HAS_GATEWAY_BINDINGS) await emptyRotationDo(digest);
});

/** The status and error code of a chat request with `key` (through the Worker, env `e`). */
async function outcome(key: string, e = env): Promise<[number, string]> {
  const res = await callGateway(
    '/v1/chat/completions',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'm', messages: [] }),
    },
    e,
  );
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

const ACCEPTED: [number, string] = [503, 'no_attested_service'];
const REFUSED: [number, string] = [401, 'invalid_api_key'];
const newKey = (label: string) => `sk-sealgate-${label}-${crypto.randomUUID()}`;
const nameOf = async (key: string) => `apikey:${await hashApiKey(key)}`;

/** The refusal was logged as `apikey_unauthenticated`, naming neither the key nor its hash. */
async function expectLoggedRefusal(key: string) {
  const lines = errors.filter((l) => l.includes('"event":"apikey_unauthenticated"'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain(key);
  expect(lines[0]).not.toContain(await hashApiKey(key));
}

gatewayDescribe('apikey: entries authenticate under GATEWAY_SECRET', () => {
  it('accepts an entry sealed for its own key under the gateway’s secret', async () => {
    const key = newKey('sealed');
    await putApiKeyEntry(key, { name: 'app', limits: { tpm: 1000 } });
    expect(await outcome(key)).toEqual(ACCEPTED);
    expect(errors.filter((l) => l.includes('apikey_'))).toEqual([]);
  });

  it('refuses a plain JSON entry (what `wrangler kv key put` alone writes)', async () => {
    const key = newKey('plain');
    await env.SEALGATE_KV.put(await nameOf(key), JSON.stringify({ name: 'minted' }));
    expect(await outcome(key)).toEqual(REFUSED);
    await expectLoggedRefusal(key);
  });

  it('refuses an entry copied from another key’s name (the MAC binds the key’s hash)', async () => {
    const owner = newKey('owner');
    const copier = newKey('copier');
    const text = (await env.SEALGATE_KV.get(await putApiKeyEntry(owner, { name: 'owner' }), 'text'))!;
    await env.SEALGATE_KV.put(await nameOf(copier), text);
    expect(await outcome(copier)).toEqual(REFUSED);
    await expectLoggedRefusal(copier);
    expect(await outcome(owner)).toEqual(ACCEPTED);
  });

  it('refuses an entry whose limits were edited after sealing (the MAC covers the whole value)', async () => {
    const key = newKey('edited');
    const name = await putApiKeyEntry(key, {
      name: 'app',
      limits: { budgetTokens: 10, budgetPeriod: 'day' },
    });
    const stored = JSON.parse((await env.SEALGATE_KV.get(name, 'text'))!) as { data: string };
    const lifted = {
      ...stored,
      data: stored.data.replace('"budgetTokens":10', '"budgetTokens":10000000000'),
    };
    expect(lifted.data).not.toBe(stored.data);
    await env.SEALGATE_KV.put(name, JSON.stringify(lifted));
    expect(await outcome(key)).toEqual(REFUSED);
    await expectLoggedRefusal(key);
  });

  it('refuses an entry sealed under another secret, or as one of the gateway’s own entries', async () => {
    const key = newKey('foreign');
    const name = await nameOf(key);
    await env.SEALGATE_KV.put(name, await sealKvEntry(OTHER_SECRET, name, { name: 'x' }, 'apiKeyEntry'));
    expect(await outcome(key)).toEqual(REFUSED);
    await expectLoggedRefusal(key);
    errors.length = 0;
    // Right secret and name, but the gateway's `keys:`/`att:` MAC (its own HKDF label).
    await env.SEALGATE_KV.put(name, await sealKvEntry(env.GATEWAY_SECRET!, name, { name: 'x' }));
    expect(await outcome(key)).toEqual(REFUSED);
    await expectLoggedRefusal(key);
  });

  it('never remembers a refusal: an entry re-sealed is accepted at once', async () => {
    const key = newKey('resealed');
    await env.SEALGATE_KV.put(await nameOf(key), JSON.stringify({ name: 'app' }));
    expect(await outcome(key)).toEqual(REFUSED);
    await putApiKeyEntry(key, { name: 'app' });
    expect(await outcome(key)).toEqual(ACCEPTED);
  });

  it('an acceptance remembered in the isolate holds only for the secret it verified under', async () => {
    const key = newKey('cached');
    await putApiKeyEntry(key, { name: 'app' });
    expect(await outcome(key)).toEqual(ACCEPTED);
    // The same isolate under another GATEWAY_SECRET (a rotated secret): the entry is read again
    // and, sealed under the old one, refused until re-sealed.
    expect(await outcome(key, { ...env, GATEWAY_SECRET: OTHER_SECRET })).toEqual(REFUSED);
    await expectLoggedRefusal(key);
    expect(await outcome(key)).toEqual(ACCEPTED);
  });
});
