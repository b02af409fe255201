/**
 * verifyGpuEvidence with `revocation` on the real 545 set (device chain and both RIM chains, at
 * 2024-01-01). The real sets have no saved OCSP answers, so: best-effort verifies and records
 * every certificate as unchecked with a warning; require rejects with ocsp_unavailable for each;
 * a "good" answer forged for a real certificate (its real issuer's name, our key) is refused even
 * under best-effort; without `revocation` the claims say null (not checked). Node and workerd.
 */
import { describe, expect, it } from 'vitest';
import { signOcspResponse } from '../../../src/platform/simulator/nvidia-ocsp.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { loadGpuSet, rimsOf545, v } from './support.js';

const codes = (r: { violations: { code: string }[] }) => r.violations.map((x) => x.code);

describe.skipIf(!v.present)(`GPU evidence with OCSP${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  const input = () => {
    const { input, certs } = loadGpuSet('hopper-545-with-rims-nvtrust');
    const r = rimsOf545();
    return { input: { ...input, rims: [r.driver, r.vbios] }, certs };
  };

  it('no revocation option: claims.revocation is null (not checked)', async () => {
    const r = await verifyGpuEvidence(input().input);
    expect(r.violations).toEqual([]);
    expect(r.claims!.revocation).toBeNull();
  });

  it('best-effort without answers: verified, every certificate unchecked with a warning', async () => {
    const r = await verifyGpuEvidence({ ...input().input, revocation: { policy: 'best-effort' } });
    expect(r.violations).toEqual([]);
    const rev = r.claims!.revocation!;
    expect(rev.policy).toBe('best-effort');
    const fields = rev.certificates.map((c) => c.field);
    expect(fields.slice(0, 3)).toEqual(['chain[1]', 'chain[2]', 'chain[3]']);
    expect(fields.some((f) => f.startsWith('rims.driver.chain['))).toBe(true);
    expect(fields.some((f) => f.startsWith('rims.vbios.chain['))).toBe(true);
    expect(fields).not.toContain('chain[0]');
    expect(rev.certificates.every((c) => c.status === 'unchecked')).toBe(true);
    expect(rev.warnings).toHaveLength(rev.certificates.length);
  });

  it('require without answers: ocsp_unavailable for each certificate, no claims', async () => {
    const best = await verifyGpuEvidence({ ...input().input, revocation: { policy: 'best-effort' } });
    const n = best.claims!.revocation!.certificates.length;
    const r = await verifyGpuEvidence({ ...input().input, revocation: { policy: 'require' } });
    expect(codes(r)).toEqual(Array(n).fill('ocsp_unavailable'));
    expect(r.claims).toBeNull();
  });

  it('a forged "good" answer for a real NVIDIA certificate is refused, even under best-effort', async () => {
    const { input: base, certs } = input();
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const forged = await signOcspResponse({
      cert: certs[2]!,
      issuer: { der: certs[3]!, keys, serial: '' },
      status: { kind: 'good' },
      thisUpdate: new Date('2023-12-31T00:00:00Z'),
      nextUpdate: new Date('2024-01-02T00:00:00Z'),
    });
    const r = await verifyGpuEvidence({ ...base, revocation: { policy: 'best-effort', saved: [forged] } });
    expect(codes(r)).toEqual(['ocsp_signature_invalid']);
    expect(r.violations[0]!.field).toBe('chain[2]');
  });
});
