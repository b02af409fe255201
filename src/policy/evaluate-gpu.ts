/**
 * Stage 3 for a party's GPUs: the claims of every GPU it presented (each verified by
 * verifyGpuEvidence) against its role's `gpu` reference values (docs/manifest.md "gpu"). Absent
 * reference values mean the role may have no GPU. Returns every violation, never throws for bad
 * claims.
 *
 * CC mode and devtools mode are not fields of the signed report: NVML reports them, unsigned. What
 * the GPU signs is its measurements, and NVIDIA's RIMs describe a GPU in CC mode without devtools
 * (nvtrust grants `secboot` and `dbgstat: disabled` only when the measurements match). So the
 * mode is proven by comparing measurements with reference values — RIMs that verified, or golden
 * values pinned here — and a GPU whose measurements were not compared is `gpu_cc_mode_unproven`.
 */
import { toHex } from '../bytes.js';
import type { GpuClaims } from '../verify/nvidia/verify-gpu.js';
import { type Violation, violation } from '../verify/violations.js';
import type { GpuReferenceValues } from './manifest-types.js';

function checkOne(claims: GpuClaims, ref: GpuReferenceValues, n: number): Violation[] {
  const out: Violation[] = [];
  const field = (f: string): string => `gpus[${n}].${f}`;
  if (claims.architecture !== ref.architecture) {
    out.push(
      violation(
        'gpu_architecture_not_allowed',
        `GPU ${n} is ${claims.architecture}, the role wants ${ref.architecture}`,
        {
          field: field('architecture'),
          expected: ref.architecture,
          actual: claims.architecture,
        },
      ),
    );
  }
  if (!ref.driverVersions.includes(claims.driverVersion)) {
    out.push(
      violation('gpu_driver_not_allowed', `GPU ${n} runs driver ${claims.driverVersion}`, {
        field: field('driverVersion'),
        expected: ref.driverVersions,
        actual: claims.driverVersion,
      }),
    );
  }
  const vbios = claims.vbiosVersion.toLowerCase();
  if (!ref.vbiosVersions.includes(vbios)) {
    out.push(
      violation('gpu_vbios_not_allowed', `GPU ${n} runs VBIOS ${vbios}`, {
        field: field('vbiosVersion'),
        expected: ref.vbiosVersions,
        actual: vbios,
      }),
    );
  }
  if (claims.fwid === null && ref.allowMissingFwid !== true) {
    out.push(
      violation(
        'gpu_fwid_mismatch',
        `GPU ${n}'s report carries no FWID, so its key is not bound to its firmware`,
        {
          field: field('fwid'),
        },
      ),
    );
  }
  out.push(...checkMeasurements(claims, ref, n));
  return out;
}

function checkMeasurements(claims: GpuClaims, ref: GpuReferenceValues, n: number): Violation[] {
  if (ref.measurements.source === 'rim') {
    return claims.rims !== null
      ? []
      : [
          violation(
            'gpu_cc_mode_unproven',
            `GPU ${n}: no driver and VBIOS RIMs verified against its measurements`,
            {
              field: `gpus[${n}].rims`,
            },
          ),
        ];
  }
  const out: Violation[] = [];
  const blocks = new Map(claims.measurements.map((m) => [m.index, toHex(m.value)]));
  for (const g of ref.measurements.golden ?? []) {
    const actual = blocks.get(g.index) ?? null;
    if (actual === null || !g.values.includes(actual)) {
      out.push(
        violation('gpu_measurement_mismatch', `GPU ${n}: SPDM block ${g.index} is not a golden value`, {
          field: `gpus[${n}].measurements.${g.index}`,
          expected: g.values,
          actual,
        }),
      );
    }
  }
  if ((ref.measurements.golden ?? []).length === 0) {
    out.push(
      violation('gpu_cc_mode_unproven', `GPU ${n}: no golden measurements to compare`, {
        field: `gpus[${n}]`,
      }),
    );
  }
  return out;
}

export function evaluateGpu(claims: readonly GpuClaims[], ref: GpuReferenceValues | undefined): Violation[] {
  const min = ref?.count.min ?? 0;
  const max = ref?.count.max ?? 0;
  const out: Violation[] = [];
  if (claims.length < min || claims.length > max) {
    out.push(
      violation(
        'gpu_count_not_allowed',
        ref === undefined
          ? `the role has no gpu reference values, so it may have no GPU; ${claims.length} presented`
          : `${claims.length} GPU(s) presented, the role wants ${min}..${max}`,
        { field: 'gpus', expected: { min, max }, actual: claims.length },
      ),
    );
  }
  if (ref !== undefined) for (const [n, c] of claims.entries()) out.push(...checkOne(c, ref, n));
  return out;
}
