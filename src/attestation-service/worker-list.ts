/**
 * `GET /v1/workers` (docs/services.md): the workers this service attested and whose certificates
 * are still valid — read-only, for the gateway's verification page. Each entry is the certificate
 * itself (DER, base64url) and the fields read back from it by the same reader the gateway and the
 * workers use (`verifyWorkerCertificate`, checked against this service's own signing key): nobody
 * has to trust this list, only the certificates, whose issuer key is bound into the service's
 * attested REPORT_DATA. No key material, no prompt data.
 */
import type { GpuSummary } from '../attestation/gpu-summary.js';
import { toBase64Url, toHex } from '../bytes.js';
import { verifyWorkerCertificate } from '../service-client/worker-certificate.js';
import type { ServiceRuntime } from './runtime.js';

export interface ListedWorker {
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  measurement: string;
  manifestDigest: string;
  hpkeKeySha256: string;
  simulated: boolean;
  /** SHA-256 of the worker's configuration document (where it sends prompts). */
  configDigest: string;
  /** The worker's verified GPUs, as its certificate states them (attestation/gpu-summary.ts). */
  gpus: GpuSummary[];
  certificate: string;
}

export async function listWorkers(rt: ServiceRuntime): Promise<Response> {
  await rt.ready;
  const { deps } = rt;
  const workers: ListedWorker[] = [];
  for (const w of rt.workers.list(rt.nowSeconds())) {
    if (!w.certificate) continue;
    try {
      const cert = await verifyWorkerCertificate({
        certificate: w.certificate,
        issuerKey: deps.keys.signing.publicKey,
        now: deps.now(),
        manifestDigest: deps.manifestDigest,
      });
      workers.push({
        serialNumber: cert.serialNumber,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
        measurement: toHex(cert.measurement),
        manifestDigest: cert.manifestDigest,
        hpkeKeySha256: toHex(cert.hpkeKeySha256),
        simulated: cert.simulated,
        configDigest: cert.configDigest,
        gpus: cert.gpus,
        certificate: toBase64Url(w.certificate),
      });
    } catch (e) {
      deps.log('warn', 'worker_list_skipped', {
        serialNumber: w.serialNumber,
        message: (e as Error).message,
      });
    }
  }
  return Response.json({ object: 'list', data: workers });
}
