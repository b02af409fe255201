/**
 * The runtime-neutral parts of verifiability (Node and workerd): gateway nonces (HMAC over a time
 * window, checked without state), the hash-chained manifest log (an altered, dropped or reordered
 * entry breaks it), the EAR trustworthiness vector and status, the token bucket, HTML escaping.
 */
import { describe, expect, it } from 'vitest';
import {
  checkEarClaims,
  earClaims,
  expectedStatus,
  trustworthinessVector,
} from '../../src/attestation/ear.js';
import { toHex } from '../../src/bytes.js';
import { takeToken } from '../../src/gateway/durable-objects/token-bucket.js';
import { esc } from '../../src/gateway/page/verification-html.js';
import {
  checkGatewayNonce,
  issueGatewayNonce,
  NONCE_WINDOW_SECONDS,
} from '../../src/gateway/verification/gateway-nonce.js';
import {
  appendIfNew,
  entryHash,
  GENESIS_PREV,
  verifyManifestLog,
} from '../../src/gateway/verification/manifest-chain.js';

const SECRET = 'a-gateway-secret-of-at-least-32-characters';
const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);

describe('gateway nonces', () => {
  const t0 = 1_800_000_000;
  it('32 bytes, accepted in their window and the next, refused after', async () => {
    const { nonce, expiresAt } = await issueGatewayNonce(SECRET, t0);
    expect(nonce).toHaveLength(32);
    expect(await checkGatewayNonce(SECRET, nonce, t0)).toMatchObject({ ok: true });
    expect(await checkGatewayNonce(SECRET, nonce, t0 + NONCE_WINDOW_SECONDS)).toMatchObject({ ok: true });
    expect(await checkGatewayNonce(SECRET, nonce, expiresAt - 1)).toMatchObject({ ok: true });
    expect(await checkGatewayNonce(SECRET, nonce, expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(await checkGatewayNonce(SECRET, nonce, t0 - NONCE_WINDOW_SECONDS)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });
  it('another secret, any flipped bit, or a changed window: forged', async () => {
    const { nonce } = await issueGatewayNonce(SECRET, t0);
    expect(await checkGatewayNonce(`${SECRET}x`, nonce, t0)).toEqual({ ok: false, reason: 'forged' });
    for (const i of [4, 7, 8, 15, 16, 31]) {
      const bad = nonce.slice();
      bad[i]! ^= 1;
      expect((await checkGatewayNonce(SECRET, bad, t0)).ok).toBe(false);
    }
    const other = nonce.slice();
    other[0] = 0;
    expect(await checkGatewayNonce(SECRET, other, t0)).toEqual({ ok: false, reason: 'malformed' });
  });
  it('two nonces of the same window differ', async () => {
    const a = await issueGatewayNonce(SECRET, t0);
    const b = await issueGatewayNonce(SECRET, t0);
    expect(toHex(a.nonce)).not.toBe(toHex(b.nonce));
  });
});

describe('manifest log', () => {
  it('appends only a changed digest, links each entry to the previous one, and verifies', async () => {
    let log = await appendIfNew([], D1, 100);
    expect(log).toEqual([{ seq: 0, manifestDigest: D1, firstServedAt: 100, prev: GENESIS_PREV }]);
    expect(await appendIfNew(log, D1, 200)).toEqual(log);
    log = await appendIfNew(log, D2, 300);
    log = await appendIfNew(log, D1, 400);
    expect(log.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(log[1]!.prev).toBe(await entryHash(log[0]!));
    expect(await verifyManifestLog(log)).toEqual({ ok: true, head: await entryHash(log[2]!) });
  });
  it('an altered, dropped or reordered entry breaks the chain', async () => {
    let log = await appendIfNew([], D1, 100);
    log = await appendIfNew(log, D2, 300);
    log = await appendIfNew(log, D1, 400);
    const altered = log.map((e) => ({ ...e }));
    altered[0]!.firstServedAt = 99;
    expect(await verifyManifestLog(altered)).toMatchObject({ ok: false, seq: 1 });
    const swapped = log.map((e) => ({ ...e }));
    swapped[1]!.manifestDigest = D1;
    expect(await verifyManifestLog(swapped)).toMatchObject({ ok: false, seq: 2 });
    expect(await verifyManifestLog([log[0]!, log[2]!])).toMatchObject({ ok: false, seq: 1 });
    expect(await verifyManifestLog([log[1]!, log[0]!])).toMatchObject({ ok: false, seq: 0 });
  });
});

describe('EAR appraisal', () => {
  const base = { trusted: true, simulated: false, violations: [], measurement: 'ab' };
  it('real hardware, all checks held: affirming', () => {
    expect(trustworthinessVector(base)).toEqual({
      'instance-identity': 2,
      configuration: 2,
      executables: 3,
      hardware: 2,
      'runtime-opaque': 2,
    });
    expect(expectedStatus(base)).toBe('affirming');
  });
  it('simulated: warning (hardware 32)', () => {
    expect(expectedStatus({ ...base, simulated: true })).toBe('warning');
  });
  it('each kind of failure lands on its claim, and the status is contraindicated', () => {
    const failed = (code: string) => ({ ...base, trusted: false, violations: [{ code: code as never }] });
    expect(trustworthinessVector(failed('measurement_not_allowed')).executables).toBe(96);
    expect(trustworthinessVector(failed('debug_not_allowed')).configuration).toBe(96);
    expect(trustworthinessVector(failed('manifest_mismatch')).configuration).toBe(96);
    expect(trustworthinessVector(failed('nonce_mismatch'))['instance-identity']).toBe(96);
    expect(trustworthinessVector(failed('root_untrusted')).hardware).toBe(96);
    expect(trustworthinessVector(failed('tcb_below_minimum')).hardware).toBe(96);
    for (const c of ['measurement_not_allowed', 'debug_not_allowed', 'root_untrusted', 'nonce_mismatch']) {
      expect(expectedStatus(failed(c))).toBe('contraindicated');
    }
    // Rejected without a listed violation still never reads as affirming.
    expect(expectedStatus({ ...base, trusted: false })).toBe('contraindicated');
  });
  it('checkEarClaims accepts exactly what our own appraisal says', () => {
    const claims = earClaims({ appraisal: base, nonceHex: 'ff', manifestDigest: D1, iat: 1 });
    const payload = JSON.parse(JSON.stringify(claims)) as Record<string, unknown>;
    const check = (nonceHex: string, manifestDigest: string, appraisal: typeof base) =>
      checkEarClaims(payload, { nonceHex, manifestDigest, appraisal }).problems;
    expect(check('ff', D1, base)).toEqual([]);
    expect(check('fe', D1, base)).toHaveLength(1);
    expect(check('ff', D2, base)).toHaveLength(1);
    expect(check('ff', D1, { ...base, simulated: true })).toEqual([
      'ear.status is affirming, our own appraisal gives warning',
    ]);
    // Same status, another measurement: the claim differs.
    expect(check('ff', D1, { ...base, measurement: 'cd' })).toEqual([
      'submodule attestation-service differs from our own appraisal',
    ]);
  });
});

describe('token bucket', () => {
  it('capacity calls, then refused with a Retry-After, then one per 60/capacity s', () => {
    let bucket: Parameters<typeof takeToken>[0];
    for (let i = 0; i < 3; i++) {
      const r = takeToken(bucket, 3, 0);
      expect(r.take.ok).toBe(true);
      bucket = r.bucket;
    }
    const refused = takeToken(bucket, 3, 0);
    expect(refused.take).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(takeToken(refused.bucket, 3, 19_000).take.ok).toBe(false);
    expect(takeToken(refused.bucket, 3, 20_000).take.ok).toBe(true);
  });
});

describe('HTML escaping', () => {
  it('escapes the five characters', () => {
    expect(esc(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
