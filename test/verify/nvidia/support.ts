/** The real GPU sets as verifyGpuEvidence inputs (runs in Node and workerd). */
import { fromHex } from '../../../src/bytes.js';
import { decodeCertificates } from '../../../src/der/pem.js';
import { NVIDIA_GPU_ROOTS } from '../../../src/verify/nvidia/nvidia-roots.js';
import type { GpuEvidenceInput } from '../../../src/verify/nvidia/verify-gpu.js';
import { vectors } from '../../support/vectors.js';

export const v = vectors();

/** A time every device certificate and both RIM chains are valid at. */
export const AT = new Date('2024-01-01T00:00:00Z');

export interface GpuSet {
  input: GpuEvidenceInput;
  /** The device chain's certificates, leaf first (DER). */
  certs: Uint8Array[];
  expected: {
    evidence: { request: { nonce: string }; opaque: Record<string, string>; signed_len: number };
    'leaf_fwid_extension_2.23.133.5.4.1': string;
  };
}

export function loadGpuSet(set: string): GpuSet {
  const dir = `nvidia/${set}`;
  const expected = v.json<GpuSet['expected']>(`${dir}/expected.json`);
  const chain = v.bytes(`${dir}/cert_chain.pem`);
  return {
    input: {
      evidence: v.bytes(`${dir}/report.bin`),
      chain,
      nonce: fromHex(expected.evidence.request.nonce),
      at: AT,
      roots: NVIDIA_GPU_ROOTS,
    },
    certs: decodeCertificates(chain),
    expected,
  };
}

export function rimsOf545(): { driver: Uint8Array; vbios: Uint8Array } {
  const dir = 'nvidia/hopper-545-with-rims-nvtrust';
  return {
    driver: v.bytes(`${dir}/driver_rim_test_no_gpu.swidtag`),
    vbios: v.bytes(`${dir}/vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag`),
  };
}
