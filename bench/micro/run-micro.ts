/**
 * Node side of the micro benchmarks: reads the real SNP vector, runs the cases inside workerd
 * (esbuild bundle of bench/workerd/micro-worker.ts under miniflare) and in this Node process.
 */

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { nodeSignatures } from '../../src/platform/node-signature-backend.js';
import {
  firstVerification,
  type MicroCase,
  measure,
  microCases,
  type Sample,
  type SnpVector,
} from './cases.js';
import { coldStepResults } from './cold-steps.js';
import type { GpuVector } from './gpu-cases.js';
import { nodeFloorCases } from './node-floor-cases.js';
import { TDX_AT, TDX_SET, type TdxVector } from './tdx-cases.js';
import { tdxPairResults } from './tdx-vs-dcap-qvl.js';
import { measureInterleaved, tinfoilCases, tinfoilCpuPairs } from './tinfoil-peer.js';

import { bundleForWorkerd } from './workerd-bundle.js';

export const SNP_SET = 'milan-v2-virtee';
/** The Genoa VCEK set @tinfoilsh/verifier is compared on (it verifies only Genoa VCEK reports). */
export const PEER_SNP_SET = 'genoa-v3-azure-trustee';
/** The GPU set the GPU cases verify: signature, chain and FWID (nvtrust's test report). */
export const GPU_SET = 'hopper-test-no-gpu-nvtrust';
const DAY_MS = 86_400_000;

export interface MicroResult extends Sample {
  what: string;
  bytes: number;
  /** A baseline measured in the same run (the side-by-side TDX figures: @phala/dcap-qvl's time). */
  baselineMsPerOp?: number;
}

export interface MicroRun {
  runtime: 'workerd' | 'node';
  firstVerificationMs: number | null;
  results: MicroResult[];
}

/** The real Milan report, its VCEK and AMD's Milan cert_chain, or null (with why) when the vectors are missing. */
export function loadSnpVector(
  root: string,
  set = SNP_SET,
): { vector: SnpVector | null; missing: string | null } {
  const dir = resolve(root, process.env.SEALGATE_TESTDATA ?? '../shared/testdata');
  const setDir = join(dir, 'snp', set);
  if (!existsSync(join(setDir, 'expected.json'))) {
    return { vector: null, missing: `real vectors not found at ${dir} (set SEALGATE_TESTDATA)` };
  }
  const expected = JSON.parse(readFileSync(join(setDir, 'expected.json'), 'utf8')) as {
    files: { report: string; endorsement_cert: string; ask_ark_chain: string };
    endorsement_cert: { not_before: string };
  };
  const b64 = (p: string) => readFileSync(p).toString('base64');
  return {
    vector: {
      name: set,
      report: b64(join(setDir, expected.files.report)),
      leaf: b64(join(setDir, expected.files.endorsement_cert)),
      chain: b64(join(setDir, expected.files.ask_ark_chain)),
      at: new Date(new Date(expected.endorsement_cert.not_before).getTime() + DAY_MS).toISOString(),
      ...gpuVector(dir),
    },
    missing: null,
  };
}

/** The real phala-v4 TDX quote and its collateral, or null (with why) when the vectors are missing. */
export function loadTdxVector(root: string): { vector: TdxVector | null; missing: string | null } {
  const dir = join(resolve(root, process.env.SEALGATE_TESTDATA ?? '../shared/testdata'), 'tdx', TDX_SET);
  if (!existsSync(join(dir, 'collateral.json'))) {
    return { vector: null, missing: `TDX vector not found at ${dir} (set SEALGATE_TESTDATA)` };
  }
  return {
    vector: {
      name: TDX_SET,
      quote: readFileSync(join(dir, 'quote.bin')).toString('base64'),
      collateral: readFileSync(join(dir, 'collateral.json'), 'utf8'),
      at: TDX_AT,
    },
    missing: null,
  };
}

/** The GPU set as base64 files, or nothing when it is missing. */
function gpuVector(dir: string): { gpu?: GpuVector } {
  const setDir = join(dir, 'nvidia', GPU_SET);
  if (!existsSync(join(setDir, 'expected.json'))) return {};
  const expected = JSON.parse(readFileSync(join(setDir, 'expected.json'), 'utf8')) as {
    evidence: { request: { nonce: string } };
  };
  const b64 = (p: string) => readFileSync(join(setDir, p)).toString('base64');
  return {
    gpu: {
      name: GPU_SET,
      evidence: b64('report.bin'),
      chain: b64('cert_chain.pem'),
      nonce: expected.evidence.request.nonce,
      // Inside every device certificate's validity, as the GPU tests use.
      at: '2024-01-01T00:00:00.000Z',
    },
  };
}

/** `BENCH_MICRO_FILTER` (a regular expression): only the cases whose name matches (for profiling runs). */
const FILTER = process.env.BENCH_MICRO_FILTER ? new RegExp(process.env.BENCH_MICRO_FILTER) : null;
const selected = (c: { name: string }): boolean => FILTER === null || FILTER.test(c.name);

const withWhat = (c: Pick<MicroCase, 'what' | 'bytes'>, s: Sample): MicroResult => ({
  ...s,
  what: c.what,
  bytes: c.bytes,
});

export async function runWorkerdMicro(
  root: string,
  vector: SnpVector | null,
  say: (s: string) => void,
  tdx: TdxVector | null = null,
): Promise<MicroRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-'));
  const script = await bundleForWorkerd(join(root, 'bench/workerd/micro-worker.ts'), dir);
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...script,
      bindings: {
        SNP_VECTOR: vector ? JSON.stringify(vector) : '',
        TDX_VECTOR: tdx ? JSON.stringify(tdx) : '',
      },
      kvNamespaces: ['SEALGATE_KV'],
    }),
  );
  try {
    const get = async <T>(path: string, body?: unknown): Promise<T> => {
      const res = await mf.dispatchFetch(`http://bench${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const json = (await res.json()) as T & { error?: string };
      if (!res.ok) throw new Error(`workerd ${path}: ${json.error ?? res.status}`);
      return json;
    };
    const first = await get<{ ms: number | null }>('/first');
    const list = (await get<{ name: string; what: string; bytes: number }[]>('/cases')).filter(selected);
    const results: MicroResult[] = [];
    for (const c of list) {
      const s = await get<Sample>('/run', { name: c.name });
      say(`  workerd ${c.name.padEnd(28)} ${fmtMs(s.msPerOp)}`);
      results.push(withWhat(c, s));
    }
    return { runtime: 'workerd', firstVerificationMs: first.ms, results };
  } finally {
    await mf.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runNodeMicro(
  vector: SnpVector | null,
  say: (s: string) => void,
  peer?: { root: string; vector: SnpVector | null },
  tdx: TdxVector | null = null,
): Promise<MicroRun> {
  const first = vector ? await firstVerification(vector, nodeSignatures) : null;
  // Node verifies SNP and TDX with node:crypto (src/platform/node-signature-backend.ts), as the CLI,
  // the service and the AI worker do; it also measures the AI worker's own envelope backend
  // (node:crypto) next to WebCrypto, and the peer verifier on its Genoa set (tinfoil-peer.ts).
  const cases = [
    ...(await microCases(vector, {
      envelopeCrypto: nodeEnvelopeCrypto,
      suffix: 'nodeCrypto',
      tdx,
      signatures: nodeSignatures,
    })),
    ...nodeFloorCases(),
  ].filter(selected);
  const results: MicroResult[] = [];
  for (const c of cases) {
    const s = await measure(c);
    say(`  node    ${c.name.padEnd(28)} ${fmtMs(s.msPerOp)}`);
    results.push(withWhat(c, s));
  }
  // Ours and @tinfoilsh/verifier on the Genoa set: timed in interleaved rounds (tinfoil-peer.ts).
  const peerCases = (peer?.vector ? await tinfoilCases(peer.root, peer.vector) : []).filter(selected);
  const peerSamples = await measureInterleaved(peerCases);
  for (const [i, c] of peerCases.entries()) {
    say(`  node    ${c.name.padEnd(28)} ${fmtMs(peerSamples[i]!.msPerOp)}`);
    results.push(withWhat(c, peerSamples[i]!));
  }
  for (const p of tinfoilCpuPairs(peerSamples)) {
    say(`  node    ${p.name.padEnd(28)} ${fmtMs(p.ours.cpuMsPerOp)} vs ${fmtMs(p.theirs.cpuMsPerOp)}`);
    results.push({
      ...p.ours,
      name: p.name,
      what: 'CPU time of the process per call (every thread), ours against @tinfoilsh/verifier 1.1.0, median round',
      bytes: 0,
      msPerOp: p.ours.cpuMsPerOp,
      baselineMsPerOp: p.theirs.cpuMsPerOp,
    });
  }
  // The envelope's steps when a request comes alone (cold-steps.ts): the time-to-first-chunk factor.
  if (selected({ name: 'envelope.coldStep' })) {
    for (const r of await coldStepResults()) {
      say(`  node    ${r.name.padEnd(28)} ${fmtMs(r.msPerOp)} vs ${fmtMs(r.baselineMsPerOp!)} back to back`);
      results.push(r);
    }
  }
  // Sealgate's TDX verifier and @phala/dcap-qvl side by side, in this process.
  if (tdx && selected({ name: 'tdx.verify.vsDcapQvl' })) results.push(...(await tdxPairResults(tdx, say)));
  return { runtime: 'node', firstVerificationMs: first, results };
}

export function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}
