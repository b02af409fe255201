/**
 * What the attestation service and the AI worker read from their environment alike (Node only):
 * the manifest file, the listen address, and the platform — `configfs-tsm` on real SEV-SNP or the
 * simulator. There is no default platform, so simulation is never picked silently; a simulated
 * platform is refused under a manifest that does not trust the simulator's root.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SealgateError } from '../errors.js';
import { ConfigfsTsmPlatform } from '../platform/configfs-tsm.js';
import { measurementFor } from '../platform/simulator/measurement.js';
import type { AttestationPlatform } from '../platform/types.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest, RoleName } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { manifestTrustsSimulator } from '../policy/trust-anchors.js';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from './environment.js';
import { loadOrCreateDevChain } from './files.js';

export interface ProgramConfig {
  manifestBytes: Uint8Array;
  manifest: Manifest;
  platform: AttestationPlatform;
  port: number;
  host: string;
}

const LABEL_BY_ROLE: Record<RoleName, keyof typeof DEV_MEASUREMENT_LABELS> = {
  'attestation-service': 'service',
  worker: 'worker',
};

/** `program` prefixes every message ("attestation service", "AI worker"). */
export function programFail(program: string): (message: string) => never {
  return (message) => {
    throw new SealgateError('invalid_argument', `${program}: ${message}`);
  };
}

export async function programConfigFromEnv(
  env: Record<string, string | undefined>,
  opts: { program: string; role: RoleName; defaultPort: number; defaultHost: string; now: () => Date },
): Promise<ProgramConfig> {
  const fail = programFail(opts.program);
  const manifestPath =
    env.SEALGATE_MANIFEST || fail('SEALGATE_MANIFEST (path of the manifest file) is required');
  const manifestBytes = new Uint8Array(await readFile(manifestPath));
  const manifest = parseManifest(manifestBytes);
  const port = env.PORT === undefined || env.PORT === '' ? opts.defaultPort : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be 0..65535, got ${env.PORT}`);
  const host = env.HOST || opts.defaultHost;
  switch (env.SEALGATE_PLATFORM) {
    case 'configfs-tsm':
      return { manifestBytes, manifest, platform: new ConfigfsTsmPlatform(), port, host };
    case 'simulator': {
      const chainPath =
        env.SEALGATE_DEV_CHAIN ||
        fail(
          'SEALGATE_DEV_CHAIN is required with SEALGATE_PLATFORM=simulator (tsx src/dev/main.ts writes one)',
        );
      const { chain, created } = await loadOrCreateDevChain(chainPath, { now: opts.now() });
      if (!manifest.trustAnchors.snp.some((a) => a.sha256 === chain.arkSha256 && a.simulated === true)) {
        fail(
          `the manifest does not trust the simulated root of ${chainPath} (${chain.arkSha256})${
            created ? ', which was just created' : ''
          }: write a development manifest for it with \`tsx src/dev/main.ts\``,
        );
      }
      const label = LABEL_BY_ROLE[opts.role];
      const platform = new DevSnpPlatform(
        chain,
        await measurementFor(DEV_MEASUREMENT_LABELS[label]),
        opts.role,
      );
      return { manifestBytes, manifest, platform, port, host };
    }
    default:
      return fail(
        `SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got ${JSON.stringify(env.SEALGATE_PLATFORM ?? null)}`,
      );
  }
}

/** Runs `main` when this module is the program (`tsx file.ts`), not when it is imported. */
export function runIfMain(moduleUrl: string, program: string, main: () => Promise<void>): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().catch((e) => {
    process.stderr.write(`${program}: ${(e as Error).message}\n`);
    process.exit(1);
  });
}

/** SIGINT/SIGTERM close the server (requests in flight may finish), then exit 0 (1 if closing failed). */
export function closeOnSignals(close: () => Promise<void>, log: (signal: string) => void): void {
  const stop = (signal: string) => {
    log(signal);
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/**
 * What both services check at start: the manifest parses, its digest, and that a simulated platform
 * runs only under a manifest that trusts a simulated root (else no verifier would ever accept it).
 */
export async function loadManifestForPlatform(
  manifestBytes: Uint8Array,
  platform: AttestationPlatform,
  program: string,
): Promise<{ manifest: Manifest; manifestDigest: string }> {
  const manifest = parseManifest(manifestBytes);
  if (platform.simulated && !manifestTrustsSimulator(manifest)) {
    programFail(program)(
      'the platform is simulated but the manifest trusts no simulated root: no verifier would accept it',
    );
  }
  return { manifest, manifestDigest: await manifestDigest(manifestBytes) };
}
