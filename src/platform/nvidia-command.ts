/**
 * Real GPUs: NVIDIA's attestation tooling run inside the CVM, as a configured command
 * (SEALGATE_GPU_COMMAND). The contract — a thin wrapper around nvtrust's local GPU verifier or
 * NVML's `nvmlDeviceGetConfComputeGpuAttestationReport` and `nvmlDeviceGetConfComputeGpuCertificate`
 * satisfies it:
 *
 *   COMMAND [ARGS…] --nonce <64 lower-case hex> --out <DIR>
 *
 *   - asks every GPU for its attestation report with exactly that 32-byte nonce;
 *   - writes, for GPU i = 0, 1, … (no gaps, at most 8), in `DIR/gpu<i>/`:
 *       `evidence`   the report: raw bytes or hex text (as `nvidia-smi` and nvtrust print it)
 *       `chain.pem`  the device certificate chain, PEM, leaf first, root last
 *       `rim-driver.xml`, `rim-vbios.xml`  (optional) NVIDIA's RIMs for this driver and VBIOS
 *   - exits 0. Anything else — non-zero exit, a timeout (60 s), a missing file, an unknown entry in
 *     DIR, a file above the bundle's caps (gpu-bundle.ts) — fails the attestation; the worker
 *     retries later and never presents partial GPU evidence.
 *
 * DIR is a fresh private temporary directory, removed afterwards. The command's output goes to the
 * error message only on failure. Node-only (child process, files); the runner is injected so the
 * contract is testable with a stand-in that emits real vectors.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAX_GPU_CHAIN_BYTES,
  MAX_GPU_EVIDENCE_BYTES,
  MAX_GPU_RIM_BYTES,
  MAX_GPUS,
} from '../attestation/gpu-bundle.js';
import { toHex } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { gpuEvidenceBytes } from '../evidence/nvidia/evidence-text.js';
import type { GpuDeviceEvidence, GpuEvidenceProvider } from './gpu-types.js';

const TIMEOUT_MS = 60_000;
const RIM_FILES = ['rim-driver.xml', 'rim-vbios.xml'] as const;
const GPU_FILES = new Set<string>(['evidence', 'chain.pem', ...RIM_FILES]);

export interface NvidiaCommandOptions {
  /** The executable. */
  command: string;
  /** Arguments before `--nonce … --out …` (e.g. a script for an interpreter). */
  args?: readonly string[];
  /** Environment of the command (default: the worker's). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

function fail(message: string): never {
  throw new SealgateError('fetch_failed', `GPU evidence command: ${message}`);
}

function run(opts: NvidiaCommandOptions, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      opts.command,
      [...(opts.args ?? []), ...args],
      { timeout: opts.timeoutMs ?? TIMEOUT_MS, env: opts.env ?? process.env, maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        reject(
          new SealgateError(
            'fetch_failed',
            `GPU evidence command failed: ${error.message} ${String(stderr).slice(0, 500)}`,
          ),
        );
      },
    );
  });
}

async function readCapped(path: string, max: number, what: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    return fail(`${what} missing (${path})`);
  }
  if (bytes.length === 0 || bytes.length > max) fail(`${what} must be 1..${max} bytes, got ${bytes.length}`);
  return bytes;
}

async function readGpu(dir: string, i: number): Promise<GpuDeviceEvidence> {
  const gpuDir = join(dir, `gpu${i}`);
  for (const name of await readdir(gpuDir)) if (!GPU_FILES.has(name)) fail(`unknown file gpu${i}/${name}`);
  const raw = await readCapped(join(gpuDir, 'evidence'), 2 * MAX_GPU_EVIDENCE_BYTES + 64, `gpu${i}/evidence`);
  let evidence: Uint8Array;
  try {
    evidence = gpuEvidenceBytes(raw);
  } catch (e) {
    return fail(`gpu${i}/evidence: ${(e as Error).message}`);
  }
  if (evidence.length > MAX_GPU_EVIDENCE_BYTES)
    fail(`gpu${i}/evidence is above ${MAX_GPU_EVIDENCE_BYTES} bytes`);
  const chain = await readCapped(join(gpuDir, 'chain.pem'), MAX_GPU_CHAIN_BYTES, `gpu${i}/chain.pem`);
  const present = new Set(await readdir(gpuDir));
  const rims: Uint8Array[] = [];
  for (const name of RIM_FILES) {
    if (present.has(name))
      rims.push(await readCapped(join(gpuDir, name), MAX_GPU_RIM_BYTES, `gpu${i}/${name}`));
  }
  return { evidence, chain, ...(rims.length > 0 ? { rims } : {}) };
}

/** Reads `DIR/gpu0 … gpu<n-1>` as the contract says; any other entry fails. */
export async function readGpuEvidenceDir(dir: string): Promise<GpuDeviceEvidence[]> {
  const entries = (await readdir(dir)).sort();
  const n = entries.length;
  if (n === 0) fail('wrote no GPU');
  if (n > MAX_GPUS) fail(`wrote ${n} GPUs, at most ${MAX_GPUS}`);
  const want = Array.from({ length: n }, (_, i) => `gpu${i}`).sort();
  if (entries.join(',') !== want.join(',')) fail(`expected ${want.join(', ')}, found ${entries.join(', ')}`);
  const out: GpuDeviceEvidence[] = [];
  for (let i = 0; i < n; i++) out.push(await readGpu(dir, i));
  return out;
}

export class NvidiaCommandGpuProvider implements GpuEvidenceProvider {
  readonly simulated = false;
  readonly description: string;
  readonly #opts: NvidiaCommandOptions;

  constructor(opts: NvidiaCommandOptions) {
    if (typeof opts?.command !== 'string' || opts.command === '') {
      throw new SealgateError('invalid_argument', 'GPU evidence command: command is required');
    }
    this.#opts = opts;
    this.description = `nvidia-command ${opts.command}`;
  }

  async getGpuEvidence(nonce: Uint8Array): Promise<GpuDeviceEvidence[]> {
    if (!(nonce instanceof Uint8Array) || nonce.length !== 32) {
      throw new SealgateError('invalid_argument', 'GPU evidence command: nonce must be 32 bytes');
    }
    const dir = await mkdtemp(join(tmpdir(), 'sealgate-gpu-'));
    try {
      await run(this.#opts, ['--nonce', toHex(nonce), '--out', dir]);
      return await readGpuEvidenceDir(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
