/**
 * Bad HTTP input at the attestation service (`app.request`, real simulator): on every POST route,
 * malformed JSON, non-objects, I-JSON violations, wrong content types, oversized bodies (with
 * content-length honest, lying or absent), unknown and missing fields; unknown routes and wrong
 * methods. Each is OpenAI's error JSON with its status, and nothing happens behind it: no evidence
 * is produced (the platform is counted) and no key is stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import type { AttestationPlatform } from '../../src/platform/types.js';
import { ENV_TIMEOUT_MS, makeService, T0, type TestService } from './support.js';

let env: DevelopmentEnvironment;
let svc: TestService;
let evidenceCalls = 0;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  const real = env.servicePlatform;
  const counted: AttestationPlatform = {
    kind: real.kind,
    simulated: real.simulated,
    description: real.description,
    getEvidence: (reportData, opts) => {
      evidenceCalls++;
      return real.getEvidence(reportData, opts);
    },
  };
  svc = await makeService(env, { platform: counted });
}, ENV_TIMEOUT_MS);

async function expectError(res: Response, status: number, code: string, what: string) {
  expect(res.status, what).toBe(status);
  expect(res.headers.get('content-type'), what).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control'), what).toBe('no-store');
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort(), what).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code, what).toBe(code);
}

const POSTS = [
  '/v1/attestation',
  '/v1/keys',
  '/v1/workers/challenge',
  '/v1/workers/register',
  '/v1/workers/keys',
];

function stream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
}

describe('attestation service: bad HTTP input', () => {
  it('malformed JSON, I-JSON violations and invalid UTF-8 → 400 invalid_json on every POST route', async () => {
    const bodies: [string, BodyInit][] = [
      ['truncated', '{"nonce":'],
      ['empty', ''],
      ['duplicate member', '{"nonce":"a","nonce":"b"}'],
      ['lone surrogate', '{"nonce":"\\ud800"}'],
      ['number out of range', '{"nonce":1e999}'],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
    ];
    for (const path of POSTS) {
      for (const [what, body] of bodies) {
        const res = await svc.app.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await expectError(res, 400, 'invalid_json', `${path}: ${what}`);
      }
    }
    expect(evidenceCalls).toBe(0);
  });

  it('non-objects, unknown and missing fields → 400 invalid_request', async () => {
    for (const path of POSTS) {
      for (const body of ['[]', '"x"', '1', 'null', '{"unexpected":1}']) {
        await expectError(await svc.post(path, body), 400, 'invalid_request', `${path}: ${body}`);
      }
    }
    await expectError(await svc.post('/v1/attestation', {}), 400, 'invalid_request', 'no nonce');
    for (const nonce of ['', 'AAAA', 'A'.repeat(44), `${'A'.repeat(42)}A=`, 7, null, `${'A'.repeat(42)}+/`]) {
      await expectError(
        await svc.post('/v1/attestation', { nonce }),
        400,
        'invalid_request',
        `nonce ${nonce}`,
      );
    }
    expect(evidenceCalls).toBe(0);
  });

  it('a wrong or missing content type → 415', async () => {
    for (const path of POSTS) {
      for (const type of ['text/plain', 'application/jsonx', '']) {
        await expectError(
          await svc.post(path, '{}', { 'content-type': type }),
          415,
          'unsupported_media_type',
          `${path}: ${type}`,
        );
      }
    }
    expect(evidenceCalls).toBe(0);
  });

  it('oversized bodies → 413; a content-length that is not a number → 400', async () => {
    // Above the largest limit: register's 2 MiB (a bundle with GPU evidence).
    const big = new TextEncoder().encode(JSON.stringify({ nonce: 'A'.repeat(2200 * 1024) }));
    for (const path of POSTS) {
      await expectError(await svc.post(path, new TextDecoder().decode(big)), 413, 'payload_too_large', path);
      for (const headers of [{ 'content-length': '10' }, {}]) {
        const res = await svc.app.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: stream([big.subarray(0, 300_000), big.subarray(300_000)]),
          duplex: 'half',
        } as RequestInit);
        await expectError(res, 413, 'payload_too_large', `${path} ${JSON.stringify(headers)}`);
      }
    }
    const lying = await svc.app.request('/v1/attestation', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(1 << 30) },
      body: stream([new TextEncoder().encode('{}')]),
      duplex: 'half',
    } as RequestInit);
    await expectError(lying, 413, 'payload_too_large', 'claims 1 GiB');
    const notNumber = await svc.app.request('/v1/attestation', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '1e3' },
      body: stream([new TextEncoder().encode('{}')]),
      duplex: 'half',
    } as RequestInit);
    await expectError(notNumber, 400, 'invalid_request', 'content-length 1e3');
    expect(evidenceCalls).toBe(0);
  });

  it('unknown routes → 404; wrong methods → 405 with Allow', async () => {
    for (const path of ['/v1/attestations', '/v1/attestation/', '/V1/keys', '/v1/worker', '/']) {
      await expectError(await svc.post(path, '{}'), 404, 'not_found', path);
    }
    for (const [method, path, allow] of [
      ['GET', '/v1/attestation', 'POST'],
      ['PUT', '/v1/keys', 'GET, POST'],
      ['DELETE', '/v1/workers/register', 'POST'],
      ['POST', '/healthz', 'GET'],
      ['POST', '/v1/workers', 'GET'], // the attested-worker list is read-only
    ] as const) {
      const res = await svc.app.request(path, { method });
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      await expectError(res, 405, 'method_not_allowed', `${method} ${path}`);
    }
    expect(evidenceCalls).toBe(0);
    const keys = (await (await svc.get('/v1/keys')).json()) as { keys: unknown[] };
    expect(keys.keys).toEqual([]);
  });

  it('control: a well-formed request does produce evidence', async () => {
    const res = await svc.post('/v1/attestation', { nonce: 'A'.repeat(43) });
    expect(res.status).toBe(200);
    expect(evidenceCalls).toBe(1);
  });
});
