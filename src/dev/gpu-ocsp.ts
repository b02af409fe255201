/**
 * The Node services' OCSP access for workers' GPU certificates (src/verify/nvidia/ocsp-fetch.ts):
 * node's fetch, POST `application/ocsp-request` with a timeout, behind a bounded in-memory cache
 * (src/verify/nvidia/ocsp-memory-cache.ts). `url` overrides the responder for every certificate
 * (SEALGATE_GPU_OCSP_URL: a mirror, or the local stack's simulated responder); without it each
 * certificate's AIA names it, else NVIDIA's (ocsp.ndis.nvidia.com).
 */
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';
import { memoryOcspCache } from '../verify/nvidia/ocsp-memory-cache.js';

const OCSP_TIMEOUT_MS = 10_000;

export function nodeGpuOcsp(url?: string): OcspFetchOptions {
  return {
    post: (to, body) =>
      fetch(to, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: body as BodyInit,
        signal: AbortSignal.timeout(OCSP_TIMEOUT_MS),
      }),
    cache: memoryOcspCache(),
    ...(url ? { url } : {}),
  };
}
