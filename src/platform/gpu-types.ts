/**
 * How a confidential VM obtains its GPUs' attestation evidence, beside `types.ts` (its CPU
 * evidence). Implementations: `nvidia-command.ts` runs NVIDIA's attestation tooling inside the CVM
 * (real Hopper GPUs in CC mode), `simulator/simulated-gpu.ts` signs SPDM-shaped evidence with a
 * simulated device chain. A simulated provider says so in `simulated`, and everything built on it
 * must say SIMULATED loudly.
 *
 * The CPU↔GPU link is not this interface's: the NVIDIA driver inside the CVM talks SPDM to the GPU
 * over its own authenticated session; a provider only asks the driver for the signed report.
 */

/** One GPU's evidence, as the tooling writes it. */
export interface GpuDeviceEvidence {
  /** NVML's attestation report: SPDM GET_MEASUREMENTS request ‖ MEASUREMENTS response (raw bytes). */
  evidence: Uint8Array;
  /** The device certificate chain, PEM, leaf first, root last. */
  chain: Uint8Array;
  /** NVIDIA's driver and VBIOS RIMs (SWID tag XML), when the provider has them. */
  rims?: Uint8Array[];
}

export interface GpuEvidenceProvider {
  /** True for the simulator: never for evidence that a real GPU signed. */
  readonly simulated: boolean;
  /** For logs ("nvidia-command /usr/bin/…", "SIMULATED 1 × H100"). */
  readonly description: string;
  /** Every GPU's evidence for exactly this 32-byte GET_MEASUREMENTS nonce, in a stable order. */
  getGpuEvidence(nonce: Uint8Array): Promise<GpuDeviceEvidence[]>;
}
