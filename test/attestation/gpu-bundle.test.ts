/** The `gpus` member of an evidence bundle: strict parsing with caps, and the exact binding bytes. */
import { describe, expect, it } from 'vitest';
import { encodeEvidenceBundle, parseEvidenceBundle } from '../../src/attestation/evidence-bundle.js';
import { deriveGpuNonce, gpuEvidenceDigest } from '../../src/attestation/gpu-binding.js';
import { MAX_GPU_EVIDENCE_BYTES, MAX_GPUS } from '../../src/attestation/gpu-bundle.js';
import { concatBytes, sha256, toBase64Url, toHex, utf8 } from '../../src/bytes.js';

const bundle = {
  version: 1 as const,
  role: 'worker' as const,
  platform: 'sev-snp' as const,
  simulated: true,
  nonce: new Uint8Array(32).fill(1),
  report: new Uint8Array(1184),
  certificates: {},
  manifest: utf8.encode('{}'),
  keys: { hpke: new Uint8Array(8) },
};
const gpu = { evidence: Uint8Array.of(1, 2, 3), chain: utf8.encode('-----BEGIN CERTIFICATE-----') };

function withGpus(gpus: unknown): Record<string, unknown> {
  return { ...encodeEvidenceBundle(bundle), gpus };
}

describe('evidence bundle: gpus', () => {
  it('round-trips, RIMs included, and stays absent when there is no GPU', () => {
    const rims = [utf8.encode('<SoftwareIdentity/>')];
    const parsed = parseEvidenceBundle(encodeEvidenceBundle({ ...bundle, gpus: [gpu, { ...gpu, rims }] }));
    expect(parsed.gpus).toEqual([gpu, { ...gpu, rims }]);
    const plain = encodeEvidenceBundle(bundle);
    expect('gpus' in plain).toBe(false);
    expect(parseEvidenceBundle(plain).gpus).toBeUndefined();
  });

  it('refuses empty lists, too many GPUs, unknown members, oversized and empty parts', () => {
    const one = { evidence: toBase64Url(gpu.evidence), chain: toBase64Url(gpu.chain) };
    const bad: [unknown, RegExp][] = [
      [[], /gpus must be an array of 1\.\.8/],
      [{}, /gpus must be an array/],
      [new Array(MAX_GPUS + 1).fill(one), /gpus must be an array of 1\.\.8/],
      [[{ ...one, extra: 'x' }], /unknown field gpus\[0\]\.extra/],
      [[{ chain: one.chain }], /gpus\[0\]\.evidence must be a base64url string/],
      [[{ ...one, evidence: '' }], /gpus\[0\]\.evidence must be 1\.\./],
      [
        [{ ...one, evidence: toBase64Url(new Uint8Array(MAX_GPU_EVIDENCE_BYTES + 1)) }],
        /gpus\[0\]\.evidence must be 1\.\./,
      ],
      [[{ ...one, evidence: 'a+b/' }], /gpus\[0\]\.evidence is not valid base64url/],
      [[{ ...one, rims: [] }], /gpus\[0\]\.rims must be an array of 1\.\.2/],
      [[{ ...one, rims: ['AA', 'AA', 'AA'] }], /gpus\[0\]\.rims must be an array of 1\.\.2/],
    ];
    for (const [gpus, message] of bad) {
      expect(() => parseEvidenceBundle(withGpus(gpus)), JSON.stringify(gpus).slice(0, 80)).toThrow(message);
    }
  });
});

describe('GPU binding', () => {
  it('derives the GPU nonce as SHA-256(label ‖ challenge)', async () => {
    const challenge = new Uint8Array(32).fill(9);
    const expected = await sha256(concatBytes(utf8.encode('sealgate/v1/gpu-nonce'), challenge));
    expect(toHex(await deriveGpuNonce(challenge))).toBe(toHex(expected));
    await expect(deriveGpuNonce(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
  });

  it('digests count, then each evidence and chain length-prefixed, in order', async () => {
    const u32 = (n: number) => Uint8Array.of(0, 0, 0, n);
    const expected = await sha256(
      concatBytes(
        utf8.encode('sealgate/v1/gpu-evidence'),
        u32(1),
        u32(3),
        gpu.evidence,
        u32(gpu.chain.length),
        gpu.chain,
      ),
    );
    expect(toHex(await gpuEvidenceDigest([gpu]))).toBe(toHex(expected));
    // Order, the split between evidence and chain, and the count all change the digest.
    const other = { evidence: gpu.chain, chain: gpu.evidence };
    const a = toHex(await gpuEvidenceDigest([gpu, other]));
    expect(toHex(await gpuEvidenceDigest([other, gpu]))).not.toBe(a);
    const moved = { evidence: concatBytes(gpu.evidence, gpu.chain.slice(0, 1)), chain: gpu.chain.slice(1) };
    expect(toHex(await gpuEvidenceDigest([moved]))).not.toBe(toHex(expected));
    expect(toHex(await gpuEvidenceDigest([]))).not.toBe(toHex(expected));
  });
});
