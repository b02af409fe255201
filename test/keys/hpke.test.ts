import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/bytes.js';
import {
  exportPublicKey,
  generateKeyExchangeKeyPair,
  HPKE_INFO,
  importPublicKey,
  keyPairFromSeed,
  openWithPrivateKey,
  sealToPublicKey,
} from '../../src/keys/hpke.js';
import hpkeVector from '../vectors/hpke-xwing-v1.json';
import { fixedRandom, hex, refGcmOpen, refHpkeKeySchedule, refXWing, unhex } from '../vectors/reference.js';
import xwingDraft from '../vectors/xwing-draft08.json';
import { expectSealgateError } from './support.js';

const te = (s: string) => new TextEncoder().encode(s);

describe('X-Wing KEM (draft-connolly-cfrg-xwing-kem-08 Appendix C)', () => {
  it('derives the draft public key from the draft seed', async () => {
    const pair = await keyPairFromSeed(unhex(xwingDraft.seed));
    expect(hex(pair.publicKey)).toBe(xwingDraft.pk);
  });
  it('encapsulates to the draft ciphertext with the draft eseed (HPKE enc)', async () => {
    const sealed = await sealToPublicKey(unhex(xwingDraft.pk), te('x'), {
      info: HPKE_INFO.kekUpload,
      random: fixedRandom(unhex(xwingDraft.eseed)),
    });
    expect(hex(sealed.enc)).toBe(xwingDraft.ct);
    // ...and the shared secret behind it is the draft's: HPKE's key schedule over `ss` opens it.
    const ks = refHpkeKeySchedule(unhex(xwingDraft.ss), te(HPKE_INFO.kekUpload));
    expect(
      new TextDecoder().decode(refGcmOpen(ks.key, ks.baseNonce, new Uint8Array(0), sealed.ciphertext)),
    ).toBe('x');
  });
});

describe('HPKE base mode, X-Wing / HKDF-SHA256 / AES-256-GCM (RFC 9180)', () => {
  const v = hpkeVector;
  it('reproduces the vector deterministically (seed → pk, eseed → enc, ct)', async () => {
    const pair = await keyPairFromSeed(unhex(v.seed));
    expect(hex(pair.publicKey)).toBe(v.pk);
    const sealed = await sealToPublicKey(pair.publicKey, unhex(v.pt), {
      info: v.info,
      aad: unhex(v.aad),
      random: fixedRandom(unhex(v.eseed)),
    });
    expect(hex(sealed.enc)).toBe(v.enc);
    expect(hex(sealed.ciphertext)).toBe(v.ct);
  });
  it('matches an independent RFC 9180 §5.1 key schedule over @noble X-Wing', () => {
    const ss = refXWing.decapsulate(unhex(v.enc), unhex(v.seed));
    expect(hex(ss)).toBe(v.sharedSecret);
    const ks = refHpkeKeySchedule(ss, te(v.info));
    expect(hex(ks.key)).toBe(v.key);
    expect(hex(ks.baseNonce)).toBe(v.baseNonce);
    expect(hex(refGcmOpen(ks.key, ks.baseNonce, unhex(v.aad), unhex(v.ct)))).toBe(v.pt);
  });
  it('opens the vector', async () => {
    const pt = await openWithPrivateKey(
      unhex(v.seed),
      { enc: unhex(v.enc), ciphertext: unhex(v.ct) },
      { info: v.info, aad: unhex(v.aad) },
    );
    expect(hex(pt)).toBe(v.pt);
  });

  it('round-trips with a fresh key pair and fresh randomness', async () => {
    const pair = await generateKeyExchangeKeyPair();
    expect(pair.publicKey.length).toBe(1216);
    expect(pair.privateKey.length).toBe(32);
    const a = await sealToPublicKey(pair.publicKey, te('kek bytes'), { info: HPKE_INFO.kekRelease });
    const b = await sealToPublicKey(pair.publicKey, te('kek bytes'), { info: HPKE_INFO.kekRelease });
    expect(hex(a.enc)).not.toBe(hex(b.enc));
    const pt = await openWithPrivateKey(pair.privateKey, a, { info: HPKE_INFO.kekRelease });
    expect(new TextDecoder().decode(pt)).toBe('kek bytes');
  });

  describe('rejects', () => {
    const sealedVector = () => ({ enc: unhex(v.enc), ciphertext: unhex(v.ct) });
    const open = (over: { seed?: string; info?: string; aad?: string; enc?: Uint8Array; ct?: Uint8Array }) =>
      openWithPrivateKey(
        unhex(over.seed ?? v.seed),
        { enc: over.enc ?? sealedVector().enc, ciphertext: over.ct ?? sealedVector().ciphertext },
        { info: over.info ?? v.info, aad: unhex(over.aad ?? v.aad) },
      );
    it('another purpose (info): a KEK upload never opens as a release', () =>
      expectSealgateError(open({ info: HPKE_INFO.kekRelease }), 'decryption_failed', 'hpke: open failed'));
    it('other aad', () => expectSealgateError(open({ aad: '00' }), 'decryption_failed', 'hpke: open failed'));
    it('another private key', () =>
      expectSealgateError(open({ seed: '11'.repeat(32) }), 'decryption_failed', 'hpke: open failed'));
    it('a flipped bit in enc (ML-KEM part and X25519 part)', async () => {
      for (const at of [0, 1100]) {
        const enc = sealedVector().enc;
        enc[at]! ^= 1;
        await expectSealgateError(open({ enc }), 'decryption_failed', 'hpke: open failed');
      }
    });
    it('a flipped bit in the ciphertext or tag', async () => {
      for (const at of [0, unhex(v.ct).length - 1]) {
        const ct = sealedVector().ciphertext;
        ct[at]! ^= 0x80;
        await expectSealgateError(open({ ct }), 'decryption_failed', 'hpke: open failed');
      }
    });
    it('enc and ciphertext of the wrong size', async () => {
      await expectSealgateError(
        open({ enc: new Uint8Array(1119) }),
        'decryption_failed',
        'hpke: enc must be 1120 bytes',
      );
      await expectSealgateError(
        open({ ct: new Uint8Array(15) }),
        'decryption_failed',
        'hpke: ciphertext must be at least 16 bytes',
      );
    });
    it('info that does not name sealgate/v1/<purpose>', async () => {
      for (const info of ['', 'kek-upload', 'sealgate/v2/kek-upload', 'sealgate/v1/', 'sealgate/v1/Upper']) {
        await expectSealgateError(
          sealToPublicKey(unhex(v.pk), te('x'), { info }),
          'invalid_argument',
          'sealToPublicKey: info must look like "sealgate/v1/<purpose>"',
        );
      }
    });
    it('private keys of the wrong size', () =>
      expectSealgateError(
        openWithPrivateKey(new Uint8Array(31), sealedVector(), { info: v.info }),
        'invalid_argument',
        'openWithPrivateKey: private key must be 32 bytes, got 31',
      ));
  });
});

describe('public key import/export', () => {
  it('round-trips base64url and raw', () => {
    const pk = unhex(hpkeVector.pk);
    const b64 = exportPublicKey(pk);
    expect(b64).toBe(toBase64Url(pk));
    expect(b64).toHaveLength(1622);
    expect(hex(importPublicKey(b64))).toBe(hpkeVector.pk);
    expect(hex(importPublicKey(pk))).toBe(hpkeVector.pk);
  });
  it('rejects wrong sizes, bad encodings and out-of-range ML-KEM coefficients', async () => {
    const pk = unhex(hpkeVector.pk);
    await expectSealgateError(
      () => importPublicKey(pk.subarray(0, 1215)),
      'invalid_argument',
      'importPublicKey: public key must be 1216 bytes, got 1215',
    );
    await expectSealgateError(
      () => importPublicKey('!!'),
      'invalid_argument',
      'base64url: invalid character',
    );
    // The last character of a 1216-byte key carries 2 padding bits; setting one is non-canonical.
    const b64 = exportPublicKey(pk);
    const last = b64.at(-1)!;
    const nonCanonical =
      b64.slice(0, -1) + (last === 'A' ? 'B' : String.fromCharCode(last.charCodeAt(0) ^ 1));
    await expectSealgateError(
      () => importPublicKey(nonCanonical),
      'invalid_argument',
      /importPublicKey: (not canonical base64url|ML-KEM-768 coefficient out of range)/,
    );
    const bad = pk.slice();
    bad[0] = 0xff;
    bad[1] = 0x0f; // first coefficient = 0xfff ≥ q = 3329 (FIPS 203 §7.2)
    await expectSealgateError(
      () => importPublicKey(bad),
      'invalid_argument',
      'importPublicKey: ML-KEM-768 coefficient out of range',
    );
    await expectSealgateError(
      sealToPublicKey(bad, te('x'), { info: HPKE_INFO.kekUpload }),
      'invalid_argument',
      'importPublicKey: ML-KEM-768 coefficient out of range',
    );
  });
});
