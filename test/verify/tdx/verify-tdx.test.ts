/**
 * verifyTdxEvidence on the five real TDX sets (SOURCES.md): the status or the violations each set
 * is known to give, and each way of breaking the quote or the collateral refused with its code.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/bytes.js';
import { verifyTdxEvidence } from '../../../src/verify/tdx/verify-tdx.js';
import { codes, loadTdx, v } from './support.js';

describe.skipIf(!v.present)(`real TDX sets ${v.skipReason}`, () => {
  it('phala-v4-uptodate at 2025-06-20: UpToDate, no advisories, zero violations', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const r = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at });
    expect(r.violations).toEqual([]);
    expect(r.claims?.tcb.status).toBe('UpToDate');
    expect(r.claims?.tcb.advisoryIds).toEqual([]);
    expect(r.claims?.tcb.tdxModule?.id).toBe('TDX_01');
    expect(r.claims?.fmspc).toBe('b0c06f000000');
    expect(r.claims?.rootSha256).toBe('44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3');
  });

  it('phala-v5-no-tcb-match at 2026-03-01: no platform TCB level matches, nothing else', async () => {
    const s = loadTdx('phala-v5-no-tcb-match');
    const r = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at });
    expect(codes(r.violations)).toEqual(['tcb_level_not_found']);
    expect(r.claims).toBeNull();
  });

  it('trustee-v4-outofdate: OutOfDate (platform PCESVN 11 < 13), and no CRLs is refused', async () => {
    const s = loadTdx('trustee-v4-outofdate');
    const r = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at });
    expect(r.tcb?.status).toBe('OutOfDate');
    expect(r.tcb?.platform.tcbDate).toBe('2018-01-04T00:00:00.000Z');
    expect(r.tcb?.tdxModule?.id).toBe('TDX_03');
    expect(codes(r.violations)).toEqual(['crl_invalid']);
  });

  it('google-spr-e4-v4 at 2023-07-01: signatures and CRLs verify, no TCB level matches', async () => {
    const s = loadTdx('google-spr-e4-v4');
    const r = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at });
    expect(codes(r.violations)).toEqual(['tcb_level_not_found']);
    expect(r.quote?.trailingBytes).toBe(39);
  });

  it('google-v5-tdx15 at 2026-02-03: a TDX 1.5 body, UpToDate; its 2023 QE identity is stale', async () => {
    const s = loadTdx('google-v5-tdx15');
    const r = await verifyTdxEvidence({ quote: s.quote, collateral: s.collateral, now: s.at });
    expect(r.quote?.bodyType).toBe('tdx15');
    expect(r.tcb?.status).toBe('UpToDate');
    expect(codes(r.violations)).toEqual(['collateral_expired', 'crl_invalid']);
  });

  it('refuses collateral outside its window, and a quote verified before its PCK existed', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const late = await verifyTdxEvidence({
      quote: s.quote,
      collateral: s.collateral,
      now: new Date('2025-07-20T00:00:00Z'),
    });
    expect(codes(late.violations)).toEqual(['collateral_expired', 'crl_expired']);
    const early = await verifyTdxEvidence({
      quote: s.quote,
      collateral: s.collateral,
      now: new Date('2025-01-01T00:00:00Z'),
    });
    expect(codes(early.violations)).toContain('cert_expired');
    expect(codes(early.violations)).toContain('collateral_expired');
  });

  it('refuses TCB info or QE identity with one byte changed (signature over the exact bytes)', async () => {
    const s = loadTdx('phala-v4-uptodate');
    for (const key of ['tcbInfo', 'qeIdentity'] as const) {
      const text = s.collateral[key];
      // A digit of issueDate's seconds and the same text with one space added: both still JSON.
      const changed = [text.replace('"version":', '"version" :'), text.replace(/Z"/, 'Z" ')];
      for (const c of changed) {
        expect(c).not.toBe(text);
        const r = await verifyTdxEvidence({
          quote: s.quote,
          collateral: { ...s.collateral, [key]: c },
          now: s.at,
        });
        expect(codes(r.violations)).toEqual(['collateral_signature_invalid']);
      }
      const sig = s.collateral[`${key}Signature`].slice();
      sig[5]! ^= 1;
      const r = await verifyTdxEvidence({
        quote: s.quote,
        collateral: { ...s.collateral, [`${key}Signature`]: sig },
        now: s.at,
      });
      expect(codes(r.violations)).toEqual(['collateral_signature_invalid']);
    }
    // Every byte of the TCB info text: a changed byte never verifies.
    const text = utf8.encode(s.collateral.tcbInfo);
    for (let i = 0; i < text.length; i += 97) {
      const t = text.slice();
      t[i] = t[i] === 0x30 ? 0x31 : 0x30;
      const r = await verifyTdxEvidence({
        quote: s.quote,
        collateral: { ...s.collateral, tcbInfo: new TextDecoder().decode(t) },
        now: s.at,
      });
      expect(codes(r.violations)).toContain('collateral_signature_invalid');
      expect(r.claims).toBeNull();
    }
  });

  it("refuses another Intel CA (the PCK CA) as the TCB info signer, and a chain not ending at Intel's root", async () => {
    const s = loadTdx('phala-v4-uptodate');
    const asSigner = await verifyTdxEvidence({
      quote: s.quote,
      collateral: { ...s.collateral, tcbInfoIssuerChain: s.collateral.pckCrlIssuerChain! },
      now: s.at,
    });
    expect(codes(asSigner.violations)).toEqual(['cert_chain_invalid']);
    const firstOnly = s.collateral.tcbInfoIssuerChain.split('-----END CERTIFICATE-----')[0]!;
    const noRoot = `${firstOnly}-----END CERTIFICATE-----\n${firstOnly}-----END CERTIFICATE-----\n`;
    const r = await verifyTdxEvidence({
      quote: s.quote,
      collateral: { ...s.collateral, qeIdentityIssuerChain: noRoot },
      now: s.at,
    });
    expect(codes(r.violations)).toEqual(['root_untrusted']);
    expect(r.claims).toBeNull();
  });

  it('refuses a TCB info of another platform (FMSPC) even when its shape is fine', async () => {
    const s = loadTdx('phala-v4-uptodate');
    const other = loadTdx('phala-v5-no-tcb-match');
    const r = await verifyTdxEvidence({
      quote: s.quote,
      collateral: {
        ...s.collateral,
        tcbInfo: other.collateral.tcbInfo,
        tcbInfoSignature: other.collateral.tcbInfoSignature,
      },
      now: s.at,
    });
    expect(codes(r.violations)).toContain('collateral_mismatch');
    expect(r.claims).toBeNull();
  });
});
