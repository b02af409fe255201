/**
 * A worker with (SIMULATED) GPUs against the real attestation service: it asks its GPUs for the
 * nonce derived from each challenge — anew at every registration, so at every renewal — and the
 * service registers it; a worker whose manifest requires GPUs refuses to start without a provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSession } from '../../src/ai-worker/attest-to-service.js';
import { startWorker } from '../../src/ai-worker/server.js';
import { deriveGpuNonce } from '../../src/attestation/gpu-binding.js';
import { encodeWorkerConfig, workerConfig } from '../../src/attestation/worker-config.js';
import { type RunningService, startService } from '../../src/attestation-service/main.js';
import { toHex } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { nodeGpuOcsp } from '../../src/dev/gpu-ocsp.js';
import { serveOcspResponder } from '../../src/dev/ocsp-responder-server.js';
import type { GpuEvidenceProvider } from '../../src/platform/gpu-types.js';
import { gpuChainResponder } from '../../src/platform/simulator/gpu-ocsp-responder.js';

let env: DevelopmentEnvironment;
const running: { close(): Promise<void> }[] = [];

let ocspUrl: string;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: new Date(), gpus: 1 });
  // The worker role requires OCSP ("require", the default): a real responder over HTTP.
  const responder = await serveOcspResponder(await gpuChainResponder(env.gpuChain, () => new Date()));
  running.push(responder);
  ocspUrl = responder.url;
}, 240_000);
afterAll(async () => {
  for (const r of running.reverse()) await r.close();
});

async function serve(port = 0): Promise<RunningService> {
  const s = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port,
    log: () => undefined,
    gpuOcsp: nodeGpuOcsp(ocspUrl),
  });
  running.push(s);
  return s;
}

/** The simulated GPUs, recording every nonce they are asked for. */
function recording(): GpuEvidenceProvider & { nonces: string[] } {
  const inner = env.workerGpus!;
  const nonces: string[] = [];
  return {
    simulated: true,
    description: inner.description,
    nonces,
    getGpuEvidence: (nonce) => {
      nonces.push(toHex(nonce));
      return inner.getGpuEvidence(nonce);
    },
  };
}

describe('a worker with GPUs', () => {
  it('registers with fresh GPU evidence, and asks its GPUs again when it attests again', async () => {
    const first = await serve();
    const gpus = recording();
    const messages: string[] = [];
    const s = new WorkerSession({
      serviceUrl: first.url,
      platform: env.workerPlatform,
      gpus,
      manifest: env.manifestBytes,
      manifestDigest: env.manifestDigest,
      config: encodeWorkerConfig(workerConfig({ apiKey: false })),
      pollIntervalMs: 100,
      retryInitialMs: 50,
      retryMaxMs: 100,
      minRefreshIntervalMs: 0,
      log: (_level, message) => messages.push(message),
    });
    running.push(s);
    s.start();
    await expect.poll(() => s.state, { timeout: 30_000 }).toBe('registered');
    expect(gpus.nonces).toHaveLength(1);
    const port = first.port;
    await first.close();
    await serve(port);
    // The restarted service refuses the old certificate (401): the worker attests again, GPUs too.
    await expect.poll(() => gpus.nonces.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => messages.filter((m) => m === 'attested to the attestation service and registered').length, {
        timeout: 30_000,
      })
      .toBeGreaterThanOrEqual(2);
    expect(new Set(gpus.nonces).size).toBe(gpus.nonces.length);
  });

  it('is asked for exactly the nonce derived from the challenge', async () => {
    const challenge = new Uint8Array(32).fill(3);
    const gpus = recording();
    const [gpu] = await gpus.getGpuEvidence(await deriveGpuNonce(challenge));
    // Bytes 4..36 of the GET_MEASUREMENTS request are its nonce (DSP0274).
    expect(toHex(gpu!.evidence.slice(4, 36))).toBe(toHex(await deriveGpuNonce(challenge)));
  });

  it('refuses to start under a manifest that requires GPUs when it has no GPU provider', async () => {
    const service = await serve();
    await expect(
      startWorker({
        manifestBytes: env.manifestBytes,
        serviceUrl: service.url,
        platform: env.workerPlatform,
        port: 0,
        log: () => undefined,
      }),
    ).rejects.toThrow(/requires at least 1 GPU\(s\) but no GPU provider is configured/);
  });
});
