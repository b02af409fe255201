/**
 * `sealgate manifest pin … --gpu-evidence FILE --gpu-chain FILE [--rim FILE]…`: the role's `gpu`
 * reference values from real GPU evidence (docs/manifest.md "gpu"). Each report must verify under
 * NVIDIA's pinned roots first — signature, device chain, FWID, and the RIMs when given — for the
 * nonce it carries (a pin is about what the GPU is, not about freshness). Then the values pin what
 * the GPUs show: exactly that many GPUs, their architecture, drivers and VBIOS versions, and their
 * measurements — from the RIMs (`"rim"`) when every GPU's RIMs verified, else every SPDM block as a
 * golden value. A report without FWID (drivers before R550) sets `allowMissingFwid`, with a warning.
 */
import { toHex } from '../bytes.js';
import { isSealgateError } from '../errors.js';
import { gpuEvidenceBytes } from '../evidence/nvidia/evidence-text.js';
import { parseGpuEvidence } from '../evidence/nvidia/parse-evidence.js';
import type { GpuReferenceValues } from '../policy/manifest-types.js';
import { NVIDIA_GPU_ROOTS } from '../verify/nvidia/nvidia-roots.js';
import { type GpuClaims, verifyGpuEvidence } from '../verify/nvidia/verify-gpu.js';
import { type Violation, violation } from '../verify/violations.js';

export interface GpuPinInput {
  gpus: readonly { evidence: Uint8Array; chain: Uint8Array }[];
  rims: readonly Uint8Array[];
  at: Date;
}

export type GpuPinResult =
  | { ok: true; gpu: GpuReferenceValues; warnings: string[] }
  | { ok: false; violations: Violation[] };

/** The nonce the report carries (null when it does not parse: verification then says why). */
function ownNonce(evidence: Uint8Array): Uint8Array {
  try {
    return parseGpuEvidence(gpuEvidenceBytes(evidence)).request.nonce;
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
    return new Uint8Array(32);
  }
}

function golden(claims: readonly GpuClaims[]): GpuReferenceValues['measurements'] {
  const byIndex = new Map<number, Set<string>>();
  for (const c of claims) {
    for (const m of c.measurements) {
      if (!byIndex.has(m.index)) byIndex.set(m.index, new Set());
      byIndex.get(m.index)!.add(toHex(m.value));
    }
  }
  return {
    source: 'golden',
    golden: [...byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, v]) => ({ index, values: [...v].sort() })),
  };
}

export async function pinGpuReference(input: GpuPinInput): Promise<GpuPinResult> {
  const violations: Violation[] = [];
  const claims: GpuClaims[] = [];
  for (const [n, g] of input.gpus.entries()) {
    const r = await verifyGpuEvidence({
      evidence: g.evidence,
      chain: g.chain,
      nonce: ownNonce(g.evidence),
      at: input.at,
      roots: NVIDIA_GPU_ROOTS,
      ...(input.rims.length > 0 ? { rims: input.rims } : {}),
    });
    violations.push(...r.violations.map((v) => ({ ...v, field: `gpus[${n}].${v.field ?? ''}` })));
    if (r.claims) claims.push(r.claims);
  }
  if (violations.length > 0 || claims.length === 0) {
    return {
      ok: false,
      violations: violations.length > 0 ? violations : [violation('cert_missing', 'no GPU evidence')],
    };
  }
  const warnings: string[] = [];
  const missingFwid = claims.some((c) => c.fwid === null);
  if (missingFwid) {
    warnings.push(
      'a GPU report has no FWID (driver before R550): allowMissingFwid is set, its key is not bound to its firmware',
    );
  }
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const rims = claims.every((c) => c.rims !== null);
  if (!rims) warnings.push('no verified RIMs: every SPDM measurement is pinned as a golden value');
  return {
    ok: true,
    gpu: {
      count: { min: claims.length, max: claims.length },
      architecture: claims[0]!.architecture,
      driverVersions: uniq(claims.map((c) => c.driverVersion)),
      vbiosVersions: uniq(claims.map((c) => c.vbiosVersion.toLowerCase())),
      measurements: rims ? { source: 'rim' } : golden(claims),
      ...(missingFwid ? { allowMissingFwid: true } : {}),
    },
    warnings,
  };
}
