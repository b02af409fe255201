/**
 * bench/results.json: one flat array of figures, each `{name, unit, value, baseline, ratio, machine}`
 * (`ratio` = value / baseline), built from the micro and macro runs. docs/benchmarks.md is generated
 * from exactly this array (bench/report.ts), so the page and the file cannot drift.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { retainedFigures } from './macro/memory-trace.js';
import type { MacroRun, Phase } from './macro/run-macro.js';
import type { MicroRun } from './micro/run-micro.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  workerd: string;
  wrangler: string;
  /** 1-minute load average when the run started (the machine may be shared). */
  loadAverage1m: number;
  /** When the run started (ISO 8601). */
  ranAt: string;
}

export interface Result {
  name: string;
  unit: string;
  value: number | null;
  baseline: number | null;
  ratio: number | null;
  machine: Machine;
}

const version = (root: string, pkg: string): string => {
  try {
    return (
      JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
};

export function machineInfo(root: string): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    workerd: version(root, 'workerd'),
    wrangler: version(root, 'wrangler'),
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    ranAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

const round = (x: number | null, digits = 4): number | null =>
  x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(digits));

/** Adds one figure: value against baseline, both rounded, with their ratio when both exist. */
type Add = (name: string, unit: string, value: number | null, baseline?: number | null) => void;

/** Every figure of a run, in a fixed order: micro (workerd, then Node), then macro. */
export function buildResults(
  machine: Machine,
  micro: { workerd: MicroRun | null; node: MicroRun | null },
  macro: MacroRun | null,
): Result[] {
  const out: Result[] = [];
  const add: Add = (name, unit, value, baseline = null) => {
    const v = round(value);
    const b = round(baseline);
    out.push({ name, unit, value: v, baseline: b, ratio: v !== null && b ? round(v / b, 3) : null, machine });
  };
  addMicro(add, micro);
  if (!macro) return out;
  for (const kind of ['json', 'stream'] as const) {
    for (const c of [macro.concurrency, 1]) addPhaseFigures(add, macro, kind, c);
  }
  addKvWrites(add, macro);
  addWranglerDevReference(add, macro);
  addAttestationCounts(add, macro);
  addLongStream(add, macro.memory);
  return out;
}

/** Micro: workerd figures with Node's as the baseline; noble GCM against WebCrypto in the same runtime. */
function addMicro(add: Add, micro: { workerd: MicroRun | null; node: MicroRun | null }): void {
  const w = micro.workerd?.results ?? [];
  const n = micro.node?.results ?? [];
  const nodeOf = (name: string) => n.find((x) => x.name === name)?.msPerOp ?? null;
  if (micro.workerd)
    add(
      'workerd.snp.verify.first',
      'ms',
      micro.workerd.firstVerificationMs,
      micro.node?.firstVerificationMs ?? null,
    );
  for (const r of w) {
    if (r.name.startsWith('aes-gcm.noble.')) {
      const native = w.find((x) => x.name === r.name.replace('noble', 'webcrypto'));
      add(`workerd.${r.name}`, 'ms', r.msPerOp, native?.msPerOp ?? null);
    } else {
      add(`workerd.${r.name}`, 'ms', r.msPerOp, nodeOf(r.name));
    }
  }
  for (const r of n) {
    if (!r.name.startsWith('aes-gcm.noble.')) continue;
    const native = n.find((x) => x.name === r.name.replace('noble', 'webcrypto'));
    add(`node.${r.name}`, 'ms', r.msPerOp, native?.msPerOp ?? null);
  }
  // The AI worker's node:crypto envelope backend, against the same case with WebCrypto in Node.
  if (micro.workerd)
    for (const r of n) {
      if (r.name.endsWith('.nodeCrypto'))
        add(`node.${r.name}`, 'ms', r.msPerOp, nodeOf(r.name.slice(0, -11)));
    }
  if (!micro.workerd && micro.node)
    for (const r of n) if (r.baselineMsPerOp === undefined) add(`node.${r.name}`, 'ms', r.msPerOp);
  // The peer, same Node process, same Genoa report (micro/tinfoil-peer.ts); ratio = ours / theirs.
  const tinfoil = nodeOf('tinfoil.snp.verify');
  if (tinfoil !== null) {
    add('node.snp.verify.cold.vsTinfoil', 'ms', nodeOf('snp.genoa.verify.cold'), tinfoil);
    add('node.snp.verify.chainCached.vsTinfoil', 'ms', nodeOf('snp.genoa.verify.chainCached'), tinfoil);
    add('node.snp.verify.newVcek.vsTinfoil', 'ms', nodeOf('snp.genoa.verify.newVcek'), tinfoil);
  }
  // Ours against its own signature checks, timed in the same interleaved rounds (tinfoil-peer.ts).
  const floor = nodeOf('snp.genoa.verify.floor');
  if (floor !== null)
    add('node.snp.verify.chainCached.vsFloor', 'ms', nodeOf('snp.genoa.verify.chainCached'), floor);
  const newVcekFloor = nodeOf('snp.genoa.verify.newVcekFloor');
  if (newVcekFloor !== null)
    add('node.snp.verify.newVcek.vsFloor', 'ms', nodeOf('snp.genoa.verify.newVcek'), newVcekFloor);
  // Side by side in Node, with a baseline of the same run (TDX: @phala/dcap-qvl).
  for (const r of n)
    if (r.baselineMsPerOp !== undefined) add(`node.${r.name}`, 'ms', r.msPerOp, r.baselineMsPerOp);
}

type Kind = 'json' | 'stream';

const phaseOf = (macro: MacroRun, target: Phase['target'], kind: Kind, c: number): Phase | undefined =>
  macro.phases.find((p) => p.name === `${target}.${kind}.c${c}`);

/** CPU ms of one request over all its processes. */
const cpuTotal = (x: NonNullable<Phase['cpu']> | null | undefined): number | null =>
  x ? x.worker + x.proxy + x.wrangler + x.node + x.model + x.load : null;

/**
 * Macro, one load shape (`kind`, `c` in flight): the sealed stack against the plaintext
 * passthrough, then against the hop, the limited keys against the unlimited one, and (under load)
 * where the CPU goes. Nothing when either the sealed or the plaintext phase is missing.
 */
function addPhaseFigures(add: Add, macro: MacroRun, kind: Kind, c: number): void {
  const s = phaseOf(macro, 'sealed', kind, c)?.result;
  const p = phaseOf(macro, 'plain', kind, c)?.result;
  if (!s || !p) return;
  const base = `macro.${kind}.c${c}`;
  add(`${base}.throughput`, 'req/s', s.rps, p.rps);
  add(`${base}.latency.p50`, 'ms', s.latencyMs.p50, p.latencyMs.p50);
  add(`${base}.latency.p99`, 'ms', s.latencyMs.p99, p.latencyMs.p99);
  if (s.ttfcMs && p.ttfcMs) {
    add(`${base}.ttfc.p50`, 'ms', s.ttfcMs.p50, p.ttfcMs.p50);
    add(`${base}.ttfc.p99`, 'ms', s.ttfcMs.p99, p.ttfcMs.p99);
    add(`${base}.ttfc.overhead.p50`, 'ms', s.ttfcMs.p50 - p.ttfcMs.p50);
  }
  add(`${base}.errors`, 'count', s.errors, p.errors);
  // What sealing itself costs: against the same path with a plaintext Node hop where the AI worker is.
  const h = macro.phases.find((x) => x.name === `hop.${kind}.c${c}`)?.result;
  if (h) {
    add(`${base}.vsHop.throughput`, 'req/s', s.rps, h.rps);
    add(`${base}.vsHop.latency.p50`, 'ms', s.latencyMs.p50, h.latencyMs.p50);
    if (s.ttfcMs && h.ttfcMs) add(`${base}.vsHop.ttfc.p50`, 'ms', s.ttfcMs.p50, h.ttfcMs.p50);
    add(`${base}.vsHop.errors`, 'count', s.errors, h.errors);
  }
  addKeyLimitFigures(add, macro, kind, c);
  // Where the CPU of a request goes, by process (under load only: one at a time is mostly idle).
  if (c === macro.concurrency) addCpuFigures(add, macro, kind, c);
}

/**
 * Keys with limits against the unlimited key, same sealed path (docs/gateway.md "Limits and
 * budgets"): every limit (limitedKey), or tokens only (meteredKey; run-macro.ts says why).
 */
function addKeyLimitFigures(add: Add, macro: MacroRun, kind: Kind, c: number): void {
  const base = `macro.${kind}.c${c}`;
  const sealed = phaseOf(macro, 'sealed', kind, c)!;
  const s = sealed.result;
  for (const [target, name] of [
    ['limited', 'limitedKey'],
    ['metered', 'meteredKey'],
  ] as const) {
    const l = macro.phases.find((x) => x.name === `${target}.${kind}.c${c}`);
    if (!l) continue;
    add(`${base}.${name}.throughput`, 'req/s', l.result.rps, s.rps);
    add(`${base}.${name}.latency.p50`, 'ms', l.result.latencyMs.p50, s.latencyMs.p50);
    add(`${base}.${name}.latency.p99`, 'ms', l.result.latencyMs.p99, s.latencyMs.p99);
    add(`${base}.${name}.errors`, 'count', l.result.errors, s.errors);
    if (l.cpu && sealed.cpu) {
      add(`${base}.${name}.cpu.worker`, 'ms', l.cpu.worker, sealed.cpu.worker);
      add(`${base}.${name}.cpu.node`, 'ms', l.cpu.node, sealed.cpu.node);
    }
  }
}

/** CPU ms per request by process, sealed against plaintext, and the AI worker's part against the hop. */
function addCpuFigures(add: Add, macro: MacroRun, kind: Kind, c: number): void {
  const base = `macro.${kind}.c${c}`;
  const sc = phaseOf(macro, 'sealed', kind, c)?.cpu;
  const pc = phaseOf(macro, 'plain', kind, c)?.cpu;
  const hc = phaseOf(macro, 'hop', kind, c)?.cpu;
  if (!sc) return;
  for (const part of ['worker', 'proxy', 'wrangler', 'node', 'model', 'load'] as const) {
    add(`${base}.cpu.${part}`, 'ms', sc[part], pc?.[part] ?? null);
  }
  add(`${base}.cpu.total`, 'ms', cpuTotal(sc), cpuTotal(pc));
  if (hc) {
    add(`${base}.vsHop.cpu.node`, 'ms', sc.node, hc.node);
    add(`${base}.vsHop.cpu.total`, 'ms', cpuTotal(sc), cpuTotal(hc));
  }
}

/** KV writes per sealed answer (issue #18 target 4: none on the request path by default). */
function addKvWrites(add: Add, macro: MacroRun): void {
  const kvPhase = phaseOf(macro, 'sealed', 'json', macro.concurrency);
  if (kvPhase?.kvWrites != null && kvPhase.result.answered) {
    add(
      `macro.json.c${macro.concurrency}.kvWritesPerRequest`,
      'count',
      kvPhase.kvWrites / kvPhase.result.answered,
    );
  }
}

/**
 * The development tool, for reference only: the plain passthrough under wrangler dev against the
 * same Worker in workerd via Miniflare (the baseline every other macro figure uses).
 */
function addWranglerDevReference(add: Add, macro: MacroRun): void {
  const ref = macro.phases.find((p) => p.target === 'wranglerDev');
  const refBase = ref ? phaseOf(macro, 'plain', ref.stream ? 'stream' : 'json', ref.concurrency) : undefined;
  if (!ref || !refBase) return;
  const base = `macro.reference.wranglerDev.${ref.stream ? 'stream' : 'json'}.c${ref.concurrency}`;
  add(`${base}.throughput`, 'req/s', ref.result.rps, refBase.result.rps);
  if (ref.cpu && refBase.cpu) add(`${base}.cpu.total`, 'ms', cpuTotal(ref.cpu), cpuTotal(refBase.cpu));
}

/** Evidence verifications during the load and the run, against what the rotation alarm alone makes. */
function addAttestationCounts(add: Add, macro: MacroRun): void {
  const sealedPhases = macro.phases.filter((p) => p.target === 'sealed');
  add(
    'macro.load.sealedRequests',
    'count',
    sealedPhases.reduce((a, p) => a + p.result.requests, 0),
  );
  add('macro.load.seconds', 's', macro.sealedLoadSeconds);
  add('macro.load.attestations', 'count', macro.attestationsDuringLoad);
  add('macro.load.attestationsDuringPlaintextPhases', 'count', macro.attestationsDuringPlain);
  if (macro.rotationCadenceSeconds) {
    // Upper bound of what the key-rotation DO's alarm alone does in that time (one per cadence, +1).
    add(
      'macro.load.attestationsByRotationAlarmMax',
      'count',
      Math.floor(macro.sealedLoadSeconds / macro.rotationCadenceSeconds) + 1,
    );
  }
  add('macro.run.attestations', 'count', macro.attestationsTotal);
  // The run's own settings (BENCH_* knobs): short phases give noisier figures.
  add('macro.run.loadedPhaseSeconds', 's', macro.durationMs / 1000);
  add('macro.run.warmupSeconds', 's', macro.warmupMs / 1000);
  add('macro.run.oneAtATimePhaseSeconds', 's', macro.singleMs / 1000);
}

type Trace = MacroRun['memory'][number];
const maxOf = (m: Trace | undefined) => (m?.duringMiB.length ? Math.max(...m.duringMiB) : null);
const proxyMax = (m: Trace | undefined) => (m?.proxyDuringMiB.length ? Math.max(...m.proxyDuringMiB) : null);
/**
 * Flat = no growth once the stream is under way: the maximum of the second half of the samples
 * against the maximum of the first half (a leak grows with the bytes passed; warm-up does not).
 */
const secondHalf = (m: Trace | undefined) => {
  const d = m?.duringMiB ?? [];
  if (d.length < 4) return null;
  const h = Math.floor(d.length / 2);
  return Math.max(...d.slice(h)) - Math.max(...d.slice(0, h));
};

/** The long stream through the gateway (against the passthrough's, when traced): RSS, then retained. */
function addLongStream(add: Add, memory: MacroRun['memory']): void {
  const ms = memory.find((m) => m.target === 'sealed');
  const mp = memory.find((m) => m.target === 'plain');
  if (!ms) return;
  add('macro.longStream.MiB', 'MiB', ms.bytes / 1048576, mp ? mp.bytes / 1048576 : null);
  add('macro.longStream.seconds', 's', ms.seconds, mp?.seconds ?? null);
  add('macro.longStream.rss.before', 'MiB', ms.beforeMiB, mp?.beforeMiB ?? null);
  add('macro.longStream.rss.max', 'MiB', maxOf(ms), maxOf(mp));
  add('macro.longStream.rss.after', 'MiB', ms.afterMiB, mp?.afterMiB ?? null);
  add('macro.longStream.proxyRss.before', 'MiB', ms.proxyBeforeMiB, mp?.proxyBeforeMiB ?? null);
  add('macro.longStream.proxyRss.max', 'MiB', proxyMax(ms), proxyMax(mp));
  add('macro.longStream.proxyRss.after', 'MiB', ms.proxyAfterMiB, mp?.proxyAfterMiB ?? null);
  add('macro.longStream.rss.growthSecondHalf', 'MiB', secondHalf(ms), secondHalf(mp));
  add(
    'macro.longStream.rss.growth',
    'MiB',
    (maxOf(ms) ?? Number.NaN) - ms.beforeMiB,
    mp ? (maxOf(mp) ?? Number.NaN) - mp.beforeMiB : null,
  );
  // What the isolate retains (after full collections, read over the inspector): memory-trace.ts.
  const rs = retainedFigures(ms);
  const rp = mp ? retainedFigures(mp) : null;
  if (!rs) return;
  add('macro.longStream.retained.before', 'MiB', rs.before, rp?.before ?? null);
  add('macro.longStream.retained.maxDuring', 'MiB', rs.maxDuring, rp?.maxDuring ?? null);
  add('macro.longStream.retained.after', 'MiB', rs.after, rp?.after ?? null);
  add('macro.longStream.retained.leftBehind', 'MiB', rs.leftBehind, rp?.leftBehind ?? null);
  add('macro.longStream.retained.growth', 'MiB', rs.growth, rp?.growth ?? null);
  add('macro.longStream.retained.collections', 'count', rs.collections, rp?.collections ?? null);
  add('macro.longStream.heapTotal.max', 'MiB', rs.heapTotalMax, rp?.heapTotalMax ?? null);
}

/** `old` with each figure of `fresh` put in place of the one of the same name, or appended. */
export function mergeResults(old: Result[], fresh: Result[]): Result[] {
  const byName = new Map(fresh.map((r) => [r.name, r]));
  const out = old.map((r) => byName.get(r.name) ?? r);
  const have = new Set(old.map((r) => r.name));
  return [...out, ...fresh.filter((r) => !have.has(r.name))];
}
