/**
 * The attestation service as a program: `tsx src/attestation-service/main.ts`.
 *
 *   SEALGATE_MANIFEST   path of the manifest file (required)
 *   SEALGATE_PLATFORM   `configfs-tsm` (real SEV-SNP, Linux ≥ 6.7) or `simulator` (required: there is
 *                       no default, so simulation is never picked silently)
 *   SEALGATE_DEV_CHAIN  simulator only (required there): the dev-chain JSON, created if missing.
 *                       `tsx src/dev/main.ts` writes one with a manifest that trusts it.
 *   PORT                default 8788        HOST  default 127.0.0.1
 *
 * Stops cleanly on SIGINT/SIGTERM. Importing this module starts nothing: tests use `startService`
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
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  jsonLinesLog,
  SIMULATED_BANNER,
  type StartServiceOptions,
  startService,
} from './server.js';

export { type RunningService, type StartServiceOptions, startService } from './server.js';

const fail = (message: string): never => {
  throw new SealgateError('invalid_argument', `attestation service: ${message}`);
};

/** Reads the environment (and the files it names) into `startService` options. */
export async function configFromEnv(
  env: Record<string, string | undefined>,
  now: () => Date = () => new Date(),
): Promise<StartServiceOptions> {
  const manifestPath =
    env.SEALGATE_MANIFEST || fail('SEALGATE_MANIFEST (path of the manifest file) is required');
  const manifestBytes = new Uint8Array(await readFile(manifestPath));
  const manifest = parseManifest(manifestBytes);
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
      platform = new DevSnpPlatform(
        chain,
        await measurementFor(DEV_MEASUREMENT_LABELS.service),
        'attestation-service',
      );
      break;
    }
    default:
      fail(
        `SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got ${JSON.stringify(env.SEALGATE_PLATFORM ?? null)}`,
      );
  }
  return { manifestBytes, platform: platform!, port, host, now };
}

async function main(): Promise<void> {
  const options = await configFromEnv(process.env);
  if (options.platform.simulated) process.stderr.write(`\n${SIMULATED_BANNER}\n\n`);
  const service = await startService({ ...options, log: jsonLinesLog });
  process.stderr.write(`attestation service listening on ${service.url}\n`);
  const stop = (signal: string) => {
    jsonLinesLog('info', 'signal', { signal });
    service.close().then(
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
    process.stderr.write(`attestation service: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
