/** The service's in-memory state: stateless challenges, bounded spent set and registry. Node and workerd. */
import { describe, expect, it } from 'vitest';
import { ChallengeIssuer } from '../../src/attestation-service/challenges.js';
import { WorkerRegistry } from '../../src/attestation-service/worker-registry.js';

describe('ChallengeIssuer', () => {
  it('issues SWC1 nonces that check until they expire, and are single use once spent', async () => {
    const issuer = new ChallengeIssuer({ ttlSeconds: 60 });
    const a = await issuer.issue(1000);
    expect(a.nonce).toHaveLength(32);
    expect(a.expiresAt).toBe(1060);
    expect(await issuer.check(a.nonce, 1059)).toEqual({ ok: true, expiresAt: 1060 });
    expect(issuer.spend(a.nonce, 1060, 1059)).toBe(true);
    expect(await issuer.check(a.nonce, 1059)).toEqual({ ok: false, reason: 'spent' });
    expect(issuer.spend(a.nonce, 1060, 1059)).toBe(false);
    const b = await issuer.issue(1000);
    expect(await issuer.check(b.nonce, 1060)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses nonces it did not make: another instance, a flipped bit, another magic', async () => {
    const issuer = new ChallengeIssuer();
    const other = new ChallengeIssuer();
    const theirs = await other.issue(0);
    expect(await issuer.check(theirs.nonce, 1)).toEqual({ ok: false, reason: 'forged' });
    const ours = await issuer.issue(0);
    for (const i of [4, 8, 20, 31]) {
      const flipped = ours.nonce.slice();
      flipped[i] = (flipped[i] ?? 0) ^ 1;
      expect((await issuer.check(flipped, 1)).ok).toBe(false);
    }
    expect(await issuer.check(new Uint8Array(32), 1)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('holds nothing per issued challenge: 10,000 asks leave the spent set empty', async () => {
    const issuer = new ChallengeIssuer();
    for (let i = 0; i < 10_000; i++) await issuer.issue(i % 60);
    expect(issuer.spentCount).toBe(0);
    expect((await issuer.check((await issuer.issue(0)).nonce, 1)).ok).toBe(true);
  });

  it('the spent set is bounded: full of live entries it refuses, expired ones make room', async () => {
    const issuer = new ChallengeIssuer({ ttlSeconds: 60, maxSpent: 2 });
    const n = await Promise.all([issuer.issue(0), issuer.issue(30), issuer.issue(59)]);
    expect(issuer.spend(n[0]!.nonce, n[0]!.expiresAt, 0)).toBe(true);
    expect(issuer.spend(n[1]!.nonce, n[1]!.expiresAt, 30)).toBe(true);
    expect(issuer.spend(n[2]!.nonce, n[2]!.expiresAt, 59)).toBe(false);
    expect(issuer.spend(n[2]!.nonce, n[2]!.expiresAt, 60)).toBe(true); // the first expired at 60
    expect(issuer.spentCount).toBe(2);
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
