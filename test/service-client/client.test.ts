/**
 * The client library against a REAL service app (simulator, real keys), in Node and in workerd —
 * where the gateway's Durable Object runs it. `fetch` goes through `app.request`; the loopback
 * test (loopback.node.test.ts) does the same over real HTTP.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { isSealgateError, type SealgateError } from '../../src/errors.js';
import { createKek } from '../../src/keys/kek.js';
import { attestService } from '../../src/service-client/attest-service.js';
import { listServiceKeys, retireServiceKeys, uploadKek } from '../../src/service-client/keys.js';
import type { Violation } from '../../src/verify/violations.js';
import {
  ENV_TIMEOUT_MS,
  makeService,
  T0,
  T0_SECONDS,
  type TestService,
} from '../attestation-service/support.js';
import { expectSealgateError } from '../keys/support.js';

const BASE = 'http://service.test';
let env: DevelopmentEnvironment;
let svc: TestService;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
}, ENV_TIMEOUT_MS);

const attest = (over: Partial<Parameters<typeof attestService>[0]> = {}) =>
  attestService({
    baseUrl: BASE,
    fetch: svc.fetch,
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: T0,
    ...over,
  });

async function violationCodes(run: Promise<unknown>): Promise<string[]> {
  const e = await expectSealgateError(run, 'attestation_rejected');
  return ((e.detail?.violations as Violation[]) ?? []).map((v) => v.code);
}

describe('attestService', () => {
  it('trusts the service and returns its attested keys', async () => {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const service = await attest({ nonce });
    expect(service.verdict.verdict).toBe('trusted');
    expect(service.verdict.violations).toEqual([]);
    expect(service.hpkePublicKey).toEqual(svc.keys.hpke.publicKey);
    expect(service.signingKey).toEqual(
      new Uint8Array(await crypto.subtle.exportKey('spki', svc.keys.signing.publicKey)),
    );
    expect(service.claims?.report.measurement).toEqual(env.measurements.service);
    expect(service.simulated).toBe(true);
    expect(service.nonce).toEqual(nonce);
  });

  it('draws a fresh nonce per call', async () => {
    const [a, b] = await Promise.all([attest(), attest()]);
    expect(a.nonce).not.toEqual(b.nonce);
  });

  it('refuses a service running another manifest (manifest_mismatch)', async () => {
    const other = JSON.parse(env.manifestText) as { name: string };
    other.name = 'DEVELOPMENT — SIMULATED HARDWARE (another manifest)';
    const elsewhere = await makeService(env, { manifestBytes: utf8.encode(JSON.stringify(other)) });
    const codes = await violationCodes(attest({ fetch: elsewhere.fetch }));
    expect(codes).toContain('manifest_mismatch');
    // Its REPORT_DATA binds its own digest, so it cannot match ours either.
    expect(codes).toContain('report_data_mismatch');
  });

  it('refuses evidence replayed from another nonce (nonce_mismatch)', async () => {
    const old = await (await svc.post('/v1/attestation', { nonce: `${'A'.repeat(42)}A` })).json();
    const replay = async () => Response.json(old);
    const codes = await violationCodes(attest({ fetch: replay }));
    expect(codes).toEqual(expect.arrayContaining(['nonce_mismatch', 'report_data_mismatch']));
  });

  it('refuses evidence for another nonce relabelled with ours (report_data_mismatch)', async () => {
    const relabel = async (url: string, init?: RequestInit) => {
      const ours = JSON.parse(String(init?.body)) as { nonce: string };
      const res = await svc.fetch(url, { ...init, body: JSON.stringify({ nonce: `${'B'.repeat(42)}A` }) });
      return Response.json({ ...((await res.json()) as object), nonce: ours.nonce });
    };
    expect(await violationCodes(attest({ fetch: relabel }))).toEqual(['report_data_mismatch']);
  });

  it('refuses a malformed bundle; fetch_failed for the network and for HTTP errors', async () => {
    await expectSealgateError(
      attest({ fetch: async () => Response.json({ version: 2 }) }),
      'attestation_rejected',
    );
    const down = await expectSealgateError(
      attest({
        fetch: async () => {
          throw new TypeError('connection refused');
        },
      }),
      'fetch_failed',
    );
    expect(down.detail).toMatchObject({ status: 0 });
    const failing = await expectSealgateError(
      attest({ fetch: async () => Response.json({ error: { code: 'internal_error' } }, { status: 500 }) }),
      'fetch_failed',
    );
    expect(failing.detail).toMatchObject({ status: 500, code: 'internal_error' });
  });

  it('refuses an answer larger than the limit', async () => {
    const huge = async () => new Response(`"${'x'.repeat(1024 * 1024 + 10)}"`);
    await expectSealgateError(attest({ fetch: huge }), 'fetch_failed', /larger than/);
  });
});

describe('uploadKek and listServiceKeys', () => {
  it('uploads to the attested key and reads the key back', async () => {
    const s = await makeService(env);
    const service = await attest({ fetch: s.fetch });
    const kek = await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 });
    const meta = await uploadKek({
      gatewayKey: env.gatewayKey,
      baseUrl: BASE,
      fetch: s.fetch,
      service,
      kek,
      manifestDigest: env.manifestDigest,
    });
    expect(meta).toEqual({ kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter });
    expect(await listServiceKeys({ baseUrl: BASE, fetch: s.fetch })).toEqual([meta]);
  });

  it('key_expired from the service surfaces as a SealgateError of that code', async () => {
    const service = await attest();
    const kek = await createKek({ notBefore: T0_SECONDS - 900, notAfter: T0_SECONDS });
    const e = await expectSealgateError(
      uploadKek({
        gatewayKey: env.gatewayKey,
        baseUrl: BASE,
        fetch: svc.fetch,
        service,
        kek,
        manifestDigest: env.manifestDigest,
      }),
      'key_expired',
    );
    expect(e.detail).toMatchObject({ status: 409, code: 'key_expired' });
  });

  it('a key sealed and signed for another manifest is refused by the service', async () => {
    const service = await attest();
    const kek = await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 });
    const other = { hpkePublicKey: service.hpkePublicKey };
    const e = await expectSealgateError(
      uploadKek({
        gatewayKey: env.gatewayKey,
        baseUrl: BASE,
        fetch: svc.fetch,
        service: other,
        kek,
        manifestDigest: 'ef'.repeat(32),
      }),
      'fetch_failed',
    );
    // The signature binds the digest: it fails before anything is decrypted.
    expect(e.detail).toMatchObject({ status: 401, code: 'gateway_unauthenticated' });
    // …and the client refuses to mix a service attested for one digest with another.
    await expectSealgateError(
      uploadKek({
        gatewayKey: env.gatewayKey,
        baseUrl: BASE,
        fetch: svc.fetch,
        service,
        kek,
        manifestDigest: 'ef'.repeat(32),
      }),
      'invalid_argument',
    );
  });

  it('retireServiceKeys drops keys at the service; an answer naming keys it was not asked is refused', async () => {
    const s = await makeService(env);
    const service = await attest({ fetch: s.fetch });
    const call = { gatewayKey: env.gatewayKey, baseUrl: BASE, service, manifestDigest: env.manifestDigest };
    const [a, b] = [
      await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 }),
      await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 }),
    ];
    for (const kek of [a, b]) await uploadKek({ ...call, fetch: s.fetch, kek });
    expect(await retireServiceKeys({ ...call, fetch: s.fetch, kids: [a.kid] })).toEqual([a.kid]);
    expect((await listServiceKeys({ baseUrl: BASE, fetch: s.fetch })).map((k) => k.kid)).toEqual([b.kid]);
    for (const body of [{ retired: [b.kid] }, { retired: [a.kid, a.kid] }, { retired: [], more: 1 }, {}]) {
      await expectSealgateError(
        retireServiceKeys({ ...call, fetch: async () => Response.json(body), kids: [a.kid] }),
        'fetch_failed',
      );
    }
  });

  it('refuses a listing that is not {keys: [{kid, notBefore, notAfter}]}', async () => {
    const bad = [
      { keys: [{ kid: 'short', notBefore: 1, notAfter: 2 }] },
      { keys: [], more: 1 },
      { keys: {} },
    ];
    for (const body of bad) {
      const e = await listServiceKeys({ baseUrl: BASE, fetch: async () => Response.json(body) }).catch(
        (x) => x,
      );
      expect(isSealgateError(e, 'fetch_failed'), String((e as SealgateError).message)).toBe(true);
    }
  });

  it('refuses a base URL that is not absolute http(s)', async () => {
    await expectSealgateError(listServiceKeys({ baseUrl: 'ftp://x', fetch: svc.fetch }), 'invalid_argument');
    await expectSealgateError(
      listServiceKeys({ baseUrl: '/relative', fetch: svc.fetch }),
      'invalid_argument',
    );
  });
});
