/**
 * The appraisal (ear.ts `Appraisal`) of a verified evidence bundle: what an EAR says about it. One
 * function for the gateway, which signs the EAR (src/gateway/verification/appraise-service.ts), and
 * for `sealgate verify-endpoint`, which checks that the signed EAR says exactly what its own
 * verification of the same evidence gives (ear.ts `checkEarClaims`) — so every claim of the EAR,
 * not only its status, is one the client recomputed.
 *
 * Pure: no I/O.
 */
import { toHex } from '../bytes.js';
import type { Manifest } from '../policy/manifest-types.js';
import { isSimulatedGpuRoot } from '../policy/trust-anchors.js';
import type { Appraisal } from './ear.js';
import { summarizeGpu } from './gpu-summary.js';
import { tdxAppraisal } from './tdx-ear.js';
import type { BundleVerdict } from './verify-evidence-bundle.js';

export async function appraisalOf(verdict: BundleVerdict, manifest: Manifest): Promise<Appraisal> {
  return {
    trusted: verdict.verdict === 'trusted',
    simulated: verdict.simulated,
    violations: verdict.violations,
    measurement: verdict.report
      ? toHex(verdict.report.measurement)
      : verdict.tdx
        ? toHex(verdict.tdx.body.mrTd)
        : null,
    ...(verdict.tdx ? { tdx: tdxAppraisal(verdict.tdx) } : {}),
    gpus: await Promise.all(
      (verdict.gpus ?? []).map(async (g) => {
        const { architecture, driverVersion, vbiosVersion, measurementsSha256 } = await summarizeGpu(g);
        const simulated = isSimulatedGpuRoot(manifest, g.rootSha256);
        return { architecture, driverVersion, vbiosVersion, measurementsSha256, simulated };
      }),
    ),
  };
}
