/**
 * The `gpus` member of an evidence bundle (docs/protocol.md "Evidence bundle"): per GPU, NVML's
 * attestation report (SPDM GET_MEASUREMENTS request ‖ MEASUREMENTS response), the device
 * certificate chain as the tooling wrote it (PEM, or DER certificates one after another), and
 * optionally NVIDIA's driver and VBIOS RIMs. Wire form as the rest of the bundle: base64url, no
 * padding. Strict: exactly these members, every length capped, so a hostile peer cannot make the
 * verifier decode more than the caps below.
 */
import { fromBase64Url, toBase64Url } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isRecord } from '../json/object-guards.js';

/** Eight GPUs per VM (an HGX H100/H200 board). */
export const MAX_GPUS = 8;
/** A Hopper report is about 4 KiB (opaque data ≤ 1024, DSP0274); the device chain about 5 KiB. */
export const MAX_GPU_EVIDENCE_BYTES = 16 * 1024;
export const MAX_GPU_CHAIN_BYTES = 16 * 1024;
/** NVIDIA's driver and VBIOS RIMs are about 20 KiB each; two per GPU. */
export const MAX_GPU_RIM_BYTES = 64 * 1024;
export const MAX_GPU_RIMS = 2;

export interface BundleGpu {
  evidence: Uint8Array;
  chain: Uint8Array;
  /** Driver and VBIOS RIMs (SWID tag XML), when the worker presents them. */
  rims?: Uint8Array[];
}

function fail(message: string): never {
  throw new SealgateError('malformed_evidence', `evidence bundle: ${message}`);
}

function bytes(value: unknown, field: string, max: number): Uint8Array {
  if (typeof value !== 'string') fail(`${field} must be a base64url string`);
  let out: Uint8Array;
  try {
    out = fromBase64Url(value);
  } catch {
    fail(`${field} is not valid base64url`);
  }
  if (out.length === 0 || out.length > max) fail(`${field} must be 1..${max} bytes, got ${out.length}`);
  return out;
}

export function encodeBundleGpus(gpus: readonly BundleGpu[]): Record<string, unknown>[] {
  return gpus.map((g) => ({
    evidence: toBase64Url(g.evidence),
    chain: toBase64Url(g.chain),
    ...(g.rims ? { rims: g.rims.map(toBase64Url) } : {}),
  }));
}

function parseGpu(value: unknown, n: number): BundleGpu {
  const where = `gpus[${n}]`;
  if (!isRecord(value)) fail(`${where} must be an object`);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'evidence' && k !== 'chain' && k !== 'rims') fail(`unknown field ${where}.${k}`);
  }
  const gpu: BundleGpu = {
    evidence: bytes(o.evidence, `${where}.evidence`, MAX_GPU_EVIDENCE_BYTES),
    chain: bytes(o.chain, `${where}.chain`, MAX_GPU_CHAIN_BYTES),
  };
  if (o.rims === undefined) return gpu;
  if (!Array.isArray(o.rims) || o.rims.length === 0 || o.rims.length > MAX_GPU_RIMS) {
    fail(`${where}.rims must be an array of 1..${MAX_GPU_RIMS}`);
  }
  return { ...gpu, rims: o.rims.map((r, i) => bytes(r, `${where}.rims[${i}]`, MAX_GPU_RIM_BYTES)) };
}

/** Throws `malformed_evidence` naming the field. An empty array is refused: absent means no GPU. */
export function parseBundleGpus(value: unknown): BundleGpu[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GPUS) {
    fail(`gpus must be an array of 1..${MAX_GPUS}`);
  }
  return value.map((g, n) => parseGpu(g, n));
}
