import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import { MemoryReplayGuard } from '../../src/envelope/replay-guard.js';
import { openRequest, type SealedRequest, sealRequest } from '../../src/envelope/request.js';
import { parseKeepingExactNumbers } from '../../src/json/exact-numbers.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { expectSealgateError } from '../keys/support.js';
import { ramp } from '../vectors/reference.js';

const T = 1_767_225_600;
const ROUTE = '/v1/chat/completions';
const BODY = {
  model: 'llama-3.1-8b-instruct',
  messages: [{ role: 'user', content: 'the secret prompt' }],
  stream: false,
  max_tokens: 16,
  n: 1,
  temperature: 0,
};

async function fixture() {
  const kek = await createKek({ key: ramp(1, 32), notBefore: T - 60, notAfter: T + 3600 });
  const other = await createKek({ key: ramp(2, 32), notBefore: T - 60, notAfter: T + 3600 });
  const ring = await KeyRing.from([kek, other]);
  const { sealed, context } = await sealRequest({
    kek,
    route: ROUTE,
    requestId: 'req-1',
    body: BODY,
    now: T,
  });
  const open = (s: unknown, over: Partial<{ route: string; now: number; maxAgeSeconds: number }> = {}) =>
    openRequest(s, ring, { route: ROUTE, now: T, maxAgeSeconds: 300, ...over });
  return { kek, other, ring, sealed, context, open };
}
const clone = (s: SealedRequest): Record<string, unknown> & { sealgate: Record<string, unknown> } =>
  JSON.parse(JSON.stringify(s));
const flipChar = (s: string, at: number): string => {
  const c = s[at]!;
  return s.slice(0, at) + (c === 'A' ? 'B' : 'A') + s.slice(at + 1);
};

describe('sealRequest → openRequest', () => {
  it('round-trips the body; only the allow-listed fields are readable', async () => {
    const { sealed, context, open } = await fixture();
    expect(Object.keys(sealed)).toEqual(['model', 'stream', 'max_tokens', 'n', 'sealgate']);
    expect(JSON.stringify(sealed)).not.toContain('secret prompt');
    expect(JSON.stringify(sealed)).not.toContain('temperature');
    const opened = await open(sealed);
    expect(opened.body).toEqual(BODY);
    expect(opened.context).toMatchObject({
      requestId: 'req-1',
      route: ROUTE,
      kid: context.kid,
      model: BODY.model,
    });
    // Also from its JSON text, as a worker receives it.
    expect((await open(JSON.stringify(sealed))).body).toEqual(BODY);
  });
  it('uses a fresh DEK and IV per sealing', async () => {
    const { kek } = await fixture();
    const a = await sealRequest({ kek, route: ROUTE, requestId: 'r', body: BODY, now: T });
    const b = await sealRequest({ kek, route: ROUTE, requestId: 'r', body: BODY, now: T });
    expect(a.sealed.sealgate.wk).not.toBe(b.sealed.sealgate.wk);
    expect(a.sealed.sealgate.iv).not.toBe(b.sealed.sealgate.iv);
    expect(a.sealed.sealgate.ct).not.toBe(b.sealed.sealgate.ct);
  });
  it('keeps odd keys as data ("__proto__", "sealgate" inside the body)', async () => {
    const { kek, ring } = await fixture();
    const body = JSON.parse('{"model":"m","__proto__":{"x":1},"sealgate":"mine"}');
    const { sealed } = await sealRequest({ kek, route: ROUTE, requestId: 'r', body, now: T });
    const opened = await openRequest(sealed, ring, { route: ROUTE, now: T, maxAgeSeconds: 60 });
    expect(Object.getPrototypeOf(opened.body)).toBe(Object.prototype);
    expect(JSON.stringify(opened.body)).toBe('{"model":"m","__proto__":{"x":1},"sealgate":"mine"}');
  });
  it('carries a number beyond ±(2^53 − 1) exactly: the worker writes the model what the client wrote', async () => {
    const { kek, ring } = await fixture();
    const text =
      '{"model":"m","seed":12345678901234567890,"__proto__":{"max":9223372036854775807},"x":[1e300,-9007199254740993]}';
    // The gateway's body (src/gateway/routes/sealed/read-json-body.ts parses it this way).
    const body = parseKeepingExactNumbers(text) as Record<string, unknown>;
    const { sealed } = await sealRequest({ kek, route: ROUTE, requestId: 'r', body, now: T });
    const opened = await openRequest(JSON.stringify(sealed), ring, {
      route: ROUTE,
      now: T,
      maxAgeSeconds: 60,
    });
    // What src/model/upstream.ts sends the model server. Opened with a plain JSON.parse, it was
    // '…"seed":12345678901234567000…' (the worker rounded what the gateway carried).
    expect(JSON.stringify(opened.body)).toBe(text);
    expect(Object.getPrototypeOf(opened.body)).toBe(Object.prototype);
  });
});

describe('openRequest fails closed on any change', () => {
  const AUTH = 'sealed request: authentication failed';
  const cases: [string, (s: ReturnType<typeof clone>) => void, string][] = [
    ['model', (s) => (s.model = 'gpt-4o'), AUTH],
    ['stream', (s) => (s.stream = true), AUTH],
    ['max_tokens', (s) => (s.max_tokens = 17), AUTH],
    ['n removed', (s) => delete s.n, AUTH],
    ['stream set to null', (s) => (s.stream = null), AUTH],
    ['rid', (s) => (s.sealgate.rid = 'req-2'), AUTH],
    ['ts (inside the window)', (s) => (s.sealgate.ts = T - 1), AUTH],
    ['iv', (s) => (s.sealgate.iv = flipChar(s.sealgate.iv as string, 0)), AUTH],
    ['ct (first byte)', (s) => (s.sealgate.ct = flipChar(s.sealgate.ct as string, 0)), AUTH],
    [
      'ct (tag)',
      (s) => (s.sealgate.ct = flipChar(s.sealgate.ct as string, (s.sealgate.ct as string).length - 3)),
      AUTH,
    ],
    [
      'ct truncated',
      (s) => (s.sealgate.ct = toBase64Url(fromBase64Url(s.sealgate.ct as string).subarray(0, -3))),
      AUTH,
    ],
    [
      'wk',
      (s) => (s.sealgate.wk = flipChar(s.sealgate.wk as string, 3)),
      'sealed request: key unwrap failed',
    ],
  ];
  for (const [name, mutate, message] of cases) {
    it(`${name} → decryption_failed`, async () => {
      const { sealed, open } = await fixture();
      const s = clone(sealed);
      mutate(s);
      await expectSealgateError(open(s), 'decryption_failed', message);
    });
  }
  it('another route → decryption_failed', async () => {
    const { sealed, open } = await fixture();
    await expectSealgateError(open(sealed, { route: '/v1/completions' }), 'decryption_failed', AUTH);
  });
  it('another known key id → decryption_failed (the DEK does not unwrap under it)', async () => {
    const { sealed, open, other } = await fixture();
    const s = clone(sealed);
    s.sealgate.kid = other.kid;
    await expectSealgateError(open(s), 'decryption_failed', 'sealed request: key unwrap failed');
  });
  it('an unknown key id → unknown_key; an expired key → key_expired', async () => {
    const { sealed, open, kek } = await fixture();
    const s = clone(sealed);
    s.sealgate.kid = 'AAAAAAAAAAAAAAAAAAAAAA';
    await expectSealgateError(open(s), 'unknown_key', 'key ring: unknown key id');
    await expectSealgateError(open(sealed, { now: kek.notAfter }), 'key_expired', 'key ring: key expired');
  });
  it('a lookup that returns a Kek whose notAfter has passed → key_expired', async () => {
    const { sealed, kek } = await fixture();
    const lookup = { get: (): Kek => kek };
    await expectSealgateError(
      openRequest(sealed, lookup, { route: ROUTE, now: kek.notAfter, maxAgeSeconds: 86_400 }),
      'key_expired',
      'openRequest: key expired',
    );
  });
  it('malformed envelopes → decryption_failed with exact messages', async () => {
    const { sealed, open } = await fixture();
    const cases: [(s: ReturnType<typeof clone>) => void, string][] = [
      [(s) => (s.sealgate.v = 2), 'sealed request: unsupported version'],
      [(s) => (s.extra = 1), 'sealed request: unexpected field "extra"'],
      [(s) => (s.messages = []), 'sealed request: unexpected field "messages"'],
      [(s) => delete s.model, 'sealed request: model missing'],
      [
        (s) => (s.model = ''),
        'sealed request: model must be a non-empty string of at most 256 characters, no control characters',
      ],
      [(s) => (s.max_tokens = -1), 'sealed request: max_tokens must be a non-negative integer or null'],
      [(s) => (s.stream = 'yes'), 'sealed request: stream must be a boolean or null'],
      [(s) => (s.sealgate = 'x' as never), 'sealed request: "sealgate" must be an object'],
      [
        (s) => delete s.sealgate.iv,
        'sealed request: "sealgate" must have exactly v, kid, rid, ts, wk, iv, ct',
      ],
      [(s) => (s.sealgate.kid = 'short'), 'sealed request: kid must be 22 base64url characters'],
      [
        (s) => (s.sealgate.rid = ''),
        'sealed request: rid must be 1–128 characters of [A-Za-z0-9._:-], starting alphanumeric',
      ],
      [(s) => (s.sealgate.ts = '1'), 'sealed request: ts must be a non-negative integer'],
      [(s) => (s.sealgate.wk = 'AAAA'), 'sealed request: wk must be 40 bytes of canonical base64url'],
      [
        (s) => (s.sealgate.iv = `${s.sealgate.iv}=`),
        'sealed request: iv must be 12 bytes of canonical base64url',
      ],
      [
        (s) => (s.sealgate.ct = 'AAAA'),
        'sealed request: ct must be at least 16 bytes of canonical base64url',
      ],
    ];
    for (const [mutate, message] of cases) {
      const s = clone(sealed);
      mutate(s);
      await expectSealgateError(open(s), 'decryption_failed', message);
    }
    await expectSealgateError(open('{"model":'), 'decryption_failed', 'sealed request: not JSON');
    await expectSealgateError(open([]), 'decryption_failed', 'sealed request: expected a JSON object');
  });
  it('non-canonical base64url (same bytes, other spelling) is refused', async () => {
    const { sealed, open } = await fixture();
    const s = clone(sealed);
    // 40 bytes → 54 characters; the last one carries 2 zero bits. Setting one keeps the bytes.
    const wk = s.sealgate.wk as string;
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(wk.at(-1)!);
    s.sealgate.wk =
      wk.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1];
    await expectSealgateError(
      open(s),
      'decryption_failed',
      'sealed request: wk must be 40 bytes of canonical base64url',
    );
  });
});

describe('replay', () => {
  it('the time window: too old or too far in the future → replay_detected', async () => {
    const { sealed, open } = await fixture();
    expect((await open(sealed, { now: T + 300 })).body).toEqual(BODY);
    await expectSealgateError(
      open(sealed, { now: T + 301 }),
      'replay_detected',
      'sealed request: older than maxAgeSeconds',
    );
    expect((await open(sealed, { now: T - 60 })).body).toEqual(BODY);
    await expectSealgateError(
      open(sealed, { now: T - 61 }),
      'replay_detected',
      'sealed request: timestamp in the future',
    );
  });
  it('a replay guard accepts a sealing once; forgeries do not consume its slot', async () => {
    const { sealed, ring } = await fixture();
    const guard = new MemoryReplayGuard();
    const opts = { route: ROUTE, now: T, maxAgeSeconds: 300, replayGuard: guard };
    const forged = clone(sealed);
    forged.sealgate.ct = flipChar(forged.sealgate.ct as string, 0);
    await expectSealgateError(openRequest(forged, ring, opts), 'decryption_failed');
    expect(guard.size).toBe(0);
    expect((await openRequest(sealed, ring, opts)).body).toEqual(BODY);
    await expectSealgateError(
      openRequest(sealed, ring, opts),
      'replay_detected',
      'sealed request: already opened',
    );
    await expectSealgateError(openRequest(sealed, ring, { ...opts, now: T + 100 }), 'replay_detected');
  });
  it('MemoryReplayGuard forgets expired ids and fails closed when full', () => {
    const guard = new MemoryReplayGuard({ maxEntries: 2 });
    expect(guard.claim('a', T + 10, T)).toBe(true);
    expect(guard.claim('a', T + 10, T + 5)).toBe(false);
    expect(guard.claim('b', T + 10, T)).toBe(true);
    return expectSealgateError(
      () => guard.claim('c', T + 10, T),
      'replay_detected',
      'replay guard full: refusing to forget live ids',
    ).then(() => {
      expect(guard.claim('c', T + 20, T + 10)).toBe(true); // a and b expired at T+10
      expect(guard.claim('a', T + 30, T + 10)).toBe(true);
    });
  });
});

describe('MemoryReplayGuard sweeps', () => {
  it('drops expired ids from the oldest on, keeps every live one refused', () => {
    const guard = new MemoryReplayGuard();
    for (let i = 0; i < 1000; i++) expect(guard.claim(`id-${i}`, T + 10 + i, T)).toBe(true);
    expect(guard.claim('next', T + 2000, T + 510)).toBe(true);
    expect(guard.size).toBe(500); // id-0 … id-500 expired at or before T+510: gone
    for (const id of ['id-501', 'id-999', 'next']) expect(guard.claim(id, T + 9999, T + 510)).toBe(false);
    // An id claimed out of order (expiring late, standing first) holds the scheduled sweep back;
    // nothing live is ever forgotten.
    const held = new MemoryReplayGuard();
    expect(held.claim('late', T + 5000, T)).toBe(true);
    for (let i = 0; i < 10; i++) expect(held.claim(`id-${i}`, T + 10, T)).toBe(true);
    expect(held.claim('x', T + 600, T + 20)).toBe(true);
    expect(held.size).toBe(12);
    expect(held.claim('late', T + 9999, T + 20)).toBe(false);
  });
  it('a clock step back after a sweep that stopped early re-opens no id, swept or not', () => {
    const guard = new MemoryReplayGuard();
    expect(guard.claim('blocker', T + 5000, T)).toBe(true); // ts in the future within skew
    expect(guard.claim('behind', T + 10, T)).toBe(true); // expires, stays unswept behind the blocker
    expect(guard.claim('swept', T + 10, T)).toBe(true);
    expect(guard.claim('x', T + 600, T + 20)).toBe(true); // scheduled sweep at T+20 stops at once
    expect(guard.size).toBe(4);
    // The clock steps back to T+5: both the unswept and a forgotten id are still refused.
    expect(guard.claim('behind', T + 10, T + 5)).toBe(false);
    const whole = new MemoryReplayGuard({ maxEntries: 2 });
    expect(whole.claim('swept', T + 10, T)).toBe(true);
    expect(whole.claim('y', T + 10, T)).toBe(true);
    expect(whole.claim('z', T + 600, T + 20)).toBe(true); // full: sweeps everything expired
    expect(whole.size).toBe(1);
    expect(whole.claim('swept', T + 10, T + 5)).toBe(false);
    // Expired and unswept ids never make the guard refuse new ones once it is full.
    const full = new MemoryReplayGuard({ maxEntries: 3 });
    expect(full.claim('blocker', T + 5000, T)).toBe(true);
    expect(full.claim('a', T + 10, T)).toBe(true);
    expect(full.claim('b', T + 10, T)).toBe(true);
    expect(full.claim('fresh', T + 700, T + 100)).toBe(true);
    expect(full.claim('blocker', T + 5000, T + 100)).toBe(false);
  });
  it('a full guard sweeps past a live id that stands before expired ones', () => {
    const guard = new MemoryReplayGuard({ maxEntries: 3 });
    expect(guard.claim('live', T + 1000, T)).toBe(true);
    expect(guard.claim('a', T + 10, T)).toBe(true);
    expect(guard.claim('b', T + 10, T)).toBe(true);
    // The scheduled sweep stops at "live"; a full guard walks on and frees a and b.
    expect(guard.claim('c', T + 1000, T + 20)).toBe(true);
    expect(guard.size).toBe(2);
    expect(guard.claim('live', T + 2000, T + 20)).toBe(false);
  });
});

describe('sealRequest validates its inputs', () => {
  it('with exact messages', async () => {
    const { kek } = await fixture();
    const base = { kek, route: ROUTE, requestId: 'r', body: BODY, now: T };
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { route: 'v1/chat' },
        'invalid_argument',
        'sealRequest: route must be a path of printable ASCII starting with "/"',
      ],
      [
        { requestId: 'has space' },
        'invalid_argument',
        'sealRequest: requestId must be 1–128 characters of [A-Za-z0-9._:-], starting alphanumeric',
      ],
      [
        { now: Date.now() },
        'invalid_argument',
        'sealRequest: now: expected Unix time in seconds, got milliseconds?',
      ],
      [{ body: [] }, 'invalid_argument', 'sealRequest: body must be a JSON object'],
      [{ body: { messages: [] } }, 'invalid_argument', 'sealRequest: body.model must be a non-empty string'],
      [
        { body: { model: 'm', n: 1.5 } },
        'invalid_argument',
        'sealRequest: body.n must be a non-negative integer or null',
      ],
      [
        { body: { model: 'm', stream: 'true' } },
        'invalid_argument',
        'sealRequest: body.stream must be a boolean or null',
      ],
      [{ body: { model: 'm', x: 10n } }, 'invalid_argument', 'sealRequest: body is not JSON-serialisable'],
      [{ model: 'other' }, 'invalid_argument', 'sealRequest: model does not match body.model'],
      [{ now: kek.notAfter }, 'key_expired', 'sealRequest: kek expired'],
      [{ kek: { ...kek, kid: 'AAAAAAAAAAAAAAAAAAAAAA' } }, 'invalid_argument', 'KEK: kid does not match key'],
    ];
    for (const [over, code, message] of cases) {
      await expectSealgateError(sealRequest({ ...base, ...over } as never), code as never, message);
    }
  });
  it('openRequest validates its options', async () => {
    const { sealed, ring } = await fixture();
    await expectSealgateError(
      openRequest(sealed, ring, { route: ROUTE, now: T, maxAgeSeconds: 0 }),
      'invalid_argument',
      'openRequest: maxAgeSeconds must be an integer in 1…86400',
    );
    await expectSealgateError(
      openRequest(sealed, {} as never, { route: ROUTE, now: T, maxAgeSeconds: 1 }),
      'invalid_argument',
      'openRequest: keys must be a KeyLookup',
    );
  });
});
