/**
 * Node only: the phala-v4 quote verified by Sealgate's verifier and by `@phala/dcap-qvl` 0.3.9 (a
 * devDependency used only here) side by side in one process, rounds interleaved so that both see
 * the same machine load. Each round times a batch of calls of each; the figure is the median round.
 * CPU time (process.cpuUsage: every thread of the process, so Node's WebCrypto thread pool too) is
 * measured with the wall time: on a shared machine it is the steadier of the two.
 */
import { verify as dcapVerify } from '@phala/dcap-qvl';
import { nodeSignatures } from '../../src/platform/node-signature-backend.js';
import type { SignatureBackend } from '../../src/verify/signature-backend.js';
import { createTdxVerifyCache } from '../../src/verify/tdx/verify-cache.js';
import { verifyTdxEvidence } from '../../src/verify/tdx/verify-tdx.js';
import type { MicroResult } from './run-micro.js';
import { type TdxVector, tdxInputs } from './tdx-cases.js';

type Run = () => Promise<void>;

async function batch(f: Run, n: number): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  const wall = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 / n };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function tdxVsDcapQvl(
  v: TdxVector,
  rounds = Number(process.env.BENCH_TDX_ROUNDS ?? 21),
  signatures: SignatureBackend = nodeSignatures,
) {
  // Sealgate as Node runs it: node:crypto signatures (src/platform/node-signature-backend.ts).
  const input = { ...tdxInputs(v), signatures };
  const peerCollateral = JSON.parse(v.collateral);
  const nowSecs = Math.floor(input.now.getTime() / 1000);
  const cache = createTdxVerifyCache();
  const runs: Record<'cold' | 'cached' | 'peer', Run> = {
    cold: async () => {
      if ((await verifyTdxEvidence(input)).claims?.tcb.status !== 'UpToDate') throw new Error('sealgate');
    },
    cached: async () => {
      const r = await verifyTdxEvidence({ ...input, cache });
      if (r.claims?.tcb.status !== 'UpToDate') throw new Error('sealgate (cached)');
    },
    peer: async () => {
      const r = await dcapVerify(input.quote, peerCollateral, nowSecs);
      if (r.status !== 'UpToDate') throw new Error(`dcap-qvl: ${r.status}`);
    },
  };
  for (const f of Object.values(runs)) for (let i = 0; i < 10; i++) await f();
  const wall = { cold: [] as number[], cached: [] as number[], peer: [] as number[] };
  const cpu = { cold: [] as number[], cached: [] as number[], peer: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const k of ['cold', 'cached', 'peer'] as const) {
      const s = await batch(runs[k], k === 'cached' ? 40 : 8);
      wall[k].push(s.wall);
      cpu[k].push(s.cpu);
    }
  }
  return {
    wall: { cold: median(wall.cold), cached: median(wall.cached), peer: median(wall.peer) },
    cpu: { cold: median(cpu.cold), cached: median(cpu.cached), peer: median(cpu.peer) },
    rounds,
  };
}

/** The side-by-side figures, each with dcap-qvl's as its baseline. */
export async function tdxPairResults(v: TdxVector, say: (s: string) => void): Promise<MicroResult[]> {
  const r = await tdxVsDcapQvl(v);
  const what = (ours: string, unit: string) =>
    `${ours} against @phala/dcap-qvl 0.3.9 verify() of the same quote and collateral, same process, rounds interleaved (${unit}, median of ${r.rounds} rounds)`;
  const fig = (name: string, ms: number, base: number, text: string): MicroResult => ({
    name,
    what: text,
    bytes: 0,
    msPerOp: ms,
    minMsPerOp: ms,
    samples: r.rounds,
    iterationsPerSample: 0,
    baselineMsPerOp: base,
  });
  const out = [
    fig(
      'tdx.verify.vsDcapQvl',
      r.wall.cold,
      r.wall.peer,
      what('verifyTdxEvidence, nothing cached,', 'wall time'),
    ),
    fig(
      'tdx.verify.cached.vsDcapQvl',
      r.wall.cached,
      r.wall.peer,
      what('verifyTdxEvidence with TdxVerifyCache warm', 'wall time'),
    ),
    fig(
      'tdx.verify.cpu.vsDcapQvl',
      r.cpu.cold,
      r.cpu.peer,
      what('verifyTdxEvidence, nothing cached,', 'CPU time of the process'),
    ),
    fig(
      'tdx.verify.cached.cpu.vsDcapQvl',
      r.cpu.cached,
      r.cpu.peer,
      what('verifyTdxEvidence with TdxVerifyCache warm', 'CPU time of the process'),
    ),
  ];
  for (const x of out)
    say(
      `  node    ${x.name.padEnd(32)} ${x.msPerOp.toFixed(3)} ms vs ${x.baselineMsPerOp!.toFixed(3)} ms (${(x.msPerOp / x.baselineMsPerOp!).toFixed(2)}×)`,
    );
  return out;
}
