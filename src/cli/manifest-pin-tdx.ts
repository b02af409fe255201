/**
 * `sealgate manifest pin --tdx-quote`: a starting manifest from one real TD quote. The quote must
 * verify with its collateral (signatures, PCK chain to Intel's pinned root, CRLs, collateral) at
 * UpToDate first; the role's `tdx` reference values then pin what the TD shows — MRTD, RTMRs,
 * MRCONFIGID/MROWNER/MROWNERCONFIG, MRSEAM, XFAM, TD attributes exactly (a DEBUG TD is refused),
 * TEE_TCB_SVN as the minimum, UpToDate as the only status.
 */
import { toHex } from '../bytes.js';
import type { Manifest, RoleName, TdxReferenceValues } from '../policy/manifest-types.js';
import { AMD_ROOTS } from '../verify/amd-roots.js';
import type { TdxCollateral } from '../verify/tdx/collateral.js';
import { checkTcbStatus } from '../verify/tdx/tcb-status.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import { verifyTdxEvidence } from '../verify/tdx/verify-tdx.js';
import { type Violation, violation } from '../verify/violations.js';
import { DEFAULT_KEY_POLICY } from './manifest-pin.js';

export function tdxReferenceValuesFor(claims: TdxClaims): TdxReferenceValues {
  const b = claims.body;
  return {
    mrTd: [toHex(b.mrTd)],
    rtmr0: [toHex(b.rtmrs[0])],
    rtmr1: [toHex(b.rtmrs[1])],
    rtmr2: [toHex(b.rtmrs[2])],
    rtmr3: [toHex(b.rtmrs[3])],
    mrConfigId: toHex(b.mrConfigId),
    mrOwner: toHex(b.mrOwner),
    mrOwnerConfig: toHex(b.mrOwnerConfig),
    mrSeam: [toHex(b.mrSeam)],
    tdAttributesAllowed: toHex(b.tdAttributes),
    tdAttributesRequired: toHex(b.tdAttributes),
    xfam: [toHex(b.xfam)],
    minimumTeeTcbSvn: toHex(b.teeTcbSvn),
    tcbStatuses: ['UpToDate'],
  };
}

export async function pinTdxManifest(input: {
  quote: Uint8Array;
  collateral: TdxCollateral;
  role: RoleName;
  now: Date;
}): Promise<{ ok: true; manifest: Manifest } | { ok: false; violations: Violation[] }> {
  const r = await verifyTdxEvidence({ quote: input.quote, collateral: input.collateral, now: input.now });
  if (r.claims === null) return { ok: false, violations: r.violations };
  const refusals = checkTcbStatus(r.claims.tcb, ['UpToDate'], []);
  if ((r.claims.body.tdAttributes[0]! & 1) !== 0) {
    refusals.push(
      violation('debug_not_allowed', 'the TD has DEBUG set: a debug TD is never pinned', {
        field: 'tdAttributes',
      }),
    );
  }
  if (refusals.length > 0) return { ok: false, violations: refusals };
  const manifest = {
    version: 1 as const,
    name: `pinned ${input.role} TD ${toHex(r.claims.body.mrTd).slice(0, 16)} (Intel TDX)`,
    // The manifest format requires SEV-SNP anchors; no role here accepts SEV-SNP, so AMD's
    // published roots are listed only to satisfy it. Intel's root is pinned in code (intel-root.ts).
    trustAnchors: {
      snp: AMD_ROOTS.map((a) => ({
        sha256: a.sha256,
        product: a.product,
        note: `AMD ${a.commonName} (unused: no SEV-SNP role)`,
      })),
    },
    roles: { [input.role]: { tdx: tdxReferenceValuesFor(r.claims) } },
    keyPolicy: DEFAULT_KEY_POLICY,
  } as Manifest;
  return { ok: true, manifest };
}
