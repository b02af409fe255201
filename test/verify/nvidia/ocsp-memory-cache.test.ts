/** The Node services' OCSP cache (src/verify/nvidia/ocsp-memory-cache.ts): bounded, expiring, copying. */
import { describe, expect, it } from 'vitest';
import { memoryOcspCache } from '../../../src/verify/nvidia/ocsp-memory-cache.js';

describe('memoryOcspCache', () => {
  it('misses from the TTL on', async () => {
    const clock = { t: 1_000_000 };
    const cache = memoryOcspCache(() => clock.t);
    await cache.put('k', new Uint8Array([1, 2]), 60);
    clock.t += 59_999;
    expect(await cache.get('k')).toEqual(new Uint8Array([1, 2]));
    clock.t += 1;
    expect(await cache.get('k')).toBeNull();
  });

  it('holds at most maxEntries, dropping the oldest put first', async () => {
    const cache = memoryOcspCache(() => 0, 2);
    await cache.put('a', new Uint8Array([1]), 60);
    await cache.put('b', new Uint8Array([2]), 60);
    await cache.put('a', new Uint8Array([3]), 60); // a put again: now the newest
    await cache.put('c', new Uint8Array([4]), 60);
    expect(await cache.get('b')).toBeNull();
    expect(await cache.get('a')).toEqual(new Uint8Array([3]));
    expect(await cache.get('c')).toEqual(new Uint8Array([4]));
  });

  it('stores and returns copies: a caller changing its bytes changes no entry', async () => {
    const cache = memoryOcspCache(() => 0);
    const der = new Uint8Array([9, 9]);
    await cache.put('k', der, 60);
    der[0] = 0;
    const got = (await cache.get('k'))!;
    got[1] = 0;
    expect(await cache.get('k')).toEqual(new Uint8Array([9, 9]));
  });
});
