/**
 * The whole local stack on SIMULATED hardware, as a function (Node only): what `npm start` runs,
 * and what the end-to-end tests start. Attestation service and AI worker run in this process; the
 * gateway is the real Worker under `wrangler dev` (workerd), in its own process group so that
 * `close()` stops it and its workerd children as one — and a watchdog stops that group when this
 * process ends in any way (parent-watch.ts), so no gateway outlives it holding the port.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { startWorker } from '../ai-worker/main.js';
import { startService } from '../attestation-service/main.js';
import { MIN_DEV_API_KEY_LENGTH } from '../gateway/config.js';
import { gatewayDevVars, wranglerVarArgs } from '../gateway/dev-vars.js';
import type { GpuDeviceChain } from '../platform/simulator/gpu-device-chain.js';
import { gpuChainResponder } from '../platform/simulator/gpu-ocsp-responder.js';
import { measurementFor } from '../platform/simulator/measurement.js';
import { SimulatedGpuProvider, simulatedGpuMeasurements } from '../platform/simulator/simulated-gpu.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { KeyPolicy } from '../policy/manifest-types.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from './environment.js';
import { DevTdxPlatform } from './environment-tdx.js';
import { writeDevelopmentFiles, writeTdxDevelopmentFiles } from './files.js';
import { nodeGpuOcsp } from './gpu-ocsp.js';
import { serveOcspResponder } from './ocsp-responder-server.js';
import { checkPortFree, stopGroupWithParent } from './parent-watch.js';

export interface StackOptions {
  /** The simulated TEE both services run on (SEALGATE_TEE; default SEV-SNP). */
  tee?: 'sev-snp' | 'tdx';
  /** Gateway port (default 8787). */
  port?: number;
  /** Attestation service and worker ports (default 8788, 8789; 0 = ephemeral). */
  servicePort?: number;
  workerPort?: number;
  apiKey?: string;
  /** Where the dev chain and manifest live (default `.sealgate-dev`). */
  devDir?: string;
  modelUrl?: string;
  modelApiKey?: string;
  /**
   * SIMULATED GPUs the worker has and the dev manifest's worker role requires (composite CPU+GPU
   * attestation, docs/protocol.md "GPU evidence"). Default 0; `npm start` passes SEALGATE_GPUS (1).
   */
  gpus?: number;
  /** Show the services' logs and wrangler's output (default true). */
  verbose?: boolean;
  /** How long to wait for the gateway and its first key (default 120 s). */
  readyTimeoutMs?: number;
  /** Aborting it during start stops what was started and rejects (Ctrl-C while starting). */
  signal?: AbortSignal;
  /** Worker key polling (default the worker's 10 s); tests of rotation shorten it. */
  workerPollIntervalMs?: number;
  /**
   * Replaces the development manifest's key policy (written to `devDir`'s manifest, so the file is
   * what runs); tests of rotation use the shortest the parser allows. Default: `DEV_KEY_POLICY`.
   */
  keyPolicy?: KeyPolicy;
  /** wrangler's local state (KV, Durable Objects) (`--persist-to`; default `.wrangler/state`). */
  persistTo?: string;
  /**
   * Tests only (never a deployed config): the URLs the gateway is given for the service and the
   * worker, from the real ones — the fault tests put a proxy in between (test/faults).
   */
  gatewayUpstreams?: (real: { serviceUrl: string; workerUrl: string }) => Promise<{
    serviceUrl: string;
    workerUrls: string[];
  }>;
  /**
   * Tests only: runs the gateway Worker some other way than `wrangler dev` (the load test runs it
   * in Miniflare, without wrangler's dev proxy in front). Default: `wrangler dev`.
   */
  runGateway?: (input: { port: number; vars: Record<string, string>; persistTo?: string }) => Promise<{
    exited(): boolean;
    close(): Promise<void>;
  }>;
}

export interface RunningStack {
  url: string;
  apiKey: string;
  manifestDigest: string;
  serviceUrl: string;
  workerUrl: string;
  devChainCreated: boolean;
  /** The simulated GPU OCSP responder the service asks (only with GPUs). */
  gpuOcspUrl?: string;
  /** `wrangler dev`'s pid, which is also its process group's id (wrangler and its workerd). */
  gatewayPid: number | undefined;
  close(): Promise<void>;
}

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  gone: () => boolean,
  signal?: AbortSignal,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error(`${what}: start aborted`);
    if (gone()) throw new Error(`${what}: wrangler dev exited`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops a child started with `detached: true` and its whole process group (SIGTERM, then SIGKILL). */
export function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig); // the whole group: npx, wrangler and its workerd
      } catch {
        /* already gone */
      }
    };
    const t = setTimeout(() => {
      kill('SIGKILL');
      resolve();
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    kill('SIGTERM');
  });
}

/**
 * The simulated GPUs' OCSP responder (src/dev/ocsp-responder-server.ts), on an ephemeral local
 * port, and the service's fetcher pointed at it: the worker role's `gpu.ocsp` is "require", so the
 * composite attestation checks revocation end to end, SIMULATED, without the internet.
 */
async function startGpuResponder(
  chain: GpuDeviceChain,
  closers: (() => Promise<void>)[],
): Promise<{ gpuOcsp: OcspFetchOptions; url: string }> {
  const responder = await serveOcspResponder(await gpuChainResponder(chain, () => new Date()));
  closers.push(() => responder.close());
  return { gpuOcsp: nodeGpuOcsp(responder.url), url: responder.url };
}

/** The development files (chain, manifest, secrets) and the manifest the stack runs, as bytes. */
async function prepareFiles(opts: StackOptions, gpus: number) {
  const devDir = opts.devDir ?? '.sealgate-dev';
  const files =
    opts.tee === 'tdx'
      ? await writeTdxDevelopmentFiles(devDir, { now: new Date(), gpus })
      : await writeDevelopmentFiles(devDir, { now: new Date(), gpus });
  if (opts.keyPolicy) {
    const manifest = JSON.parse(await readFile(files.manifestPath, 'utf8'));
    const text = `${JSON.stringify({ ...manifest, keyPolicy: { ...opts.keyPolicy } }, null, 2)}\n`;
    await writeFile(files.manifestPath, text);
  }
  const manifestBytes = new Uint8Array(await readFile(files.manifestPath));
  return { files, manifestBytes, digest: await manifestDigest(manifestBytes) };
}

type DevFiles = Awaited<ReturnType<typeof prepareFiles>>['files'];

/** The simulated platform of one role, on the hardware the development files were made for. */
async function platformFor(files: DevFiles, label: keyof typeof DEV_MEASUREMENT_LABELS, role: string) {
  const measurement = await measurementFor(DEV_MEASUREMENT_LABELS[label]);
  return 'rootSha256' in files.chain
    ? new DevTdxPlatform(files.chain, measurement, role, () => new Date())
    : new DevSnpPlatform(files.chain, measurement, role);
}

/** The Node side: the GPUs' OCSP responder (when there are GPUs), the attestation service, one AI worker. */
async function startNodeServices(
  opts: StackOptions,
  prepared: Awaited<ReturnType<typeof prepareFiles>>,
  gpus: number,
  closers: (() => Promise<void>)[],
) {
  const { files, manifestBytes } = prepared;
  const quietLog = (opts.verbose ?? true) ? {} : { log: () => undefined };
  const ocsp = gpus > 0 ? await startGpuResponder(files.gpuChain, closers) : null;
  const service = await startService({
    manifestBytes,
    ...(ocsp ? { gpuOcsp: ocsp.gpuOcsp } : {}),
    platform: await platformFor(files, 'service', 'attestation-service'),
    port: opts.servicePort ?? 8788,
    ...quietLog,
  });
  closers.push(() => service.close());
  const worker = await startWorker({
    manifestBytes,
    serviceUrl: service.url,
    platform: await platformFor(files, 'worker', 'worker'),
    ...(gpus > 0
      ? { gpus: new SimulatedGpuProvider(files.gpuChain, await simulatedGpuMeasurements(), gpus) }
      : {}),
    port: opts.workerPort ?? 8789,
    ...(opts.modelUrl ? { modelUrl: opts.modelUrl } : {}),
    ...(opts.modelApiKey ? { modelApiKey: opts.modelApiKey } : {}),
    ...(opts.workerPollIntervalMs ? { session: { pollIntervalMs: opts.workerPollIntervalMs } } : {}),
    ...quietLog,
  });
  closers.push(() => worker.close());
  return { ocsp, service, worker };
}

/** The gateway under `wrangler dev` (what `npm start` runs), in its own process group. */
function startWranglerGateway(
  opts: StackOptions,
  port: number,
  vars: Record<string, string>,
  closers: (() => Promise<void>)[],
): { gone: () => boolean; pid: number | undefined } {
  const verbose = opts.verbose ?? true;
  const wrangler = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...(opts.persistTo ? ['--persist-to', opts.persistTo] : []),
      ...wranglerVarArgs(vars),
    ],
    {
      detached: true,
      stdio: ['ignore', verbose ? 'inherit' : 'ignore', verbose ? 'inherit' : 'ignore'],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        NO_COLOR: '1',
      },
    },
  );
  const watch = wrangler.pid === undefined ? undefined : stopGroupWithParent(wrangler.pid);
  closers.push(async () => {
    await stopGroup(wrangler);
    watch?.stop();
  });
  return { gone: () => wrangler.exitCode !== null || wrangler.signalCode !== null, pid: wrangler.pid };
}

/** The gateway, as the caller runs it (`runGateway`) or under `wrangler dev`. */
async function startGateway(
  opts: StackOptions,
  port: number,
  vars: Record<string, string>,
  closers: (() => Promise<void>)[],
): Promise<{ gone: () => boolean; pid: number | undefined }> {
  if (!opts.runGateway) return startWranglerGateway(opts, port, vars, closers);
  const gateway = await opts.runGateway({
    port,
    vars,
    ...(opts.persistTo ? { persistTo: opts.persistTo } : {}),
  });
  closers.push(() => gateway.close());
  return { gone: () => gateway.exited(), pid: undefined };
}

/**
 * Ready when the gateway answers and /readyz says a sealed request can be served now: the first
 * key is there (the key-rotation Durable Object attests the service and uploads one; /readyz asks
 * it to).
 */
async function waitUntilReady(url: string, opts: StackOptions, gone: () => boolean): Promise<void> {
  const timeout = opts.readyTimeoutMs ?? 120_000;
  await waitFor('the gateway', async () => (await fetch(`${url}/healthz`)).ok, timeout, gone, opts.signal);
  await waitFor(
    'the first attested key',
    async () => (await fetch(`${url}/readyz`)).ok,
    timeout,
    gone,
    opts.signal,
  );
}

export async function startStack(opts: StackOptions = {}): Promise<RunningStack> {
  const port = opts.port ?? 8787;
  const apiKey = opts.apiKey ?? 'sk-sealgate-local-development-key';
  if (apiKey.length < MIN_DEV_API_KEY_LENGTH) {
    // The gateway would answer every request 503 (config.ts); say so before starting anything.
    throw new Error(`DEV_API_KEY must be at least ${MIN_DEV_API_KEY_LENGTH} characters`);
  }
  const gpus = opts.gpus ?? 0;
  const prepared = await prepareFiles(opts, gpus);
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };
  try {
    // A port in use fails here, named, before anything starts.
    if (!opts.runGateway) await checkPortFree(port, '127.0.0.1', 'the gateway');
    const { ocsp, service, worker } = await startNodeServices(opts, prepared, gpus, closers);
    const upstreams = opts.gatewayUpstreams
      ? await opts.gatewayUpstreams({ serviceUrl: service.url, workerUrl: worker.url })
      : { serviceUrl: service.url, workerUrls: [worker.url] };
    const vars = gatewayDevVars({
      manifestText: new TextDecoder().decode(prepared.manifestBytes),
      serviceUrl: upstreams.serviceUrl,
      workerUrls: upstreams.workerUrls,
      devApiKey: apiKey,
      gatewaySecret: prepared.files.gatewaySecret,
    });
    const gateway = await startGateway(opts, port, vars, closers);
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, opts, gateway.gone);
    return {
      url,
      apiKey,
      manifestDigest: prepared.digest,
      serviceUrl: service.url,
      workerUrl: worker.url,
      devChainCreated: prepared.files.created,
      ...(ocsp ? { gpuOcspUrl: ocsp.url } : {}),
      gatewayPid: gateway.pid,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
