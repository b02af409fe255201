/**
 * verifyGpuEvidence on the three real Hopper sets: each verifies (signature, five-certificate
 * chain to the pinned Device Identity CA, FWID binding, nonce) and yields its claims; then each
 * check is broken once — another nonce, another root, a missing or foreign certificate, a date
 * outside validity, a FWID that differs — and rejected with its own code.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { parseX509Certificate } from '../../../src/der/certificate.js';
import { certificateFwid } from '../../../src/verify/nvidia/fwid.js';
import { verifyGpuEvidence } from '../../../src/verify/nvidia/verify-gpu.js';
import { GPU_SETS } from '../../support/vectors.js';
import { loadGpuSet, v } from './support.js';

const codes = (r: { violations: { code: string }[] }) => r.violations.map((x) => x.code);

describe.skipIf(!v.present)(`verifyGpuEvidence${v.present ? '' : ` (skipped: ${v.skipReason})`}`, () => {
  for (const set of GPU_SETS) {
    it(`${set}: verifies and yields its claims`, async () => {
      const { input, expected } = loadGpuSet(set);
      const r = await verifyGpuEvidence(input);
      expect(r.violations).toEqual([]);
      const c = r.claims!;
      expect(c.architecture).toBe('hopper');
      expect(c.driverVersion).toBe(expected.evidence.opaque.DRIVER_VERSION);
      expect(c.vbiosVersion).toBe(expected.evidence.opaque.VBIOS_VERSION);
      expect(toHex(c.nonce)).toBe(expected.evidence.request.nonce);
      expect(c.measurements).toHaveLength(64);
      expect(c.fwid === null ? undefined : toHex(c.fwid)).toBe(expected.evidence.opaque.FWID);
      expect(c.rootSha256).toBe('102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48');
      expect(c.leaf.subject).toContain('CN=GH100 A01 GSP FMC LF');
    });
  }

  it("each leaf's FWID extension decodes to the FWID expected.json read from it", async () => {
    for (const set of GPU_SETS) {
      const { certs, expected } = loadGpuSet(set);
      const ext = certificateFwid(await parseX509Certificate(certs[0]!))!;
      expect(toHex(ext.fwid), set).toBe(expected['leaf_fwid_extension_2.23.133.5.4.1']);
      expect(ext.deviceIdKey).toEqual((await parseX509Certificate(certs[1]!)).spki);
    }
  });

  it('the same evidence in hex text verifies', async () => {
    const { input } = loadGpuSet('hopper-coco-ci-trustee');
    const hex = v.bytes('nvidia/hopper-coco-ci-trustee/report.hex');
    expect((await verifyGpuEvidence({ ...input, evidence: hex })).violations).toEqual([]);
  });

  it('rejects another nonce', async () => {
    const { input } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const nonce = input.nonce.slice();
    nonce[31]! ^= 1;
    const r = await verifyGpuEvidence({ ...input, nonce });
    expect(codes(r)).toEqual(['nonce_mismatch']);
    expect(r.claims).toBeNull();
  });

  it('rejects a chain to a root that is not pinned', async () => {
    const { input } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const r = await verifyGpuEvidence({ ...input, roots: { device: ['00'.repeat(32)], rim: [] } });
    expect(codes(r)).toEqual(['root_untrusted']);
  });

  it('rejects a chain with a certificate missing', async () => {
    const { input, certs } = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const r = await verifyGpuEvidence({ ...input, chain: [certs[0]!, ...certs.slice(2)] });
    expect(codes(r)).toContain('cert_chain_invalid');
    expect(r.violations[0]!.message).toBe('the chain has 4 certificates, expected 5');
  });

  it("rejects another GPU's attestation key (signature and FWID)", async () => {
    const a = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const b = loadGpuSet('hopper-coco-ci-trustee');
    const r = await verifyGpuEvidence({ ...a.input, chain: b.certs });
    expect(codes(r).sort()).toEqual(['gpu_fwid_mismatch', 'report_signature_invalid']);
  });

  it('rejects a leaf issued by another device (chain)', async () => {
    const a = loadGpuSet('hopper-test-no-gpu-nvtrust');
    const b = loadGpuSet('hopper-coco-ci-trustee');
    const r = await verifyGpuEvidence({ ...a.input, chain: [b.certs[0]!, ...a.certs.slice(1)] });
    expect(codes(r)).toContain('cert_chain_invalid');
  });

  it('rejects a time before the chain is valid', async () => {
    const { input } = loadGpuSet('hopper-coco-ci-trustee');
    const r = await verifyGpuEvidence({ ...input, at: new Date('2020-01-01T00:00:00Z') });
    expect(new Set(codes(r))).toEqual(new Set(['cert_expired']));
    expect(r.violations).toHaveLength(5);
  });

  it('rejects a report whose FWID differs from the certificate (and so its signature)', async () => {
    const { input, expected } = loadGpuSet('hopper-coco-ci-trustee');
    const bytes = input.evidence.slice();
    const fwid = expected.evidence.opaque.FWID!;
    const at = toHex(bytes).indexOf(fwid) / 2;
    bytes[at]! ^= 0x80;
    const r = await verifyGpuEvidence({ ...input, evidence: bytes });
    expect(codes(r).sort()).toEqual(['gpu_fwid_mismatch', 'report_signature_invalid']);
  });

  it('reports a malformed report and a malformed chain as violations', async () => {
    const { input } = loadGpuSet('hopper-coco-ci-trustee');
    expect(codes(await verifyGpuEvidence({ ...input, evidence: input.evidence.subarray(0, 100) }))).toEqual([
      'report_malformed',
    ]);
    expect(codes(await verifyGpuEvidence({ ...input, chain: new TextEncoder().encode('junk') }))).toEqual([
      'cert_malformed',
    ]);
    expect(codes(await verifyGpuEvidence({ ...input, chain: [] }))).toEqual(['cert_missing']);
  });

  it('throws for caller errors only', async () => {
    const { input } = loadGpuSet('hopper-coco-ci-trustee');
    await expect(verifyGpuEvidence({ ...input, nonce: new Uint8Array(31) })).rejects.toThrow(/32 bytes/);
    await expect(verifyGpuEvidence({ ...input, at: new Date(Number.NaN) })).rejects.toThrow(/valid Date/);
  });
});
