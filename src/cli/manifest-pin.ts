/**
 * `sealgate manifest pin`: a starting manifest from one piece of real evidence. The evidence must
 * verify to one of AMD's published roots first (a pin is a statement of trust; it is never made
 * from bytes nobody signed). The reference values pin what the report shows, with strict policy:
 * debug and migration agents are never allowed unless asked, the report's TCB becomes the minimum.
 * Measurements computed from the image (`sealgate measure`) replace the report's MEASUREMENT when
 * given: the report then vouches for the platform only, the computation for the image.
 */
import { isAllZero, toHex } from '../bytes.js';
import type { SnpClaims, TcbVersion } from '../evidence/snp/types.js';
import type {
  KeyPolicy,
  Manifest,
  RoleName,
  SnpReferenceValues,
  SnpTrustAnchor,
} from '../policy/manifest-types.js';
import { AMD_ROOTS } from '../verify/amd-roots.js';
import type { KdsOptions } from '../verify/kds.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import { verifySnpEvidence } from '../verify/verify-snp.js';
import type { Violation } from '../verify/violations.js';

/** A day between rotations, an hour of overlap, two days before a key is dead without the service. */
export const DEFAULT_KEY_POLICY: KeyPolicy = {
  rotationIntervalSeconds: 86_400,
  overlapSeconds: 3_600,
  lifetimeSeconds: 172_800,
};

export interface PinInput {
  report: Uint8Array;
  leaf: Uint8Array;
  chain?: Uint8Array[];
  role: RoleName;
  now: Date;
  allowDebug: boolean;
  kds?: KdsOptions;
  /** Computed launch digests (lower-case hex) to pin instead of the report's MEASUREMENT. */
  measurements?: string[];
  /** Signature checks (src/verify/signature-backend.ts): the CLI passes node:crypto; default WebCrypto. */
  signatures?: SignatureBackend;
}

export type PinResult =
  | { ok: true; manifest: Manifest; warnings: string[] }
  | { ok: false; violations: Violation[] };

export function referenceValuesFor(
  claims: SnpClaims,
  allowDebug: boolean,
  measurements: string[] = [toHex(claims.report.measurement)],
): SnpReferenceValues {
  const r = claims.report;
  const v3 = r.version >= 3; // PLATFORM_INFO bits 2–5 exist from report version 3 (evaluate-snp-bits.ts)
  const tcb = (t: typeof claims.reportedTcb) =>
    claims.product === 'Turin'
      ? { fmc: t.fmc ?? 0, bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode }
      : { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode };
  const ref: SnpReferenceValues = {
    measurements,
    signingKeys: [claims.signingKey],
    policy: {
      allowDebug,
      allowMigrationAgent: false,
      // SMT and single-socket describe how the guest was launched; mirror them so the pinned
      // evidence passes, and so a relaunch with weaker settings does not.
      allowSmt: r.policy.smt,
      requireSingleSocket: r.policy.singleSocket,
      minAbi: { major: r.policy.abiMajor, minor: r.policy.abiMinor },
      // Bits 21–25 as launched: CXL allowed only if this guest allows it, the hardening bits
      // required when this guest set them (go-sev-guest validatePolicy's senses).
      allowCxl: r.policy.cxlAllow,
      requireMemAes256Xts: r.policy.memAes256Xts,
      requireRaplDisabled: r.policy.raplDis,
      requireCiphertextHiding: r.policy.ciphertextHiding,
      requirePageSwapDisabled: r.policy.pageSwapDisable,
    },
    // The host as it was: what it had enabled may stay enabled, what it had on is required from now
    // on (a host that later loses ECC or the alias check fails the pin). Only bits the report's
    // version defines are set, so a v2 pin never requires a bit v2 cannot carry.
    platformInfo: {
      allowSmt: r.platformInfo.smtEnabled,
      allowTsme: r.platformInfo.tsmeEnabled,
      requireEcc: v3 && r.platformInfo.eccEnabled,
      requireRaplDisabled: v3 && r.platformInfo.raplDisabled,
      requireCiphertextHiding: v3 && r.platformInfo.ciphertextHidingEnabled,
      requireAliasCheck: v3 && r.platformInfo.aliasCheckComplete,
      allowTio: r.platformInfo.tioEnabled,
    },
    // What it saw: each component the lowest of REPORTED, CURRENT and COMMITTED (all three are held
    // to the minimum), and provisional firmware allowed only when this host runs it.
    minimumTcb: {
      [claims.product]: tcb(lowestTcb(claims.reportedTcb, claims.currentTcb, claims.committedTcb)),
    },
    minimumLaunchTcb: { [claims.product]: tcb(claims.launchTcb) },
    vmpl: r.vmpl,
  };
  if (!isAllZero(r.hostData)) ref.hostData = toHex(r.hostData);
  if (!isAllZero(r.idKeyDigest)) ref.idKeyDigests = [toHex(r.idKeyDigest)];
  if (r.authorKeyEn && !isAllZero(r.authorKeyDigest)) ref.authorKeyDigests = [toHex(r.authorKeyDigest)];
  if (r.guestSvn > 0) ref.minimumGuestSvn = r.guestSvn;
  if (r.committedTcb !== r.currentTcb) ref.allowProvisionalFirmware = true;
  if (!isAllZero(r.familyId)) ref.familyId = toHex(r.familyId);
  if (!isAllZero(r.imageId)) ref.imageId = toHex(r.imageId);
  return ref;
}

export interface ClaimsPin {
  role: RoleName;
  allowDebug: boolean;
  /** Computed launch digests to pin instead of the report's MEASUREMENT. */
  measurements?: string[];
}

function pinWarnings(claims: SnpClaims, pin: ClaimsPin): string[] {
  const warnings: string[] = [];
  if (claims.report.policy.debug && !pin.allowDebug) {
    warnings.push(
      'the report has DEBUG set: the pinned manifest rejects it (pass --allow-debug to allow debug guests)',
    );
  }
  if (claims.report.policy.cxlAllow) {
    warnings.push('the report allows CXL devices or memory (CXL_ALLOW): the pinned manifest allows it too');
  }
  if (claims.report.policy.migrateMa) {
    warnings.push('the report allows a migration agent: the pinned manifest rejects it');
  }
  const reported = toHex(claims.report.measurement);
  if (pin.measurements && !pin.measurements.includes(reported)) {
    warnings.push(
      `the report's MEASUREMENT ${reported} is not one of the computed measurements: the pinned manifest rejects the instance it came from`,
    );
  }
  return warnings;
}

/** The manifest that trusts `anchor` and, for `role`, what the verified claims show. */
export function manifestFromClaims(
  claims: SnpClaims,
  anchor: SnpTrustAnchor,
  pin: ClaimsPin,
): { manifest: Manifest; warnings: string[] } {
  const measurements = pin.measurements ?? [toHex(claims.report.measurement)];
  const manifest = {
    version: 1 as const,
    name: `pinned ${pin.role} ${measurements[0]!.slice(0, 16)} (${claims.product})`,
    trustAnchors: { snp: [anchor] },
    roles: { [pin.role]: { snp: referenceValuesFor(claims, pin.allowDebug, measurements) } },
    keyPolicy: DEFAULT_KEY_POLICY,
  } as Manifest;
  return { manifest, warnings: pinWarnings(claims, pin) };
}

export async function pinManifest(input: PinInput): Promise<PinResult> {
  const verified = await verifySnpEvidence({
    report: input.report,
    leaf: input.leaf,
    ...(input.chain ? { chain: input.chain } : {}),
    // Only AMD's published roots: `manifest pin` never pins a simulated or unknown root.
    trustAnchors: AMD_ROOTS.map((r) => ({ sha256: r.sha256, product: r.product })),
    now: input.now,
    ...(input.kds ? { kds: input.kds } : {}),
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
  if (!verified.claims) return { ok: false, violations: verified.violations };
  const claims = verified.claims;
  const root = AMD_ROOTS.find((r) => r.sha256 === claims.chain.rootSha256)!;
  const anchor = { sha256: root.sha256, product: root.product, note: `AMD ${root.commonName}` };
  const { manifest, warnings } = manifestFromClaims(claims, anchor, {
    role: input.role,
    allowDebug: input.allowDebug,
    ...(input.measurements ? { measurements: input.measurements } : {}),
  });
  return { ok: true, manifest, warnings };
}

/** Component-wise minimum of TCB_VERSIONs of one product. */
function lowestTcb(...tcbs: TcbVersion[]): TcbVersion {
  const [first, ...rest] = tcbs as [TcbVersion, ...TcbVersion[]];
  const out: TcbVersion = { ...first };
  for (const t of rest) {
    for (const k of ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const) {
      const a = out[k];
      const b = t[k];
      if (a !== undefined && b !== undefined) out[k] = Math.min(a, b);
    }
  }
  return out;
}
