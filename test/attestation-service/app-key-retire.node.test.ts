/**
 * `POST /v1/keys/retire` (src/attestation-service/key-routes.ts, docs/protocol.md "Retiring orphan
 * keys") through `app.request()` with real HPKE and real Ed25519: the pinned gateway frees the
 * slots of keys it never published, and nobody else — nor the gateway for another manifest or
 * another service instance — removes anything.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERVICE_KEYS } from '../../src/attestation-service/key-store.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { deriveGatewayKey } from '../../src/keys/gateway-key.js';
import { generateKeyExchangeKeyPair } from '../../src/keys/hpke.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { signKekRetire } from '../../src/service-client/kek-retire.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  signUpload,
  T0,
  T0_SECONDS,
  type TestService,
} from './support.js';

let env: DevelopmentEnvironment;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
}, ENV_TIMEOUT_MS);

const kekFor = (offset: number): Promise<Kek> =>
  createKek({ notBefore: T0_SECONDS + offset, notAfter: T0_SECONDS + offset + 600 });

async function upload(s: TestService, kek: Kek): Promise<Response> {
  const sealed = await sealKek(s.keys.hpke.publicKey, kek, {
    purpose: 'kek-upload',
    context: kekContext(env.manifestDigest),
  });
  return s.post('/v1/keys', signUpload(env, s, sealed));
}

const held = async (s: TestService): Promise<string[]> =>
  ((await (await s.get('/v1/keys')).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();

function retireBody(
  s: TestService,
  kids: string[],
  opts: { key?: typeof env.gatewayKey; digest?: string; hpke?: Uint8Array } = {},
) {
  return signKekRetire(opts.key ?? env.gatewayKey, kids, {
    manifestDigest: kekContext(opts.digest ?? env.manifestDigest),
    serviceHpkeKey: opts.hpke ?? s.keys.hpke.publicKey,
  });
}

describe('POST /v1/keys/retire', () => {
  it(`frees the slots of a full service (${MAX_SERVICE_KEYS} keys), then an upload is taken again`, async () => {
    const s = await makeService(env);
    const keks = await Promise.all(Array.from({ length: MAX_SERVICE_KEYS }, (_, i) => kekFor(i)));
    for (const kek of keks) expect((await upload(s, kek)).status).toBe(200);
    const refused = await upload(s, await kekFor(100));
    expect(refused.status).toBe(429);
    const orphans = keks.slice(0, 3).map((k) => k.kid);
    const unknown = (await kekFor(200)).kid;
    const res = await s.post('/v1/keys/retire', retireBody(s, [...orphans, unknown]));
    expect(res.status).toBe(200);
    // Only what it held; a kid it never held is ignored.
    expect(await res.json()).toEqual({ retired: orphans });
    expect(await held(s)).toEqual(
      keks
        .slice(3)
        .map((k) => k.kid)
        .sort(),
    );
    expect((await upload(s, await kekFor(100))).status).toBe(200);
  });

  it('the same request again (a replay) answers 200 and changes nothing', async () => {
    const s = await makeService(env);
    const [a, b] = [await kekFor(0), await kekFor(1)];
    for (const kek of [a, b]) expect((await upload(s, kek)).status).toBe(200);
    const body = retireBody(s, [a.kid]);
    expect(await (await s.post('/v1/keys/retire', body)).json()).toEqual({ retired: [a.kid] });
    expect(await (await s.post('/v1/keys/retire', body)).json()).toEqual({ retired: [] });
    expect(await held(s)).toEqual([b.kid]);
  });

  it('401 gateway_unauthenticated unless signed by the pinned gateway for this manifest and this service', async () => {
    const s = await makeService(env);
    const kek = await kekFor(0);
    expect((await upload(s, kek)).status).toBe(200);
    const other = await deriveGatewayKey('another-gateway-secret-0123456789abcdef0123');
    const elsewhere = (await generateKeyExchangeKeyPair()).publicKey;
    for (const body of [
      retireBody(s, [kek.kid], { key: other }),
      retireBody(s, [kek.kid], { digest: 'ab'.repeat(32) }),
      retireBody(s, [kek.kid], { hpke: elsewhere }), // made for another service instance
      { ...retireBody(s, [(await kekFor(9)).kid]), kids: [kek.kid] }, // the kids swapped under a signature
    ]) {
      const res = await s.post('/v1/keys/retire', body);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('gateway_unauthenticated');
    }
    expect(await held(s)).toEqual([kek.kid]);
    expect(s.logs.filter((l) => l.event === 'kek_retire_refused')).toHaveLength(4);
  });

  it('400 invalid_request for malformed requests, before any signature check', async () => {
    const s = await makeService(env);
    const kek = await kekFor(0);
    expect((await upload(s, kek)).status).toBe(200);
    const good = retireBody(s, [kek.kid]);
    const many = await Promise.all(Array.from({ length: MAX_SERVICE_KEYS + 1 }, (_, i) => kekFor(i + 1)));
    for (const body of [
      { ...good, v: 2 },
      { ...good, kids: [] },
      { ...good, kids: [kek.kid, kek.kid] },
      { ...good, kids: many.map((k) => k.kid) },
      { ...good, kids: ['not a kid'] },
      { ...good, sig: good.sig.slice(1) },
      { ...good, extra: 1 },
      { v: 1, kids: [kek.kid] },
    ]) {
      const res = await s.post('/v1/keys/retire', body);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    }
    expect(await held(s)).toEqual([kek.kid]);
  });

  it('a manifest that pins no gateway: refused, unless the development switch allows it', async () => {
    const { gateway: _g, ...rest } = JSON.parse(env.manifestText) as Record<string, unknown>;
    const manifestBytes = new TextEncoder().encode(`${JSON.stringify(rest, null, 2)}\n`);
    const strict = await makeService(env, { manifestBytes });
    const digest = await manifestDigest(manifestBytes);
    const body = (s: TestService) => retireBody(s, [kek.kid], { digest });
    const kek = await kekFor(0);
    const refused = await strict.post('/v1/keys/retire', body(strict));
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe('gateway_unauthenticated');
    const dev = await makeService(env, { manifestBytes, allowUnpinnedGateway: true });
    expect(await (await dev.post('/v1/keys/retire', body(dev))).json()).toEqual({ retired: [] });
    expect(dev.logs.map((l) => l.event)).toContain('kek_retire_unauthenticated');
  });
});
