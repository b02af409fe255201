/**
 * Signs an ATTESTATION_REPORT as SEV-SNP firmware does (ABI spec pub. 56860 Table 23): ECDSA P-384
 * with SHA-384 over bytes [0x000, 0x2A0), r and s stored as 72-byte little-endian fields at 0x2A0
 * and 0x2E8. The byte layout is `serializeReport`'s; this file only adds the signature.
 */
import { OFFSET as REPORT_OFFSET, SIGNED_REGION_END } from '../../evidence/snp/layout.js';
import { type SnpReportFields, serializeReport } from '../../evidence/snp/serialize-report.js';
import { signatureFromP1363 } from '../../evidence/snp/signature.js';

const ZERO_SIGNATURE = { rLe: new Uint8Array(72), sLe: new Uint8Array(72) };

/** The report fields a signer fills in; `signature` is the output, so it is not an input. */
export type UnsignedReportFields = Omit<SnpReportFields, 'signature'>;

export async function signReport(
  fields: UnsignedReportFields,
  vcekPrivateKey: CryptoKey,
): Promise<Uint8Array> {
  const report = serializeReport({ ...fields, signature: ZERO_SIGNATURE });
  const p1363 = new Uint8Array(
    await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-384' },
      vcekPrivateKey,
      report.subarray(0, SIGNED_REGION_END) as BufferSource,
    ),
  );
  const { rLe, sLe } = signatureFromP1363(p1363);
  report.set(rLe, REPORT_OFFSET.SIGNATURE_R);
  report.set(sLe, REPORT_OFFSET.SIGNATURE_S);
  return report;
}
