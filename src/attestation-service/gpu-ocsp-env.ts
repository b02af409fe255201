/**
 * Where the service program asks OCSP about its workers' GPU certificates (docs/services.md):
 *
 *   SEALGATE_GPU_OCSP_URL   the responder for every certificate (a mirror, or a local simulated one);
 *                           unset: each certificate's AIA, else NVIDIA's (ocsp-fetch.ts NVIDIA_OCSP_URL)
 *   SEALGATE_DEV_GPU_CHAIN  simulator only, without SEALGATE_GPU_OCSP_URL: answer for that SIMULATED
 *                           GPU chain in process, signed by its CAs (gpu-ocsp-responder.ts)
 *
 * A simulated service never asks NVIDIA: the simulated certificates name no responder, and sending
 * them to NVIDIA's would only leak that a development stack runs. With neither variable it asks no
 * one, so a role under `gpu.ocsp: "require"` refuses its GPUs (`ocsp_unavailable`).
 */
import { loadOrCreateGpuChain } from '../dev/files.js';
import { nodeGpuOcsp } from '../dev/gpu-ocsp.js';
import { gpuChainResponder } from '../platform/simulator/gpu-ocsp-responder.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import { memoryOcspCache } from '../verify/nvidia/ocsp-memory-cache.js';

export async function gpuOcspFromEnv(
  env: Record<string, string | undefined>,
  opts: { simulated: boolean; now: () => Date },
): Promise<{ gpuOcsp?: OcspFetchOptions }> {
  const url = env.SEALGATE_GPU_OCSP_URL || undefined;
  if (url !== undefined || !opts.simulated) return { gpuOcsp: nodeGpuOcsp(url) };
  const path = env.SEALGATE_DEV_GPU_CHAIN;
  if (!path) return {};
  const responder = await gpuChainResponder(await loadOrCreateGpuChain(path, { now: opts.now() }), opts.now);
  return { gpuOcsp: { post: responder.post, cache: memoryOcspCache() } };
}
