/**
 * Calling the attestation service (docs/services.md): runtime-neutral, `fetch` injected. The
 * gateway's key-rotation Durable Object uses it inside workerd.
 */
export { type AttestedService, type AttestServiceOptions, attestService } from './attest-service.js';
export { type CallOptions, type Fetcher, serviceUrl } from './http.js';
export { kekContext } from './kek-binding.js';
export { type KeyMetadata, listServiceKeys, type UploadKekOptions, uploadKek } from './keys.js';
export {
  MAX_WORKER_CERT_SECONDS,
  parseWorkerCertificate,
  SEALGATE_OID_ARC,
  verifyWorkerCertificate,
  WORKER_CERT_ISSUER,
  WORKER_CERT_OIDS,
  WORKER_CERT_SUBJECT,
  type WorkerCertificate,
} from './worker-certificate.js';
