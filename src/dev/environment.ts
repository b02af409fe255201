/**
 * A complete development environment on SIMULATED hardware: a simulated AMD chain, a manifest that
 * trusts only that chain's root (marked `simulated: true`, docs/manifest.md "The simulator rule"),
 * and two simulated guests — the attestation service and an AI worker — launched with the
 * measurements that manifest names. Nothing here is a production path: the manifest's name says
 * DEVELOPMENT — SIMULATED HARDWARE, and every service that runs under it says SIMULATED.
 *
 * Runtime-neutral (no node:*): tests in workerd use it too. Making a chain costs two RSA-4096 key
 * generations (seconds): pass `chain` (e.g. from `importDevChain`) to reuse one.
 */
import { toHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import type { SnpProduct, TcbVersion } from '../evidence/snp/types.js';
import { deriveGatewayKey, type GatewayKey } from '../keys/gateway-key.js';
import { createDevChain, type DevChain } from '../platform/simulator/dev-chain.js';
import { createGpuDeviceChain, type GpuDeviceChain } from '../platform/simulator/gpu-device-chain.js';
import { measurementFor } from '../platform/simulator/measurement.js';
import { SimulatedSnpPlatform } from '../platform/simulator/platform.js';
import {
  SIMULATED_GPU_DRIVER,
  SIMULATED_GPU_VBIOS,
  SimulatedGpuProvider,
  simulatedGpuMeasurements,
} from '../platform/simulator/simulated-gpu.js';
import type { SnpEvidence, SnpPlatform } from '../platform/types.js';
import { manifestDigest as digestOf } from '../policy/manifest-digest.js';
import type { KeyPolicy, Manifest } from '../policy/manifest-types.js';
import { parseManifest } from '../policy/parse-manifest.js';

/** The labels `measurementFor` turns into the development launch measurements. */
export const DEV_MEASUREMENT_LABELS = Object.freeze({
  service: 'sealgate/attestation-service/dev',
  worker: 'sealgate/worker/dev',
});

/**
 * The development gateway's GATEWAY_SECRET when none is given: public, so anyone can sign uploads
 * to a service that runs a manifest pinning its key — which only the dev manifest does.
 */
export const DEV_GATEWAY_SECRET = 'sealgate-DEVELOPMENT-gateway-secret-never-deploy';

export const DEV_MANIFEST_NAME = 'DEVELOPMENT — SIMULATED HARDWARE (Sealgate dev manifest, never deploy)';

/**
 * Short, so rotation and certificate renewal happen within a test session; inside the parser's
 * limits (interval ≥ 60, overlap < interval, interval + overlap ≤ lifetime; docs/manifest.md).
 */
export const DEV_KEY_POLICY: Readonly<KeyPolicy> = Object.freeze({
  rotationIntervalSeconds: 300,
  overlapSeconds: 60,
  lifetimeSeconds: 900,
});

/** The TCB the simulated VCEK is issued for, per product (recent SPLs of each line). */
export const DEV_TCB: Readonly<Record<SnpProduct, TcbVersion>> = {
  Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 217 },
  Genoa: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
  Turin: { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
};

/**
 * A simulated guest that is also an `AttestationPlatform` (the interface the services take), so the
 * same object serves the services and tests that call the simulator's `getReport` directly.
 */
export class DevSnpPlatform extends SimulatedSnpPlatform implements SnpPlatform {
  readonly kind = 'sev-snp' as const;
  readonly description: string;

  constructor(chain: DevChain, measurement: Uint8Array, label: string) {
    super(chain, { measurement });
    this.description = `SIMULATED HARDWARE: simulated ${chain.product} guest "${label}" (development root ${chain.arkSha256.slice(0, 16)}…)`;
  }

  async getEvidence(reportData: Uint8Array, opts?: { vmpl?: number }): Promise<SnpEvidence> {
    const { report, certificates } = await this.getReport(reportData, opts);
    return { report, certificates: { ...certificates } };
  }
}

export interface DevelopmentEnvironment {
  readonly simulated: true;
  readonly chain: DevChain;
  readonly manifest: Manifest;
  /** The exact manifest bytes (UTF-8 JSON) the services load and put in their evidence. */
  readonly manifestBytes: Uint8Array;
  readonly manifestText: string;
  readonly manifestDigest: string;
  /** The development gateway: its GATEWAY_SECRET and the identity key the manifest pins. */
  readonly gatewaySecret: string;
  readonly gatewayKey: GatewayKey;
  readonly measurements: { readonly service: Uint8Array; readonly worker: Uint8Array };
  /** Launched with the service measurement. */
  readonly servicePlatform: DevSnpPlatform;
  /** Launched with the worker measurement. */
  readonly workerPlatform: DevSnpPlatform;
  /** The simulated GPU device chain (made even without GPUs: cheap, P-384). */
  readonly gpuChain: GpuDeviceChain;
  /** The worker's simulated GPUs when `gpus` > 0 (the manifest then requires exactly that many). */
  readonly workerGpus: SimulatedGpuProvider | null;
}

/** Simulated GPUs for a development manifest: how many the worker role requires, on which chain. */
export interface DevGpus {
  chain: GpuDeviceChain;
  count: number;
}

/**
 * The manifest parts for simulated GPUs: the simulated device root under `trustAnchors.nvidia`
 * and the worker's `gpu` reference values — exactly `count` Hopper GPUs, the simulated driver and
 * VBIOS, and every simulated measurement pinned as a golden value.
 */
export async function devGpuManifestParts(gpus: DevGpus): Promise<{ anchors: unknown[]; gpu: unknown }> {
  const measurements = await simulatedGpuMeasurements();
  return {
    anchors: [
      {
        sha256: gpus.chain.rootSha256,
        use: 'device',
        simulated: true,
        note: 'SIMULATED GPU device root made by the Sealgate simulator: not NVIDIA',
      },
    ],
    gpu: {
      count: { min: gpus.count, max: gpus.count },
      architecture: 'hopper',
      driverVersions: [SIMULATED_GPU_DRIVER],
      vbiosVersions: [SIMULATED_GPU_VBIOS],
      measurements: {
        source: 'golden',
        golden: measurements.map((m, i) => ({ index: i + 1, values: [toHex(m)] })),
      },
    },
  };
}

/**
 * The development manifest's text for `chain`, pinning the gateway whose GATEWAY_SECRET is
 * `gatewaySecret` (deterministic: same chain and secret, same bytes, same digest).
 */
export async function developmentManifestText(
  chain: DevChain,
  gatewaySecret: string = DEV_GATEWAY_SECRET,
  gpus?: DevGpus,
): Promise<string> {
  const { fmc, bootloader, tee, snp, microcode } = chain.tcb;
  const minimumTcb = {
    [chain.product]: { ...(fmc === undefined ? {} : { fmc }), bootloader, tee, snp, microcode },
  };
  return await devManifestText({
    name: DEV_MANIFEST_NAME,
    tee: 'snp',
    measured: 'measurementFor',
    anchors: {
      snp: [
        {
          sha256: chain.arkSha256,
          product: chain.product,
          simulated: true,
          note: 'SIMULATED development root made by the Sealgate simulator: not AMD',
        },
      ],
    },
    reference: (measurement) => ({
      measurements: [toHex(measurement)],
      signingKeys: [chain.signingKey],
      // The simulator launches with SMT allowed, like most cloud hosts.
      policy: { allowDebug: false, allowMigrationAgent: false, allowSmt: true },
      minimumTcb,
      vmpl: 0,
    }),
    gatewaySecret,
    ...(gpus ? { gpus } : {}),
  });
}

/** What one TEE's development manifest has of its own; `devManifestText` writes the rest. */
export interface DevManifestParts {
  name: string;
  /** The roles' reference-value section (`snp`, `tdx`). */
  tee: 'snp' | 'tdx';
  /** How the roles' notes name the measurement (`measurementFor`, `MRTD measurementFor`). */
  measured: string;
  /** `trustAnchors` but for the GPUs' (added when `gpus` asks for some). */
  anchors: Record<string, unknown>;
  /** A role's reference values for its simulated measurement. */
  reference: (measurement: Uint8Array) => unknown;
  gatewaySecret: string;
  gpus?: DevGpus;
}

/**
 * A development manifest's text (deterministic: same parts, same bytes): both roles measured as
 * `measurementFor(DEV_MEASUREMENT_LABELS[role])`, the worker requiring `gpus.count` simulated GPUs
 * when there are some, DEV_KEY_POLICY, and the gateway's upload key from `gatewaySecret`.
 */
export async function devManifestText(parts: DevManifestParts): Promise<string> {
  const { gpus, tee, measured, reference } = parts;
  const gpuParts = gpus && gpus.count > 0 ? await devGpuManifestParts(gpus) : undefined;
  const gateway = await deriveGatewayKey(parts.gatewaySecret);
  const [service, worker] = await Promise.all([
    measurementFor(DEV_MEASUREMENT_LABELS.service),
    measurementFor(DEV_MEASUREMENT_LABELS.worker),
  ]);
  const manifest = {
    version: 1,
    name: parts.name,
    trustAnchors: { ...parts.anchors, ...(gpuParts ? { nvidia: gpuParts.anchors } : {}) },
    roles: {
      'attestation-service': {
        note: `SIMULATED: ${measured}("${DEV_MEASUREMENT_LABELS.service}")`,
        [tee]: reference(service),
      },
      worker: {
        note: `SIMULATED: ${measured}("${DEV_MEASUREMENT_LABELS.worker}")`,
        [tee]: reference(worker),
        ...(gpuParts ? { gpu: gpuParts.gpu } : {}),
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

/** What a development environment is on any TEE: its manifest, the gateway's key, the measurements. */
export type DevManifestCore = Pick<
  DevelopmentEnvironment,
  | 'manifest'
  | 'manifestBytes'
  | 'manifestText'
  | 'manifestDigest'
  | 'gatewaySecret'
  | 'gatewayKey'
  | 'measurements'
>;

/**
 * The TEE-independent part of a development environment from its manifest text: the parsed
 * manifest (so a development manifest that does not parse fails here, at creation), its exact
 * bytes and digest, the gateway key derived from `gatewaySecret`, and the two roles' simulated
 * measurements (the same labels on SEV-SNP and TDX).
 */
export async function devManifestCore(manifestText: string, gatewaySecret: string): Promise<DevManifestCore> {
  const manifestBytes = utf8.encode(manifestText);
  const [service, worker] = await Promise.all([
    measurementFor(DEV_MEASUREMENT_LABELS.service),
    measurementFor(DEV_MEASUREMENT_LABELS.worker),
  ]);
  return {
    manifest: parseManifest(manifestBytes),
    manifestBytes,
    manifestText,
    manifestDigest: await digestOf(manifestBytes),
    gatewaySecret,
    gatewayKey: await deriveGatewayKey(gatewaySecret),
    measurements: Object.freeze({ service, worker }),
  };
}

export async function createDevelopmentEnvironment(options: {
  now: Date;
  product?: SnpProduct;
  /** Reuse a chain (e.g. `importDevChain` of a saved one) instead of making a new one. */
  chain?: DevChain;
  /** The dev gateway's GATEWAY_SECRET, whose key the manifest pins. Default DEV_GATEWAY_SECRET. */
  gatewaySecret?: string;
  /** Simulated GPUs the worker role requires (default 0: no `gpu` section, no GPU anchor). */
  gpus?: number;
  /** Reuse a simulated GPU chain. */
  gpuChain?: GpuDeviceChain;
}): Promise<DevelopmentEnvironment> {
  if (!(options?.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new SealgateError('invalid_argument', 'createDevelopmentEnvironment: now must be a valid Date');
  }
  const product = options.chain?.product ?? options.product ?? 'Milan';
  if (options.chain && options.product && options.chain.product !== options.product) {
    throw new SealgateError('invalid_argument', 'createDevelopmentEnvironment: chain and product disagree');
  }
  const tcb = DEV_TCB[product];
  if (!tcb)
    throw new SealgateError('invalid_argument', `createDevelopmentEnvironment: unknown product ${product}`);
  const chain = options.chain ?? (await createDevChain({ product, now: options.now, tcb }));
  const gatewaySecret = options.gatewaySecret ?? DEV_GATEWAY_SECRET;
  const gpuCount = options.gpus ?? 0;
  const gpuChain = options.gpuChain ?? (await createGpuDeviceChain({ now: options.now }));
  const manifestText = await developmentManifestText(chain, gatewaySecret, {
    chain: gpuChain,
    count: gpuCount,
  });
  const core = await devManifestCore(manifestText, gatewaySecret);
  const { service, worker } = core.measurements;
  return Object.freeze({
    simulated: true,
    chain,
    ...core,
    servicePlatform: new DevSnpPlatform(chain, service, 'attestation-service'),
    workerPlatform: new DevSnpPlatform(chain, worker, 'worker'),
    gpuChain,
    workerGpus:
      gpuCount > 0 ? new SimulatedGpuProvider(gpuChain, await simulatedGpuMeasurements(), gpuCount) : null,
  });
}
