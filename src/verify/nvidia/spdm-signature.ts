/**
 * The MEASUREMENTS signature (DMTF DSP0274 1.1, "MEASUREMENTS response": Signature over L1/L2 —
 * L1 = the GET_MEASUREMENTS request ‖ the MEASUREMENTS response without its Signature field, for a
 * single request/response pair as NVML returns it). SPDM 1.1 signs the message itself (the signing
 * context prefix arrived in 1.2), with the negotiated TPM_ALG_ECDSA_ECC_NIST_P384 and SHA-384;
 * the Signature is r ‖ s, 48 bytes each, big-endian — IEEE P1363, which WebCrypto verifies as is.
 *
 * WebCrypto rather than @noble/curves: noble's default `lowS: true` refuses about half of genuine
 * ECDSA signatures, which NVIDIA's firmware does not normalize.
 */
import type { GpuEvidence } from '../../evidence/nvidia/types.js';
import { type Violation, violation } from '../violations.js';
import { verifyP1363Ecdsa } from './ecdsa-chain.js';

/** [] when `key` signed `evidence.signedBytes`, else one `report_signature_invalid`. */
export async function verifySpdmSignature(
  evidence: Pick<GpuEvidence, 'signedBytes' | 'signature'>,
  key: CryptoKey,
): Promise<Violation[]> {
  const ok = await verifyP1363Ecdsa(key, evidence.signature, evidence.signedBytes);
  return ok
    ? []
    : [
        violation(
          'report_signature_invalid',
          'the SPDM MEASUREMENTS signature does not verify under the attestation key',
          {
            field: 'signature',
          },
        ),
      ];
}
