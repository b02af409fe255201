/**
 * How the gateway confirms a key: the service's list of held keys, signed by its
 * attested key for the gateway's nonce (src/service-client/keys-held.ts), against a REAL service app
 * (simulator), in Node and in workerd where the rotation Durable Object runs it. A man in the middle
 * on the gateway ↔ service hop drops an upload, answers it himself and lists the key as held: the
 * plain list (`listServiceKeys`, what the rotation trusted before) takes the forgery; the signed
 * confirmation refuses it however it is dressed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { type AttestedService, attestService } from '../../src/service-client/attest-service.js';
import { confirmServiceKeys, listServiceKeys, uploadKek } from '../../src/service-client/keys.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  T0,
  T0_SECONDS,
  type TestService,
} from '../attestation-service/support.js';
import { expectSealgateError } from '../keys/support.js';

const BASE = 'http://service.test';
let env: DevelopmentEnvironment;
let svc: TestService;
let other: TestService;
let service: AttestedService;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
  other = await makeService(env);
  service = await attestService({
    baseUrl: BASE,
    fetch: svc.fetch,
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: T0,
  });
}, ENV_TIMEOUT_MS);

const kekAt = (i: number): Promise<Kek> =>
  createKek({ notBefore: T0_SECONDS + i, notAfter: T0_SECONDS + i + 900 });
const meta = (k: Kek) => ({ kid: k.kid, notBefore: k.notBefore, notAfter: k.notAfter });
const confirm = (fetch: TestService['fetch']) =>
  confirmServiceKeys({ baseUrl: BASE, fetch, service, manifestDigest: env.manifestDigest, now: T0 });
const upload = (kek: Kek, fetch: TestService['fetch'] = svc.fetch) =>
  uploadKek({
    gatewayKey: env.gatewayKey,
    baseUrl: BASE,
    fetch,
    service,
    kek,
    manifestDigest: env.manifestDigest,
  });

describe('confirmServiceKeys', () => {
  it('the attested service lists what it holds, signed for our nonce', async () => {
    const kek = await kekAt(0);
    await upload(kek);
    expect(await confirm(svc.fetch)).toContainEqual(meta(kek));
  });

  it('a man in the middle answers an upload and lists the key: the signed confirmation refuses every dressing', async () => {
    const dropped = await kekAt(1);
    const earlier = await (await svc.fetch(`${BASE}/v1/keys?nonce=${'A'.repeat(43)}`)).json();
    const dressings: Record<string, (real: Record<string, unknown>) => unknown> = {
      unsigned: (real) => ({ keys: [...(real.keys as unknown[]), meta(dropped)] }),
      'real signature, key added': (real) => ({
        ...real,
        keys: [...(real.keys as unknown[]), meta(dropped)],
      }),
      'an earlier signed answer': () => earlier,
      'another service signs': () => 'other',
    };
    for (const [name, dress] of Object.entries(dressings)) {
      const mitm: TestService['fetch'] = async (url, init) => {
        if ((init?.method ?? 'GET') === 'POST' && url.endsWith('/v1/keys'))
          return Response.json(meta(dropped));
        if (url.includes('/v1/keys')) {
          const real = (await (await svc.fetch(url, init)).json()) as Record<string, unknown>;
          const forged = dress(real);
          if (forged !== 'other') return Response.json(forged);
          await upload(dropped, other.fetch).catch(() => undefined); // another service that holds it
          return other.fetch(url, init);
        }
        return svc.fetch(url, init);
      };
      // The upload "succeeds" (the relay answered it), and the plain list shows the key...
      expect(await upload(dropped, mitm)).toEqual(meta(dropped));
      if (name === 'unsigned') {
        expect(await listServiceKeys({ baseUrl: BASE, fetch: mitm })).toContainEqual(meta(dropped));
      }
      // ...but no signed confirmation for it exists.
      const e = await expectSealgateError(confirm(mitm), 'fetch_failed');
      expect({ name, reason: e.detail?.reason ?? e.message }).toEqual({
        name,
        reason: 'keys_held_signature_invalid',
      });
    }
    expect((await confirm(svc.fetch)).map((k) => k.kid)).not.toContain(dropped.kid);
  });

  it('the service takes exactly one 32-byte nonce and nothing else in the query', async () => {
    const nonce = 'A'.repeat(43);
    for (const query of [
      `nonce=${nonce}&nonce=${nonce}`,
      `nonce=${nonce}&x=1`,
      'nonce=short',
      `x=${nonce}`,
    ]) {
      const res = await svc.fetch(`${BASE}/v1/keys?${query}`);
      expect({ query, status: res.status, code: await errorCode(res) }).toEqual({
        query,
        status: 400,
        code: 'invalid_request',
      });
    }
  });
});
