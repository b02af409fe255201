/**
 * `verify-endpoint`, step 5: the workers the attested service certified, as the endpoint lists them
 * (`workers` of `/v1/attestation`: the certificates, DER base64url, passed through from the
 * service's `GET /v1/workers`). Nothing is taken from the gateway's word: each certificate must
 * verify here under the service's `signing` key that OUR verification of its evidence established,
 * for the manifest we judge by; then its measurement, attested configuration digest (where it
 * sends prompts) and GPUs (docs/protocol.md "GPU evidence") are shown. A certificate that does not
 * verify is a failure: the endpoint lists a worker the attested service did not certify.
 */
import { fromBase64Url, toHex } from '../bytes.js';
import type { Manifest } from '../policy/manifest-types.js';
import { verifyWorkerCertificate, type WorkerCertificate } from '../service-client/worker-certificate.js';

export interface WorkerFinding {
  ok: boolean;
  text: string;
}

const MAX_LISTED = 64;

function gpuText(gpus: WorkerCertificate['gpus']): string {
  if (gpus.length === 0) return 'no GPU';
  return gpus
    .map(
      (g, i) =>
        `GPU ${i} ${g.architecture} driver ${g.driverVersion} VBIOS ${g.vbiosVersion} measurements ${g.measurementsSha256.slice(0, 16)}…`,
    )
    .join('; ');
}

export async function checkListedWorkers(input: {
  listed: unknown;
  serviceSigningKey: Uint8Array;
  manifest: Manifest;
  manifestDigest: string;
  at: Date;
}): Promise<WorkerFinding[]> {
  if (!Array.isArray(input.listed)) return [{ ok: true, text: 'the endpoint listed no workers' }];
  // A worker's measurement is its SEV-SNP MEASUREMENT or its TDX MRTD: either list of the role's.
  const worker = input.manifest.roles.worker;
  const allowed = [...(worker?.snp?.measurements ?? []), ...(worker?.tdx?.mrTd ?? [])];
  const out: WorkerFinding[] = [];
  for (const entry of input.listed.slice(0, MAX_LISTED)) {
    let cert: WorkerCertificate;
    try {
      if (typeof entry !== 'string') throw new Error('not a base64url string');
      cert = await verifyWorkerCertificate({
        certificate: fromBase64Url(entry),
        issuerKey: input.serviceSigningKey,
        now: input.at,
        manifestDigest: input.manifestDigest,
      });
    } catch (e) {
      out.push({
        ok: false,
        text: `a listed worker certificate does not verify under the attested service's key (${(e as Error).message})`,
      });
      continue;
    }
    const measurement = toHex(cert.measurement);
    out.push({
      ok: allowed.includes(measurement),
      text: `worker ${cert.serialNumber}${cert.simulated ? ' (SIMULATED)' : ''}: measurement ${measurement}${allowed.includes(measurement) ? '' : ' NOT allowed by the manifest'}, configuration ${cert.configDigest}, ${gpuText(cert.gpus)}`,
    });
  }
  return out;
}
