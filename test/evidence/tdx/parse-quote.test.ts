/**
 * parseQuote on the five real TDX quotes (../shared/testdata/tdx, SOURCES.md) against the fields
 * their expected.json records, and the malformed shapes each refused with its field.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes.js';
import { isSealgateError } from '../../../src/errors.js';
import { parseQuote } from '../../../src/evidence/tdx/parse-quote.js';
import { vectors } from '../../support/vectors.js';

const v = vectors();
const SETS = [
  'phala-v4-uptodate',
  'phala-v5-no-tcb-match',
  'trustee-v4-outofdate',
  'google-spr-e4-v4',
  'google-v5-tdx15',
] as const;

interface Expected {
  quote: {
    version: number;
    qe_vendor_id: string;
    user_data: string;
    body_type?: number;
    body: Record<string, { hex: string }>;
    signed_data_len: number;
    total_len: number;
    trailing: number;
    attestation_key: string;
    qe_report: { mrsigner: string; isvprodid: number; isvsvn: number; report_data: string; cpusvn: string };
    qe_auth_data: string;
  };
}

function fieldOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    if (isSealgateError(e, 'malformed_evidence')) return e.detail?.field;
    throw e;
  }
  return 'parsed';
}

describe.skipIf(!v.present)(`real TDX quotes parse ${v.skipReason}`, () => {
  for (const name of SETS) {
    it(`${name}: every field as expected.json records it`, () => {
      const e = v.json<Expected>(`tdx/${name}/expected.json`).quote;
      const q = parseQuote(v.bytes(`tdx/${name}/quote.bin`));
      expect(q.version).toBe(e.version);
      expect(q.bodyType).toBe(e.body_type === 3 ? 'tdx15' : 'tdx10');
      expect(toHex(q.qeVendorId)).toBe(e.qe_vendor_id);
      expect(toHex(q.userData)).toBe(e.user_data);
      const b = q.body;
      expect(toHex(b.mrTd)).toBe(e.body.mr_td!.hex);
      expect(toHex(b.teeTcbSvn)).toBe(e.body.tee_tcb_svn!.hex);
      expect(toHex(b.tdAttributes)).toBe(e.body.td_attributes!.hex);
      expect(toHex(b.xfam)).toBe(e.body.xfam!.hex);
      expect(b.rtmrs.map(toHex)).toEqual([0, 1, 2, 3].map((i) => e.body[`rtmr${i}`]!.hex));
      expect(toHex(b.reportData)).toBe(e.body.report_data!.hex);
      if (e.body_type === 3) expect(toHex(b.teeTcbSvn2!)).toBe(e.body.tee_tcb_svn2!.hex);
      else expect(b.teeTcbSvn2).toBeNull();
      expect(toHex(q.attestationKey)).toBe(e.attestation_key);
      expect(toHex(q.qeReport.mrSigner)).toBe(e.qe_report.mrsigner);
      expect(toHex(q.qeReport.cpuSvn)).toBe(e.qe_report.cpusvn);
      expect(q.qeReport.isvProdId).toBe(e.qe_report.isvprodid);
      expect(q.qeReport.isvSvn).toBe(e.qe_report.isvsvn);
      expect(toHex(q.qeReport.reportData)).toBe(e.qe_report.report_data);
      expect(toHex(q.qeAuthData)).toBe(e.qe_auth_data);
      expect(q.trailingBytes).toBe(e.trailing);
      expect(q.raw.length).toBe(e.total_len);
      expect(q.pckChainPem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    });
  }

  const phala = (): Uint8Array => v.bytes('tdx/phala-v4-uptodate/quote.bin');
  const phala5 = (): Uint8Array => v.bytes('tdx/phala-v5-no-tcb-match/quote.bin');
  const set = (q: Uint8Array, off: number, bytes: number[]): Uint8Array => {
    const c = q.slice();
    c.set(bytes, off);
    return c;
  };
  // v4: body 0x30..0x278, signature data length at 0x278, signature data from 0x27C; its
  // certification data header at 0x27C + 0x80 (type) and 0x27C + 0x82 (size).
  const SIG = 0x27c;

  it('refuses each malformed shape with the field concerned', () => {
    expect(fieldOf(() => parseQuote(new Uint8Array(0)))).toBe('header');
    expect(fieldOf(() => parseQuote(phala().slice(0, 0x100)))).toBe('body');
    expect(fieldOf(() => parseQuote(set(phala(), 0, [3, 0])))).toBe('version');
    expect(fieldOf(() => parseQuote(set(phala(), 2, [3, 0])))).toBe('attestationKeyType');
    expect(fieldOf(() => parseQuote(set(phala(), 4, [0, 0, 0, 0])))).toBe('teeType');
    expect(fieldOf(() => parseQuote(set(phala(), 0x0a, [1])))).toBe('reserved');
    expect(fieldOf(() => parseQuote(set(phala5(), 0x30, [1, 0])))).toBe('bodyType');
    expect(fieldOf(() => parseQuote(set(phala5(), 0x32, [0x48, 2, 0, 0])))).toBe('bodySize');
    expect(fieldOf(() => parseQuote(phala().slice(0, 0x27a)))).toBe('signatureDataLength');
    expect(fieldOf(() => parseQuote(set(phala(), 0x278, [0xff, 0xff, 0, 0])))).toBe('signatureDataLength');
    expect(fieldOf(() => parseQuote(set(phala(), 0x278, [0x10, 0, 0, 0])))).toBe('signatureDataLength');
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x80, [5, 0])))).toBe('certificationData.type');
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x82, [0, 0, 0, 0])))).toBe('certificationData');
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x82, [0xff, 0xff, 0, 0])))).toBe(
      'certificationData.size',
    );
    // QE report reserved (RESERVED1 at QE report 0x14) and the QE auth data size.
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x86 + 0x14, [1])))).toBe('reserved');
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x86 + 0x1c0, [0xff, 0xff])))).toBe('qeAuthData.size');
    expect(fieldOf(() => parseQuote(set(phala(), SIG + 0x86 + 0x1c0, [0x21, 0])))).toBe(
      'pckCertificationData.size',
    );
    // Nested PCK certification data: type 5 then a size that no longer ends where type 6 does.
    const inner = SIG + 0x86 + 0x1c2 + 32;
    expect(fieldOf(() => parseQuote(set(phala(), inner, [6, 0])))).toBe('pckCertificationData.type');
    expect(fieldOf(() => parseQuote(set(phala(), inner + 2, [0, 0, 0, 0])))).toBe('pckCertificationData');
    expect(fieldOf(() => parseQuote(set(phala(), inner + 6, [0x80])))).toBe('pckChain');
  });

  it('counts trailing bytes without reading them, and copies the input', () => {
    const q = phala();
    const longer = new Uint8Array(q.length + 5);
    longer.set(q);
    longer.fill(0xaa, q.length);
    expect(parseQuote(longer).trailingBytes).toBe(75);
    const p = parseQuote(q);
    q.fill(0);
    expect(p.raw.some((b) => b !== 0)).toBe(true);
  });
});
