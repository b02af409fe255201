/**
 * The worker routes through `app.request()` with the REAL simulator: challenge → register
 * (evidence verified against the manifest's worker reference values, certificate issued, KEKs
 * released sealed to the attested hpke key) → keys by certificate; and every refusal.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { issueWorkerCertificate } from '../../src/attestation-service/issue-certificate.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromBase64Url, sha256, toBase64Url } from '../../src/bytes.js';
import {
  createDevelopmentEnvironment,
  type DevelopmentEnvironment,
  DevSnpPlatform,
} from '../../src/dev/environment.js';
import { createKek, type Kek } from '../../src/keys/kek.js';
import { openKek, sealKek } from '../../src/keys/kek-transport.js';
import { measurementFor } from '../../src/platform/simulator/measurement.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { keyPollBytes } from '../../src/service-client/key-poll-proof.js';
import {
  parseWorkerCertificate,
  verifyWorkerCertificate,
} from '../../src/service-client/worker-certificate.js';
import { expectSealgateError } from '../keys/support.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  signUpload,
  T0,
  T0_SECONDS,
  type TestService,
  type TestWorker,
  workerBundle,
} from './support.js';

let env: DevelopmentEnvironment;
let svc: TestService;
let worker: TestWorker;
let kek: Kek;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env);
  worker = await makeWorkerIdentity();
  kek = await createKek({ notBefore: T0_SECONDS, notAfter: T0_SECONDS + 900 });
  const sealed = await sealKek(svc.keys.hpke.publicKey, kek, {
    purpose: 'kek-upload',
    context: kekContext(env.manifestDigest),
  });
  expect((await svc.post('/v1/keys', signUpload(env, svc, sealed))).status).toBe(200);
}, ENV_TIMEOUT_MS);

async function challenge(s: TestService = svc): Promise<Uint8Array> {
  const res = await s.post('/v1/workers/challenge', {});
  expect(res.status).toBe(200);
  const body = (await res.json()) as { nonce: string; expiresAt: number };
  expect(body.expiresAt).toBe(Math.floor(s.clock.now.getTime() / 1000) + 60);
  return fromBase64Url(body.nonce);
}

interface Registered {
  certificate: string;
  serviceKey: string;
  keys: unknown[];
  sig: string;
}

/** A key poll with a fresh nonce (the service signs its answer for it). */
const POLL_NONCE = new Uint8Array(32).fill(0x4e);

/** The poll's proof (key-poll-proof.ts): `signer` signs for `certificate` (default the worker). */
async function pollProof(
  certificate: string,
  signer: CryptoKey = worker.signing.privateKey,
): Promise<string> {
  const message = keyPollBytes(env.manifestDigest, await sha256(fromBase64Url(certificate)), POLL_NONCE);
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer, message as BufferSource);
  return toBase64Url(new Uint8Array(sig));
}

const poll = async (certificate: string, s: TestService = svc, proof?: string) =>
  s.post('/v1/workers/keys', {
    certificate,
    nonce: toBase64Url(POLL_NONCE),
    proof: proof ?? (await pollProof(certificate).catch(() => 'A'.repeat(86))),
  });

async function register(bundle: unknown, s: TestService = svc): Promise<Response> {
  return s.post('/v1/workers/register', { bundle });
}

const lastRejection = (s: TestService = svc) =>
  s.logs.filter((l) => l.event === 'worker_rejected').at(-1)?.detail;
const violationCodes = (detail: Record<string, unknown> | undefined) =>
  ((detail?.violations as { code: string }[] | undefined) ?? []).map((v) => v.code);

describe('register', () => {
  it('issues a certificate and releases the active KEKs sealed to the attested hpke key', async () => {
    const nonce = await challenge();
    const res = await register(await workerBundle(env, worker, nonce));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Registered;
    expect(Object.keys(body).sort()).toEqual(['certificate', 'keys', 'serviceKey', 'sig']);

    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', svc.keys.signing.publicKey));
    expect(fromBase64Url(body.serviceKey)).toEqual(spki);
    const cert = await verifyWorkerCertificate({
      certificate: fromBase64Url(body.certificate),
      issuerKey: fromBase64Url(body.serviceKey),
      now: T0,
      manifestDigest: env.manifestDigest,
    });
    expect(cert.measurement).toEqual(env.measurements.worker);
    expect(cert.hpkeKeySha256).toEqual(await sha256(worker.hpke.publicKey));
    expect(cert.signingKeySpki).toEqual(worker.signingSpki);
    expect(cert.simulated).toBe(true);
    // min(24 h, keyPolicy.lifetimeSeconds = 900 s)
    expect((cert.notAfter.getTime() - cert.notBefore.getTime()) / 1000).toBe(
      env.manifest.keyPolicy.lifetimeSeconds,
    );
    expect(cert.notBefore).toEqual(T0);

    expect(body.keys).toHaveLength(1);
    const opened = await openKek(worker.hpke.privateKey, body.keys[0], {
      purpose: 'kek-release',
      context: kekContext(env.manifestDigest),
    });
    expect(opened).toEqual(kek);
    // The release is bound to the manifest: without the context it does not open.
    await expectSealgateError(
      openKek(worker.hpke.privateKey, body.keys[0], { purpose: 'kek-release' }),
      'decryption_failed',
    );
  });

  it('a challenge is single use: the same evidence again is 403', async () => {
    const bundle = await workerBundle(env, worker, await challenge());
    expect((await register(bundle)).status).toBe(200);
    const again = await register(bundle);
    expect(again.status).toBe(403);
    expect(await errorCode(again)).toBe('attestation_rejected');
    expect(lastRejection()).toMatchObject({ code: 'challenge_spent' });
  });

  it('an expired challenge is 403 (60 s)', async () => {
    const s = await makeService(env);
    const nonce = await challenge(s);
    const bundle = await workerBundle(env, worker, nonce);
    s.clock.now = new Date(T0.getTime() + 60_000);
    const res = await register(bundle, s);
    expect(res.status).toBe(403);
    expect(lastRejection(s)).toMatchObject({ code: 'challenge_expired' });
  });

  it('a nonce the service never issued is 403 (not SWC1, or a tag that does not verify)', async () => {
    const res = await register(await workerBundle(env, worker, crypto.getRandomValues(new Uint8Array(32))));
    expect(res.status).toBe(403);
    expect(lastRejection()).toMatchObject({ code: 'challenge_malformed' });
    const forged = await challenge();
    forged[31] = (forged[31] ?? 0) ^ 1;
    expect((await register(await workerBundle(env, worker, forged))).status).toBe(403);
    expect(lastRejection()).toMatchObject({ code: 'challenge_forged' });
  });

  it('evidence made for another nonce, presented for this challenge, is 403 (REPORT_DATA)', async () => {
    const nonce = await challenge();
    const other = crypto.getRandomValues(new Uint8Array(32));
    const res = await register(await workerBundle(env, worker, nonce, { reportNonce: other }));
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('attestation_rejected');
    expect(violationCodes(lastRejection())).toEqual(['report_data_mismatch']);
  });

  it('a worker whose measurement is not in the manifest gets 403 and no keys; the caller learns only the code', async () => {
    const rogue = new DevSnpPlatform(env.chain, await measurementFor('some/other/image'), 'rogue');
    const res = await register(await workerBundle(env, worker, await challenge(), { platform: rogue }));
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body).toEqual({
      error: {
        message: 'the worker’s evidence was not accepted',
        type: 'invalid_request_error',
        param: null,
        code: 'attestation_rejected',
      },
    });
    expect(JSON.stringify(body)).not.toContain('measurement');
    expect(violationCodes(lastRejection())).toEqual(['measurement_not_allowed']);
  });

  it('the service measurement does not pass as a worker', async () => {
    const res = await register(
      await workerBundle(env, worker, await challenge(), { platform: env.servicePlatform }),
    );
    expect(res.status).toBe(403);
    expect(violationCodes(lastRejection())).toEqual(['measurement_not_allowed']);
  });

  it('a bundle with keys other than exactly hpke and signing is 403', async () => {
    const keys = { hpke: worker.hpke.publicKey, signing: worker.signingSpki, extra: new Uint8Array(4) };
    const res = await register(await workerBundle(env, worker, await challenge(), { keys }));
    expect(res.status).toBe(403);
    expect(lastRejection()).toMatchObject({ code: 'worker_keys_invalid' });
  });

  it('400 for a malformed bundle and for unknown fields, without consuming a challenge', async () => {
    const nonce = await challenge();
    const bundle = await workerBundle(env, worker, nonce);
    const malformed = await register({ ...bundle, report: 'AAAA' });
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe('invalid_request');
    const extra = await svc.post('/v1/workers/register', { bundle, more: 1 });
    expect(await errorCode(extra)).toBe('invalid_request');
    expect((await register(bundle)).status).toBe(200);
  });

  it('challenge takes exactly {}', async () => {
    const res = await svc.post('/v1/workers/challenge', { nonce: 'x' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_request');
  });
});

describe('POST /v1/workers/keys', () => {
  let registered: Registered;

  beforeAll(async () => {
    const res = await register(await workerBundle(env, worker, await challenge()));
    registered = (await res.json()) as Registered;
  });

  it('returns the active KEKs sealed to the hpke key the certificate names', async () => {
    const res = await poll(registered.certificate);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: unknown[] };
    expect(keys).toHaveLength(1);
    const opened = await openKek(worker.hpke.privateKey, keys[0], {
      purpose: 'kek-release',
      context: kekContext(env.manifestDigest),
    });
    expect(opened.kid).toBe(kek.kid);
  });

  it('401 for a certificate another key signed, even with Sealgate’s names and extensions', async () => {
    const impostor = await generateServiceKeys();
    const cert = await issueWorkerCertificate({
      issuer: impostor.signing,
      workerSigningKey: worker.signingSpki,
      workerHpkeKey: worker.hpke.publicKey,
      measurement: env.measurements.worker,
      manifestDigest: env.manifestDigest,
      configDigest: 'cf'.repeat(32),
      simulated: true,
      now: T0,
      lifetimeSeconds: 900,
    });
    expect((await parseWorkerCertificate(cert.der)).serialNumber).toBe(cert.serialNumber);
    const res = await poll(toBase64Url(cert.der));
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('certificate_rejected');
  });

  it('401 for a poll by someone who holds only the certificate (it is public): proof by another key, or for another certificate', async () => {
    const thief = await makeWorkerIdentity();
    const other = (await (
      await register(await workerBundle(env, thief, await challenge()))
    ).json()) as Registered;
    for (const proof of [
      await pollProof(registered.certificate, thief.signing.privateKey),
      await pollProof(other.certificate),
      'A'.repeat(86),
    ]) {
      const res = await poll(registered.certificate, svc, proof);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe('certificate_rejected');
    }
    expect(svc.logs.at(-1)).toMatchObject({
      event: 'worker_certificate_refused',
      detail: { reason: expect.stringContaining("not signed by the certificate's key") },
    });
    // Without a proof at all: the poll is not even read as one.
    const bare = await svc.post('/v1/workers/keys', {
      certificate: registered.certificate,
      nonce: toBase64Url(POLL_NONCE),
    });
    expect(bare.status).toBe(400);
    expect(await errorCode(bare)).toBe('invalid_request');
  });

  it('401 once the certificate has expired', async () => {
    const s = await makeService(env);
    const body = (await (
      await register(await workerBundle(env, worker, await challenge(s)), s)
    ).json()) as Registered;
    s.clock.now = new Date(T0.getTime() + 899_000);
    expect((await poll(body.certificate, s)).status).toBe(200);
    s.clock.now = new Date(T0.getTime() + 900_000);
    const res = await poll(body.certificate, s);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('certificate_rejected');
  });

  it('401 for a certificate of this service’s key that a restarted service (new registry) does not know', async () => {
    const s = await makeService(env);
    const res = await poll(registered.certificate, s);
    expect(res.status).toBe(401);
  });

  it('401 for bytes that are not a certificate; 400 for bad base64url', async () => {
    const junk = await poll(toBase64Url(new Uint8Array(64).fill(0x30)));
    expect(junk.status).toBe(401);
    const bad = await poll('not base64!');
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('invalid_request');
    // The freshness nonce is required, and exactly 32 bytes.
    const proof = await pollProof(registered.certificate);
    for (const body of [
      { certificate: registered.certificate, proof },
      { certificate: registered.certificate, nonce: toBase64Url(new Uint8Array(16)), proof },
    ]) {
      const res = await svc.post('/v1/workers/keys', body);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    }
  });
});
