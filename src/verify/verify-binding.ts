/**
 * Binding of the endorsement certificate to the report: that the VCEK/VLEK whose key verifies the
 * signature is the one for THIS chip at THIS TCB (go-sev-guest verify `validateKDSCertificateProductNonspecific`
 * and friends do the same). Pure comparisons; the signature itself is verify-report-signature.ts.
 *
 *  - SIGNING_KEY (report 0x048 bits 4:2, pub. 56860 Table 23) names the leaf's kind  → signing_key_mismatch
 *  - the report's CPUID (0x188..0x18A, v3+) names the leaf's productName product     → product_unknown
 *  - the leaf's SPL extensions (pub. 57230 Table 8: bl/tee/snp/ucode, fmc on Turin) equal
 *    REPORTED_TCB (0x180) decoded with the product's layout                         → cert_tcb_mismatch
 *    (KDS issues a VCEK per TCB; firmware signs with the VCEK derived for REPORTED_TCB)
 *  - a VCEK's hwID equals CHIP_ID (0x1A0): all 64 bytes on Milan/Genoa, CHIP_ID[0:8] on Turin
 *    (pub. 57230: Turin's hwID is 8 bytes), unless MASK_CHIP_KEY (0x048 bit 1) is set, in which
 *    case the firmware zeroes CHIP_ID and there is nothing to compare               → cert_hwid_mismatch
 */
import { constantTimeEqual, toHex } from '../bytes.js';
import { productFromCpuid } from '../evidence/snp/product.js';
import { decodeTcb, TCB_COMPONENTS } from '../evidence/snp/tcb.js';
import type { AmdCertExtensions, SnpProduct, SnpReport, TcbVersion } from '../evidence/snp/types.js';
import { type Violation, violation } from './violations.js';

/** Turin's hwID is the first 8 bytes of CHIP_ID (pub. 57230 Table 8; go-sev-guest kds.TurinHWIDSize). */
const TURIN_HWID_LENGTH = 8;

export interface BindingInput {
  report: SnpReport;
  leafKind: 'vcek' | 'vlek';
  extensions: AmdCertExtensions;
  /** The product the chain established. */
  product: SnpProduct;
}

/** REPORTED_TCB decoded for `product`, or a `report_malformed` violation (non-zero reserved byte). */
export function decodeReportedTcb(
  report: SnpReport,
  product: SnpProduct,
): { tcb: TcbVersion; violation: null } | { tcb: null; violation: Violation } {
  try {
    return { tcb: decodeTcb(report.reportedTcb, product), violation: null };
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    return {
      tcb: null,
      violation: violation('report_malformed', `REPORTED_TCB: ${text}`, { field: 'reportedTcb' }),
    };
  }
}

/** SIGNING_KEY (0x048 bits 4:2) names the leaf's kind. */
function checkSigningKey({ report, leafKind }: BindingInput): Violation[] {
  if (report.signingKey === leafKind) return [];
  const text = `report SIGNING_KEY is ${report.signingKey.toUpperCase()} but the certificate is a ${leafKind.toUpperCase()}`;
  return [
    violation('signing_key_mismatch', text, {
      field: 'signingKey',
      expected: report.signingKey,
      actual: leafKind,
    }),
  ];
}

/** The report's CPUID (0x188..0x18A, v3 on; a v2 report has none) names the chain's product. */
function checkProduct({ report, product }: BindingInput): Violation[] {
  if (report.cpuid === null) return [];
  const fromCpuid = productFromCpuid(report.cpuid);
  const { family, model, stepping } = report.cpuid;
  const cpuid = `family 0x${family.toString(16)} model 0x${model.toString(16)} stepping ${stepping}`;
  if (fromCpuid === null) {
    const text = `report CPUID (${cpuid}) is not a known SEV-SNP product`;
    return [violation('product_unknown', text, { field: 'cpuid', actual: report.cpuid })];
  }
  if (fromCpuid === product) return [];
  const text = `report CPUID (${cpuid}) is ${fromCpuid}, the certificate is ${product}`;
  return [violation('product_unknown', text, { field: 'cpuid', expected: product, actual: fromCpuid })];
}

/** The leaf's SPL extensions (pub. 57230 Table 8) equal REPORTED_TCB (0x180) in the product's layout. */
function checkTcb({ report, extensions, product }: BindingInput): Violation[] {
  const decoded = decodeReportedTcb(report, product);
  if (decoded.violation) return [decoded.violation];
  return TCB_COMPONENTS.filter((k) => decoded.tcb[k] !== extensions.tcb[k]).map((k) =>
    violation(
      'cert_tcb_mismatch',
      `certificate ${k} SPL is ${extensions.tcb[k]}, REPORTED_TCB has ${decoded.tcb[k]}`,
      {
        field: `reportedTcb.${k}`,
        expected: decoded.tcb[k],
        actual: extensions.tcb[k],
      },
    ),
  );
}

/**
 * A VCEK's hwID equals CHIP_ID (0x1A0): all 64 bytes, Turin's first 8. Nothing to compare for a
 * VLEK (not chip-specific) or under MASK_CHIP_KEY (0x048 bit 1: the firmware zeroes CHIP_ID).
 */
function checkHwId({ report, leafKind, extensions, product }: BindingInput): Violation[] {
  if (leafKind !== 'vcek' || report.maskChipKey) return [];
  const want = product === 'Turin' ? report.chipId.subarray(0, TURIN_HWID_LENGTH) : report.chipId;
  const hwId = extensions.hwId;
  if (hwId !== null && constantTimeEqual(hwId, want)) return [];
  return [
    violation('cert_hwid_mismatch', 'VCEK hwID is not the report CHIP_ID', {
      field: 'chipId',
      expected: toHex(want),
      actual: hwId === null ? null : toHex(hwId),
    }),
  ];
}

/** The four bindings of the header, findings in that order. */
export function checkBinding(input: BindingInput): Violation[] {
  return [...checkSigningKey(input), ...checkProduct(input), ...checkTcb(input), ...checkHwId(input)];
}
