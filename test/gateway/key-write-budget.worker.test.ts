/**
 * The attestation service's key-write budget (src/attestation-service/key-write-budget.ts) against
 * the REAL key-rotation Durable Object and the real service app: a `429 rate_limited` on the
 * gateway's upload is retry-later — nothing published changes, the next alarm waits the answer's
 * `retry-after` (capped at the rotation's longest backoff), and once the service takes writes
 * again the rotation lands the key it had stored, not another.
 */
import { afterAll, expect, it, vi } from 'vitest';
import { readPublishedKeys } from '../../src/gateway/kv/kv-store.js';
import { runRotation, startFreshStack } from './do-helpers.js';
import { advance, env, gatewayDescribe } from './stack.js';

const now = () => Math.floor(Date.now() / 1000);
/** src/gateway/durable-objects/key-rotation.ts RETRY_MAX_SECONDS. */
const RETRY_MAX_SECONDS = 300;

afterAll(() => {
  vi.restoreAllMocks();
});

gatewayDescribe('a rotation refused by the service’s key-write budget', () => {
  it('is retried after retry-after, keeps the current key published, then uploads its stored successor', async () => {
    const stack = await startFreshStack();
    const digest = stack.dev.manifestDigest;
    const policy = stack.dev.manifest.keyPolicy;
    const first = await runRotation(digest);
    expect(first.lastError).toBeNull();
    const current = first.keys[0]!;

    // A new service process (it has lost the key) whose budget is one key write an hour.
    stack.serviceConfig.keyWriteLimits = { perSecond: 1 / 3600, burst: 1 };
    await stack.restartService();
    const reuploaded = await runRotation(digest); // the re-upload spends the one write
    expect(reuploaded.lastError).toBeNull();
    expect(reuploaded.keys.map((k) => [k.kid, k.confirmed])).toEqual([[current.kid, true]]);

    advance(current.notBefore + policy.rotationIntervalSeconds - policy.overlapSeconds - now() + 1);
    const limited = await runRotation(digest);
    expect(limited.lastError?.code).toBe('fetch_failed');
    expect(limited.lastError?.message).toContain('HTTP 429 rate_limited');
    expect(limited.failures).toBe(1);
    // Not the 5 s of a first failure's backoff: the service asked for ~an hour, capped at 300 s.
    expect(limited.alarm).toBeGreaterThanOrEqual(Date.now() + (RETRY_MAX_SECONDS - 1) * 1000);
    expect(limited.alarm).toBeLessThanOrEqual(Date.now() + RETRY_MAX_SECONDS * 1000);
    expect(limited.keys.map((k) => [k.kid, k.confirmed])).toEqual([
      [current.kid, true],
      [expect.any(String), false],
    ]);
    const pending = limited.keys[1]!.kid;
    const published = await readPublishedKeys(env.SEALGATE_KV, env.GATEWAY_SECRET!, digest);
    expect(published.ok && published.value.keys.map((k) => k.kid)).toEqual([current.kid]);

    // The budget back (the service's defaults): the next alarm lands the stored successor.
    stack.serviceConfig.keyWriteLimits = undefined;
    await stack.restartService();
    const landed = await runRotation(digest);
    expect(landed.lastError).toBeNull();
    expect(landed.failures).toBe(0);
    expect(landed.keys.map((k) => [k.kid, k.confirmed])).toEqual([
      [current.kid, true],
      [pending, true],
    ]);
  });
});
