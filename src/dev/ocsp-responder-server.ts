/**
 * Serves a SIMULATED OCSP responder over HTTP for the local stack and tests (RFC 6960 Appendix A.1:
 * POST, `application/ocsp-request` in, `application/ocsp-response` out), so the attestation
 * service's real fetcher (gpu-ocsp.ts) asks it exactly as it would ask NVIDIA's — never the internet.
 */
import type { SimulatedResponder } from '../platform/simulator/nvidia-ocsp.js';
import { type Listening, listen } from './serve.js';

export async function serveOcspResponder(
  responder: Pick<SimulatedResponder, 'post'>,
  opts: { port?: number; host?: string } = {},
): Promise<Listening> {
  return listen(
    async (req) => {
      if (req.method !== 'POST') return new Response('POST an OCSP request\n', { status: 405 });
      try {
        const der = await responder.post(req.url, new Uint8Array(await req.arrayBuffer()));
        return new Response(der as BodyInit, { headers: { 'content-type': 'application/ocsp-response' } });
      } catch {
        return new Response('malformed OCSP request\n', { status: 400 });
      }
    },
    { port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' },
  );
}
