/**
 * The verification routes inside workerd with the REAL attestation service and AI worker apps
 * (simulator) and real Durable Objects: GET /v1/attestation (evidence that verifies locally for
 * OUR nonce, an EAR that verifies against /.well-known/jwks.json), nonce validation, gateway nonces
 * checked statelessly across windows, contraindicated EARs for tampered evidence, the per-client
 * rate limit, the manifest history, and the page at / (escaped, SIMULATED banner, workers).
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { expectedStatus } from '../../src/attestation/ear.js';
import { parseEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { verifyEvidenceBundle } from '../../src/attestation/verify-evidence-bundle.js';
import { fromBase64Url, fromHex, toBase64Url, toHex } from '../../src/bytes.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import type { VerificationEnv } from '../../src/gateway/routes/verification/context.js';
import { type ManifestLogEntry, verifyManifestLog } from '../../src/gateway/verification/manifest-chain.js';
import worker from '../../src/gateway/worker.js';
import { GATEWAY_AUTH_HEADER, gatewayRequestKind } from '../../src/keys/attestation-request-auth.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { verifyWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import { callGateway as call } from './do-helpers.js';
import {
  advance,
  env,
  gatewayDescribe,
  HAS_GATEWAY_BINDINGS,
  installClock,
  SERVICE,
  type Stack,
  startStack,
} from './stack.js';

let stack: Stack;
let ipCounter = 0;
/** Each test its own client address: its own rate-limit bucket. */
const freshClient = () => ({ 'cf-connecting-ip': `198.51.100.${++ipCounter}` });

const vEnv = env as typeof env & VerificationEnv;

const randomNonce = () => crypto.getRandomValues(new Uint8Array(32));

interface AttestationAnswer {
  object: string;
  nonce: string;
  nonceSource: string;
  manifestDigest: string;
  manifest: string;
  evidence: Record<string, unknown>;
  ear: string;
  status: string;
  simulated: boolean;
  violations: string[];
  workers: string[] | null;
}

async function jwks() {
  const res = await call('/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: Record<string, string>[] };
}

beforeAll(async () => {
  if (!HAS_GATEWAY_BINDINGS) return;
  installClock();
  stack = await startStack();
  resetKeyCache();
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

gatewayDescribe('GET /v1/attestation', () => {
  it('fresh evidence for our nonce, without an API key; it verifies locally and the EAR verifies against the JWKS', async () => {
    const nonce = randomNonce();
    const res = await call(`/v1/attestation?nonce=${toHex(nonce)}`, { headers: freshClient() });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-sealgate-simulated')).toBe('1');
    const body = (await res.json()) as AttestationAnswer;
    expect(body.nonce).toBe(toHex(nonce));
    expect(body.nonceSource).toBe('caller');
    expect(body.manifest).toBe(stack.dev.manifestText);
    expect(await manifestDigest(body.manifest)).toBe(body.manifestDigest);

    // Our own verification of the raw bundle, against the manifest we hold, for OUR nonce.
    const bundle = parseEvidenceBundle(body.evidence);
    const verdict = await verifyEvidenceBundle({
      bundle,
      manifest: stack.dev.manifest,
      manifestDigest: stack.dev.manifestDigest,
      role: 'attestation-service',
      nonce,
      now: new Date(Date.now()),
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.verdict).toBe('trusted');
    // The service's worker certificates, passed through: each verifies under the key WE just
    // learned from the evidence, and names the worker's configuration digest and GPUs.
    // (None may have registered yet when this runs first; the page test below shows one.)
    expect(Array.isArray(body.workers)).toBe(true);
    for (const c of body.workers!) {
      const cert = await verifyWorkerCertificate({
        certificate: fromBase64Url(c),
        issuerKey: verdict.keys!.signing!,
        now: new Date(Date.now()),
        manifestDigest: stack.dev.manifestDigest,
      });
      expect(cert.configDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(cert.gpus).toEqual([]);
    }

    const keys = await jwks();
    const { payload, protectedHeader } = await jwtVerify(body.ear, createLocalJWKSet(keys as never), {
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBe(keys.keys[0]!.kid);
    expect(payload.eat_profile).toBe('tag:github.com,2023:veraison/ear');
    expect(payload.eat_nonce).toBe(toHex(nonce));
    expect(payload['ear.verifier-id']).toEqual({ build: expect.any(String), developer: expect.any(String) });
    const sub = (payload.submods as Record<string, Record<string, unknown>>)['attestation-service']!;
    // Simulated hardware: trusted by the development manifest, so a WARNING, never "affirming".
    expect(sub['ear.status']).toBe('warning');
    expect(sub['ear.trustworthiness-vector']).toEqual({
      'instance-identity': 2,
      configuration: 2,
      executables: 3,
      hardware: 32,
      'runtime-opaque': 32,
    });
    expect(sub['ear.appraisal-policy-id']).toBe(`sha256:${stack.dev.manifestDigest}`);
    expect(sub['sealgate.measurement']).toBe(toHex(verdict.claims!.report.measurement));
    expect(body.status).toBe('warning');
    expect(expectedStatus({ trusted: true, simulated: true, violations: [], measurement: null })).toBe(
      'warning',
    );
  });

  it('refuses a nonce of the wrong length or not hex: 400 invalid_request, param nonce', async () => {
    for (const bad of [
      'ab',
      toHex(randomNonce()).slice(2),
      `${toHex(randomNonce())}00`,
      'z'.repeat(64),
      '',
    ]) {
      const res = await call(`/v1/attestation?nonce=${bad}`, { headers: freshClient() });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; type: string; param: string } };
      expect(body.error).toMatchObject({
        code: 'invalid_request',
        type: 'invalid_request_error',
        param: 'nonce',
      });
    }
  });

  it('refuses two nonces (which one the evidence binds is the caller’s to say): 400, param nonce', async () => {
    const [a, b] = [toHex(randomNonce()), toHex(randomNonce())];
    for (const query of [`nonce=${a}&nonce=${b}`, `nonce=${a}&nonce=${a}`, `nonce=${a}&nonce=`]) {
      const res = await call(`/v1/attestation?${query}`, { headers: freshClient() });
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: { code: string; param: string } };
      expect(body.error, query).toMatchObject({ code: 'invalid_request', param: 'nonce' });
    }
  });

  it('a gateway nonce is accepted by any instance for its window and the next, then refused; a forged one never', async () => {
    const issued = (await (await call('/v1/attestation/nonce')).json()) as {
      nonce: string;
      expiresAt: number;
      windowSeconds: number;
    };
    expect(issued.nonce).toMatch(/^53474e31[0-9a-f]{56}$/); // "SGN1"
    const ok = await call(`/v1/attestation?nonce=${issued.nonce}`, { headers: freshClient() });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as AttestationAnswer).nonceSource).toBe('gateway');

    const forged = fromHex(issued.nonce);
    forged[31]! ^= 1;
    const bad = await call(`/v1/attestation?nonce=${toHex(forged)}`, { headers: freshClient() });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('forged');

    advance(2 * issued.windowSeconds + 1);
    const late = await call(`/v1/attestation?nonce=${issued.nonce}`, { headers: freshClient() });
    expect(late.status).toBe(400);
    expect(((await late.json()) as { error: { message: string } }).error.message).toContain('expired');
  });

  it('without a nonce the gateway draws a gateway nonce itself', async () => {
    const res = await call('/v1/attestation', { headers: freshClient() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AttestationAnswer;
    expect(body.nonceSource).toBe('gateway');
    expect(body.nonce).toMatch(/^53474e31/);
  });

  it('tampered evidence is reported as contraindicated — signed, not hidden', async () => {
    const router = globalThis.fetch;
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      const res = await router(input, init);
      if (url !== `${SERVICE}/v1/attestation`) return res;
      const bundle = (await res.json()) as { report: string };
      const report = fromBase64Url(bundle.report);
      report[0x90]! ^= 0xff; // MEASUREMENT: the signature no longer covers it
      bundle.report = toBase64Url(report);
      return Response.json(bundle);
    });
    try {
      const nonce = randomNonce();
      const res = await call(`/v1/attestation?nonce=${toHex(nonce)}`, { headers: freshClient() });
      expect(res.status).toBe(200);
      const body = (await res.json()) as AttestationAnswer;
      expect(body.status).toBe('contraindicated');
      expect(body.violations).toContain('report_signature_invalid');
      const { payload } = await jwtVerify(body.ear, createLocalJWKSet((await jwks()) as never));
      const sub = (payload.submods as Record<string, Record<string, unknown>>)['attestation-service']!;
      expect(sub['ear.status']).toBe('contraindicated');
      expect((sub['ear.trustworthiness-vector'] as Record<string, number>).hardware).toBe(96);
    } finally {
      vi.stubGlobal('fetch', router);
    }
  });

  it('a service that does not answer gives 503 no_attested_service, no verdict', async () => {
    stack.serviceDown = true;
    try {
      const res = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: freshClient() });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_attested_service');
    } finally {
      stack.serviceDown = false;
    }
  });

  it('rate limited per client: the 11th call in a minute is 429 rate_limited with Retry-After; another client is not', async () => {
    const client = freshClient();
    stack.serviceDown = true; // each call still costs a token; no evidence needed to count them
    try {
      for (let i = 0; i < 10; i++) {
        expect(
          (await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: client })).status,
        ).toBe(503);
      }
      const limited = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: client });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await limited.json()) as { error: unknown }).error).toMatchObject({
        code: 'rate_limited',
        type: 'rate_limit_error',
      });
      const other = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: freshClient() });
      expect(other.status).toBe(503);
      advance(7); // 10 per minute: one token back after 6 s
      expect((await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: client })).status).toBe(
        503,
      );
    } finally {
      stack.serviceDown = false;
    }
  });
});

gatewayDescribe("GET /v1/attestation: the gateway's call to the service", () => {
  it("is signed as the gateway's public call for the caller's nonce (the service's budget for it)", async () => {
    const kinds: (string | null)[] = [];
    stack.serviceRelay = async (url, init, real) => {
      const u = new URL(url);
      if (u.pathname === '/v1/attestation' && init?.method === 'POST') {
        const nonce = fromBase64Url((JSON.parse(String(init.body)) as { nonce: string }).nonce);
        const header = new Headers(init.headers).get(GATEWAY_AUTH_HEADER);
        const publicKey = stack.dev.gatewayKey.publicKey;
        const context = kekContext(stack.dev.manifestDigest);
        kinds.push(gatewayRequestKind(header, publicKey, context, nonce, Math.floor(Date.now() / 1000)));
      }
      return await real(url, init);
    };
    try {
      const res = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: freshClient() });
      expect(res.status).toBe(200);
    } finally {
      stack.serviceRelay = undefined;
    }
    expect(kinds).toEqual(['public']);
  });
});

gatewayDescribe('GET /v1/attestation rate limit, IPv6', () => {
  it('an IPv6 client is its /64: a new address in it per call is still one bucket; another /64 is not', async () => {
    stack.serviceDown = true; // each call still costs a token; no evidence needed to count them
    const from = (ip: string) =>
      call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: { 'cf-connecting-ip': ip } });
    try {
      for (let i = 1; i <= 10; i++) expect((await from(`2001:db8:5:1::${i.toString(16)}`)).status).toBe(503);
      const limited = await from('2001:db8:5:1:abcd:ef01:2345:6789');
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect((await from('2001:db8:5:2::1')).status).toBe(503);
    } finally {
      stack.serviceDown = false;
    }
  });
});

gatewayDescribe('GET /v1/attestation rate limit, storage', () => {
  it("a client's bucket object holds storage only until its bucket is full again", async () => {
    const ip = '203.0.113.77';
    const ns = vEnv.ATTESTATION_RATE_LIMIT!;
    const stub = ns.get(ns.idFromName(`ip:${ip}`)) as never;
    const stored = () =>
      runInDurableObject(
        stub,
        async (_o: unknown, state: { storage: { list(): Promise<Map<string, unknown>> } }) =>
          (await state.storage.list()).size,
      );
    stack.serviceDown = true; // each call still costs a token; no evidence needed to count them
    try {
      for (let i = 0; i < 3; i++) {
        const res = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, {
          headers: { 'cf-connecting-ip': ip },
        });
        expect(res.status).toBe(503);
      }
      expect(await stored()).toBeGreaterThan(0);
      // Before the bucket is full again the alarm keeps it (and waits on)...
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await stored()).toBeGreaterThan(0);
      // ...once full (3 tokens back at 10 per minute: 18 s), nothing of the client is left.
      advance(19);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await stored()).toBe(0);
      expect(await runDurableObjectAlarm(stub)).toBe(false);
      // A fresh bucket: the whole capacity again.
      for (let i = 0; i < 10; i++) {
        const res = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, {
          headers: { 'cf-connecting-ip': ip },
        });
        expect(res.status).toBe(503);
      }
    } finally {
      stack.serviceDown = false;
    }
  });
});

gatewayDescribe('GET /.well-known/jwks.json', () => {
  it('one ES256 key derived from GATEWAY_SECRET: kid = RFC 7638 thumbprint; same secret, same key; no private part', async () => {
    const a = await jwks();
    const b = await jwks();
    expect(a).toEqual(b);
    expect(a.keys).toHaveLength(1);
    const key = a.keys[0]!;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key.d).toBeUndefined();
    const { calculateJwkThumbprint } = await import('jose');
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: key.x!, y: key.y! }));
    const other = await call(
      '/.well-known/jwks.json',
      {},
      { ...env, GATEWAY_SECRET: `${env.GATEWAY_SECRET}-other` },
    );
    expect(((await other.json()) as { keys: { kid: string }[] }).keys[0]!.kid).not.toBe(key.kid);
    const res = await call(`/v1/attestation?nonce=${toHex(randomNonce())}`, { headers: freshClient() });
    expect(decodeProtectedHeader(((await res.json()) as AttestationAnswer).ear).kid).toBe(key.kid);
  });
});

gatewayDescribe('GET /v1/manifest', () => {
  it('the manifest, its digest and a hash chain that a changed manifest extends', async () => {
    const res = await call('/v1/manifest');
    expect(res.status).toBe(200);
    const first = (await res.json()) as {
      manifest: string;
      manifestDigest: string;
      history: ManifestLogEntry[];
      head: string;
    };
    expect(first.manifest).toBe(stack.dev.manifestText);
    expect(first.manifestDigest).toBe(stack.dev.manifestDigest);
    expect(first.history.at(-1)!.manifestDigest).toBe(stack.dev.manifestDigest);
    expect(await verifyManifestLog(first.history)).toEqual({ ok: true, head: first.head });
    // Asking again does not append.
    const again = (await (await call('/v1/manifest')).json()) as { history: ManifestLogEntry[] };
    expect(again.history).toEqual(first.history);

    const changed = JSON.stringify({ ...JSON.parse(stack.dev.manifestText), name: 'another manifest' });
    const res2 = await call('/v1/manifest', {}, { ...env, SEALGATE_MANIFEST: changed });
    const second = (await res2.json()) as {
      manifestDigest: string;
      history: ManifestLogEntry[];
      head: string;
    };
    expect(second.manifestDigest).toBe(await manifestDigest(changed));
    expect(second.history).toHaveLength(first.history.length + 1);
    expect(second.history.slice(0, -1)).toEqual(first.history);
    expect(second.history.at(-1)!.manifestDigest).toBe(second.manifestDigest);
    expect(await verifyManifestLog(second.history)).toEqual({ ok: true, head: second.head });
    // Serving under the first manifest again appends again: the log records every switch.
    const third = (await (await call('/v1/manifest')).json()) as { history: ManifestLogEntry[] };
    expect(third.history).toHaveLength(second.history.length + 1);
    expect(third.history.at(-1)!.manifestDigest).toBe(stack.dev.manifestDigest);
    expect((await verifyManifestLog(third.history)).ok).toBe(true);
  });
});

gatewayDescribe('the cron', () => {
  it('records the served manifest in the history even when nobody asks', async () => {
    const cronManifest = JSON.stringify({ ...JSON.parse(stack.dev.manifestText), name: 'cron manifest' });
    const cronEnv = { ...env, SEALGATE_MANIFEST: cronManifest };
    const ctx = createExecutionContext();
    await worker.scheduled({}, cronEnv, ctx);
    await waitOnExecutionContext(ctx);
    const log = await vEnv.MANIFEST_LOG!.get(vEnv.MANIFEST_LOG!.idFromName('manifest-log')).read();
    expect(log.entries.at(-1)!.manifestDigest).toBe(await manifestDigest(cronManifest));
    expect((await verifyManifestLog(log.entries)).ok).toBe(true);
  });
});

gatewayDescribe('GET / (the verification page)', () => {
  it('HTML without an API key: verdict, SIMULATED banner, measurement against the manifest, attested workers', async () => {
    await stack.session.keys.refresh(); // the worker registers with the service
    const res = await call('/', { headers: freshClient() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('data-verdict="verified-simulated"');
    expect(html).toContain('id="simulated-banner"');
    const measurement = stack.dev.manifest.roles['attestation-service']!.snp!.measurements[0]!;
    expect(html).toContain(`<code data-testid="service-measurement">${measurement}</code>`);
    expect(html).toContain(stack.dev.manifestDigest);
    expect(html).toMatch(/<table id="workers">[\s\S]*✔ matches/);
    // The worker's attested configuration (built-in model) is shown by its digest.
    expect(html).toContain('<th>configuration digest</th>');
    // The configuration digest, then the GPUs column (this worker has none), then the validity.
    expect(html).toMatch(/<td><code>[0-9a-f]{64}<\/code><\/td><td>none<\/td><td>\d{4}-/);
    expect(html).not.toContain('<script');
  });

  it('escapes what it did not write: a manifest name with markup is shown as text', async () => {
    const hostile = JSON.stringify({
      ...JSON.parse(stack.dev.manifestText),
      name: '<img src=x onerror=alert(1)>',
    });
    const res = await call('/', { headers: freshClient() }, { ...env, SEALGATE_MANIFEST: hostile });
    const html = await res.text();
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    // The service runs the other manifest: the page says so instead of hiding it.
    expect(html).toContain('data-verdict="not-verified"');
    expect(html).toContain('manifest_mismatch');
  });
});
