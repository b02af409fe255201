/**
 * The development environment on SIMULATED Intel TDX (the TDX twin of environment.ts): a simulated
 * SGX PKI (src/platform/simulator/tdx-chain.ts), a manifest whose `trustAnchors.tdx` names only that
 * chain's root (`simulated: true`) and whose roles accept only TDX, and two simulated TDs — the
 * attestation service and an AI worker — launched with the MRTDs the manifest names; with `gpus`,
 * the worker's simulated NVIDIA GPUs as on SEV-SNP (the GPU evidence and its binding are the same
 * on both TEEs: docs/protocol.md "GPU evidence"). The manifest's name says DEVELOPMENT — SIMULATED
 * HARDWARE; every service under it says SIMULATED.
 *
 * Runtime-neutral (no node:*). Making a chain is four P-256 key generations (milliseconds).
 */
import { toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { createGpuDeviceChain, type GpuDeviceChain } from '../platform/simulator/gpu-device-chain.js';
import { SimulatedGpuProvider, simulatedGpuMeasurements } from '../platform/simulator/simulated-gpu.js';
import { createTdxDevChain, type TdxDevChain } from '../platform/simulator/tdx-chain.js';
import { SimulatedTdxPlatform } from '../platform/simulator/tdx-platform.js';
import { SIMULATED_TD_DEFAULTS } from '../platform/simulator/tdx-quote.js';
import { AMD_ROOTS } from '../verify/amd-roots.js';
import {
  DEV_GATEWAY_SECRET,
  DEV_MANIFEST_NAME,
  type DevelopmentEnvironment,
  type DevGpus,
  devManifestCore,
  devManifestText,
} from './environment.js';

/** A simulated TD for a role, launched with `measurementFor(label)` as its MRTD. */
export class DevTdxPlatform extends SimulatedTdxPlatform {
  constructor(chain: TdxDevChain, mrTd: Uint8Array, label: string, now?: () => Date) {
    super(chain, { mrTd }, { label, ...(now ? { now } : {}) });
  }
}

/**
 * The TDX development manifest's text for `chain` (deterministic: same chain, secret and GPUs, same
 * bytes). SEV-SNP anchors are AMD's published roots only because the format requires some; no role
 * accepts SEV-SNP, so a SEV-SNP party is `tee_not_allowed` under it. With `gpus.count` > 0 the
 * worker role requires exactly that many simulated GPUs of `gpus.chain`, as on SEV-SNP.
 */
export async function tdxDevelopmentManifestText(
  chain: TdxDevChain,
  gatewaySecret: string = DEV_GATEWAY_SECRET,
  gpus?: DevGpus,
): Promise<string> {
  return await devManifestText({
    name: `${DEV_MANIFEST_NAME} — Intel TDX`,
    tee: 'tdx',
    measured: 'MRTD measurementFor',
    anchors: {
      snp: AMD_ROOTS.map((a) => ({ sha256: a.sha256, product: a.product, note: 'unused: no SEV-SNP role' })),
      tdx: [
        {
          sha256: chain.rootSha256,
          simulated: true,
          note: 'SIMULATED development SGX root made by the Sealgate simulator: not Intel',
        },
      ],
    },
    reference: (mrTd) => ({
      mrTd: [toHex(mrTd)],
      mrSeam: [toHex(SIMULATED_TD_DEFAULTS.mrSeam)],
      xfam: [toHex(SIMULATED_TD_DEFAULTS.xfam)],
      tcbStatuses: ['UpToDate'],
    }),
    gatewaySecret,
    ...(gpus ? { gpus } : {}),
  });
}

export interface TdxDevelopmentEnvironment
  extends Omit<DevelopmentEnvironment, 'chain' | 'servicePlatform' | 'workerPlatform'> {
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
  /** Simulated GPUs the worker role requires (default 0: no `gpu` section, no GPU anchor). */
  gpus?: number;
  /** Reuse a simulated GPU chain. */
  gpuChain?: GpuDeviceChain;
}): Promise<TdxDevelopmentEnvironment> {
  if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new SealgateError('invalid_argument', 'createTdxDevelopmentEnvironment: now must be a valid Date');
  }
  const chain = options.chain ?? (await createTdxDevChain({ now: options.now }));
  const gatewaySecret = options.gatewaySecret ?? DEV_GATEWAY_SECRET;
  const gpuCount = options.gpus ?? 0;
  const gpuChain = options.gpuChain ?? (await createGpuDeviceChain({ now: options.now }));
  const manifestText = await tdxDevelopmentManifestText(chain, gatewaySecret, {
    chain: gpuChain,
    count: gpuCount,
  });
  const core = await devManifestCore(manifestText, gatewaySecret);
  const { service, worker } = core.measurements;
  const clock = options.clock ?? (() => options.now);
  return Object.freeze({
    simulated: true,
    chain,
    ...core,
    servicePlatform: new DevTdxPlatform(chain, service, 'attestation-service', clock),
    workerPlatform: new DevTdxPlatform(chain, worker, 'worker', clock),
    gpuChain,
    workerGpus:
      gpuCount > 0 ? new SimulatedGpuProvider(gpuChain, await simulatedGpuMeasurements(), gpuCount) : null,
  });
}
