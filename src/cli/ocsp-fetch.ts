/**
 * The CLI's OCSP access for `verify-gpu --ocsp-fetch`: the platform `fetch`, POST with
 * `application/ocsp-request` (RFC 6960 Appendix A.1), a timeout, no redirects, no cache (each run
 * is one process). The responder is the certificate's AIA, else NVIDIA's
 * (src/verify/nvidia/ocsp-fetch.ts). Never used in tests: no traffic leaves a test machine.
 */
import type { OcspFetchOptions } from '../verify/nvidia/ocsp-fetch.js';

export function cliOcsp(timeoutMs = 15_000): OcspFetchOptions {
  return {
    post: (url, body) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: body as BodyInit,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      }),
  };
}
