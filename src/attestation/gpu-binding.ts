/**
 * How a worker's GPU evidence is made fresh and bound to its CPU evidence (docs/protocol.md "GPU
 * evidence"):
 *
 *   gpuNonce  = SHA-256("sealgate/v1/gpu-nonce" ‖ challenge)
 *   gpuDigest = SHA-256("sealgate/v1/gpu-evidence" ‖ u32-BE(n) ‖ for each GPU i in bundle order:
 *                       u32-BE(len(evidence_i)) ‖ evidence_i ‖ u32-BE(len(chain_i)) ‖ chain_i)
 *
 * `challenge` is the 32-byte nonce the verifier gave for the CPU evidence; NVIDIA's GET_MEASUREMENTS
 * nonce is 32 bytes (DSP0274 "GET_MEASUREMENTS request", Nonce), and SHA-256 gives exactly that. The
 * domain label keeps the GPU nonce from ever equalling a REPORT_DATA input or another protocol's
 * nonce. Every GPU of one attestation answers the same nonce, as NVIDIA's tooling asks it.
 *
 * `gpuDigest` is bound into REPORT_DATA under the name `gpus` (report-data.ts `digests`), so the
 * CPU's signature covers exactly which GPU reports (and which device chains) this VM presents. RIMs
 * are not bound: they are NVIDIA-signed public reference documents, verified on their own.
 * Lengths are prefixed, the count leads: no two lists share an input.
 */
import { concatBytes, sha256, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { NONCE_LENGTH } from './report-data.js';

export const GPU_NONCE_DST = 'sealgate/v1/gpu-nonce';
export const GPU_EVIDENCE_DST = 'sealgate/v1/gpu-evidence';
/** The name the GPU evidence digest is bound under in REPORT_DATA. */
export const GPU_DIGEST_NAME = 'gpus';

/** What is bound of one GPU: its SPDM evidence and its device chain, as presented. */
export interface BoundGpuEvidence {
  evidence: Uint8Array;
  chain: Uint8Array;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/** The 32-byte GET_MEASUREMENTS nonce for the verifier's challenge. */
export async function deriveGpuNonce(challenge: Uint8Array): Promise<Uint8Array> {
  if (!(challenge instanceof Uint8Array) || challenge.length !== NONCE_LENGTH) {
    throw new SealgateError('invalid_argument', `gpu nonce: challenge must be ${NONCE_LENGTH} bytes`);
  }
  return sha256(concatBytes(utf8.encode(GPU_NONCE_DST), challenge));
}

/** SHA-256 over the GPUs' evidence and chains, in order (see the header). */
export async function gpuEvidenceDigest(gpus: readonly BoundGpuEvidence[]): Promise<Uint8Array> {
  const parts: Uint8Array[] = [utf8.encode(GPU_EVIDENCE_DST), u32(gpus.length)];
  for (const g of gpus) parts.push(u32(g.evidence.length), g.evidence, u32(g.chain.length), g.chain);
  return sha256(concatBytes(...parts));
}
