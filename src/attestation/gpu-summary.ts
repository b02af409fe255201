/**
 * What a worker certificate says about the worker's GPUs (extension `<arc>.1.6`, services.md):
 * per GPU, the claims a person or policy reads — architecture, driver and VBIOS versions, FWID, the
 * attestation-key certificate's and root's SHA-256 — and `measurementsSha256`, the SHA-256 of the
 * RFC 8785 canonical JSON of its measurements by block index (gpu-claims-json.ts), so the full
 * set is fixed without being copied. The extension holds the canonical JSON of the list; readers
 * refuse any other spelling, unknown or missing members, and more than 8 GPUs.
 */
import { sha256, toHex, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { canonicalJsonBytes } from '../json/canonical.js';
import { isRecord } from '../json/object-guards.js';
import { parseStrictJson } from '../json/strict-json.js';
import type { GpuClaims } from '../verify/nvidia/verify-gpu.js';
import { MAX_GPUS } from './gpu-bundle.js';
import { gpuClaimsJson } from './gpu-claims-json.js';

export interface GpuSummary {
  architecture: string;
  driverVersion: string;
  vbiosVersion: string;
  fwid: string | null;
  leafSha256: string;
  rootSha256: string;
  measurementsSha256: string;
}

const FIELDS = [
  'architecture',
  'driverVersion',
  'vbiosVersion',
  'fwid',
  'leafSha256',
  'rootSha256',
  'measurementsSha256',
] as const;
/** Eight summaries are well below this. */
export const MAX_GPU_SUMMARY_BYTES = 4096;

export async function summarizeGpu(claims: GpuClaims): Promise<GpuSummary> {
  const json = gpuClaimsJson(claims)!;
  return {
    architecture: claims.architecture,
    driverVersion: claims.driverVersion,
    vbiosVersion: claims.vbiosVersion,
    fwid: claims.fwid === null ? null : toHex(claims.fwid),
    leafSha256: claims.leaf.sha256,
    rootSha256: claims.rootSha256,
    measurementsSha256: toHex(await sha256(canonicalJsonBytes(json.measurements))),
  };
}

export function encodeGpuSummaries(list: readonly GpuSummary[]): Uint8Array {
  return canonicalJsonBytes(list);
}

function bad(message: string): SealgateError {
  return new SealgateError('malformed_certificate', `GPU summary: ${message}`);
}

function checkOne(x: unknown, n: number): GpuSummary {
  if (!isRecord(x)) throw bad(`gpus[${n}] is not an object`);
  const o = x as Record<string, unknown>;
  if (Object.keys(o).sort().join() !== [...FIELDS].sort().join()) throw bad(`gpus[${n}] has other members`);
  for (const f of FIELDS) {
    const v = o[f];
    if (!(typeof v === 'string' && v.length <= 128) && !(f === 'fwid' && v === null)) {
      throw bad(`gpus[${n}].${f} is not a short string`);
    }
  }
  return o as unknown as GpuSummary;
}

/** Reads the extension's bytes back; throws `malformed_certificate`. */
export function parseGpuSummaries(bytes: Uint8Array): GpuSummary[] {
  if (bytes.length === 0 || bytes.length > MAX_GPU_SUMMARY_BYTES) throw bad('wrong size');
  let value: unknown;
  try {
    value = parseStrictJson(utf8.decode(bytes));
  } catch {
    throw bad('not strict JSON');
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GPUS)
    throw bad(`not a list of 1..${MAX_GPUS}`);
  const list = value.map(checkOne);
  const canonical = encodeGpuSummaries(list);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) {
    throw bad('not in RFC 8785 canonical form');
  }
  return list;
}
