/**
 * The key-write budget of the attestation service (src/attestation-service/key-write-budget.ts):
 * `POST /v1/keys` and `POST /v1/keys/retire` signed by the pinned gateway draw from one token
 * bucket (DEFAULT_KEY_WRITE_LIMITS), through `app.request()` with real HPKE and real Ed25519 and
 * the real gateway client (src/service-client/keys.ts). Past it: `429 rate_limited` with
 * `retry-after`, before the upload is opened or the store changes. Calls whose signature does not
 * verify spend none of it; the gateway rotation's own cadence never meets it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KEY_WRITE_LIMITS } from '../../src/attestation-service/rate-limit.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { isSealgateError } from '../../src/errors.js';
import { deriveGatewayKey } from '../../src/keys/gateway-key.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { retireServiceKeys, uploadKek } from '../../src/service-client/keys.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  signUpload,
  T0_SECONDS,
  type TestService,
} from './support.js';

let env: DevelopmentEnvironment;
beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: new Date(T0_SECONDS * 1000) });
}, ENV_TIMEOUT_MS);

const BURST = DEFAULT_KEY_WRITE_LIMITS.burst;
/** Seconds per token. */
const REFILL = 1 / DEFAULT_KEY_WRITE_LIMITS.perSecond;
/** A kid no service holds: retiring it changes nothing and answers 200. */
const UNKNOWN_KID = 'AAAAAAAAAAAAAAAAAAAAAA';

const kekAt = (offset: number): Promise<Kek> =>
  createKek({ notBefore: T0_SECONDS + offset, notAfter: T0_SECONDS + offset + 600 });

/** The real gateway client's calls, against `s`. */
function gateway(s: TestService) {
  const call = {
    baseUrl: 'http://service.test',
    fetch: s.fetch,
    service: { hpkePublicKey: s.keys.hpke.publicKey },
    manifestDigest: env.manifestDigest,
    gatewayKey: env.gatewayKey,
  };
  return {
    upload: (kek: Kek) => uploadKek({ ...call, kek }),
    retire: (kids: string[]) => retireServiceKeys({ ...call, kids }),
  };
}

/** The SealgateError detail a call failed with. */
async function failure(p: Promise<unknown>): Promise<Record<string, unknown> | undefined> {
  try {
    await p;
  } catch (e) {
    if (isSealgateError(e)) return { ...e.detail, error: e.code };
    throw e;
  }
  throw new Error('the call succeeded');
}

const held = async (s: TestService): Promise<string[]> =>
  ((await (await s.get('/v1/keys')).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

const advance = (s: TestService, seconds: number) => {
  s.clock.now = new Date(s.clock.now.getTime() + seconds * 1000);
};

describe('the key-write budget', () => {
  it('429 rate_limited with retry-after past the burst, before the upload is opened or stored', async () => {
    const s = await makeService(env);
    const g = gateway(s);
    const kek = await kekAt(0);
    for (let i = 0; i < BURST; i++) await g.upload(kek); // the same key: 200, held once
    const fresh = await kekAt(60);
    expect(await failure(g.upload(fresh))).toMatchObject({
      error: 'fetch_failed',
      status: 429,
      code: 'rate_limited',
      retryAfter: REFILL,
    });
    expect(await held(s)).toEqual([kek.kid]); // the refused key is not stored
    expect(s.logs.filter((l) => l.event === 'key_write_rate_limited')).toEqual([
      { level: 'warn', event: 'key_write_rate_limited', detail: { route: '/v1/keys', retryAfter: REFILL } },
    ]);
    // The answer itself: the service's own 429 shape.
    const sealed = await sealKek(s.keys.hpke.publicKey, fresh, {
      purpose: 'kek-upload',
      context: kekContext(env.manifestDigest),
    });
    const res = await s.post('/v1/keys', signUpload(env, s, sealed));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(String(REFILL));
    expect(await errorCode(res)).toBe('rate_limited');

    advance(s, REFILL);
    await g.upload(fresh);
    expect((await held(s)).sort()).toEqual([kek.kid, fresh.kid].sort());
  });

  it('retires draw from the same budget', async () => {
    const s = await makeService(env);
    const g = gateway(s);
    for (let i = 0; i < BURST; i++) expect(await g.retire([UNKNOWN_KID])).toEqual([]);
    expect(await failure(g.retire([UNKNOWN_KID]))).toMatchObject({ status: 429, retryAfter: REFILL });
    expect(await failure(g.upload(await kekAt(0)))).toMatchObject({ status: 429 });
    expect(await held(s)).toEqual([]);
  });

  it('calls whose signature does not verify spend none of it', async () => {
    const s = await makeService(env);
    const attacker = await deriveGatewayKey('an-attacker-who-read-the-public-hpke-key-0123');
    const kek = await kekAt(0);
    const sealed = await sealKek(s.keys.hpke.publicKey, kek, {
      purpose: 'kek-upload',
      context: kekContext(env.manifestDigest),
    });
    for (let i = 0; i < 2 * BURST; i++) {
      const forged = i % 2 === 0 ? sealed : signUpload(env, s, sealed, { key: attacker });
      const refused = await s.post('/v1/keys', forged); // unsigned: 400; signed by another: 401
      expect(['invalid_request', 'gateway_unauthenticated']).toContain(await errorCode(refused));
    }
    const g = gateway(s);
    for (let i = 0; i < BURST; i++) await g.upload(kek);
    expect(await held(s)).toEqual([kek.kid]);
  });

  it("never refuses the gateway rotation's own cadence: a restart's writes, failed runs, then 6 h of rotations", async () => {
    // key-rotation.ts per run: at most 1 retire, a re-upload of each live key the service lost
    // (≤ 16) and 1 new key. The retires name a kid not held and the restart's re-uploads repeat one
    // key, so that only the budget can refuse them; each rotation uploads a new key (10 min life).
    const s = await makeService(env);
    const g = gateway(s);
    const now = () => Math.floor(s.clock.now.getTime() / 1000);
    let kek = await createKek({ notBefore: now(), notAfter: now() + 600 });
    const writes = async (n: number) => {
      for (let i = 0; i < n; i++) await (i === 0 ? g.retire([UNKNOWN_KID]) : g.upload(kek));
    };
    await writes(18); // after a service restart
    for (const backoff of [5, 10, 20, 40, 80, 160, 300, 300]) {
      advance(s, backoff); // a failing run (its confirmation lost) retries: retire + 1 upload
      kek = await createKek({ notBefore: now(), notAfter: now() + 600 });
      await writes(2);
    }
    for (let minute = 0; minute < 6 * 60; minute++) {
      advance(s, 60); // the shortest rotation interval (manifest LIMITS)
      kek = await createKek({ notBefore: now(), notAfter: now() + 600 });
      await writes(2);
    }
    expect(s.logs.filter((l) => l.event === 'key_write_rate_limited')).toEqual([]);
  });
});
