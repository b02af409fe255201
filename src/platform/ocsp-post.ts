/**
 * How the Node processes POST an OCSPRequest for a GPU certificate (src/verify/nvidia/ocsp-fetch.ts):
 * the platform `fetch`, `application/ocsp-request` (RFC 6960 Appendix A.1), a timeout, and no
 * redirects. A responder's answer is signed, so a redirect could not forge one; but following it
 * would let whoever answers at the responder's address (or in a certificate's AIA) send the
 * attestation service's POST to any other address, its internal network included.
 */
import type { OcspPoster } from '../verify/nvidia/ocsp-fetch.js';

export function ocspPoster(timeoutMs: number): OcspPoster {
  return (url, body) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: body as BodyInit,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
}
