/**
 * Integration on loopback: the attestation service served by `startService` (real HTTP, port 0,
 * REAL simulator), the client library attesting it with its own nonce and uploading a key, a worker
 * registering over HTTP, and the program itself (`main.ts`: environment, files, SIGTERM).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, type RunningService, startService } from '../../src/attestation-service/main.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { createKek } from '../../src/keys/kek.js';
import { openKek } from '../../src/keys/kek-transport.js';
import { exportDevChain } from '../../src/platform/simulator/dev-chain-json.js';
import { attestService } from '../../src/service-client/attest-service.js';
import { kekContext } from '../../src/service-client/kek-binding.js';
import { listServiceKeys, uploadKek } from '../../src/service-client/keys.js';
import { verifyWorkerCertificate } from '../../src/service-client/worker-certificate.js';
import type { Violation } from '../../src/verify/violations.js';
import { ENV_TIMEOUT_MS, makeWorkerIdentity, workerBundle } from '../attestation-service/support.js';
import { expectSealgateError } from '../keys/support.js';

const quiet = () => {};
let env: DevelopmentEnvironment;
let service: RunningService;
let elsewhere: RunningService;
let dir: string;

beforeAll(async () => {
  // Real time here: the service runs on the real clock, so the chain is issued now.
  env = await createDevelopmentEnvironment({ now: new Date() });
  service = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port: 0,
    log: quiet,
  });
  const other = JSON.parse(env.manifestText) as { name: string };
  other.name = 'DEVELOPMENT — SIMULATED HARDWARE (another organization)';
  elsewhere = await startService({
    manifestBytes: utf8.encode(JSON.stringify(other)),
    platform: env.servicePlatform,
    port: 0,
    log: quiet,
  });
  dir = await mkdtemp(join(tmpdir(), 'sealgate-as-'));
}, ENV_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([service?.close(), elsewhere?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const attest = (baseUrl: string, fetcher: typeof fetch = fetch) =>
  attestService({
    baseUrl,
    fetch: fetcher,
    manifest: env.manifest,
    manifestDigest: env.manifestDigest,
    now: new Date(),
  });

describe('client ↔ service over loopback HTTP', () => {
  it('attests with its own nonce, uploads a KEK, sees it listed and counted', async () => {
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(service.port).toBeGreaterThan(0);
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const attested = await attestService({
      baseUrl: service.url,
      fetch,
      manifest: env.manifest,
      manifestDigest: env.manifestDigest,
      now: new Date(),
      nonce,
    });
    expect(attested.nonce).toEqual(nonce);
    expect(attested.simulated).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    const kek = await createKek({ notBefore: now, notAfter: now + 600 });
    const meta = await uploadKek({
      gatewayKey: env.gatewayKey,
      baseUrl: service.url,
      fetch,
      service: attested,
      kek,
      manifestDigest: env.manifestDigest,
    });
    expect(await listServiceKeys({ baseUrl: service.url, fetch })).toContainEqual(meta);
    const health = await (await fetch(`${service.url}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', simulated: true, manifestDigest: env.manifestDigest });
    expect((health as { keys: number }).keys).toBeGreaterThanOrEqual(1);
  });

  it('refuses a service that presents another manifest (manifest_mismatch)', async () => {
    const e = await expectSealgateError(attest(elsewhere.url), 'attestation_rejected');
    expect((e.detail!.violations as Violation[]).map((v) => v.code)).toContain('manifest_mismatch');
  });

  it('refuses evidence for another nonce', async () => {
    // A relay that swaps the nonce on the way in: the service answers honestly, for the other nonce.
    const swap: typeof fetch = (input, init) =>
      fetch(input, {
        ...init,
        body: JSON.stringify({ nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(32))) }),
      });
    const e = await expectSealgateError(attest(service.url, swap), 'attestation_rejected');
    expect((e.detail!.violations as Violation[]).map((v) => v.code)).toContain('nonce_mismatch');
  });

  it('registers a worker and releases the key to it', async () => {
    const worker = await makeWorkerIdentity();
    const post = (path: string, body: unknown) =>
      fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const { nonce } = (await (await post('/v1/workers/challenge', {})).json()) as { nonce: string };
    const bundle = await workerBundle(env, worker, fromBase64Url(nonce));
    const res = await post('/v1/workers/register', { bundle });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { certificate: string; serviceKey: string; keys: unknown[] };
    const attested = await attest(service.url);
    // The certificate is signed by the key the gateway learned from the service's evidence.
    await verifyWorkerCertificate({
      certificate: fromBase64Url(body.certificate),
      issuerKey: attested.signingKey,
      now: new Date(),
      manifestDigest: env.manifestDigest,
    });
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    const opened = await openKek(worker.hpke.privateKey, body.keys[0], {
      purpose: 'kek-release',
      context: kekContext(env.manifestDigest),
    });
    expect((await listServiceKeys({ baseUrl: service.url, fetch })).map((k) => k.kid)).toContain(opened.kid);
  });
});

describe('configFromEnv', () => {
  it('requires the manifest and an explicit platform', async () => {
    await expectSealgateError(configFromEnv({}), 'invalid_argument', /SEALGATE_MANIFEST/);
    const manifestPath = join(dir, 'm.json');
    await writeFile(manifestPath, env.manifestBytes);
    await expectSealgateError(
      configFromEnv({ SEALGATE_MANIFEST: manifestPath }),
      'invalid_argument',
      /SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got null/,
    );
    await expectSealgateError(
      configFromEnv({ SEALGATE_MANIFEST: manifestPath, SEALGATE_PLATFORM: 'simulator' }),
      'invalid_argument',
      /SEALGATE_DEV_CHAIN is required/,
    );
    await expectSealgateError(
      configFromEnv({ SEALGATE_MANIFEST: manifestPath, SEALGATE_PLATFORM: 'configfs-tsm', PORT: '70000' }),
      'invalid_argument',
      /PORT must be/,
    );
  });

  it(
    'creates a missing dev chain (0600) and refuses a manifest that does not trust it',
    async () => {
      const manifestPath = join(dir, 'm2.json');
      await writeFile(manifestPath, env.manifestBytes);
      const chainPath = join(dir, 'new', 'chain.json');
      await expectSealgateError(
        configFromEnv({
          SEALGATE_MANIFEST: manifestPath,
          SEALGATE_PLATFORM: 'simulator',
          SEALGATE_DEV_CHAIN: chainPath,
        }),
        'invalid_argument',
        /does not trust the simulated root .* which was just created/,
      );
      expect((await stat(chainPath)).mode & 0o777).toBe(0o600);
    },
    ENV_TIMEOUT_MS,
  );
});

describe('main.ts as a program', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it(
    'serves on the simulator with a SIMULATED banner and stops cleanly on SIGTERM',
    async () => {
      const chainPath = join(dir, 'dev-chain.json');
      const manifestPath = join(dir, 'manifest.dev.json');
      await writeFile(chainPath, JSON.stringify(await exportDevChain(env.chain)));
      await writeFile(manifestPath, env.manifestBytes);
      child = spawn(join('node_modules', '.bin', 'tsx'), ['src/attestation-service/main.ts'], {
        env: {
          ...process.env,
          SEALGATE_PLATFORM: 'simulator',
          SEALGATE_DEV_CHAIN: chainPath,
          SEALGATE_MANIFEST: manifestPath,
          PORT: '0',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child!.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) resolve(m[1]!);
        });
        child!.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      expect(stderr).toContain('SIMULATED HARDWARE');
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({
        simulated: true,
        manifestDigest: env.manifestDigest,
      });
      const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('"event":"service_stopped"');
      expect(JSON.parse(await readFile(chainPath, 'utf8'))).toMatchObject({ simulated: true });
    },
    ENV_TIMEOUT_MS,
  );
});
