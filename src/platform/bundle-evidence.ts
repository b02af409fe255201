/**
 * A platform's evidence for REPORT_DATA, as the members of an evidence bundle: SEV-SNP's `report`
 * and `certificates`, or TDX's `quote` and `collateral`. The one place the services turn a
 * platform into bundle members, so both speak whichever TEE they run on.
 */
import type { BundleEvidence } from '../attestation/evidence-bundle.js';
import type { AttestationPlatform } from './types.js';

export async function bundleEvidenceOf(
  platform: AttestationPlatform,
  reportData: Uint8Array,
): Promise<BundleEvidence> {
  if (platform.kind === 'tdx') {
    const { quote, collateral } = await platform.getEvidence(reportData);
    return { platform: 'tdx', quote, ...(collateral ? { collateral } : {}) };
  }
  const evidence = await platform.getEvidence(reportData);
  const certificates: Extract<BundleEvidence, { platform: 'sev-snp' }>['certificates'] = {};
  for (const name of ['vcek', 'vlek', 'ask', 'ark'] as const) {
    const der = evidence.certificates[name];
    if (der) certificates[name] = der;
  }
  return { platform: 'sev-snp', report: evidence.report, certificates };
}
