/**
 * A JSON view of a report and its verified claims, for the CLI, logs and (later) the verification
 * page: bytes as lower-case hex, TCBs decoded when the product is known, 64-bit words as hex.
 */
import { toHex } from '../bytes.js';
import { productFromCpuid } from '../evidence/snp/product.js';
import { decodeTcb } from '../evidence/snp/tcb.js';
import type { SnpClaims, SnpProduct, SnpReport, TcbVersion } from '../evidence/snp/types.js';

const hex64 = (v: bigint): string => `0x${v.toString(16)}`;

function tcbJson(raw: bigint, product: SnpProduct | null): Record<string, unknown> {
  const out: Record<string, unknown> = { raw: hex64(raw) };
  if (product) {
    try {
      const t: TcbVersion = decodeTcb(raw, product);
      Object.assign(out, t);
    } catch {
      out.undecodable = true;
    }
  }
  return out;
}

export function reportJson(report: SnpReport, product: SnpProduct | null): Record<string, unknown> {
  const { raw: policyRaw, ...policy } = report.policy;
  const { raw: platformRaw, ...platformInfo } = report.platformInfo;
  return {
    version: report.version,
    product,
    guestSvn: report.guestSvn,
    policy: { raw: hex64(policyRaw), ...policy },
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    vmpl: report.vmpl,
    signatureAlgo: report.signatureAlgo,
    currentTcb: tcbJson(report.currentTcb, product),
    platformInfo: { raw: hex64(platformRaw), ...platformInfo },
    authorKeyEn: report.authorKeyEn,
    maskChipKey: report.maskChipKey,
    signingKey: report.signingKey,
    reportData: toHex(report.reportData),
    measurement: toHex(report.measurement),
    hostData: toHex(report.hostData),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportId: toHex(report.reportId),
    reportIdMa: toHex(report.reportIdMa),
    reportedTcb: tcbJson(report.reportedTcb, product),
    cpuid: report.cpuid,
    chipId: toHex(report.chipId),
    committedTcb: tcbJson(report.committedTcb, product),
    currentVersion: report.currentVersion,
    committedVersion: report.committedVersion,
    launchTcb: tcbJson(report.launchTcb, product),
    launchMitVector: report.launchMitVector === null ? null : hex64(report.launchMitVector),
    currentMitVector: report.currentMitVector === null ? null : hex64(report.currentMitVector),
  };
}

export function claimsJson(
  claims: SnpClaims | null,
  report: SnpReport | null,
): Record<string, unknown> | null {
  if (claims) {
    const ext = claims.leaf.extensions;
    return {
      ...reportJson(claims.report, claims.product),
      endorsement: {
        kind: claims.signingKey,
        subject: claims.leaf.subject,
        notBefore: claims.leaf.notBefore.toISOString(),
        notAfter: claims.leaf.notAfter.toISOString(),
        sha256: claims.leaf.sha256,
        productName: ext.productName,
        hwId: ext.hwId ? toHex(ext.hwId) : null,
        cspId: ext.cspId,
      },
      chain: claims.chain,
    };
  }
  return report ? reportJson(report, report.cpuid ? productFromCpuid(report.cpuid) : null) : null;
}
