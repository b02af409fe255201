/**
 * What the attestation service and the AI worker read from their environment alike (Node only):
 * the manifest file, the listen address, and the platform — `configfs-tsm` on real SEV-SNP or TDX
 * (SEALGATE_TEE, else the provider configfs-tsm reports) or the simulator of either TEE
 * (SEALGATE_TEE=sev-snp, the default, or tdx). There is no default platform, so simulation is never picked silently; a simulated
 * platform is refused under a manifest that does not trust the simulator's root.
 */
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SealgateError } from '../errors.js';
import { ConfigfsTsmPlatform, detectTsmProvider } from '../platform/configfs-tsm.js';
import { ConfigfsTsmTdxPlatform } from '../platform/configfs-tsm-tdx.js';
import { measurementFor } from '../platform/simulator/measurement.js';
import type { AttestationPlatform } from '../platform/types.js';
import { manifestDigest } from '../policy/manifest-digest.js';
import type { Manifest, RoleName } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';
import { manifestTrustsSimulator } from '../policy/trust-anchors.js';
import { memoryCollateralCache } from '../verify/tdx/memory-cache.js';
import type { PcsOptions } from '../verify/tdx/pcs.js';
import { DEV_MEASUREMENT_LABELS, DevSnpPlatform } from './environment.js';
import { DevTdxPlatform } from './environment-tdx.js';
import { loadOrCreateDevChain, loadOrCreateTdxDevChain } from './files.js';

export interface ProgramConfig {
  manifestBytes: Uint8Array;
  manifest: Manifest;
  platform: AttestationPlatform;
  port: number;
  host: string;
  /** TDX collateral for peers' quotes that arrive without it (SEALGATE_PCS_URL). */
  pcs?: PcsOptions;
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
  const given = env.SEALGATE_TEE || undefined;
  if (given !== undefined && given !== 'sev-snp' && given !== 'tdx') {
    fail(`SEALGATE_TEE must be "sev-snp" or "tdx", got ${JSON.stringify(given)}`);
  }
  const tee = given as 'sev-snp' | 'tdx' | undefined;
  const base = { manifestBytes, manifest, port, host, ...pcsFromEnv(env) };
  switch (env.SEALGATE_PLATFORM) {
    case 'configfs-tsm':
      return { ...base, platform: await configfsPlatform(tee, fail) };
    case 'simulator': {
      const chainPath =
        env.SEALGATE_DEV_CHAIN ||
        fail(
          'SEALGATE_DEV_CHAIN is required with SEALGATE_PLATFORM=simulator (tsx src/dev/main.ts writes one)',
        );
      const label = LABEL_BY_ROLE[opts.role];
      const measurement = await measurementFor(DEV_MEASUREMENT_LABELS[label]);
      if (tee === 'tdx') {
        const { chain, created } = await loadOrCreateTdxDevChain(chainPath, { now: opts.now() });
        if (!manifest.trustAnchors.tdx?.some((a) => a.sha256 === chain.rootSha256 && a.simulated === true)) {
          fail(
            `the manifest does not trust the simulated SGX root of ${chainPath} (${chain.rootSha256})${
              created ? ', which was just created' : ''
            }: write a development manifest for it with \`tsx src/dev/main.ts --tee tdx\``,
          );
        }
        return { ...base, platform: new DevTdxPlatform(chain, measurement, opts.role, opts.now) };
      }
      const { chain, created } = await loadOrCreateDevChain(chainPath, { now: opts.now() });
      if (!manifest.trustAnchors.snp.some((a) => a.sha256 === chain.arkSha256 && a.simulated === true)) {
        fail(
          `the manifest does not trust the simulated root of ${chainPath} (${chain.arkSha256})${
            created ? ', which was just created' : ''
          }: write a development manifest for it with \`tsx src/dev/main.ts\``,
        );
      }
      return { ...base, platform: new DevSnpPlatform(chain, measurement, opts.role) };
    }
    default:
      return fail(
        `SEALGATE_PLATFORM must be "configfs-tsm" or "simulator", got ${JSON.stringify(env.SEALGATE_PLATFORM ?? null)}`,
      );
  }
}

/**
 * Real hardware: SEALGATE_TEE when given, else whatever configfs-tsm's provider says — `sev_guest`
 * or `tdx_guest`; any other provider is refused (no evidence we cannot produce is promised).
 */
async function configfsPlatform(
  tee: 'sev-snp' | 'tdx' | undefined,
  fail: (message: string) => never,
): Promise<AttestationPlatform> {
  const kind = tee ?? TEE_BY_PROVIDER[await detectTsmProvider()];
  if (kind === 'tdx') return new ConfigfsTsmTdxPlatform();
  if (kind === 'sev-snp') return new ConfigfsTsmPlatform();
  return fail('configfs-tsm serves neither sev_guest nor tdx_guest: set SEALGATE_TEE or check the kernel');
}

const TEE_BY_PROVIDER: Record<string, 'sev-snp' | 'tdx' | undefined> = {
  sev_guest: 'sev-snp',
  tdx_guest: 'tdx',
};

/**
 * Where the services fetch TDX collateral a peer's bundle lacks: SEALGATE_PCS_URL (Intel's PCS
 * `https://api.trustedservices.intel.com`, or a PCCS), with a memory cache that holds only verified
 * collateral until its earliest nextUpdate (src/verify/tdx/pcs.ts). Unset: nothing is fetched, and a
 * TDX bundle without collateral is refused (`collateral_unavailable`).
 */
function pcsFromEnv(env: Record<string, string | undefined>): { pcs?: PcsOptions } {
  const baseUrl = env.SEALGATE_PCS_URL;
  if (!baseUrl) return {};
  return {
    pcs: {
      fetch: (url) => fetch(url, { signal: AbortSignal.timeout(15_000) }),
      baseUrl,
      ...(env.SEALGATE_PCS_ROOT_CA_CRL_URL ? { rootCaCrlUrl: env.SEALGATE_PCS_ROOT_CA_CRL_URL } : {}),
      cache: memoryCollateralCache(),
    },
  };
}

/**
 * Whether the module at `moduleUrl` is the program `node` was asked to run. Both sides by their
 * real path: Node loads the main module from its real path (`import.meta.url`), while `argv[1]`
 * is the path as given — a VM image that starts `/usr/bin/ai-worker`, a symlink to the bundle,
 * would otherwise see the program exit 0 having done nothing.
 */
function isProgram(moduleUrl: string): boolean {
  const given = process.argv[1];
  if (given === undefined) return false;
  try {
    return realpathSync(resolve(given)) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs `main` when this module is the program (`tsx file.ts`, `node x.mjs`), not when it is imported. */
export function runIfMain(moduleUrl: string, program: string, main: () => Promise<void>): void {
  if (!isProgram(moduleUrl)) return;
  main().catch((e) => {
    // A configuration error already names the program (programFail); say it once.
    const message = (e as Error).message;
    process.stderr.write(`${message.startsWith(`${program}: `) ? message : `${program}: ${message}`}\n`);
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
