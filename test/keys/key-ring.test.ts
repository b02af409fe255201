import { describe, expect, it } from 'vitest';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { ramp } from '../vectors/reference.js';
import { expectSealgateError } from './support.js';

const T = 1_767_225_600;
const HOUR = 3600;
const kek = (n: number, notBefore: number, notAfter: number): Promise<Kek> =>
  createKek({ key: ramp(n, 32), notBefore, notAfter });

describe('KeyRing', () => {
  it('get: known and unexpired keys only (unknown_key, key_expired)', async () => {
    const a = await kek(1, T, T + HOUR);
    const ring = await KeyRing.from([a]);
    expect(ring.get(a.kid, T)).toBe(ring.get(a.kid, T + HOUR - 1));
    await expectSealgateError(() => ring.get(a.kid, T + HOUR), 'key_expired', 'key ring: key expired');
    await expectSealgateError(
      () => ring.get('AAAAAAAAAAAAAAAAAAAAAA', T),
      'unknown_key',
      'key ring: unknown key id',
    );
    // Opening does not wait for notBefore: keys are released ahead of promotion.
    expect(ring.get(a.kid, T - HOUR).kid).toBe(a.kid);
  });

  it('current: the newest valid key; the previous one stays openable through the overlap', async () => {
    const old = await kek(1, T, T + 2 * HOUR);
    const next = await kek(2, T + HOUR, T + 3 * HOUR); // one hour of overlap
    const ring = await KeyRing.from([next, old]);
    expect(ring.current(T).kid).toBe(old.kid);
    expect(ring.current(T + HOUR - 1).kid).toBe(old.kid);
    expect(ring.current(T + HOUR).kid).toBe(next.kid);
    expect(ring.get(old.kid, T + HOUR + 10).kid).toBe(old.kid); // overlap
    await expectSealgateError(() => ring.get(old.kid, T + 2 * HOUR), 'key_expired');
    expect(ring.list().map((k) => k.kid)).toEqual([next.kid, old.kid]);
  });

  it('current: ties are broken the same way on every replica', async () => {
    const a = await kek(1, T, T + HOUR);
    const b = await kek(2, T, T + 2 * HOUR);
    const c = await kek(3, T, T + 2 * HOUR);
    const want = [b, c].sort((x, y) => (x.kid < y.kid ? -1 : 1))[0]!.kid;
    expect((await KeyRing.from([a, b, c])).current(T).kid).toBe(want);
    expect((await KeyRing.from([c, b, a])).current(T).kid).toBe(want);
  });

  it('current: fails closed when nothing is valid', async () => {
    await expectSealgateError(() => new KeyRing().current(T), 'unknown_key', 'key ring: no key valid yet');
    const ring = await KeyRing.from([await kek(1, T, T + HOUR)]);
    await expectSealgateError(() => ring.current(T - 1), 'unknown_key', 'key ring: no key valid yet');
    await expectSealgateError(() => ring.current(T + HOUR), 'key_expired', 'key ring: no key valid now');
  });

  it('add: checks the kid, is idempotent, refuses a second window for the same key', async () => {
    const a = await kek(1, T, T + HOUR);
    const ring = new KeyRing();
    await ring.add(a);
    await ring.add({ ...a });
    expect(ring.size).toBe(1);
    await expectSealgateError(
      ring.add({ ...a, notAfter: T + 2 * HOUR }),
      'invalid_argument',
      'KeyRing.add: kid already present with another window',
    );
    const b = await kek(2, T, T + HOUR);
    await expectSealgateError(
      ring.add({ ...b, kid: a.kid }),
      'invalid_argument',
      'KeyRing.add: kid does not match key',
    );
    // The ring keeps its own copy: mutating the caller's object changes nothing.
    const c = await kek(3, T, T + HOUR);
    const mutable = { ...c, key: c.key.slice() };
    await ring.add(mutable);
    mutable.key.fill(0);
    expect(ring.get(c.kid, T).key).toEqual(c.key);
  });

  it('prune and delete', async () => {
    const a = await kek(1, T, T + HOUR);
    const b = await kek(2, T, T + 2 * HOUR);
    const ring = await KeyRing.from([a, b]);
    expect(ring.prune(T + HOUR)).toEqual([a.kid]);
    expect(ring.has(a.kid)).toBe(false);
    expect(ring.delete(b.kid)).toBe(true);
    expect(ring.size).toBe(0);
  });

  it('refuses a `now` in milliseconds', async () => {
    const ring = await KeyRing.from([await kek(1, T, T + HOUR)]);
    await expectSealgateError(
      () => ring.current(T * 1000),
      'invalid_argument',
      'KeyRing.current: now: expected Unix time in seconds, got milliseconds?',
    );
  });
});
