/**
 * The worker's configuration at registration, with the REAL simulator: the service hashes the
 * configuration document the bundle presents, expects REPORT_DATA to bind that digest, and checks
 * the document against the manifest's `roles.worker.model` — so a worker that lies about its
 * configuration, or whose image skipped its own start-up check, gets no certificate and no keys.
 * The certificate it does get carries the digest.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { fromBase64Url, sha256, toHex, utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import { parseWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  T0,
  type TestService,
  type TestWorker,
  workerBundle,
} from './support.js';

let env: DevelopmentEnvironment;
let svc: TestService;
let worker: TestWorker;

const config = (url: string | undefined, apiKey = false) =>
  encodeWorkerConfig(workerConfig({ ...(url !== undefined ? { url } : {}), apiKey }));
const LOOPBACK = config('http://127.0.0.1:8000');
const REMOTE = config('https://models.example.com');

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
  worker = await makeWorkerIdentity();
}, ENV_TIMEOUT_MS);

async function challenge(s: TestService): Promise<Uint8Array> {
  const res = await s.post('/v1/workers/challenge', {});
  return fromBase64Url(((await res.json()) as { nonce: string }).nonce);
}

/** Registers a bundle; returns the status and the violation codes the service logged. */
async function register(
  s: TestService,
  e: DevelopmentEnvironment,
  opts: Parameters<typeof workerBundle>[3],
): Promise<{ status: number; codes: string[]; certificate?: string }> {
  const before = s.logs.length;
  const bundle = await workerBundle(e, worker, await challenge(s), opts);
  const res = await s.post('/v1/workers/register', { bundle });
  const rejected = s.logs.slice(before).find((l) => l.event === 'worker_rejected')?.detail;
  const codes = ((rejected?.violations as { code: string }[] | undefined) ?? []).map((v) => v.code);
  if (res.status !== 200) {
    expect(await errorCode(res)).toBe('attestation_rejected');
    return { status: res.status, codes };
  }
  return { status: 200, codes, certificate: ((await res.json()) as { certificate: string }).certificate };
}

/** The dev environment under a manifest with `model` rules for the worker. */
async function withModelRules(model: unknown): Promise<DevelopmentEnvironment> {
  const doc = JSON.parse(env.manifestText) as { roles: { worker: Record<string, unknown> } };
  doc.roles.worker.model = model;
  const manifestBytes = utf8.encode(JSON.stringify(doc));
  return { ...env, manifestBytes, manifestDigest: await manifestDigest(manifestBytes) };
}

describe('register: the worker configuration under the default rules (no `model` in the manifest)', () => {
  it('accepts the built-in model and a loopback endpoint; the certificate carries the config digest', async () => {
    for (const c of [config(undefined), LOOPBACK, config('http://[::1]:11434/v1')]) {
      const r = await register(svc, env, { config: c });
      expect(r.status, utf8.decode(c)).toBe(200);
      const cert = await parseWorkerCertificate(fromBase64Url(r.certificate!));
      expect(cert.configDigest).toBe(toHex(await sha256(c)));
    }
  });

  it('refuses a configuration bound in REPORT_DATA other than the one presented (report_data_mismatch)', async () => {
    // The worker binds a remote endpoint and presents the loopback one: the hardware-signed
    // binding is what counts, and it does not match what the service was shown.
    expect(await register(svc, env, { config: LOOPBACK, boundConfig: REMOTE })).toEqual({
      status: 403,
      codes: ['report_data_mismatch'],
    });
    expect(await register(svc, env, { config: LOOPBACK, boundConfig: null })).toEqual({
      status: 403,
      codes: ['report_data_mismatch'],
    });
  });

  it('refuses an endpoint the manifest does not allow, even when honestly bound', async () => {
    expect(await register(svc, env, { config: REMOTE })).toEqual({
      status: 403,
      codes: ['model_endpoint_not_allowed'],
    });
    expect(await register(svc, env, { config: config('http://model.invalid:8000') })).toEqual({
      status: 403,
      codes: ['model_endpoint_not_allowed'],
    });
  });

  it('refuses a model API key under the default apiKey "forbidden"', async () => {
    expect(await register(svc, env, { config: config('http://127.0.0.1:8000', true) })).toEqual({
      status: 403,
      codes: ['model_api_key_not_allowed'],
    });
  });

  it('refuses a worker without a configuration, and a document not in canonical form', async () => {
    expect(await register(svc, env, { config: null })).toEqual({ status: 403, codes: ['config_missing'] });
    const spaced = utf8.encode('{"model": {"apiKey":false,"endpoint":"builtin"},"v":1}');
    expect(await register(svc, env, { config: spaced })).toEqual({
      status: 403,
      codes: ['config_malformed'],
    });
    const extra = utf8.encode('{"model":{"apiKey":false,"endpoint":"builtin"},"proxy":"x","v":1}');
    expect(await register(svc, env, { config: extra })).toEqual({
      status: 403,
      codes: ['config_malformed'],
    });
  });
});

describe('register: a manifest that lists a remote endpoint and allows an API key', () => {
  it('accepts exactly that endpoint with a key, and still refuses loopback it no longer lists', async () => {
    const e = await withModelRules({ endpoints: ['https://models.example.com'], apiKey: 'allowed' });
    const s = await makeService(e, { manifestBytes: e.manifestBytes });
    expect((await register(s, e, { config: config('https://models.example.com/v1/', true) })).status).toBe(
      200,
    );
    expect(await register(s, e, { config: config('https://models.example.com:8443', true) })).toEqual({
      status: 403,
      codes: ['model_endpoint_not_allowed'],
    });
    expect(await register(s, e, { config: LOOPBACK })).toEqual({
      status: 403,
      codes: ['model_endpoint_not_allowed'],
    });
    expect(await register(s, e, { config: config(undefined) })).toEqual({
      status: 403,
      codes: ['model_endpoint_not_allowed'],
    });
  });
});
