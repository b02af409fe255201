import { describe, expect, it } from 'vitest';
import { generateKeyExchangeKeyPair, keyPairFromSeed } from '../../src/keys/hpke.js';
import { checkKek, createKek, decodeKekRecord, deriveKeyId, encodeKekRecord } from '../../src/keys/kek.js';
import { openKek, sealKek } from '../../src/keys/kek-transport.js';
import hpkeVector from '../vectors/hpke-xwing-v1.json';
import { fixedRandom, hex, ramp, refKid, unhex } from '../vectors/reference.js';
import { expectSealgateError } from './support.js';

const T = 1_767_225_600;

describe('key ids', () => {
  it('are base64url(SHA-256("sealgate/v1/kid" ‖ key)[0:16]), 22 characters', async () => {
    const key = ramp(0, 32);
    const kid = await deriveKeyId(key);
    expect(kid).toBe(refKid(key));
    expect(kid).toBe('ppj1Aak3rn2i2AZOp_d-yA');
    expect(await deriveKeyId(ramp(1, 32))).not.toBe(kid);
  });
});

describe('createKek / checkKek', () => {
  it('draws a fresh key and derives its id', async () => {
    const a = await createKek({ notBefore: T, notAfter: T + 60 });
    const b = await createKek({ notBefore: T, notAfter: T + 60 });
    expect(a.key).toHaveLength(32);
    expect(hex(a.key)).not.toBe(hex(b.key));
    expect(a.kid).toBe(await deriveKeyId(a.key));
    expect(Object.isFrozen(a)).toBe(true);
    const fixed = await createKek({ notBefore: T, notAfter: T + 60, random: fixedRandom(ramp(0, 32)) });
    expect(fixed.kid).toBe('ppj1Aak3rn2i2AZOp_d-yA');
  });
  it('refuses bad windows, bad keys and millisecond times', async () => {
    await expectSealgateError(
      createKek({ notBefore: T, notAfter: T }),
      'invalid_argument',
      'createKek: notAfter must be after notBefore',
    );
    await expectSealgateError(
      createKek({ notBefore: Date.now(), notAfter: Date.now() + 1000 }),
      'invalid_argument',
      'createKek: notBefore: expected Unix time in seconds, got milliseconds?',
    );
    await expectSealgateError(
      createKek({ notBefore: 1.5, notAfter: T }),
      'invalid_argument',
      'createKek: notBefore: expected Unix time in whole seconds',
    );
    await expectSealgateError(
      createKek({ key: new Uint8Array(16), notBefore: T, notAfter: T + 1 }),
      'invalid_argument',
      'createKek: key must be 32 bytes',
    );
  });
  it('checkKek refuses a kid that is not derived from the key', async () => {
    const kek = await createKek({ key: ramp(0, 32), notBefore: T, notAfter: T + 60 });
    expect((await checkKek({ ...kek })).kid).toBe(kek.kid);
    const other = await deriveKeyId(ramp(1, 32));
    await expectSealgateError(
      checkKek({ ...kek, kid: other }),
      'invalid_argument',
      'checkKek: kid does not match key',
    );
    await expectSealgateError(
      checkKek({ ...kek, kid: 'short' }),
      'invalid_argument',
      'checkKek: kid must be 22 base64url characters',
    );
  });
});

describe('KEK record (49 bytes inside HPKE)', () => {
  it('encodes format ‖ key ‖ u64be(notBefore) ‖ u64be(notAfter) and decodes back', async () => {
    const t = hpkeVector.kekTransport;
    const kek = await createKek({
      key: unhex(t.kek.key),
      notBefore: t.kek.notBefore,
      notAfter: t.kek.notAfter,
    });
    const record = encodeKekRecord(kek);
    expect(hex(record)).toBe(t.record);
    expect(hex(record.subarray(0, 1))).toBe('01');
    expect(Number(new DataView(record.buffer).getBigUint64(33))).toBe(t.kek.notBefore);
    expect(await decodeKekRecord(record)).toEqual(kek);
  });
  it('refuses other sizes, formats and windows', async () => {
    const record = unhex(hpkeVector.kekTransport.record);
    await expectSealgateError(
      decodeKekRecord(record.subarray(1)),
      'decryption_failed',
      'KEK record must be 49 bytes',
    );
    const fmt = record.slice();
    fmt[0] = 2;
    await expectSealgateError(decodeKekRecord(fmt), 'decryption_failed', 'KEK record: unknown format 2');
    const window = record.slice();
    window.fill(0, 41); // notAfter = 0 < notBefore
    await expectSealgateError(
      decodeKekRecord(window),
      'decryption_failed',
      'KEK record: invalid validity window',
    );
  });
});

describe('sealKek / openKek', () => {
  const t = hpkeVector.kekTransport;
  const context = unhex(t.context);
  it('reproduces the vector and opens it', async () => {
    const pair = await keyPairFromSeed(unhex(hpkeVector.seed));
    const kek = await createKek({
      key: unhex(t.kek.key),
      notBefore: t.kek.notBefore,
      notAfter: t.kek.notAfter,
    });
    const sealed = await sealKek(pair.publicKey, kek, {
      purpose: 'kek-release',
      context,
      random: fixedRandom(unhex(t.eseed)),
    });
    expect(sealed).toEqual(t.sealed);
    const opened = await openKek(pair.privateKey, JSON.parse(JSON.stringify(sealed)), {
      purpose: 'kek-release',
      context,
    });
    expect(opened).toEqual(kek);
  });
  it('round-trips a fresh KEK to a fresh key pair', async () => {
    const pair = await generateKeyExchangeKeyPair();
    const kek = await createKek({ notBefore: T, notAfter: T + 3600 });
    const sealed = await sealKek(pair.publicKey, kek, { purpose: 'kek-upload' });
    expect(await openKek(pair.privateKey, sealed, { purpose: 'kek-upload' })).toEqual(kek);
  });
  it('fails closed on the wrong purpose, context, relabelled kid or tampered fields', async () => {
    const seed = unhex(hpkeVector.seed);
    const s = t.sealed;
    const open = (
      sealed: unknown,
      opts: { purpose?: 'kek-upload' | 'kek-release'; context?: Uint8Array } = {},
    ) => openKek(seed, sealed, { purpose: opts.purpose ?? 'kek-release', context: opts.context ?? context });
    await expectSealgateError(open(s, { purpose: 'kek-upload' }), 'decryption_failed', 'hpke: open failed');
    await expectSealgateError(
      open(s, { context: new Uint8Array(0) }),
      'decryption_failed',
      'hpke: open failed',
    );
    const otherKid = await deriveKeyId(ramp(9, 32));
    await expectSealgateError(open({ ...s, kid: otherKid }), 'decryption_failed', 'hpke: open failed');
    const ct = s.ct.startsWith('A') ? `B${s.ct.slice(1)}` : `A${s.ct.slice(1)}`;
    await expectSealgateError(open({ ...s, ct }), 'decryption_failed', 'hpke: open failed');
    await expectSealgateError(open({ ...s, v: 2 }), 'decryption_failed', 'sealed KEK: unsupported version');
    await expectSealgateError(
      open({ ...s, extra: 1 }),
      'decryption_failed',
      'sealed KEK: fields must be exactly v, kid, enc, ct',
    );
    await expectSealgateError(
      open({ ...s, enc: s.enc.slice(4) }),
      'decryption_failed',
      'sealed KEK: enc must be 1120 bytes of canonical base64url',
    );
    await expectSealgateError(open('nope'), 'decryption_failed', 'sealed KEK: expected a JSON object');
  });
});
