/**
 * SIMULATED NVIDIA Hopper GPUs: SPDM 1.1 GET_MEASUREMENTS request ‖ MEASUREMENTS response (DMTF
 * DSP0274 1.1; byte layout src/evidence/nvidia/layout.ts) signed by a simulated device chain
 * (gpu-device-chain.ts) — the exact shape NVML returns, so the verifier runs its one path on them.
 * The opaque data names the driver and VBIOS, carries the chain's FWID, and says PROJECT
 * "SIMULATED". Measurements are SHA-384 of labels (`simulatedGpuMeasurements`): a development
 * manifest pins them as golden values (docs/manifest.md "gpu"); no RIM exists for them.
 */
import { concatBytes, sha384, utf8 } from '../../bytes.js';
import { SealgateError } from '../../errors.js';
import {
  GET_MEASUREMENTS,
  MEASUREMENT_SPEC_DMTF,
  MEASUREMENTS,
  PARAM1_SIGNATURE_REQUESTED,
  PARAM2_ALL_MEASUREMENTS,
  SPDM_VERSION_1_1,
} from '../../evidence/nvidia/layout.js';
import type { GpuDeviceEvidence, GpuEvidenceProvider } from '../gpu-types.js';
import type { GpuDeviceChain } from './gpu-device-chain.js';

export const SIMULATED_GPU_DRIVER = '550.90.07';
/** VBIOS_VERSION bytes for "96.00.9f.00.01" (formatVbiosVersion). */
export const SIMULATED_GPU_VBIOS = '96.00.9f.00.01';
const VBIOS_BYTES = Uint8Array.of(0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0);
export const SIMULATED_GPU_BLOCKS = 8;
/** DMTFSpecMeasurementValueType 0x01 "mutable firmware", digest (DSP0274 Table "DMTF measurement"). */
const VALUE_TYPE_FIRMWARE = 0x01;

/** The simulated GPUs' measurement for SPDM block `index` (1-based): SHA-384 of a label. */
export async function simulatedGpuMeasurements(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 1; i <= SIMULATED_GPU_BLOCKS; i++)
    out.push(await sha384(utf8.encode(`sealgate/simulated-gpu/block/${i}`)));
  return out;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, n >> 8);
}

function opaqueItem(type: number, value: Uint8Array): Uint8Array {
  return concatBytes(u16(type), u16(value.length), value);
}

function asciiPadded(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(utf8.encode(text));
  return out;
}

function block(index: number, value: Uint8Array): Uint8Array {
  const dmtf = concatBytes(Uint8Array.of(VALUE_TYPE_FIRMWARE), u16(value.length), value);
  return concatBytes(Uint8Array.of(index, MEASUREMENT_SPEC_DMTF), u16(dmtf.length), dmtf);
}

/** ECDSA P-384 r ‖ s over L1 = request ‖ response-without-signature (DSP0274 1.1). */
async function sign(key: CryptoKey, signed: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, key, signed as BufferSource),
  );
}

export class SimulatedGpu {
  readonly #chain: GpuDeviceChain;
  readonly #measurements: readonly Uint8Array[];

  constructor(chain: GpuDeviceChain, measurements: readonly Uint8Array[]) {
    if (chain?.simulated !== true)
      throw new SealgateError('invalid_argument', 'simulated GPU: expected a simulated chain');
    if (measurements.length === 0 || measurements.some((m) => m.length !== 48)) {
      throw new SealgateError('invalid_argument', 'simulated GPU: measurements must be 48-byte values');
    }
    this.#chain = chain;
    this.#measurements = measurements.map((m) => m.slice());
  }

  async evidence(nonce: Uint8Array): Promise<GpuDeviceEvidence> {
    if (!(nonce instanceof Uint8Array) || nonce.length !== 32) {
      throw new SealgateError('invalid_argument', 'simulated GPU: nonce must be 32 bytes');
    }
    const request = concatBytes(
      Uint8Array.of(SPDM_VERSION_1_1, GET_MEASUREMENTS, PARAM1_SIGNATURE_REQUESTED, PARAM2_ALL_MEASUREMENTS),
      nonce,
      Uint8Array.of(0),
    );
    const record = concatBytes(...this.#measurements.map((m, i) => block(i + 1, m)));
    const opaque = concatBytes(
      opaqueItem(3, asciiPadded(SIMULATED_GPU_DRIVER, 16)), // DRIVER_VERSION
      opaqueItem(6, VBIOS_BYTES), // VBIOS_VERSION
      opaqueItem(17, asciiPadded('SIMULATED', 16)), // PROJECT
      opaqueItem(20, this.#chain.fwid), // FWID
    );
    const len = record.length;
    const response = concatBytes(
      Uint8Array.of(SPDM_VERSION_1_1, MEASUREMENTS, 0, 0, this.#measurements.length),
      Uint8Array.of(len & 0xff, (len >> 8) & 0xff, len >> 16),
      record,
      crypto.getRandomValues(new Uint8Array(32)),
      u16(opaque.length),
      opaque,
    );
    const signed = concatBytes(request, response);
    const signature = await sign(this.#chain.attestationKey, signed);
    return { evidence: concatBytes(signed, signature), chain: this.#chain.pem.slice() };
  }
}

/** `count` SIMULATED GPUs on one device chain, as a `GpuEvidenceProvider`. */
export class SimulatedGpuProvider implements GpuEvidenceProvider {
  readonly simulated = true as const;
  readonly description: string;
  readonly #gpus: readonly SimulatedGpu[];

  constructor(chain: GpuDeviceChain, measurements: readonly Uint8Array[], count: number) {
    if (!Number.isInteger(count) || count < 1 || count > 8) {
      throw new SealgateError('invalid_argument', `simulated GPUs: count must be 1..8, got ${count}`);
    }
    this.#gpus = Array.from({ length: count }, () => new SimulatedGpu(chain, measurements));
    this.description = `SIMULATED HARDWARE: ${count} simulated Hopper GPU(s) (development root ${chain.rootSha256.slice(0, 16)}…)`;
  }

  getGpuEvidence(nonce: Uint8Array): Promise<GpuDeviceEvidence[]> {
    return Promise.all(this.#gpus.map((g) => g.evidence(nonce)));
  }
}
