/**
 * `sealgate manifest pin --tdx-quote`: a starting manifest from one real TD quote. The quote must
 * verify with its collateral (signatures, PCK chain to Intel's pinned root, CRLs, collateral) at
 * UpToDate first; the role's `tdx` reference values then pin what the TD shows — MRTD, RTMRs,
 * MRCONFIGID/MROWNER/MROWNERCONFIG, MRSEAM, XFAM, TD attributes exactly (a DEBUG TD is refused),
 * TEE_TCB_SVN as the minimum, UpToDate as the only status. With an event log, which must replay to
 * the quote's RTMRs, `eventDigests` rules also pin the boot applications (RTMR1
 * EV_EFI_BOOT_SERVICES_APPLICATION) and the command line and initrd (RTMR2 EV_IPL, EV_EVENT_TAG) the
 * log shows (docs/manifest.md "Event digests").
 */

import { toHex } from '../bytes.js';
import { EVENT_TYPES } from '../evidence/tdx/event-log/event-types.js';
import type { CcEventLog } from '../evidence/tdx/event-log/types.js';
import type { Manifest, RoleName, TdxEventDigestRule, TdxReferenceValues } from '../policy/manifest-types.js';
import { AMD_ROOTS } from '../verify/amd-roots.js';
import type { SignatureBackend } from '../verify/signature-backend.js';
import type { TdxCollateral } from '../verify/tdx/collateral.js';
import { checkTcbStatus } from '../verify/tdx/tcb-status.js';
import type { TdxClaims } from '../verify/tdx/tdx-claims.js';
import { verifyTdxEvidence } from '../verify/tdx/verify-tdx.js';
import { type Violation, violation } from '../verify/violations.js';
import { DEFAULT_KEY_POLICY } from './manifest-pin.js';

/** The (RTMR, event type) pairs a pin turns into rules when the log has such events. */
const PINNED_EVENTS: readonly Pick<TdxEventDigestRule, 'rtmr' | 'eventType'>[] = [
  { rtmr: 1, eventType: 'EV_EFI_BOOT_SERVICES_APPLICATION' },
  { rtmr: 2, eventType: 'EV_IPL' },
  { rtmr: 2, eventType: 'EV_EVENT_TAG' },
];

export function eventDigestRulesFor(log: CcEventLog): TdxEventDigestRule[] {
  const rules: TdxEventDigestRule[] = [];
  for (const p of PINNED_EVENTS) {
    const type = EVENT_TYPES[p.eventType];
    const digests = log.events
      .filter((e) => e.rtmr === p.rtmr && e.eventType === type)
      .map((e) => toHex(e.digest));
    if (digests.length > 0) rules.push({ ...p, digests: [...new Set(digests)] });
  }
  return rules;
}

export function tdxReferenceValuesFor(claims: TdxClaims): TdxReferenceValues {
  const b = claims.body;
  const rules = claims.eventLog ? eventDigestRulesFor(claims.eventLog) : [];
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
    ...(rules.length > 0 ? { eventDigests: rules } : {}),
  };
}

export async function pinTdxManifest(input: {
  quote: Uint8Array;
  collateral: TdxCollateral;
  role: RoleName;
  now: Date;
  eventLog?: Uint8Array | null;
  /** Signature checks (src/verify/signature-backend.ts): the CLI passes node:crypto; default WebCrypto. */
  signatures?: SignatureBackend;
}): Promise<{ ok: true; manifest: Manifest } | { ok: false; violations: Violation[] }> {
  const r = await verifyTdxEvidence({
    quote: input.quote,
    collateral: input.collateral,
    now: input.now,
    eventLog: input.eventLog ?? null,
    ...(input.signatures ? { signatures: input.signatures } : {}),
  });
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
