/**
 * The CLI's OCSP access for `verify-gpu --ocsp-fetch`: the platform `fetch`, POST with
 * `application/ocsp-request` (RFC 6960 Appendix A.1), a timeout, no redirects (src/platform/ocsp-post.ts), no cache (each run
 * is one process). The responder is the certificate's AIA, else NVIDIA's
 * (src/verify/nvidia/ocsp-fetch.ts). Never used in tests: no traffic leaves a test machine.
 */
import { ocspPoster } from '../platform/ocsp-post.js';
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';

export function cliOcsp(timeoutMs = 15_000): OcspFetchOptions {
  return { post: ocspPoster(timeoutMs) };
}
