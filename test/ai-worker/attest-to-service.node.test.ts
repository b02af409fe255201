/**
 * The worker's lifecycle against the real attestation service on loopback (SIMULATED hardware):
 * register, receive keys, follow a service restart (401 → attest again), and refuse a certificate
 * that is not about this worker (what a relay swapping answers would send). A man in the middle on
 * the worker ↔ service hop — an impostor service, or a relay re-signing the certificate — gets no
 * evidence and pushes no key: the worker attests the service first and checks the certificate's
 * signature against the attested key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import {
  encodeWorkerConfig,
  workerConfig,
  workerConfigDigestHex,
} from '../../src/attestation/worker-config.js';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { sealKek } from '../../src/keys/kek-transport.js';
import { attestService } from '../../src/service-client/attest-service.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { uploadKek } from '../../src/service-client/keys.js';
import { makeService, signUpload } from '../attestation-service/support.js';

let env: DevelopmentEnvironment;
const running: { close(): Promise<void> }[] = [];
const nowSeconds = () => Math.floor(Date.now() / 1000);

function events() {
  const list: { message: string; detail?: Record<string, unknown> }[] = [];
  const waiters: [(m: string) => boolean, () => void][] = [];
  return {
    list,
    log: (_level: string, message: string, detail?: Record<string, unknown>) => {
      list.push({ message, ...(detail ? { detail } : {}) });
      for (const [match, fire] of waiters) if (match(message)) fire();
    },
    until: (match: (m: string) => boolean) =>
      new Promise<void>((resolve) => {
        if (list.some((e) => match(e.message))) resolve();
        else waiters.push([match, resolve]);
      }),
  };
}

async function serve(port = 0, log?: (level: string, event: string) => void): Promise<RunningService> {
  const s = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port,
    log: log ?? (() => undefined),
  });
  running.push(s);
  return s;
}

async function upload(service: RunningService): Promise<Kek> {
  const attested = await attestService({
    baseUrl: service.url,
    fetch: (u, i) => fetch(u, i),
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: new Date(),
  });
  const kek = await createKek({ notBefore: nowSeconds() - 5, notAfter: nowSeconds() + 600 });
  await uploadKek({
    gatewayKey: env.gatewayKey,
    baseUrl: service.url,
    fetch: (u, i) => fetch(u, i),
    service: attested,
    kek,
    manifestDigest: env.manifestDigest,
  });
  return kek;
}

function session(service: RunningService, log: ReturnType<typeof events>, fetcher?: typeof fetch) {
  const s = new WorkerSession({
    serviceUrl: service.url,
    platform: env.workerPlatform,
    manifest: env.manifestBytes,
    manifestDigest: env.manifestDigest,
    config: encodeWorkerConfig(workerConfig({ apiKey: false })),
    pollIntervalMs: 100,
    retryInitialMs: 50,
    retryMaxMs: 100,
    minRefreshIntervalMs: 0,
    log: log.log,
    ...(fetcher ? { fetch: fetcher } : {}),
  });
  running.push(s);
  return s;
}

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: new Date() });
});
afterAll(async () => {
  for (const r of running.reverse()) await r.close();
});

describe('WorkerSession against the attestation service', () => {
  it('registers, receives the uploaded key, and after a service restart (401) attests again', async () => {
    const first = await serve();
    const log = events();
    const s = session(first, log);
    s.start();
    await log.until((m) => m === 'attested to the attestation service and registered');
    expect(s.state).toBe('registered');
    expect(s.keys.count(nowSeconds())).toBe(0);
    const k1 = await upload(first);
    await s.ready;
    expect(s.keys.ring.has(k1.kid)).toBe(true);
    const firstCertificate = s.certificate;

    // The service restarts on the same port: new keys, no memory of our certificate.
    const port = first.port;
    await first.close();
    const second = await serve(port);
    const k2 = await upload(second);
    // A request under k2 makes the worker refresh at once: 401 → attest again → k2 released.
    expect((await s.keys.get(k2.kid, nowSeconds())).kid).toBe(k2.kid);
    expect(log.list.map((e) => e.message)).toContain(
      'attestation service no longer accepts our certificate: attesting again',
    );
    expect(s.certificate).not.toEqual(firstCertificate);
  });

  it('refuses a certificate that does not name its own keys (a relay swapping answers)', async () => {
    const service = await serve();
    const honestLog = events();
    const honest = session(service, honestLog);
    honest.start();
    await honestLog.until((m) => m === 'attested to the attestation service and registered');
    const stolen = toBase64Url(honest.certificate!);

    const log = events();
    const relayed: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/v1/workers/register') || !response.ok) return response;
      const body = (await response.json()) as Record<string, unknown>;
      return Response.json({ ...body, certificate: stolen });
    };
    const victim = session(service, log, relayed);
    victim.start();
    await log.until((m) => m === 'cannot get keys from the attestation service; will retry');
    const failure = log.list.find(
      (e) => e.message === 'cannot get keys from the attestation service; will retry',
    );
    expect(failure?.detail).toMatchObject({
      code: 'fetch_failed',
      error: 'attestation service: certificate names other keys, manifest or configuration',
    });
    expect(victim.certificate).toBeNull();
    expect(victim.state).toBe('starting');
  });
});

describe('the worker attests the service before it sends evidence or takes a key', () => {
  it('an impostor service (not the measured service VM) gets no evidence and pushes no key', async () => {
    // The attacker runs the service code outside the measured VM (here: the worker's measurement),
    // holding a KEK it chose, and answers at SEALGATE_SERVICE_URL.
    const impostor = await makeService(env, { platform: env.workerPlatform });
    impostor.clock.now = new Date();
    const kek = await createKek({ notBefore: nowSeconds() - 5, notAfter: nowSeconds() + 600 });
    const sealed = await sealKek(impostor.keys.hpke.publicKey, kek, {
      purpose: 'kek-upload',
      context: kekContext(env.manifestDigest),
    });
    // The impostor takes its owner's key however its code reads uploads (signed, or as bare v1).
    const signed = await impostor.post('/v1/keys', signUpload(env, impostor, sealed));
    const held = signed.ok ? signed : await impostor.post('/v1/keys', sealed);
    expect(held.status).toBe(200);
    const paths: string[] = [];
    const toImpostor: typeof fetch = async (input, init) => {
      paths.push(new URL(String(input)).pathname);
      return impostor.app.request(String(input), init);
    };
    const log = events();
    const victim = session({ url: 'http://service.test' } as RunningService, log, toImpostor);
    victim.start();
    await log.until((m) => m === 'attestation rejected by the attestation service; not ready, will retry');
    await victim.close();
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p === '/v1/attestation')).toBe(true);
    expect(victim.keys.ring.has(kek.kid)).toBe(false);
    expect(victim.certificate).toBeNull();
  });

  it('a certificate re-signed by another key (a relay issuing its own) is refused', async () => {
    const service = await serve();
    const rogue = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    let presented: Record<string, string> = {};
    const relay: typeof fetch = async (input, init) => {
      const path = new URL(String(input)).pathname;
      if (path === '/v1/workers/register') {
        presented = (JSON.parse(String(init?.body)) as { bundle: { keys: Record<string, string> } }).bundle
          .keys;
      }
      const response = await fetch(input, init);
      if (path !== '/v1/workers/register' || !response.ok) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const forged = await issueWorkerCertificate({
        issuer: rogue,
        workerSigningKey: fromBase64Url(presented.signing!),
        workerHpkeKey: fromBase64Url(presented.hpke!),
        measurement: env.measurements.worker,
        manifestDigest: env.manifestDigest,
        configDigest: await workerConfigDigestHex(encodeWorkerConfig(workerConfig({ apiKey: false }))),
        simulated: true,
        now: new Date(),
        lifetimeSeconds: 900,
      });
      return Response.json({ ...body, certificate: toBase64Url(forged.der) });
    };
    const log = events();
    const victim = session(service, log, relay);
    victim.start();
    await log.until((m) => m === 'cannot get keys from the attestation service; will retry');
    const failure = log.list.find(
      (e) => e.message === 'cannot get keys from the attestation service; will retry',
    );
    expect(failure?.detail).toMatchObject({
      code: 'fetch_failed',
      error: 'attestation service: certificate does not verify under the attested service key',
    });
    expect(victim.certificate).toBeNull();
  });
});
