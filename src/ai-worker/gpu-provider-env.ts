/**
 * Which GPU evidence provider the worker program uses, from its environment (docs: README
 * "Configuration"):
 *
 *   SEALGATE_GPU_COMMAND   real GPUs: NVIDIA's attestation tooling, run with the contract of
 *                          src/platform/nvidia-command.ts (`--nonce HEX --out DIR`)
 *   SEALGATE_GPUS          simulator only: how many SIMULATED GPUs (1..8), on the simulated GPU
 *   SEALGATE_DEV_GPU_CHAIN chain in this JSON file (`tsx src/dev/main.ts` writes one beside the dev
 *                          chain, and a manifest that trusts its root)
 *
 * Neither: no GPU. Simulated GPUs on a real CPU platform, or a real GPU command on the simulated
 * one, are refused: a mixed attestation would be neither a development stack nor a production one.
 */
import { loadOrCreateGpuChain } from '../dev/files.js';
import { programFail } from '../dev/program-config.js';
import type { GpuEvidenceProvider } from '../platform/gpu-types.js';
import { NvidiaCommandGpuProvider } from '../platform/nvidia-command.js';
import { SimulatedGpuProvider, simulatedGpuMeasurements } from '../platform/simulator/simulated-gpu.js';

export async function gpuProviderFromEnv(
  env: Record<string, string | undefined>,
  opts: { program: string; simulatedPlatform: boolean; now: () => Date },
): Promise<GpuEvidenceProvider | undefined> {
  const fail = programFail(opts.program);
  const command = env.SEALGATE_GPU_COMMAND;
  const count = env.SEALGATE_GPUS;
  if (command && count) fail('set SEALGATE_GPU_COMMAND (real GPUs) or SEALGATE_GPUS (simulated), not both');
  if (command) {
    if (opts.simulatedPlatform) fail('SEALGATE_GPU_COMMAND (real GPUs) with SEALGATE_PLATFORM=simulator');
    return new NvidiaCommandGpuProvider({ command });
  }
  if (!count || count === '0') return undefined;
  if (!opts.simulatedPlatform) fail('SEALGATE_GPUS (simulated GPUs) needs SEALGATE_PLATFORM=simulator');
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 8) fail(`SEALGATE_GPUS must be 0..8, got ${count}`);
  const path = env.SEALGATE_DEV_GPU_CHAIN || fail('SEALGATE_DEV_GPU_CHAIN is required with SEALGATE_GPUS');
  const chain = await loadOrCreateGpuChain(path, { now: opts.now() });
  return new SimulatedGpuProvider(chain, await simulatedGpuMeasurements(), n);
}
