/**
 * The GPU evidence command (src/platform/nvidia-command.ts) with a stand-in for NVIDIA's tooling
 * that emits the REAL vectors: the provider passes the nonce, reads what the contract says, and
 * what it returns verifies as the vector does; the vector's recorded nonce is not the one asked
 * for, so in a live exchange it would be refused (nonce_mismatch). Failures of the command are
 * errors, never partial evidence.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { NvidiaCommandGpuProvider } from '../../src/platform/nvidia-command.js';
import { NVIDIA_GPU_ROOTS } from '../../src/verify/nvidia/nvidia-roots.js';
import { verifyGpuEvidence } from '../../src/verify/nvidia/verify-gpu.js';
import { vectors } from '../support/vectors.js';

const v = vectors();
const STANDIN = resolve(import.meta.dirname, 'support/nvidia-standin.mjs');
/** Where the stand-in reads the vectors (as test/support/load-vectors.ts resolves it). */
const TESTDATA = resolve(import.meta.dirname, '../..', process.env.SEALGATE_TESTDATA ?? '../shared/testdata');
const AT = new Date('2024-01-01T00:00:00Z');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-standin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function provider(env: Record<string, string>): NvidiaCommandGpuProvider {
  return new NvidiaCommandGpuProvider({
    command: process.execPath,
    args: [STANDIN],
    env: { ...process.env, SEALGATE_TESTDATA: TESTDATA, STANDIN_NONCE_FILE: join(dir, 'nonce'), ...env },
  });
}

describe.skipIf(!v.present)('NvidiaCommandGpuProvider with a stand-in emitting real vectors', () => {
  const set = 'hopper-545-with-rims-nvtrust';
  const nonce = new Uint8Array(32).fill(0x5a);

  it('passes the nonce, reads evidence, chain and RIMs; they verify as the vector does', async () => {
    const [gpu, ...rest] = await provider({ STANDIN_SET: set }).getGpuEvidence(nonce);
    expect(rest).toEqual([]);
    expect(await readFile(join(dir, 'nonce'), 'utf8')).toBe(toHex(nonce));
    expect(gpu!.evidence).toEqual(v.bytes(`nvidia/${set}/report.bin`)); // hex text read as bytes
    expect(gpu!.rims).toHaveLength(2);
    const recorded = fromHex(
      v.json<{ evidence: { request: { nonce: string } } }>(`nvidia/${set}/expected.json`).evidence.request
        .nonce,
    );
    const input = {
      evidence: gpu!.evidence,
      chain: gpu!.chain,
      rims: gpu!.rims!,
      at: AT,
      roots: NVIDIA_GPU_ROOTS,
    };
    expect((await verifyGpuEvidence({ ...input, nonce: recorded })).violations).toEqual([]);
    const live = await verifyGpuEvidence({ ...input, nonce });
    expect(live.violations.map((x) => x.code)).toEqual(['nonce_mismatch']);
  });

  it('reads several GPUs in order', async () => {
    const gpus = await provider({ STANDIN_SET: 'hopper-coco-ci-trustee', STANDIN_GPUS: '2' }).getGpuEvidence(
      nonce,
    );
    expect(gpus).toHaveLength(2);
    expect(gpus[0]!.rims).toBeUndefined();
  });

  it('fails on a non-zero exit and on an unknown file, presenting nothing', async () => {
    await expect(provider({ STANDIN_SET: set, STANDIN_FAIL: '1' }).getGpuEvidence(nonce)).rejects.toThrow(
      /GPU evidence command failed.*no GPU in CC mode/s,
    );
    await expect(provider({ STANDIN_SET: set, STANDIN_EXTRA: '1' }).getGpuEvidence(nonce)).rejects.toThrow(
      /unknown file gpu0\/notes\.txt/,
    );
    await expect(provider({ STANDIN_SET: set, STANDIN_GPUS: '0' }).getGpuEvidence(nonce)).rejects.toThrow(
      /wrote no GPU/,
    );
  });
});
