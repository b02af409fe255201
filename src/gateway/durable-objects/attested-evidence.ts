/**
 * What the attestation record (kv-store.ts `AttestationRecord`) says about the service's hardware,
 * for either TEE: SEV-SNP names its product, MEASUREMENT, REPORTED_TCB and VCEK/VLEK; Intel TDX
 * names "Intel TDX", MRTD, the TCB status and the PCK certificate. `leafNotAfter` bounds how long
 * the record may be cached: the VCEK's validity for SEV-SNP; for TDX, whose collateral is
 * re-verified at every rotation, the end of one rotation interval.
 */
import { toHex } from '../../bytes.js';
import type { AttestedService } from '../../service-client/attest-service.js';
import type { AttestationRecord } from '../kv/kv-store.js';

export type AttestedEvidence = Pick<
  AttestationRecord,
  'product' | 'measurement' | 'reportedTcb' | 'leafSha256' | 'leafNotAfter' | 'rootSha256'
>;

export function attestedEvidence(
  service: AttestedService,
  now: number,
  intervalSeconds: number,
): AttestedEvidence {
  if (service.claims) {
    const c = service.claims;
    return {
      product: c.product,
      measurement: toHex(c.report.measurement),
      reportedTcb: { ...c.reportedTcb },
      leafSha256: c.leaf.sha256,
      leafNotAfter: Math.floor(c.leaf.notAfter.getTime() / 1000),
      rootSha256: c.chain.rootSha256,
    };
  }
  const t = service.tdx;
  if (!t) throw new Error('attested service without claims');
  return {
    product: 'Intel TDX',
    measurement: toHex(t.body.mrTd),
    reportedTcb: { teeTcbSvnModule: t.body.teeTcbSvn[1], teeTcbSvnSeam: t.body.teeTcbSvn[0] },
    leafSha256: t.pckSha256,
    leafNotAfter: now + intervalSeconds,
    rootSha256: t.rootSha256,
  };
}
