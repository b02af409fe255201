/**
 * NVIDIA's roots, pinned by the SHA-256 of their DER (as the AMD roots are in amd-roots.ts).
 * nvtrust ships both with its local verifier (`verifier/certs/verifier_device_root.pem`,
 * `verifier_RIM_root.pem`); trustee pins the same device root (`nvidia_device_root.pem`, by SHA-1).
 */

/** "CN=NVIDIA Device Identity CA, O=NVIDIA" (ECDSA P-384, self-signed, 2021-11-05 .. 9999-12-31). */
export const NVIDIA_DEVICE_IDENTITY_CA_SHA256 =
  '102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48';

/** "CN=NVIDIA CoRIM signing Root CA, O=NVIDIA, C=US" (ECDSA P-384, self-signed, 2023-03-16 .. 2053-03-08). */
export const NVIDIA_RIM_ROOT_SHA256 = '12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1';

/** The roots a GPU verification accepts: SHA-256 (lower-case hex) of each root's DER. */
export interface GpuRoots {
  /** Roots of the GPU device-identity chain. */
  device: readonly string[];
  /** Roots of the RIM signing chain. */
  rim: readonly string[];
}

/** NVIDIA's production roots. */
export const NVIDIA_GPU_ROOTS: GpuRoots = {
  device: [NVIDIA_DEVICE_IDENTITY_CA_SHA256],
  rim: [NVIDIA_RIM_ROOT_SHA256],
};
