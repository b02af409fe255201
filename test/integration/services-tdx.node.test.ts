/**
 * Both services on SIMULATED Intel TDX (createTdxDevelopmentEnvironment), end to end on loopback:
 * the client attests the service's TDX quote the way the gateway does (`attestService`, its own
 * nonce), uploads a KEK, a TDX worker attests to the service and receives it, and a sealed chat
 * completion opens to the right answer. Under a manifest whose worker role accepts only SEV-SNP,
 * the same TDX worker is refused (`tee_not_allowed`) and never gets a key. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import type { RunningWorker } from '../../src/ai-worker/main.js';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { toHex } from '../../src/bytes.js';
import { openResponse } from '../../src/envelope/response.js';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { expectError, post } from '../ai-worker/support.js';
import type { Json } from '../model/json.js';
import { CHAT, expectWorkerCertificate, recordingLog, type Stack, startStack } from './stack.js';

describe('services end to end on SIMULATED Intel TDX', () => {
  let stack: Stack;
  let worker: RunningWorker;
  beforeAll(async () => {
    stack = await startStack({ tee: 'tdx' });
    worker = await stack.startWorker();
    await worker.ready;
  });
  afterAll(() => stack?.close());

  it('the service attested on TDX: TDX claims, MRTD, SIMULATED root', () => {
    const { attested } = stack;
    expect(attested.verdict.platform).toBe('tdx');
    expect(attested.claims).toBeNull();
    expect(attested.tdx?.tcb.status).toBe('UpToDate');
    expect(toHex(attested.tdx!.body.mrTd)).toBe(toHex(stack.env.measurements.service));
    expect(attested.simulated).toBe(true);
    expect(attested.bundle.platform).toBe('tdx');
  });

  it('a TDX worker registered: its certificate names its MRTD and chains to the attested service', async () => {
    await expectWorkerCertificate(stack, worker);
  });

  it('a sealed chat completion opens to the right answer', async () => {
    const { sealed, context } = await stack.seal({
      model: BUILTIN_MODEL_ID,
      messages: [{ role: 'user', content: 'hello tdx' }],
    });
    const response = await post(worker.url, CHAT, sealed);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('hello tdx');
    const body: Json = await openResponse(context, text);
    expect(body.choices[0].message.content).toBe('You said: "hello tdx" Backwards: "tdx hello"');
  });
});

describe('a TDX worker with a SIMULATED NVIDIA GPU', () => {
  let stack: Stack;
  let worker: RunningWorker;
  beforeAll(async () => {
    stack = await startStack({ tee: 'tdx', gpus: 1 });
    worker = await stack.startWorker();
    await worker.ready;
  });
  afterAll(() => stack?.close());

  it('registers: the certificate the service issued names its GPU (same evidence and binding as on SEV-SNP)', async () => {
    expect(stack.env.manifest.roles.worker?.gpu?.count).toEqual({ min: 1, max: 1 });
    const cert = await expectWorkerCertificate(stack, worker);
    expect(cert.gpus).toHaveLength(1);
    expect(cert.gpus[0]).toMatchObject({ architecture: 'hopper', rootSha256: stack.env.gpuChain.rootSha256 });
    const registered = await stack.serviceLog.until((e) => e.event === 'worker_registered');
    expect(registered.detail).toMatchObject({ simulated: true, gpus: 1 });
    expect(stack.attested.verdict.platform).toBe('tdx'); // the service is a TD, the worker too (its MRTD above)
  });

  it('a TD that presents no GPU evidence under that manifest is refused by the service (gpu_count_not_allowed)', async () => {
    // The session alone, without the worker program's own start-up check for a GPU provider.
    const session = new WorkerSession({
      serviceUrl: stack.service.url,
      platform: stack.env.workerPlatform,
      manifest: stack.env.manifestBytes,
      manifestDigest: stack.env.manifestDigest,
      config: encodeWorkerConfig(workerConfig({ apiKey: false })),
      pollIntervalMs: 100,
      retryInitialMs: 50,
      retryMaxMs: 100,
      minRefreshIntervalMs: 0,
      log: () => undefined,
    });
    session.start();
    try {
      const rejected = await stack.serviceLog.until(
        (e) => e.event === 'worker_rejected' && JSON.stringify(e.detail).includes('gpu_count_not_allowed'),
      );
      expect(rejected.level).toBe('warn');
      expect(session.state).not.toBe('registered');
    } finally {
      await session.close();
    }
  });

  it('a sealed chat completion opens to the right answer', async () => {
    const { sealed, context } = await stack.seal({
      model: BUILTIN_MODEL_ID,
      messages: [{ role: 'user', content: 'hello gpu' }],
    });
    const response = await post(worker.url, CHAT, sealed);
    expect(response.status).toBe(200);
    const body: Json = await openResponse(context, await response.text());
    expect(body.choices[0].message.content).toBe('You said: "hello gpu" Backwards: "gpu hello"');
  });
});

describe('a TDX worker under a role that accepts only SEV-SNP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      tee: 'tdx',
      editManifest: (m) => {
        const roles = m.roles as Record<string, Record<string, unknown>>;
        roles.worker = {
          snp: {
            measurements: [toHex(new Uint8Array(48).fill(1))],
            minimumTcb: { Milan: { bootloader: 0, tee: 0, snp: 0, microcode: 0 } },
          },
        };
      },
    });
  });
  afterAll(() => stack?.close());

  it('is refused with tee_not_allowed and holds no key', async () => {
    const log = recordingLog();
    const worker = await stack.startWorker({ log: log.log });
    try {
      const rejected = await stack.serviceLog.until(
        (e) =>
          e.event === 'worker_rejected' &&
          JSON.stringify(e.detail.violations ?? []).includes('tee_not_allowed'),
      );
      expect(rejected.level).toBe('warn');
      expect((rejected.detail.violations as { code: string }[]).map((v) => v.code)).toEqual([
        'tee_not_allowed',
      ]);
      await log.until((e) => e.detail.code === 'attestation_rejected');
      expect(await (await fetch(`${worker.url}/healthz`)).json()).toMatchObject({
        status: 'starting',
        keys: 0,
      });
      const { sealed } = await stack.seal({
        model: BUILTIN_MODEL_ID,
        messages: [{ role: 'user', content: 'hi' }],
      });
      await expectError(await post(worker.url, CHAT, sealed), 503, 'not_ready');
    } finally {
      await worker.close();
    }
  });
});
