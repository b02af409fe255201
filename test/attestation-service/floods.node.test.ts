/**
 * The outside review's attacks on the attestation service, in process (`app.request`, REAL
 * simulator): whoever can reach the service must not be able to fill a table the gateway or the
 * workers need, nor starve the gateway's attestation requests.
 *
 *   - key upload: the service's HPKE key is public (every /v1/attestation answer), so anyone can seal
 *     a KEK to it; only an upload signed by the gateway the manifest pins may take a key slot;
 *   - worker challenges: stateless, so 2,000 asks leave nothing behind and a worker still registers;
 *   - POST /v1/attestation: per-caller and global budgets, and the signed gateway has its own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/attestation-service/server.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { attestationRequestAuth, GATEWAY_AUTH_HEADER } from '../../src/keys/attestation-request-auth.js';
import { deriveGatewayKey, type GatewayKey } from '../../src/keys/gateway-key.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  signUpload,
  T0,
  T0_SECONDS,
  type TestService,
  workerBundle,
} from './support.js';

let env: DevelopmentEnvironment;
let attacker: GatewayKey;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  attacker = await deriveGatewayKey('an-attacker-who-read-the-public-hpke-key-0123');
}, ENV_TIMEOUT_MS);

const kekAt = (i: number): Promise<Kek> =>
  createKek({ notBefore: T0_SECONDS + i, notAfter: T0_SECONDS + i + 600 });

const seal = (s: TestService, kek: Kek) =>
  sealKek(s.keys.hpke.publicKey, kek, { purpose: 'kek-upload', context: kekContext(env.manifestDigest) });

async function listed(s: TestService): Promise<string[]> {
  return ((await (await s.get('/v1/keys')).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe('POST /v1/keys: only the pinned gateway adds keys', () => {
  it('50 unauthenticated uploads take no slot; the gateway then uploads and is listed', async () => {
    const s = await makeService(env);
    for (let i = 0; i < 50; i++) {
      const sealed = await seal(s, await kekAt(i));
      // Half as before the fix (the bare sealed KEK), half signed by a key the manifest does not pin.
      const res = await s.post(
        '/v1/keys',
        i % 2 === 0 ? sealed : signUpload(env, s, sealed, { key: attacker }),
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    expect(await listed(s)).toEqual([]);
    const kek = await kekAt(100);
    const res = await s.post('/v1/keys', signUpload(env, s, await seal(s, kek)));
    expect(res.status).toBe(200);
    expect(await listed(s)).toEqual([kek.kid]);
  });

  it('401 gateway_unauthenticated for another key, another manifest digest or another service', async () => {
    const s = await makeService(env);
    const other = await makeService(env);
    const sealed = await seal(s, await kekAt(0));
    const forged = [
      signUpload(env, s, sealed, { key: attacker }),
      signUpload(env, s, sealed, { digest: 'ab'.repeat(32) }),
      signUpload(env, s, sealed, { serviceHpkeKey: other.keys.hpke.publicKey }),
    ];
    for (const upload of forged) {
      const res = await s.post('/v1/keys', upload);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('gateway_unauthenticated');
    }
    // A signature over other bytes (the kid changed after signing) fails too.
    const relabelled = { ...signUpload(env, s, sealed), kid: (await kekAt(9)).kid };
    expect(await errorCode(await s.post('/v1/keys', relabelled))).toBe('gateway_unauthenticated');
    expect(await listed(s)).toEqual([]);
    expect(s.logs.filter((l) => l.event === 'kek_upload_refused')).toHaveLength(4);
  });

  describe('a manifest that pins no gateway', () => {
    let unpinned: Uint8Array;
    beforeAll(() => {
      const { gateway: _g, ...rest } = JSON.parse(env.manifestText) as Record<string, unknown>;
      unpinned = utf8.encode(`${JSON.stringify(rest, null, 2)}\n`);
    });

    it('refuses every upload, even a signed one, unless the dev flag is set', async () => {
      const s = await makeService(env, { manifestBytes: unpinned });
      const res = await s.post('/v1/keys', signUpload(env, s, await seal(s, await kekAt(0))));
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('gateway_unauthenticated');
      const dev = await makeService(env, { manifestBytes: unpinned, allowUnpinnedGateway: true });
      const digest = await manifestDigest(unpinned);
      const kek = await sealKek(dev.keys.hpke.publicKey, await kekAt(0), {
        purpose: 'kek-upload',
        context: kekContext(digest),
      });
      const sealed = signUpload(env, dev, kek, { key: attacker, digest });
      expect((await dev.post('/v1/keys', sealed)).status).toBe(200);
      expect(dev.logs.some((l) => l.event === 'kek_upload_unauthenticated')).toBe(true);
    });

    it('startService refuses it, and allows it on the simulator only with the flag, loudly', async () => {
      const common = { manifestBytes: unpinned, platform: env.servicePlatform, port: 0, now: () => T0 };
      await expect(startService({ ...common, log: () => undefined })).rejects.toThrow(/pins no gateway/);
      const events: string[] = [];
      const running = await startService({
        ...common,
        allowUnpinnedGateway: true,
        log: (_level, event) => events.push(event),
      });
      await running.close();
      expect(events).toContain('GATEWAY_NOT_PINNED');
    });
  });
});

describe('POST /v1/workers/challenge is stateless', () => {
  it('after 2,000 challenges a new worker still registers', async () => {
    const s = await makeService(env);
    for (let i = 0; i < 2000; i++) {
      const res = await s.post('/v1/workers/challenge', {});
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const { nonce } = (await (await s.post('/v1/workers/challenge', {})).json()) as { nonce: string };
    const worker = await makeWorkerIdentity();
    const bundle = await workerBundle(env, worker, fromBase64Url(nonce));
    const res = await s.post('/v1/workers/register', { bundle });
    expect(res.status).toBe(200);
  });
});

describe('POST /v1/attestation is rate-limited per caller; the gateway has its own budget', () => {
  const ask = (
    s: TestService,
    from: string | null,
    headers: Record<string, string> = {},
    nonce?: Uint8Array,
  ) =>
    s.app.request(
      '/v1/attestation',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ nonce: toBase64Url(nonce ?? crypto.getRandomValues(new Uint8Array(32))) }),
      },
      from === null ? {} : { incoming: { socket: { remoteAddress: from } } },
    );

  it('a flooding caller gets 429 after its burst; another caller and the signed gateway are served', async () => {
    const s = await makeService(env);
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await ask(s, '203.0.113.7')).status);
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes.slice(5)).toEqual([429, 429, 429]);
    expect((await ask(s, '198.51.100.2')).status).toBe(200);
    // Exhaust the global anonymous budget from many addresses: the gateway is still served.
    for (let i = 0; i < 60; i++) await ask(s, `192.0.2.${i}`);
    expect((await ask(s, '198.51.100.3')).status).toBe(429);
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const auth = attestationRequestAuth(env.gatewayKey, kekContext(env.manifestDigest), nonce, T0_SECONDS);
    expect((await ask(s, '203.0.113.7', { [GATEWAY_AUTH_HEADER]: auth }, nonce)).status).toBe(200);
    // The same header for another nonce, or from another key, is anonymous (and refused now).
    expect((await ask(s, '198.51.100.4', { [GATEWAY_AUTH_HEADER]: auth })).status).toBe(429);
    const forged = attestationRequestAuth(attacker, kekContext(env.manifestDigest), nonce, T0_SECONDS);
    expect((await ask(s, '198.51.100.5', { [GATEWAY_AUTH_HEADER]: forged }, nonce)).status).toBe(429);
  });

  it("the gateway's public calls have a budget of their own: not its address's, not its rotation's", async () => {
    const s = await makeService(env);
    const signed = (kind: 'rotation' | 'public') => {
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      const auth = attestationRequestAuth(
        env.gatewayKey,
        kekContext(env.manifestDigest),
        nonce,
        T0_SECONDS,
        kind,
      );
      return ask(s, '203.0.113.50', { [GATEWAY_AUTH_HEADER]: auth }, nonce);
    };
    // The address's anonymous burst is spent (every Worker on the gateway's egress shares it)...
    for (let i = 0; i < 5; i++) expect((await ask(s, '203.0.113.50')).status).toBe(200);
    expect((await ask(s, '203.0.113.50')).status).toBe(429);
    // ...the gateway's public calls are still served, up to their own burst of 20...
    const publicCodes: number[] = [];
    for (let i = 0; i < 21; i++) publicCodes.push((await signed('public')).status);
    expect(publicCodes.slice(0, 20).every((c) => c === 200)).toBe(true);
    expect(publicCodes[20]).toBe(429);
    // ...and spending them all left the rotation's budget whole.
    for (let i = 0; i < 20; i++) expect((await signed('rotation')).status).toBe(200);
  });

  it('an IPv6 caller is its /64: a new address in it per call still gets 429 after its burst', async () => {
    const s = await makeService(env);
    const codes: number[] = [];
    for (let i = 1; i <= 8; i++) codes.push((await ask(s, `2001:db8:9:1::${i.toString(16)}`)).status);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect((await ask(s, '2001:db8:9:2::1')).status).toBe(200);
  });
});
