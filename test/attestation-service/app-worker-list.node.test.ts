/**
 * `GET /v1/workers` with the REAL simulator: read-only, lists exactly the workers the service
 * attested whose certificates are still valid, each entry's fields equal to what its certificate
 * (verifiable under the service's signing key) says; nothing secret.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, sha256, toHex } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { verifyWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import {
  BUILTIN_CONFIG,
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  T0,
  type TestService,
  workerBundle,
} from './support.js';

let env: DevelopmentEnvironment;
let svc: TestService;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
}, ENV_TIMEOUT_MS);

interface Listed {
  object: string;
  data: Record<string, string | boolean>[];
}

async function registerOne(): Promise<string> {
  const worker = await makeWorkerIdentity();
  const res = await svc.post('/v1/workers/challenge', {});
  const nonce = fromBase64Url(((await res.json()) as { nonce: string }).nonce);
  const reg = await svc.post('/v1/workers/register', { bundle: await workerBundle(env, worker, nonce) });
  expect(reg.status).toBe(200);
  return toHex(await sha256(worker.hpke.publicKey));
}

describe('GET /v1/workers', () => {
  it('empty before any registration', async () => {
    const res = await svc.get('/v1/workers');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'list', data: [] });
  });

  it('each attested worker, its certificate fields read back from a certificate that verifies under the service key', async () => {
    const hashes = [await registerOne(), await registerOne()];
    const body = (await (await svc.get('/v1/workers')).json()) as Listed;
    expect(body.data).toHaveLength(2);
    const measurement = env.manifest.roles.worker!.snp!.measurements[0];
    for (const [i, w] of body.data.entries()) {
      const cert = await verifyWorkerCertificate({
        certificate: fromBase64Url(w.certificate as string),
        issuerKey: svc.keys.signing.publicKey,
        now: T0,
        manifestDigest: env.manifestDigest,
      });
      expect(w).toEqual({
        serialNumber: cert.serialNumber,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        measurement,
        manifestDigest: env.manifestDigest,
        hpkeKeySha256: hashes[i],
        simulated: true,
        configDigest: toHex(await sha256(BUILTIN_CONFIG)),
        gpus: [],
        certificate: w.certificate,
      });
    }
  });

  it('forgets workers whose certificates expired', async () => {
    const before = (await (await svc.get('/v1/workers')).json()) as Listed;
    expect(before.data.length).toBeGreaterThan(0);
    svc.clock.now = new Date(T0.getTime() + 25 * 3600 * 1000);
    try {
      expect(((await (await svc.get('/v1/workers')).json()) as Listed).data).toEqual([]);
    } finally {
      svc.clock.now = T0;
    }
  });

  it('read-only: POST is 405', async () => {
    const res = await svc.post('/v1/workers', {});
    expect(res.status).toBe(405);
    expect(await errorCode(res)).toBe('method_not_allowed');
  });
});
