/**
 * The signed key delivery (src/service-client/kek-delivery.ts) in isolation, in Node and workerd:
 * a signature verifies only for the same kind, manifest, addressee, nonce and keys, under the key
 * that made it; an absent or malformed `sig` is refused with its reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isSealgateError } from '../../src/errors.js';
import { generateKeyExchangeKeyPair } from '../../src/keys/hpke.js';
import { createKek } from '../../src/keys/kek.js';
import { type SealedKek, sealKek } from '../../src/keys/kek-transport.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import {
  type KekDeliveryBinding,
  signKekDelivery,
  verifyKekDelivery,
} from '../../src/service-client/kek-delivery.js';

const DIGEST = 'ab'.repeat(32);
const binding: KekDeliveryBinding = {
  kind: 'keys',
  manifestDigest: DIGEST,
  certificateSha256: new Uint8Array(32).fill(1),
  nonce: new Uint8Array(32).fill(2),
};
let service: CryptoKeyPair;
let spki: Uint8Array;
let keys: SealedKek[];
let sig: string;

const reason = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (!isSealgateError(e, 'fetch_failed')) throw e;
    return e.detail?.reason ?? e.message;
  }
};

beforeAll(async () => {
  service = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  spki = new Uint8Array(await crypto.subtle.exportKey('spki', service.publicKey));
  const worker = await generateKeyExchangeKeyPair();
  const kek = await createKek({ notBefore: 0, notAfter: 4_000_000_000 });
  keys = [await sealKek(worker.publicKey, kek, { purpose: 'kek-release', context: kekContext(DIGEST) })];
  sig = await signKekDelivery(service.privateKey, binding, keys);
});

describe('signed key delivery', () => {
  it('verifies for exactly what was signed, and an empty key list too', async () => {
    expect(await verifyKekDelivery(spki, binding, { keys, sig })).toEqual(keys);
    const none = await signKekDelivery(service.privateKey, binding, []);
    expect(await verifyKekDelivery(spki, binding, { keys: [], sig: none })).toEqual([]);
  });

  it.each([
    ['another kind', { ...binding, kind: 'register' as const }],
    ['another manifest', { ...binding, manifestDigest: 'cd'.repeat(32) }],
    ['another addressee', { ...binding, certificateSha256: new Uint8Array(32).fill(9) }],
    ['another nonce (stale)', { ...binding, nonce: new Uint8Array(32).fill(3) }],
  ])('refuses %s', async (_what, other) => {
    expect(await reason(verifyKekDelivery(spki, other, { keys, sig }))).toBe(
      'key_delivery_signature_invalid',
    );
  });

  it('refuses changed, added or dropped keys, another signer, no sig and a malformed sig', async () => {
    const changed = [{ ...keys[0]!, ct: `${keys[0]!.ct.slice(0, -2)}AA` }];
    expect(await reason(verifyKekDelivery(spki, binding, { keys: changed, sig }))).toBe(
      'key_delivery_signature_invalid',
    );
    expect(await reason(verifyKekDelivery(spki, binding, { keys: [...keys, ...keys], sig }))).toBe(
      'key_delivery_signature_invalid',
    );
    expect(await reason(verifyKekDelivery(spki, binding, { keys: [], sig }))).toBe(
      'key_delivery_signature_invalid',
    );
    const other = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const otherSpki = new Uint8Array(await crypto.subtle.exportKey('spki', other.publicKey));
    expect(await reason(verifyKekDelivery(otherSpki, binding, { keys, sig }))).toBe(
      'key_delivery_signature_invalid',
    );
    expect(await reason(verifyKekDelivery(spki, binding, { keys, sig: undefined }))).toBe(
      'key_delivery_unsigned',
    );
    expect(await reason(verifyKekDelivery(spki, binding, { keys, sig: 'AAAA' }))).toMatch(/96 bytes/);
    expect(await reason(verifyKekDelivery(spki, binding, { keys: [{ kid: 1 }], sig }))).toBe(
      'key_delivery_signature_invalid',
    );
  });
});
