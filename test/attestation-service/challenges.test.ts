/** The service's in-memory stores: single-use, expiring, bounded. Node and workerd. */
import { describe, expect, it } from 'vitest';
import { ChallengeStore } from '../../src/attestation-service/challenges.js';
import { WorkerRegistry } from '../../src/attestation-service/worker-registry.js';

describe('ChallengeStore', () => {
  it('hands out 32-byte nonces that can be taken once, before they expire', () => {
    const store = new ChallengeStore({ ttlSeconds: 60 });
    const a = store.issue(1000)!;
    expect(a.nonce).toHaveLength(32);
    expect(a.expiresAt).toBe(1060);
    expect(store.take(a.nonce, 1059)).toEqual({ ok: true, challenge: a });
    expect(store.take(a.nonce, 1059)).toEqual({ ok: false, reason: 'unknown' });
    const b = store.issue(1000)!;
    expect(store.take(b.nonce, 1060)).toEqual({ ok: false, reason: 'expired' });
    expect(store.size).toBe(0);
  });

  it('is bounded: refuses when full of live challenges, makes room from expired ones', () => {
    const store = new ChallengeStore({ ttlSeconds: 60, max: 2 });
    expect(store.issue(0)).not.toBeNull();
    expect(store.issue(30)).not.toBeNull();
    expect(store.issue(59)).toBeNull();
    expect(store.issue(60)).not.toBeNull(); // the first expired at 60
    expect(store.size).toBe(2);
  });
});

describe('WorkerRegistry', () => {
  const worker = (serial: string, notAfter: number) => ({
    serialNumber: serial,
    hpkeKey: new Uint8Array([1]),
    hpkeKeySha256: new Uint8Array(32).fill(1),
    notAfter,
  });

  it('finds a worker only with the right key hash and before its certificate expires', () => {
    const reg = new WorkerRegistry();
    expect(reg.add(worker('01', 100), 0)).toBe(true);
    expect(reg.lookup('01', new Uint8Array(32).fill(1), 99)?.serialNumber).toBe('01');
    expect(reg.lookup('01', new Uint8Array(32).fill(2), 99)).toBeUndefined();
    expect(reg.lookup('01', new Uint8Array(32).fill(1), 100)).toBeUndefined();
    expect(reg.lookup('02', new Uint8Array(32).fill(1), 0)).toBeUndefined();
  });

  it('is bounded and makes room only from expired certificates', () => {
    const reg = new WorkerRegistry({ max: 1 });
    expect(reg.add(worker('01', 100), 0)).toBe(true);
    expect(reg.add(worker('02', 200), 50)).toBe(false);
    expect(reg.add(worker('02', 200), 100)).toBe(true);
    expect(reg.size).toBe(1);
  });
});
