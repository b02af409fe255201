/**
 * verifySnpEvidence on the six real SEV-SNP sets (../shared/testdata/snp, SOURCES.md) with AMD's
 * real cert_chains (amd-roots/): each verifies with zero violations inside validity, and each way
 * of breaking the evidence yields its violation code and no claims.
 */
import { describe, expect, it } from 'vitest';
import { decodeCertificates } from '../../src/der/pem.js';
import { isSealgateError } from '../../src/errors.js';
import { AMD_ROOTS } from '../../src/verify/amd-roots.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { SNP_SETS } from '../support/vectors.js';
import { AMD_ANCHORS, anchorsFor, codes, loadSet, v } from './support.js';

const PRODUCT_OF: Record<string, string> = {
  'milan-v2-gosevguest': 'Milan',
  'milan-v2-virtee': 'Milan',
  'milan-v2-idblock-trustee': 'Milan',
  'milan-v3-vlek-aws-trustee': 'Milan',
  'genoa-v3-azure-trustee': 'Genoa',
  'turin-v5-oak': 'Turin',
};

describe.skipIf(!v.present)(`real SNP sets verify against AMD's chains ${v.skipReason}`, () => {
  for (const name of SNP_SETS) {
    it(`${name}: zero violations at the leaf's notBefore + 1 day`, async () => {
      const s = loadSet(name);
      const r = await verifySnpEvidence({
        report: s.report,
        leaf: s.leaf,
        chain: [s.chain],
        trustAnchors: AMD_ANCHORS,
        now: s.at,
      });
      expect(r.violations).toEqual([]);
      expect(r.claims).not.toBeNull();
      const c = r.claims!;
      expect(c.product).toBe(PRODUCT_OF[name]);
      expect(c.signingKey).toBe(s.expected.report.signing_key.toLowerCase());
      expect(c.leaf.sha256).toBe(s.expected.endorsement_cert.sha256_fingerprint);
      expect(c.chain.rootSha256).toBe(AMD_ROOTS.find((x) => x.product === c.product)!.sha256);
      const t = s.expected.report.reported_tcb;
      expect(c.reportedTcb.bootloader).toBe(t.blSPL);
      expect(c.reportedTcb.tee).toBe(t.teeSPL);
      expect(c.reportedTcb.snp).toBe(t.snpSPL);
      expect(c.reportedTcb.microcode).toBe(t.ucodeSPL);
      expect(c.reportedTcb.fmc).toBe(t.fmcSPL);
      expect(c.report.version).toBe(s.expected.report.version);
    });
  }

  it('accepts the chain as two separate DER certificates too', async () => {
    const s = loadSet('milan-v2-virtee');
    const [ask, ark] = decodeCertificates(s.chain);
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [ask!, ark!],
      trustAnchors: anchorsFor('Milan'),
      now: s.at,
    });
    expect(r.violations).toEqual([]);
    expect(r.claims?.chain.intermediateSha256).toBe(
      '67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b',
    );
  });

  it('Turin: TCBs decoded with the Turin layout, 8-byte hwID = CHIP_ID[0:8]', async () => {
    const s = loadSet('turin-v5-oak');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      trustAnchors: anchorsFor('Turin'),
      now: s.at,
    });
    expect(r.violations).toEqual([]);
    expect(r.claims!.reportedTcb).toEqual({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 });
    expect(r.claims!.leaf.extensions.hwId).toEqual(r.claims!.report.chipId.slice(0, 8));
    expect(r.claims!.leaf.extensions.hwId?.length).toBe(8);
  });

  it('AWS VLEK: verifies on 2024-12-11, cert_expired on 2026-11-28', async () => {
    const s = loadSet('milan-v3-vlek-aws-trustee');
    const base = { report: s.report, leaf: s.leaf, chain: [s.chain], trustAnchors: AMD_ANCHORS };
    const then = await verifySnpEvidence({ ...base, now: new Date('2024-12-11T12:00:00Z') });
    expect(then.violations).toEqual([]);
    expect(then.claims?.signingKey).toBe('vlek');
    expect(then.claims?.leaf.extensions.cspId).toBe('CN=cc-us-east-2.amazonaws.com');
    const today = await verifySnpEvidence({ ...base, now: new Date('2026-11-28T00:00:00Z') });
    expect(codes(today.violations)).toEqual(['cert_expired']);
    expect(today.violations[0]!.field).toBe('chain.leaf');
    expect(today.claims).toBeNull();
    expect(today.report).not.toBeNull();
  });

  it('a Milan report with the Genoa chain is rejected (cert_chain_invalid)', async () => {
    const s = loadSet('milan-v2-virtee');
    const genoa = loadSet('genoa-v3-azure-trustee');
    for (const trustAnchors of [AMD_ANCHORS, anchorsFor('Genoa')]) {
      const r = await verifySnpEvidence({
        report: s.report,
        leaf: s.leaf,
        chain: [genoa.chain],
        trustAnchors,
        now: s.at,
      });
      expect(r.claims).toBeNull();
      expect(codes(r.violations)).toContain('cert_chain_invalid');
      expect(r.violations.some((x) => x.message.includes('the Milan VCEK/VLEK chains to a Genoa root'))).toBe(
        true,
      );
    }
  });

  it('a Milan VCEK with the Milan ASVK (VLEK chain) is rejected', async () => {
    const s = loadSet('milan-v2-virtee');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [v.bytes('amd-roots/ask_ark_milan_vlek.pem')],
      trustAnchors: AMD_ANCHORS,
      now: s.at,
    });
    expect(r.claims).toBeNull();
    expect(r.violations.filter((x) => x.code === 'cert_chain_invalid').length).toBeGreaterThanOrEqual(2);
  });

  it("another set's VCEK is rejected (hwID, TCB, signature)", async () => {
    const s = loadSet('milan-v2-virtee');
    const other = loadSet('milan-v2-gosevguest');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: other.leaf,
      chain: [s.chain],
      trustAnchors: AMD_ANCHORS,
      now: s.at,
    });
    expect(r.claims).toBeNull();
    expect(codes(r.violations)).toContain('cert_hwid_mismatch');
    expect(codes(r.violations)).toContain('report_signature_invalid');
  });

  it("another Turin chip's VCEK is rejected", async () => {
    const s = loadSet('turin-v5-oak');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: v.bytes('snp/turin-vcek-only-virtee/vcek.der'),
      chain: [s.chain],
      trustAnchors: AMD_ANCHORS,
      now: s.at,
    });
    expect(r.claims).toBeNull();
    expect(codes(r.violations)).toEqual(
      expect.arrayContaining(['cert_hwid_mismatch', 'cert_tcb_mismatch', 'report_signature_invalid']),
    );
  });

  it('a VCEK for a VLEK-signed report: signing_key_mismatch', async () => {
    const vlek = loadSet('milan-v3-vlek-aws-trustee');
    const vcek = loadSet('milan-v2-virtee');
    const r = await verifySnpEvidence({
      report: vlek.report,
      leaf: vcek.leaf,
      chain: [vcek.chain],
      trustAnchors: AMD_ANCHORS,
      now: vcek.at,
    });
    expect(r.claims).toBeNull();
    expect(codes(r.violations)).toContain('signing_key_mismatch');
  });

  it('a root that is not a trust anchor: root_untrusted', async () => {
    const s = loadSet('milan-v2-virtee');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      trustAnchors: anchorsFor('Genoa', 'Turin'),
      now: s.at,
    });
    expect(r.claims).toBeNull();
    expect(codes(r.violations)).toEqual(['root_untrusted']);
    expect(r.violations[0]!.message).toContain('ARK-Milan');
  });

  it('no trust anchors at all: root_untrusted', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      trustAnchors: [],
      now: s.at,
    });
    expect(codes(r.violations)).toEqual(['root_untrusted']);
    expect(r.claims).toBeNull();
  });

  it('r or s with a non-zero byte above the 48-byte scalar: report_signature_invalid', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    for (const off of [0x2a0 + 48, 0x2a0 + 71, 0x2e8 + 48, 0x2e8 + 71]) {
      const bad = s.report.slice();
      bad[off] = 1;
      const r = await verifySnpEvidence({
        report: bad,
        leaf: s.leaf,
        chain: [s.chain],
        trustAnchors: AMD_ANCHORS,
        now: s.at,
      });
      expect(codes(r.violations)).toEqual(['report_signature_invalid']);
      expect(r.violations[0]!.message).toContain('above the 48-byte');
    }
  });

  it('a certificate that is not one: cert_malformed', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: new TextEncoder().encode('<html>not a certificate</html>'),
      chain: [s.chain],
      trustAnchors: AMD_ANCHORS,
      now: s.at,
    });
    expect(codes(r.violations)).toEqual(['cert_malformed']);
    const chainOfOne = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [decodeCertificates(s.chain)[0]!],
      trustAnchors: AMD_ANCHORS,
      now: s.at,
    });
    expect(codes(chainOfOne.violations)).toEqual(['cert_malformed']);
  });

  it('a certificate before its notBefore: cert_expired', async () => {
    const s = loadSet('genoa-v3-azure-trustee');
    const r = await verifySnpEvidence({
      report: s.report,
      leaf: s.leaf,
      chain: [s.chain],
      trustAnchors: AMD_ANCHORS,
      now: new Date('2024-06-01T00:00:00Z'),
    });
    expect(codes(r.violations)).toEqual(['cert_expired']);
    expect(r.claims).toBeNull();
  });
});

describe('malformed reports and bad arguments', () => {
  it('wrong-size bytes: report_malformed with the parser message, not a throw', async () => {
    const r = await verifySnpEvidence({
      report: new Uint8Array(100),
      trustAnchors: AMD_ANCHORS,
      now: new Date(),
    });
    expect(r.report).toBeNull();
    expect(r.claims).toBeNull();
    expect(codes(r.violations)).toEqual(['report_malformed']);
    expect(r.violations[0]!.message).toBe('SNP report: expected 1184 bytes, got 100');
  });

  it('an unknown version: report_version_unsupported', async () => {
    const bytes = new Uint8Array(1184);
    bytes[0] = 9;
    const r = await verifySnpEvidence({ report: bytes, trustAnchors: AMD_ANCHORS, now: new Date() });
    expect(codes(r.violations)).toEqual(['report_version_unsupported']);
  });

  it('refuses a `now` that is not a valid Date', async () => {
    await expect(
      verifySnpEvidence({ report: new Uint8Array(1184), trustAnchors: AMD_ANCHORS, now: new Date('x') }),
    ).rejects.toSatisfy((e: unknown) => isSealgateError(e, 'invalid_argument'));
  });

  it('refuses an unpinned trust anchor without simulated: true', async () => {
    const anchor = { sha256: 'ab'.repeat(32), product: 'Milan' as const };
    await expect(
      verifySnpEvidence({ report: new Uint8Array(1184), trustAnchors: [anchor], now: new Date() }),
    ).rejects.toThrow(/is not an AMD root; a development root needs simulated: true/);
  });
});
