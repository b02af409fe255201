/** The attestation service (docs/services.md "Attestation service"). The Node server is in server.ts/main.ts. */
export { createServiceApp } from './app.js';
export { CHALLENGE_TTL_SECONDS, MAX_SPENT_CHALLENGES } from './challenges.js';
export { issueWorkerCertificate, type WorkerCertificateInput } from './issue-certificate.js';
export { MAX_SERVICE_KEYS } from './key-store.js';
export type { LogLevel, ServiceDeps, ServiceLog } from './runtime.js';
export { generateServiceKeys, type ServiceKeys, servicePublicKeys } from './service-keys.js';
