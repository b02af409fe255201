/**
 * The EAR on a TD: the TDX policy codes land on the AR4SI claim they describe (MRTD and RTMRs are
 * the executables, TD attributes / XFAM / MRCONFIGID the configuration) instead of falling through
 * to "hardware", and a verified TD's claims travel in the signed submodule as `sealgate.tdx`.
 */
import { describe, expect, it } from 'vitest';
import { earClaims, trustworthinessVector } from '../../src/attestation/ear.js';
import { tdxAppraisal } from '../../src/attestation/tdx-ear.js';
import { toHex } from '../../src/bytes.js';
import { createTdxDevelopmentEnvironment } from '../../src/dev/environment-tdx.js';
import { issueTdxCollateral } from '../../src/platform/simulator/tdx-collateral.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';

const base = { trusted: false, simulated: false, measurement: null };

describe('EAR for Intel TDX', () => {
  it('maps TDX policy codes to executables and configuration, not hardware', () => {
    const mrtd = trustworthinessVector({ ...base, violations: [{ code: 'mrtd_not_allowed' }] });
    expect(mrtd.executables).toBe(96);
    expect(mrtd.hardware).toBe(2);
    const rtmr = trustworthinessVector({ ...base, violations: [{ code: 'rtmr_not_allowed' }] });
    expect(rtmr.executables).toBe(96);
    for (const code of ['td_attributes_not_allowed', 'xfam_not_allowed', 'td_config_mismatch'] as const) {
      const v = trustworthinessVector({ ...base, violations: [{ code }] });
      expect(v.configuration).toBe(96);
      expect(v.hardware).toBe(2);
    }
    const tcb = trustworthinessVector({ ...base, violations: [{ code: 'tcb_status_not_allowed' }] });
    expect(tcb.hardware).toBe(96);
  });

  it("carries a verified TD's claims as sealgate.tdx", async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const env = await createTdxDevelopmentEnvironment({ now });
    const { quote } = await env.servicePlatform.getEvidence(new Uint8Array(64));
    const r = await verifyTdxEvidence({
      quote,
      collateral: await issueTdxCollateral(env.chain, { now }),
      now,
      roots: [env.chain.rootSha256],
    });
    const tdx = tdxAppraisal(r.claims!);
    expect(tdx.mrTd).toBe(toHex(env.measurements.service));
    expect(tdx.tcbStatus).toBe('UpToDate');
    expect(tdx.tdxModule).toBe('TDX_01');
    expect(tdx.rtmrs).toHaveLength(4);
    const claims = earClaims({
      appraisal: { trusted: true, simulated: true, violations: [], measurement: tdx.mrTd, tdx },
      nonceHex: '00'.repeat(32),
      manifestDigest: env.manifestDigest,
      iat: 1,
    });
    expect(claims.submods['attestation-service']['sealgate.tdx']).toEqual(tdx);
    expect(claims.submods['attestation-service']['ear.status']).toBe('warning');
    const snp = earClaims({
      appraisal: { trusted: true, simulated: false, violations: [], measurement: 'ab' },
      nonceHex: '00'.repeat(32),
      manifestDigest: env.manifestDigest,
      iat: 1,
    });
    expect('sealgate.tdx' in snp.submods['attestation-service']).toBe(false);
  });
});
