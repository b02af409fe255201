/**
 * The real attestation service of a development environment, as the CLI and review tests serve it
 * behind a stand-in gateway: the app on the wall clock with its logs dropped, and the appraisal the
 * gateway makes of the evidence it answers (src/attestation/service-appraisal.ts, the same function
 * the gateway's EAR and `sealgate verify-endpoint` use).
 */
import type { Appraisal } from '../../src/attestation/ear.js';
import { parseEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { appraisalOf } from '../../src/attestation/service-appraisal.js';
import { verifyEvidenceBundle } from '../../src/attestation/verify-evidence-bundle.js';
import { createServiceApp } from '../../src/attestation-service/app.js';
import type { ServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromHex } from '../../src/bytes.js';
import type { DevelopmentEnvironment } from '../../src/dev/environment.js';
import type { TdxDevelopmentEnvironment } from '../../src/dev/environment-tdx.js';

export type AnyDevEnvironment = DevelopmentEnvironment | TdxDevelopmentEnvironment;

/** The service app of `dev` (its manifest and service platform) holding `keys`. */
export function devServiceApp(
  dev: AnyDevEnvironment,
  keys: ServiceKeys,
): ReturnType<typeof createServiceApp> {
  return createServiceApp({
    manifestBytes: dev.manifestBytes,
    manifest: dev.manifest,
    manifestDigest: dev.manifestDigest,
    platform: dev.servicePlatform,
    keys,
    now: () => new Date(),
    log: () => undefined,
  });
}

/** The gateway's appraisal of the service's `evidence` for `nonceHex`, verified against `dev`'s manifest. */
export async function appraiseServiceEvidence(
  dev: AnyDevEnvironment,
  evidence: unknown,
  nonceHex: string,
): Promise<Appraisal> {
  const verdict = await verifyEvidenceBundle({
    bundle: parseEvidenceBundle(evidence),
    manifest: dev.manifest,
    manifestDigest: dev.manifestDigest,
    role: 'attestation-service',
    nonce: fromHex(nonceHex),
    now: new Date(),
  });
  return appraisalOf(verdict, dev.manifest);
}
