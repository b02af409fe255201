/**
 * The worker as a program: configuration from the environment (every refusal with its exact
 * message), and `tsx src/ai-worker/main.ts` on the simulator — SIMULATED banner, attests to a real
 * service, stops cleanly on SIGINT.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/ai-worker/main.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import type { DevelopmentEnvironment } from '../../src/dev/environment.js';
import { expectSealgateError } from '../keys/support.js';
import { writeDevFiles } from '../support/dev-files.js';

let env: DevelopmentEnvironment;
let dir: string;
let chainPath: string;
let manifestPath: string;

beforeAll(async () => {
  ({ env, dir, chainPath, manifestPath } = await writeDevFiles('sealgate-worker-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('configFromEnv', () => {
  const base = () => ({
    SEALGATE_MANIFEST: manifestPath,
    SEALGATE_SERVICE_URL: 'http://127.0.0.1:8788',
    SEALGATE_PLATFORM: 'simulator',
    SEALGATE_DEV_CHAIN: chainPath,
  });
  it('reads a simulator setup with MODEL_URL and defaults PORT 8789, HOST 127.0.0.1', async () => {
    const opts = await configFromEnv({ ...base(), MODEL_URL: 'http://127.0.0.1:8000', MODEL_API_KEY: 'k' });
    expect(opts).toMatchObject({
      serviceUrl: 'http://127.0.0.1:8788',
      port: 8789,
      host: '127.0.0.1',
      modelUrl: 'http://127.0.0.1:8000',
      modelApiKey: 'k',
    });
    expect(opts.platform.simulated).toBe(true);
    expect(opts.platform.description).toMatch(/^SIMULATED HARDWARE/);
    expect(opts.manifestBytes).toEqual(env.manifestBytes);
    expect((await configFromEnv(base())).modelUrl).toBeUndefined();
  });
  it('refuses a missing or unknown platform: simulation is never picked silently', async () => {
    const { SEALGATE_PLATFORM: _, ...rest } = base();
    await expectSealgateError(
      configFromEnv(rest),
      'invalid_argument',
      'AI worker: SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got null',
    );
    await expectSealgateError(
      configFromEnv({ ...base(), SEALGATE_PLATFORM: 'sim' }),
      'invalid_argument',
      'AI worker: SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got "sim"',
    );
  });
  it('refuses a missing manifest, service URL or dev chain, and a bad port', async () => {
    await expectSealgateError(
      configFromEnv({ ...base(), SEALGATE_MANIFEST: '' }),
      'invalid_argument',
      'AI worker: SEALGATE_MANIFEST (path of the manifest file) is required',
    );
    await expectSealgateError(
      configFromEnv({ ...base(), SEALGATE_SERVICE_URL: undefined }),
      'invalid_argument',
      'AI worker: SEALGATE_SERVICE_URL (the attestation service, e.g. http://127.0.0.1:8788) is required',
    );
    await expectSealgateError(
      configFromEnv({ ...base(), SEALGATE_DEV_CHAIN: undefined }),
      'invalid_argument',
      'AI worker: SEALGATE_DEV_CHAIN is required with SEALGATE_PLATFORM=simulator (tsx src/dev/main.ts writes one)',
    );
    await expectSealgateError(
      configFromEnv({ ...base(), PORT: '70000' }),
      'invalid_argument',
      'AI worker: PORT must be 0..65535, got 70000',
    );
  });
  it('reads the stream pacing in whole milliseconds 0..1000, and refuses anything else', async () => {
    expect((await configFromEnv(base())).streamFrameIntervalMs).toBeUndefined();
    const paced = (v: string) => configFromEnv({ ...base(), SEALGATE_STREAM_FRAME_INTERVAL_MS: v });
    expect((await paced('0')).streamFrameIntervalMs).toBe(0);
    expect((await paced('1000')).streamFrameIntervalMs).toBe(1000);
    for (const bad of ['', '-1', '1001', '2.5', '4ms', '0x10']) {
      await expectSealgateError(
        paced(bad),
        'invalid_argument',
        `AI worker: SEALGATE_STREAM_FRAME_INTERVAL_MS must be whole milliseconds 0..1000, got ${JSON.stringify(bad)}`,
      );
    }
  });
  it('reads the write-stall bound in whole seconds 5..3600 as ms, and refuses anything else', async () => {
    expect((await configFromEnv(base())).writeStallMs).toBeUndefined(); // WRITE_STALL_MS
    const stall = (v: string) => configFromEnv({ ...base(), SEALGATE_WRITE_STALL_SECONDS: v });
    expect((await stall('5')).writeStallMs).toBe(5_000);
    expect((await stall('3600')).writeStallMs).toBe(3_600_000);
    expect((await stall(' 90 ')).writeStallMs).toBe(90_000);
    for (const bad of ['', '4', '0', '3601', '-5', '1.5', '60s', '0x10', '1e3']) {
      await expectSealgateError(
        stall(bad),
        'invalid_argument',
        `AI worker: SEALGATE_WRITE_STALL_SECONDS must be whole seconds 5..3600, got ${JSON.stringify(bad)}`,
      );
    }
  });
  it('reads whole MiB 64..65536 as bytes, and refuses anything else', async () => {
    expect((await configFromEnv(base())).bodyBytesInFlight).toBeUndefined();
    const budget = (v: string) => configFromEnv({ ...base(), SEALGATE_BODY_MIB_IN_FLIGHT: v });
    expect((await budget('64')).bodyBytesInFlight).toBe(64 * 1024 * 1024);
    expect((await budget('65536')).bodyBytesInFlight).toBe(65536 * 1024 * 1024);
    for (const bad of ['', '63', '65537', '1.5', '512MiB', '0x100', '-64']) {
      await expectSealgateError(
        budget(bad),
        'invalid_argument',
        `AI worker: SEALGATE_BODY_MIB_IN_FLIGHT must be whole MiB 64..65536, got ${JSON.stringify(bad)}`,
      );
    }
  });

  it("reads a peer's share the same way, never more than the process's budget", async () => {
    expect((await configFromEnv(base())).bodyBytesPerPeer).toBeUndefined();
    const share = (v: string, inFlight?: string) =>
      configFromEnv({
        ...base(),
        SEALGATE_BODY_MIB_PER_PEER: v,
        ...(inFlight ? { SEALGATE_BODY_MIB_IN_FLIGHT: inFlight } : {}),
      });
    expect((await share('1024')).bodyBytesPerPeer).toBe(1024 * 1024 * 1024); // the default budget's whole
    expect(await share('64', '128')).toMatchObject({
      bodyBytesPerPeer: 64 * MIB,
      bodyBytesInFlight: 128 * MIB,
    });
    await expectSealgateError(
      share('1025'),
      'invalid_argument',
      'AI worker: SEALGATE_BODY_MIB_PER_PEER (1025) must not exceed SEALGATE_BODY_MIB_IN_FLIGHT (1024)',
    );
    await expectSealgateError(
      share('256', '128'),
      'invalid_argument',
      'AI worker: SEALGATE_BODY_MIB_PER_PEER (256) must not exceed SEALGATE_BODY_MIB_IN_FLIGHT (128)',
    );
    await expectSealgateError(
      share('16'),
      'invalid_argument',
      'AI worker: SEALGATE_BODY_MIB_PER_PEER must be whole MiB 64..65536, got "16"',
    );
  });
});

const MIB = 1024 * 1024;

describe('main.ts as a program', () => {
  let child: ChildProcess | undefined;
  let service: RunningService | undefined;
  const serviceEvents: string[] = [];
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await service?.close();
  });

  it('runs on the simulator with a SIMULATED banner, attests to the service, stops cleanly on SIGINT', async () => {
    let registered!: () => void;
    const registeredP = new Promise<void>((r) => {
      registered = r;
    });
    service = await startService({
      manifestBytes: env.manifestBytes,
      platform: env.servicePlatform,
      port: 0,
      log: (_level, event) => {
        serviceEvents.push(event);
        if (event === 'worker_registered') registered();
      },
    });
    child = spawn(join('node_modules', '.bin', 'tsx'), ['src/ai-worker/main.ts'], {
      env: {
        ...process.env,
        SEALGATE_PLATFORM: 'simulator',
        SEALGATE_DEV_CHAIN: chainPath,
        SEALGATE_MANIFEST: manifestPath,
        SEALGATE_SERVICE_URL: service.url,
        PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child!.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /AI worker listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    expect(stderr).toContain('SIMULATED HARDWARE: this AI worker runs on the SEV-SNP simulator');
    await registeredP; // the program attested and the service issued it a certificate
    // The service issued the certificate; the worker holds it once the answer reached it.
    let health: Record<string, unknown> = {};
    for (let i = 0; i < 50 && health.registered !== true; i++) {
      health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
      if (health.registered !== true) await new Promise((r) => setTimeout(r, 50));
    }
    // No gateway has uploaded a key: attested, registered, and still not ready.
    expect(health).toEqual({
      status: 'starting',
      role: 'worker',
      manifestDigest: env.manifestDigest,
      simulated: true,
      keys: 0,
      keyIds: [],
      registered: true,
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"message":"AI worker stopped"');
  });
});
