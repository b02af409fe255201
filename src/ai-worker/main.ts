/**
 * The AI worker as a program: `tsx src/ai-worker/main.ts`.
 *
 *   SEALGATE_MANIFEST     path of the manifest file (required)
 *   SEALGATE_SERVICE_URL  the attestation service, e.g. http://127.0.0.1:8788 (required)
 *   SEALGATE_PLATFORM     `configfs-tsm` (real SEV-SNP or TDX, Linux ≥ 6.7) or `simulator` (required:
 *                         no default, so simulation is never picked silently)
 *   SEALGATE_TEE          `sev-snp` or `tdx`: the simulator's TEE (default sev-snp); on configfs-tsm,
 *                         default what its provider reports (sev_guest, tdx_guest)
 *   SEALGATE_PCS_URL      Intel PCS or a PCCS for TDX collateral the service's bundle lacks (optional)
 *   SEALGATE_DEV_CHAIN    simulator only (required there): the dev-chain JSON the service uses too
 *                         (`tsx src/dev/main.ts` writes it with a manifest that trusts it); the
 *                         simulated guest is launched with the development worker measurement
 *   MODEL_URL             an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI); absent →
 *                         the built-in deterministic model `sealgate-builtin`. Must be allowed by the
 *                         manifest's /roles/worker/model/endpoints (absent: loopback only), or the
 *                         worker refuses to start; its normalized form is attested (worker-config.ts)
 *   MODEL_API_KEY         sent to MODEL_URL as a bearer token; only if /roles/worker/model/apiKey
 *                         is "allowed" (its use is attested, never its value)
 *   MODEL_NATIVE_APIS     comma-separated `messages`, `responses`: the APIs MODEL_URL speaks itself
 *                         (Anthropic Messages, OpenAI Responses); absent → both are translated to
 *                         chat completions inside the worker (docs/gateway.md, "native or translated")
 *   SEALGATE_GPU_COMMAND  real GPUs: NVIDIA's attestation tooling (contract: src/platform/nvidia-command.ts)
 *   SEALGATE_GPUS, SEALGATE_DEV_GPU_CHAIN  simulator only: N SIMULATED GPUs on that chain (gpu-provider-env.ts)
 *   (refused: NODE_USE_ENV_PROXY, NODE_TLS_REJECT_UNAUTHORIZED≠1, NODE_EXTRA_CA_CERTS — rerouting-env.ts)
 *   SEALGATE_STREAM_FRAME_INTERVAL_MS  least ms between two writes of a sealed stream after its
 *                         first (default 4; 0: no pacing): faster events share a write
 *                         (sealed-stream-body.ts); the first event and the end never wait
 *   SEALGATE_BODY_MIB_IN_FLIGHT  MiB of sealed request bodies held at once (default 1024, 64..65536);
 *                         past it a request is 503 not_ready and the gateway tries another worker
 *                         (body-budget.ts)
 *   SEALGATE_BODY_MIB_PER_PEER  MiB of them one peer (an IPv4 address, an IPv6 /64) may hold (default
 *                         a quarter of the above, at least one transcription's; 64..the above): set
 *                         it to the whole budget behind a proxy that hides the gateway's address
 *   SEALGATE_WRITE_STALL_SECONDS  how long an answer may wait for the gateway to take written
 *                         bytes before the connection is cut and the cut logged (default 60, 5..3600;
 *                         node-listener.ts)
 *   PORT                  default 8789        HOST  default 127.0.0.1
 *
 * Stops cleanly on SIGINT/SIGTERM. Importing this module starts nothing: tests use `startWorker`
 * (re-exported here) or `configFromEnv`.
 */
import { closeOnSignals, programConfigFromEnv, programFail, runIfMain } from '../dev/program-config.js';
import type { TranslatableRoute } from '../model/types.js';
import { DEFAULT_BODY_BYTES_IN_FLIGHT } from './body-budget.js';
import { gpuProviderFromEnv } from './gpu-provider-env.js';
import { consoleLog } from './log.js';
import { WRITE_STALL_SECONDS_MAX, WRITE_STALL_SECONDS_MIN } from './node-listener.js';
import { refuseReroutingEnvironment } from './rerouting-env.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  type StartWorkerOptions,
  simulatedBanner,
  startWorker,
} from './server.js';

export { type RunningWorker, type StartWorkerOptions, startWorker } from './server.js';

/** Reads the environment (and the files it names) into `startWorker` options. */
export async function configFromEnv(
  env: Record<string, string | undefined>,
  now: () => Date = () => new Date(),
): Promise<StartWorkerOptions> {
  const program = 'AI worker';
  refuseReroutingEnvironment(env, env === process.env ? process.execArgv : []);
  const c = await programConfigFromEnv(env, {
    program,
    role: 'worker',
    defaultPort: DEFAULT_PORT,
    defaultHost: DEFAULT_HOST,
    now,
  });
  const serviceUrl =
    env.SEALGATE_SERVICE_URL ||
    programFail(program)(
      'SEALGATE_SERVICE_URL (the attestation service, e.g. http://127.0.0.1:8788) is required',
    );
  const gpus = await gpuProviderFromEnv(env, { program, simulatedPlatform: c.platform.simulated, now });
  return {
    manifestBytes: c.manifestBytes,
    serviceUrl,
    platform: c.platform,
    ...(c.pcs ? { pcs: c.pcs } : {}),
    ...(gpus ? { gpus } : {}),
    port: c.port,
    host: c.host,
    ...(env.MODEL_URL ? { modelUrl: env.MODEL_URL } : {}),
    ...(env.MODEL_API_KEY ? { modelApiKey: env.MODEL_API_KEY } : {}),
    ...(env.MODEL_NATIVE_APIS ? { modelNativeRoutes: nativeRoutes(env.MODEL_NATIVE_APIS, program) } : {}),
    ...(env.SEALGATE_STREAM_FRAME_INTERVAL_MS !== undefined
      ? { streamFrameIntervalMs: frameInterval(env.SEALGATE_STREAM_FRAME_INTERVAL_MS, program) }
      : {}),
    ...bodyBudgetFromEnv(env, program),
    ...(env.SEALGATE_WRITE_STALL_SECONDS !== undefined
      ? { writeStallMs: writeStallSeconds(env.SEALGATE_WRITE_STALL_SECONDS, program) * 1000 }
      : {}),
  };
}

/** SEALGATE_BODY_MIB_IN_FLIGHT and SEALGATE_BODY_MIB_PER_PEER (≤ the former, or its default). */
function bodyBudgetFromEnv(
  env: Record<string, string | undefined>,
  program: string,
): Pick<StartWorkerOptions, 'bodyBytesInFlight' | 'bodyBytesPerPeer'> {
  const inFlight = env.SEALGATE_BODY_MIB_IN_FLIGHT;
  const perPeer = env.SEALGATE_BODY_MIB_PER_PEER;
  const limitMib =
    inFlight === undefined
      ? DEFAULT_BODY_BYTES_IN_FLIGHT / MIB
      : bodyMib('SEALGATE_BODY_MIB_IN_FLIGHT', inFlight, program);
  const peerMib = perPeer === undefined ? undefined : bodyMib('SEALGATE_BODY_MIB_PER_PEER', perPeer, program);
  if (peerMib !== undefined && peerMib > limitMib) {
    programFail(program)(
      `SEALGATE_BODY_MIB_PER_PEER (${peerMib}) must not exceed SEALGATE_BODY_MIB_IN_FLIGHT (${limitMib})`,
    );
  }
  return {
    ...(inFlight !== undefined ? { bodyBytesInFlight: limitMib * MIB } : {}),
    ...(peerMib !== undefined ? { bodyBytesPerPeer: peerMib * MIB } : {}),
  };
}

const MIB = 1024 * 1024;

/** Whole MiB, 64..65536: room for one of the largest sealed bodies (a transcription's ~34 MiB). */
function bodyMib(name: string, value: string, program: string): number {
  const n = Number(value);
  if (/^[0-9]{2,5}$/.test(value.trim()) && n >= 64 && n <= 65536) return n;
  return programFail(program)(`${name} must be whole MiB 64..65536, got ${JSON.stringify(value)}`);
}

/** Whole milliseconds, 0..1000 (a pacing beyond a second would be a stalled stream). */
function frameInterval(value: string, program: string): number {
  if (/^[0-9]{1,4}$/.test(value.trim()) && Number(value) <= 1000) return Number(value);
  return programFail(program)(
    `SEALGATE_STREAM_FRAME_INTERVAL_MS must be whole milliseconds 0..1000, got ${JSON.stringify(value)}`,
  );
}

/** Whole seconds, WRITE_STALL_SECONDS_MIN..WRITE_STALL_SECONDS_MAX (node-listener.ts). */
function writeStallSeconds(value: string, program: string): number {
  const n = Number(value);
  if (/^[0-9]{1,4}$/.test(value.trim()) && n >= WRITE_STALL_SECONDS_MIN && n <= WRITE_STALL_SECONDS_MAX)
    return n;
  return programFail(program)(
    `SEALGATE_WRITE_STALL_SECONDS must be whole seconds ${WRITE_STALL_SECONDS_MIN}..${WRITE_STALL_SECONDS_MAX}, got ${JSON.stringify(value)}`,
  );
}

/** `messages,responses` → their routes; anything else is a configuration error. */
function nativeRoutes(value: string, program: string): TranslatableRoute[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((name) => {
      if (name === 'messages') return '/v1/messages';
      if (name === 'responses') return '/v1/responses';
      return programFail(program)(`MODEL_NATIVE_APIS: unknown API "${name}" (messages, responses)`);
    });
}

async function main(): Promise<void> {
  const options = await configFromEnv(process.env);
  if (options.platform.simulated) process.stderr.write(`\n${simulatedBanner(options.platform.kind)}\n\n`);
  const worker = await startWorker({ ...options, log: consoleLog });
  process.stderr.write(`AI worker listening on ${worker.url} (attesting to ${options.serviceUrl})\n`);
  closeOnSignals(
    () => worker.close(),
    (signal) => consoleLog('info', 'signal', { signal }),
  );
}

runIfMain(import.meta.url, 'AI worker', main);
