/**
 * The attestation service as a program: `tsx src/attestation-service/main.ts`.
 *
 *   SEALGATE_MANIFEST   path of the manifest file (required)
 *   SEALGATE_PLATFORM   `configfs-tsm` (real SEV-SNP or TDX, Linux ≥ 6.7) or `simulator` (required:
 *                       there is no default, so simulation is never picked silently)
 *   SEALGATE_TEE        `sev-snp` or `tdx`: the simulator's TEE (default sev-snp); on configfs-tsm,
 *                       default what its provider reports (sev_guest, tdx_guest)
 *   SEALGATE_PCS_URL    Intel PCS or a PCCS for TDX collateral a worker's bundle lacks (optional)
 *   SEALGATE_GPU_OCSP_URL  the OCSP responder for every worker GPU certificate (optional; default
 *                       each certificate's AIA, else NVIDIA's); SEALGATE_DEV_GPU_CHAIN on the
 *                       simulator: answer for that simulated GPU chain (gpu-ocsp-env.ts)
 *   SEALGATE_DEV_CHAIN  simulator only (required there): the dev-chain JSON (SEV-SNP or, with
 *                       SEALGATE_TEE=tdx, the TDX one), created if missing.
 *                       `tsx src/dev/main.ts` writes one with a manifest that trusts it.
 *   PORT                default 8788        HOST  default 127.0.0.1
 *   SEALGATE_DEV_ALLOW_UNPINNED_GATEWAY  `1`: simulator only — start with a manifest that pins no
 *                       gateway and take unauthenticated key uploads (docs/manifest.md "gateway")
 *
 * Stops cleanly on SIGINT/SIGTERM. Importing this module starts nothing: tests use `startService`
 * (re-exported here) or `configFromEnv`.
 */
import { closeOnSignals, programConfigFromEnv, runIfMain } from '../dev/program-config.js';
import { gpuOcspFromEnv } from './gpu-ocsp-env.js';
import {
  DEFAULT_HOST,
  DEFAULT_PORT,
  jsonLinesLog,
  type StartServiceOptions,
  simulatedBanner,
  startService,
} from './server.js';

export { type RunningService, type StartServiceOptions, startService } from './server.js';

/** Reads the environment (and the files it names) into `startService` options. */
export async function configFromEnv(
  env: Record<string, string | undefined>,
  now: () => Date = () => new Date(),
): Promise<StartServiceOptions> {
  const c = await programConfigFromEnv(env, {
    program: 'attestation service',
    role: 'attestation-service',
    defaultPort: DEFAULT_PORT,
    defaultHost: DEFAULT_HOST,
    now,
  });
  return {
    manifestBytes: c.manifestBytes,
    platform: c.platform,
    ...(c.pcs ? { pcs: c.pcs } : {}),
    ...(await gpuOcspFromEnv(env, { simulated: c.platform.simulated, now })),
    port: c.port,
    host: c.host,
    now,
    ...(env.SEALGATE_DEV_ALLOW_UNPINNED_GATEWAY === '1' ? { allowUnpinnedGateway: true } : {}),
  };
}

async function main(): Promise<void> {
  const options = await configFromEnv(process.env);
  if (options.platform.simulated) process.stderr.write(`\n${simulatedBanner(options.platform.kind)}\n\n`);
  const service = await startService({ ...options, log: jsonLinesLog });
  process.stderr.write(`attestation service listening on ${service.url}\n`);
  closeOnSignals(
    () => service.close(),
    (signal) => jsonLinesLog('info', 'signal', { signal }),
  );
}

runIfMain(import.meta.url, 'attestation service', main);
