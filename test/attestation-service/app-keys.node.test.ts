/**
 * The attestation service's own routes through `app.request()`: health, evidence for a nonce, KEK
 * uploads and listing, and the refusals at the boundary (media type, size, strict JSON, fields),
 * with the REAL simulator and real HPKE.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { verifyEvidenceBundle } from '../../src/attestation/verify-evidence-bundle.js';
import { MAX_SERVICE_KEYS } from '../../src/attestation-service/key-store.js';
import { toBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { generateKeyExchangeKeyPair } from '../../src/keys/hpke.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
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
let svc: TestService;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
}, ENV_TIMEOUT_MS);

const kekFor = (offset = 0, lifetime = 600): Promise<Kek> =>
  createKek({ notBefore: T0_SECONDS + offset, notAfter: T0_SECONDS + offset + lifetime });

async function sealUpload(
  kek: Kek,
  opts: { to?: Uint8Array; digest?: string; purpose?: 'kek-upload' | 'kek-release' } = {},
) {
  const sealed = await sealKek(opts.to ?? svc.keys.hpke.publicKey, kek, {
    purpose: opts.purpose ?? 'kek-upload',
    context: kekContext(opts.digest ?? env.manifestDigest),
  });
  return signUpload(env, svc, sealed);
}

describe('GET /healthz', () => {
  it('reports role, manifest digest, simulated and the key count', async () => {
    const res = await svc.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      status: 'ok',
      role: 'attestation-service',
      manifestDigest: env.manifestDigest,
      simulated: true,
      keys: 0,
    });
  });
});

describe('POST /v1/attestation', () => {
  it('answers the nonce with a bundle the real verifier trusts, binding the service keys', async () => {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const res = await svc.post('/v1/attestation', { nonce: toBase64Url(nonce) });
    expect(res.status).toBe(200);
    const bundle = parseEvidenceBundle(await res.json());
    expect(bundle).toMatchObject({ role: 'attestation-service', simulated: true, nonce });
    expect(new TextDecoder().decode(bundle.manifest)).toBe(env.manifestText);
    expect(bundle.keys.hpke).toEqual(svc.keys.hpke.publicKey);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', svc.keys.signing.publicKey));
    expect(bundle.keys.signing).toEqual(spki);
    const verdict = await verifyEvidenceBundle({
      bundle,
      manifest: env.manifest,
      manifestDigest: env.manifestDigest,
      role: 'attestation-service',
      nonce,
      now: T0,
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.verdict).toBe('trusted');
    expect(verdict.claims!.report.measurement).toEqual(env.measurements.service);
  });

  it.each([
    ['31 bytes', { nonce: toBase64Url(new Uint8Array(31)) }, 'invalid_request'],
    ['33 bytes', { nonce: toBase64Url(new Uint8Array(33)) }, 'invalid_request'],
    ['padded base64', { nonce: `${toBase64Url(new Uint8Array(32))}=` }, 'invalid_request'],
    ['not a string', { nonce: 32 }, 'invalid_request'],
    ['missing', {}, 'invalid_request'],
    ['an unknown field', { nonce: toBase64Url(new Uint8Array(32)), extra: 1 }, 'invalid_request'],
    ['an array', [toBase64Url(new Uint8Array(32))], 'invalid_request'],
  ])('refuses a nonce that is %s', async (_name, body, code) => {
    const res = await svc.post('/v1/attestation', body);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe(code);
  });
});

describe('request bodies', () => {
  it('invalid_json for broken JSON, duplicate members and non-UTF-8', async () => {
    for (const body of ['{"nonce":', '{"nonce":"a","nonce":"b"}', '{} trailing']) {
      const res = await svc.post('/v1/attestation', body);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_json');
    }
    const res = await svc.app.request('/v1/attestation', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    expect(await errorCode(res)).toBe('invalid_json');
  });

  it('415 for a body that is not declared JSON', async () => {
    const res = await svc.post('/v1/attestation', '{}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(await errorCode(res)).toBe('unsupported_media_type');
  });

  it('413 for an oversized body, declared or streamed without a length', async () => {
    const big = JSON.stringify({ nonce: 'A'.repeat(100_000) });
    const declared = await svc.post('/v1/attestation', big);
    expect(declared.status).toBe(413);
    expect(await errorCode(declared)).toBe('payload_too_large');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(1024).fill(0x20));
        c.close();
      },
    });
    const streamed = await svc.app.request('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });
});

describe('routing', () => {
  it('404 not_found and 405 method_not_allowed (with allow) in OpenAI error JSON', async () => {
    const missing = await svc.get('/v1/nothing');
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('not_found');
    const put = await svc.app.request('/v1/keys', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect(await errorCode(put)).toBe('method_not_allowed');
    const get = await svc.get('/v1/attestation');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('500 internal_error everywhere when the manifest digest does not match the manifest', async () => {
    const broken = await makeService(env, { manifestDigest: '0'.repeat(64) });
    const res = await broken.get('/healthz');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { message: 'internal error', type: 'server_error', param: null, code: 'internal_error' },
    });
    expect(broken.logs.map((l) => l.event)).toContain('service_misconfigured');
  });
});

describe('POST /v1/keys and GET /v1/keys', () => {
  it('accepts a KEK sealed to the service for its manifest, idempotently, and lists it', async () => {
    const s = await makeService(env);
    const kek = await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 });
    const sealed = signUpload(
      env,
      s,
      await sealKek(s.keys.hpke.publicKey, kek, {
        purpose: 'kek-upload',
        context: kekContext(env.manifestDigest),
      }),
    );
    const meta = { kid: kek.kid, notBefore: kek.notBefore, notAfter: kek.notAfter };
    for (let i = 0; i < 2; i++) {
      const res = await s.post('/v1/keys', sealed);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(meta);
    }
    expect(await (await s.get('/v1/keys')).json()).toEqual({ keys: [meta] });
    expect(((await (await s.get('/healthz')).json()) as { keys: number }).keys).toBe(1);
    expect(s.logs.map((l) => l.event)).toEqual(['kek_accepted', 'kek_already_held']);
    // Expired keys drop out of the listing.
    s.clock.now = new Date((kek.notAfter + 1) * 1000);
    expect(await (await s.get('/v1/keys')).json()).toEqual({ keys: [] });
  });

  it('refuses an expired key (409 key_expired)', async () => {
    const kek = await kekFor(-600, 600); // notAfter === now
    const res = await svc.post('/v1/keys', await sealUpload(kek));
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('key_expired');
  });

  it("refuses a window longer than the manifest's key lifetime", async () => {
    const kek = await kekFor(0, env.manifest.keyPolicy.lifetimeSeconds + 1);
    const res = await svc.post('/v1/keys', await sealUpload(kek));
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_request');
  });

  it('refuses a key sealed to another key, for another manifest, or for another purpose', async () => {
    const kek = await kekFor();
    const other = await generateKeyExchangeKeyPair();
    const cases = [
      await sealUpload(kek, { to: other.publicKey }),
      await sealUpload(kek, { digest: 'ab'.repeat(32) }),
      await sealUpload(kek, { purpose: 'kek-release' }),
      signUpload(env, svc, await sealKek(svc.keys.hpke.publicKey, kek, { purpose: 'kek-upload' })), // no manifest binding
    ];
    for (const sealed of cases) {
      const res = await svc.post('/v1/keys', sealed);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('decryption_failed');
    }
    expect(await (await svc.get('/v1/keys')).json()).toEqual({ keys: [] });
  });

  it('refuses unknown and missing fields and malformed sizes', async () => {
    const sealed = await sealUpload(await kekFor());
    const unknown = await svc.post('/v1/keys', { ...sealed, extra: true });
    expect(unknown.status).toBe(400);
    expect(await errorCode(unknown)).toBe('invalid_request');
    const { ct: _ct, ...missing } = sealed;
    expect(await errorCode(await svc.post('/v1/keys', missing))).toBe('invalid_request');
    const short = await svc.post('/v1/keys', { ...sealed, ct: sealed.ct.slice(0, -4) });
    // Sizes are checked before the signature: a malformed upload is decryption_failed.
    expect(short.status).toBe(400);
    expect(await errorCode(short)).toBe('decryption_failed');
  });

  it(`holds at most ${MAX_SERVICE_KEYS} live keys (429 rate_limited), a known key still accepted`, async () => {
    const s = await makeService(env);
    const upload = async (kek: Kek) =>
      s.post(
        '/v1/keys',
        signUpload(
          env,
          s,
          await sealKek(s.keys.hpke.publicKey, kek, {
            purpose: 'kek-upload',
            context: kekContext(env.manifestDigest),
          }),
        ),
      );
    const first = await kekFor();
    expect((await upload(first)).status).toBe(200);
    for (let i = 1; i < MAX_SERVICE_KEYS; i++) expect((await upload(await kekFor(i))).status).toBe(200);
    const over = await upload(await kekFor(100));
    expect(over.status).toBe(429);
    expect(await errorCode(over)).toBe('rate_limited');
    expect((await upload(first)).status).toBe(200);
  });
});
