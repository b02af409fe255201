/**
 * The development environment on SIMULATED Intel TDX (the TDX twin of environment.ts): a simulated
 * SGX PKI (src/platform/simulator/tdx-chain.ts), a manifest whose `trustAnchors.tdx` names only that
 * chain's root (`simulated: true`) and whose roles accept only TDX, and two simulated TDs — the
 * attestation service and an AI worker — launched with the MRTDs the manifest names. The manifest's
 * name says DEVELOPMENT — SIMULATED HARDWARE; every service under it says SIMULATED.
 *
 * Runtime-neutral (no node:*). Making a chain is four P-256 key generations (milliseconds).
 */
import { toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { deriveGatewayKey } from '../keys/gateway-key.js';
import { measurementFor } from '../platform/simulator/measurement.js';
import { createTdxDevChain, type TdxDevChain } from '../platform/simulator/tdx-chain.js';
import { SimulatedTdxPlatform } from '../platform/simulator/tdx-platform.js';
import { SIMULATED_TD_DEFAULTS } from '../platform/simulator/tdx-quote.js';
import { AMD_ROOTS } from '../verify/amd-roots.js';
import {
  DEV_GATEWAY_SECRET,
  DEV_KEY_POLICY,
  DEV_MANIFEST_NAME,
  DEV_MEASUREMENT_LABELS,
  type DevelopmentEnvironment,
  devManifestCore,
} from './environment.js';

/** A simulated TD for a role, launched with `measurementFor(label)` as its MRTD. */
export class DevTdxPlatform extends SimulatedTdxPlatform {
  constructor(chain: TdxDevChain, mrTd: Uint8Array, label: string, now?: () => Date) {
    super(chain, { mrTd }, { label, ...(now ? { now } : {}) });
  }
}

/**
 * The TDX development manifest's text for `chain` (deterministic: same chain and secret, same
 * bytes). SEV-SNP anchors are AMD's published roots only because the format requires some; no role
 * accepts SEV-SNP, so a SEV-SNP party is `tee_not_allowed` under it.
 */
export async function tdxDevelopmentManifestText(
  chain: TdxDevChain,
  gatewaySecret: string = DEV_GATEWAY_SECRET,
): Promise<string> {
  const gateway = await deriveGatewayKey(gatewaySecret);
  const [service, worker] = await Promise.all([
    measurementFor(DEV_MEASUREMENT_LABELS.service),
    measurementFor(DEV_MEASUREMENT_LABELS.worker),
  ]);
  const reference = (mrTd: Uint8Array) => ({
    mrTd: [toHex(mrTd)],
    mrSeam: [toHex(SIMULATED_TD_DEFAULTS.mrSeam)],
    xfam: [toHex(SIMULATED_TD_DEFAULTS.xfam)],
    tcbStatuses: ['UpToDate'],
  });
  const manifest = {
    version: 1,
    name: `${DEV_MANIFEST_NAME} — Intel TDX`,
    trustAnchors: {
      snp: AMD_ROOTS.map((a) => ({ sha256: a.sha256, product: a.product, note: 'unused: no SEV-SNP role' })),
      tdx: [
        {
          sha256: chain.rootSha256,
          simulated: true,
          note: 'SIMULATED development SGX root made by the Sealgate simulator: not Intel',
        },
      ],
    },
    roles: {
      'attestation-service': {
        note: `SIMULATED: MRTD measurementFor("${DEV_MEASUREMENT_LABELS.service}")`,
        tdx: reference(service),
      },
      worker: {
        note: `SIMULATED: MRTD measurementFor("${DEV_MEASUREMENT_LABELS.worker}")`,
        tdx: reference(worker),
      },
    },
    keyPolicy: { ...DEV_KEY_POLICY },
    gateway: {
      uploadKey: toHex(gateway.publicKey),
      note: 'the development gateway (its GATEWAY_SECRET is in .sealgate-dev or the test config)',
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** No simulated GPUs on the TDX development setup yet: GPUs are wired into the SEV-SNP one. */
export interface TdxDevelopmentEnvironment
  extends Omit<
    DevelopmentEnvironment,
    'chain' | 'servicePlatform' | 'workerPlatform' | 'gpuChain' | 'workerGpus'
  > {
  readonly chain: TdxDevChain;
  readonly servicePlatform: DevTdxPlatform;
  readonly workerPlatform: DevTdxPlatform;
}

export async function createTdxDevelopmentEnvironment(options: {
  now: Date;
  chain?: TdxDevChain;
  gatewaySecret?: string;
  /** The simulated TDs' clock for collateral issue (default the wall clock). */
  clock?: () => Date;
}): Promise<TdxDevelopmentEnvironment> {
  if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new SealgateError('invalid_argument', 'createTdxDevelopmentEnvironment: now must be a valid Date');
  }
  const chain = options.chain ?? (await createTdxDevChain({ now: options.now }));
  const gatewaySecret = options.gatewaySecret ?? DEV_GATEWAY_SECRET;
  const manifestText = await tdxDevelopmentManifestText(chain, gatewaySecret);
  const core = await devManifestCore(manifestText, gatewaySecret);
  const { service, worker } = core.measurements;
  const clock = options.clock ?? (() => options.now);
  return Object.freeze({
    simulated: true,
    chain,
    ...core,
    servicePlatform: new DevTdxPlatform(chain, service, 'attestation-service', clock),
    workerPlatform: new DevTdxPlatform(chain, worker, 'worker', clock),
  });
}
