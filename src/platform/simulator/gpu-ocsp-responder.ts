/**
 * A SIMULATED OCSP responder for the simulated GPU device chain (gpu-device-chain.ts): answers for
 * the certificates the verifier asks about — every one but the leaf (the attestation key, which
 * no responder knows) and the root (src/verify/nvidia/revocation.ts) — each signed by its issuing
 * CA (RFC 6960 §4.2.2.2), echoing the request's nonce (nvidia-ocsp.ts does the signing).
 */
import { parseX509Certificate } from '../../der/certificate.js';
import type { GpuDeviceChain } from './gpu-device-chain.js';
import type { SimulatedCertificate } from './nvidia-chain.js';
import { type SimulatedResponder, type SimulatedStatus, simulatedResponder } from './nvidia-ocsp.js';

/** certificates[1..4] with their key pairs (gpu-device-chain.ts `caKeys`). */
async function caCertificates(chain: GpuDeviceChain): Promise<SimulatedCertificate[]> {
  const out: SimulatedCertificate[] = [];
  for (const [i, keys] of chain.caKeys.entries()) {
    const der = chain.certificates[i + 1]!;
    out.push({ der, keys, serial: (await parseX509Certificate(der)).serialNumber });
  }
  return out;
}

/**
 * A responder answering `statusOf(serial)` (default: good) for the chain's BROM, provisioner ICA
 * and architecture CA certificates; any other serial gets `unauthorized` (§2.3).
 */
export async function gpuChainResponder(
  chain: GpuDeviceChain,
  now: () => Date,
  statusOf: (serialNumber: string) => SimulatedStatus = () => ({ kind: 'good' }),
): Promise<SimulatedResponder> {
  const cas = await caCertificates(chain);
  const known = cas.slice(0, -1).map((cert, i) => ({ cert, issuer: cas[i + 1]! }));
  return simulatedResponder(known, statusOf, now);
}
