/**
 * Keys at rest (src/gateway/kv/at-rest.ts) and API-key parsing: runtime-neutral, so this runs in Node
 * and workerd. A wrapped KEK opens only with the same secret, manifest digest and key id, and never
 * contains the key.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url, toHex } from '../../src/bytes.js';
import { bearerToken, hashApiKey } from '../../src/gateway/kv/api-keys.js';
import { unwrapKek, wrapKek } from '../../src/gateway/kv/at-rest.js';
import { createKek } from '../../src/keys/kek.js';
import { expectSealgateError } from '../keys/support.js';

const SECRET = 'a-gateway-secret-of-at-least-32-characters';
const DIGEST = 'ab'.repeat(32);

describe('keys at rest', () => {
  it('round-trips a KEK and does not contain the key bytes', async () => {
    const kek = await createKek({ notBefore: 1_800_000_000, notAfter: 1_800_000_900 });
    const stored = await wrapKek(SECRET, DIGEST, kek);
    expect(stored).toMatchObject({ kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter });
    expect(toHex(fromBase64Url(stored.wrapped))).not.toContain(toHex(kek.key));
    const opened = await unwrapKek(SECRET, DIGEST, stored);
    expect(opened.key).toEqual(kek.key);
    expect(opened.kid).toBe(kek.kid);
  });

  it('refuses another secret, another manifest, another kid or window, and edited bytes', async () => {
    const kek = await createKek({ notBefore: 1_800_000_000, notAfter: 1_800_000_900 });
    const other = await createKek({ notBefore: 1_800_000_000, notAfter: 1_800_000_900 });
    const stored = await wrapKek(SECRET, DIGEST, kek);
    await expectSealgateError(unwrapKek(`${SECRET}x`, DIGEST, stored), 'decryption_failed');
    await expectSealgateError(unwrapKek(SECRET, 'cd'.repeat(32), stored), 'decryption_failed');
    await expectSealgateError(unwrapKek(SECRET, DIGEST, { ...stored, kid: other.kid }), 'decryption_failed');
    await expectSealgateError(
      unwrapKek(SECRET, DIGEST, { ...stored, notAfter: stored.notAfter + 1 }),
      'decryption_failed',
    );
    const bytes = fromBase64Url(stored.wrapped);
    bytes[20]! ^= 1;
    await expectSealgateError(
      unwrapKek(SECRET, DIGEST, { ...stored, wrapped: toBase64Url(bytes) }),
      'decryption_failed',
    );
  });
});

describe('API keys', () => {
  it('takes a Bearer token and nothing else', () => {
    expect(bearerToken('Bearer sk-abc')).toBe('sk-abc');
    expect(bearerToken('bearer sk-abc')).toBe('sk-abc');
    expect(bearerToken('sk-abc')).toBeNull();
    expect(bearerToken('Bearer ')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(`Bearer ${'x'.repeat(513)}`)).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });

  it('hashes keys with SHA-256 (the KV key is apikey:<hex>)', async () => {
    // SHA-256("abc"), FIPS 180-2 Appendix B.1.
    expect(await hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
