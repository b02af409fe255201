/**
 * GPU evidence verification (issue #15): one real Hopper report with its device chain, verified as
 * the attestation service does at every worker registration — cold (parse the five-certificate
 * P-384 chain and verify it) and with the device chain already verified in this isolate
 * (src/verify/nvidia/device-chain-cache.ts). Runtime-neutral, like cases.ts.
 */
import { fromBase64, fromHex } from '../../src/bytes.js';
import { DeviceChainCache } from '../../src/verify/nvidia/device-chain-cache.js';
import { NVIDIA_GPU_ROOTS } from '../../src/verify/nvidia/nvidia-roots.js';
import { verifyGpuEvidence } from '../../src/verify/nvidia/verify-gpu.js';
import type { MicroCase } from './cases.js';

/** A real NVIDIA set (base64 files, read by the runner from SEALGATE_TESTDATA). */
export interface GpuVector {
  name: string;
  evidence: string;
  chain: string;
  /** The request nonce the report carries, hex. */
  nonce: string;
  /** ISO time inside every certificate's validity. */
  at: string;
}

export async function gpuCases(v: GpuVector): Promise<MicroCase[]> {
  const input = {
    evidence: fromBase64(v.evidence),
    chain: fromBase64(v.chain),
    nonce: fromHex(v.nonce),
    at: new Date(v.at),
    roots: NVIDIA_GPU_ROOTS,
  };
  const chainCache = new DeviceChainCache();
  const first = await verifyGpuEvidence({ ...input, chainCache });
  if (!first.claims) throw new Error(`${v.name}: does not verify: ${JSON.stringify(first.violations)}`);
  const check = (r: Awaited<ReturnType<typeof verifyGpuEvidence>>) => {
    if (!r.claims) throw new Error(`${v.name}: no longer verifies`);
    return r;
  };
  return [
    {
      name: 'gpu.verify.cold',
      what: `verifyGpuEvidence on a real Hopper report (${v.name}): parse the SPDM evidence, parse the five-certificate device chain, verify it to NVIDIA's pinned root (ECDSA P-384 ×5), FWID binding, SPDM signature (ECDSA P-384), nonce`,
      bytes: 0,
      run: async () => check(await verifyGpuEvidence(input)),
    },
    {
      name: 'gpu.verify.chainCached',
      what: 'the same report with its device chain already verified in this isolate (cache keyed by the SHA-256 of the chain bytes; roots and dates re-checked): parse the evidence, hash the chain, FWID binding, SPDM signature, nonce',
      bytes: 0,
      run: async () => check(await verifyGpuEvidence({ ...input, chainCache })),
    },
  ];
}
