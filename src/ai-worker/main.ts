/**
 * The AI worker as a program: `tsx src/ai-worker/main.ts`.
 *
 *   SEALGATE_MANIFEST     path of the manifest file (required)
 *   SEALGATE_SERVICE_URL  the attestation service, e.g. http://127.0.0.1:8788 (required)
 *   SEALGATE_PLATFORM     `configfs-tsm` (real SEV-SNP, Linux ≥ 6.7) or `simulator` (required: no
 *                         default, so simulation is never picked silently)
 *   SEALGATE_DEV_CHAIN    simulator only (required there): the dev-chain JSON the service uses too
 *                         (`tsx src/dev/main.ts` writes it with a manifest that trusts it); the
 *                         simulated guest is launched with the development worker measurement
 *   MODEL_URL             an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI); absent →
 *                         the built-in deterministic model `sealgate-builtin`
 *   MODEL_API_KEY         sent to MODEL_URL as a bearer token
 *   PORT                  default 8789        HOST  default 127.0.0.1
 *
 * Stops cleanly on SIGINT/SIGTERM. Importing this module starts nothing: tests use `startWorker`
 * (re-exported here) or `configFromEnv`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from '../dev/environment.js';
import { loadOrCreateDevChain } from '../dev/files.js';
import { SealgateError } from '../errors.js';
import { ConfigfsTsmPlatform } from '../platform/configfs-tsm.js';
import { measurementFor } from '../platform/simulator/index.js';
import type { AttestationPlatform } from '../platform/types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { consoleLog } from './log.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  SIMULATED_BANNER,
  type StartWorkerOptions,
  startWorker,
} from './server.js';

export { type RunningWorker, type StartWorkerOptions, startWorker } from './server.js';

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `AI worker: ${message}`);
};

/** Reads the environment (and the files it names) into `startWorker` options. */
export async function configFromEnv(
  env: Record<string, string | undefined>,
  now: () => Date = () => new Date(),
): Promise<StartWorkerOptions> {
  const manifestPath =
    env.SEALGATE_MANIFEST || fail('SEALGATE_MANIFEST (path of the manifest file) is required');
  const manifestBytes = new Uint8Array(await readFile(manifestPath));
  const manifest = parseManifest(manifestBytes);
  const serviceUrl =
    env.SEALGATE_SERVICE_URL ||
    fail('SEALGATE_SERVICE_URL (the attestation service, e.g. http://127.0.0.1:8788) is required');
  const port = env.PORT === undefined || env.PORT === '' ? DEFAULT_PORT : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be 0..65535, got ${env.PORT}`);
  const host = env.HOST || DEFAULT_HOST;
  let platform: AttestationPlatform;
  switch (env.SEALGATE_PLATFORM) {
    case 'configfs-tsm':
      platform = new ConfigfsTsmPlatform();
      break;
    case 'simulator': {
      const chainPath =
        env.SEALGATE_DEV_CHAIN ||
        fail(
          'SEALGATE_DEV_CHAIN is required with SEALGATE_PLATFORM=simulator (tsx src/dev/main.ts writes one)',
        );
      const { chain, created } = await loadOrCreateDevChain(chainPath, { now: now() });
      if (!manifest.trustAnchors.snp.some((a) => a.sha256 === chain.arkSha256 && a.simulated === true)) {
        fail(
          `the manifest does not trust the simulated root of ${chainPath} (${chain.arkSha256})${
            created ? ', which was just created' : ''
          }: write a development manifest for it with \`tsx src/dev/main.ts\``,
        );
      }
      platform = new DevSnpPlatform(chain, await measurementFor(DEV_MEASUREMENT_LABELS.worker), 'worker');
      break;
    }
    default:
      return fail(
        `SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got ${JSON.stringify(env.SEALGATE_PLATFORM ?? null)}`,
      );
  }
  return {
    manifestBytes,
    serviceUrl,
    platform,
    port,
    host,
    ...(env.MODEL_URL ? { modelUrl: env.MODEL_URL } : {}),
    ...(env.MODEL_API_KEY ? { modelApiKey: env.MODEL_API_KEY } : {}),
  };
}

async function main(): Promise<void> {
  const options = await configFromEnv(process.env);
  if (options.platform.simulated) process.stderr.write(`\n${SIMULATED_BANNER}\n\n`);
  const worker = await startWorker({ ...options, log: consoleLog });
  process.stderr.write(`AI worker listening on ${worker.url} (attesting to ${options.serviceUrl})\n`);
  const stop = (signal: string) => {
    consoleLog('info', 'signal', { signal });
    worker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main().catch((e) => {
    process.stderr.write(`AI worker: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
