/**
 * The Node services' OCSP access for workers' GPU certificates (src/verify/nvidia/ocsp-fetch.ts):
 * POST `application/ocsp-request` with a timeout and no redirects (src/platform/ocsp-post.ts), behind a bounded in-memory cache
 * (src/verify/nvidia/ocsp-memory-cache.ts). `url` overrides the responder for every certificate
 * (SEALGATE_GPU_OCSP_URL: a mirror, or the local stack's simulated responder); without it each
 * certificate's AIA names it, else NVIDIA's (ocsp.ndis.nvidia.com).
 */
import { ocspPoster } from '../platform/ocsp-post.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import { memoryOcspCache } from '../verify/nvidia/ocsp-memory-cache.js';

const OCSP_TIMEOUT_MS = 10_000;

export function nodeGpuOcsp(url?: string): OcspFetchOptions {
  return {
    post: ocspPoster(OCSP_TIMEOUT_MS),
    cache: memoryOcspCache(),
    ...(url ? { url } : {}),
  };
}
