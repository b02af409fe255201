/**
 * A JSON view of verified GPU claims for the CLI and logs: bytes as lower-case hex, measurements
 * by their 1-based SPDM block index.
 */
import { toHex } from '../bytes.js';
import type { GpuClaims } from '../verify/nvidia/verify-gpu.js';

export function gpuClaimsJson(claims: GpuClaims | null): Record<string, unknown> | null {
  if (claims === null) return null;
  return {
    architecture: claims.architecture,
    driverVersion: claims.driverVersion,
    vbiosVersion: claims.vbiosVersion,
    nonce: toHex(claims.nonce),
    fwid: claims.fwid === null ? null : toHex(claims.fwid),
    project: claims.project,
    projectSku: claims.projectSku,
    chipSku: claims.chipSku,
    leaf: claims.leaf,
    rootSha256: claims.rootSha256,
    rims: claims.rims,
    /** null: revocation was not checked. */
    revocation: claims.revocation,
    measurements: Object.fromEntries(claims.measurements.map((m) => [String(m.index), toHex(m.value)])),
  };
}
