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

export function buildResults(
  machine: Machine,
  micro: { workerd: MicroRun | null; node: MicroRun | null },
  macro: MacroRun | null,
): Result[] {
  const out: Result[] = [];
  const add = (name: string, unit: string, value: number | null, baseline: number | null = null) => {
    const v = round(value);
    const b = round(baseline);
    out.push({ name, unit, value: v, baseline: b, ratio: v !== null && b ? round(v / b, 3) : null, machine });
  };

  // Micro: workerd figures with Node's as the baseline; noble GCM against WebCrypto in the same runtime.
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
  }
  // Side by side in Node, with a baseline of the same run (TDX: @phala/dcap-qvl).
  for (const r of n)
    if (r.baselineMsPerOp !== undefined) add(`node.${r.name}`, 'ms', r.msPerOp, r.baselineMsPerOp);

  if (!macro) return out;
  // Macro: the sealed stack against the plaintext passthrough, same load.
  const phase = (target: Phase['target'], kind: 'json' | 'stream', c: number): Phase | undefined =>
    macro.phases.find((p) => p.name === `${target}.${kind}.c${c}`);
  for (const kind of ['json', 'stream'] as const) {
    for (const c of [macro.concurrency, 1]) {
      const s = phase('sealed', kind, c)?.result;
      const p = phase('plain', kind, c)?.result;
      if (!s || !p) continue;
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
      // Keys with limits against the unlimited key, same sealed path (docs/gateway.md "Limits and
      // budgets"): every limit (limitedKey), or tokens only (meteredKey; run-macro.ts says why).
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
        const sCpu = phase('sealed', kind, c)?.cpu;
        if (l.cpu && sCpu) {
          add(`${base}.${name}.cpu.worker`, 'ms', l.cpu.worker, sCpu.worker);
          add(`${base}.${name}.cpu.node`, 'ms', l.cpu.node, sCpu.node);
        }
      }
      // Where the CPU of a request goes, by process (under load only: one at a time is mostly idle).
      const sc = phase('sealed', kind, c)?.cpu;
      const pc = phase('plain', kind, c)?.cpu;
      const hc = phase('hop', kind, c)?.cpu;
      if (c === macro.concurrency && sc) {
        const total = (x: typeof sc | null | undefined) =>
          x ? x.worker + x.proxy + x.wrangler + x.node + x.model + x.load : null;
        for (const part of ['worker', 'proxy', 'wrangler', 'node', 'model', 'load'] as const) {
          add(`${base}.cpu.${part}`, 'ms', sc[part], pc?.[part] ?? null);
        }
        add(`${base}.cpu.total`, 'ms', total(sc), total(pc));
        if (hc) {
          add(`${base}.vsHop.cpu.node`, 'ms', sc.node, hc.node);
          add(`${base}.vsHop.cpu.total`, 'ms', total(sc), total(hc));
        }
      }
    }
  }
  // KV writes per sealed answer (issue #18 target 4: none on the request path by default).
  const kvPhase = phase('sealed', 'json', macro.concurrency);
  if (kvPhase?.kvWrites != null && kvPhase.result.answered) {
    add(
      `macro.json.c${macro.concurrency}.kvWritesPerRequest`,
      'count',
      kvPhase.kvWrites / kvPhase.result.answered,
    );
  }
  // The development tool, for reference only: the plain passthrough under wrangler dev against the
  // same Worker in workerd via Miniflare (the baseline every other macro figure uses).
  const ref = macro.phases.find((p) => p.target === 'wranglerDev');
  const refBase = ref ? phase('plain', ref.stream ? 'stream' : 'json', ref.concurrency) : undefined;
  if (ref && refBase) {
    const base = `macro.reference.wranglerDev.${ref.stream ? 'stream' : 'json'}.c${ref.concurrency}`;
    add(`${base}.throughput`, 'req/s', ref.result.rps, refBase.result.rps);
    if (ref.cpu && refBase.cpu) {
      const all = (x: NonNullable<Phase['cpu']>) =>
        x.worker + x.proxy + x.wrangler + x.node + x.model + x.load;
      add(`${base}.cpu.total`, 'ms', all(ref.cpu), all(refBase.cpu));
    }
  }
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

  const mem = (t: 'sealed' | 'plain') => macro.memory.find((m) => m.target === t);
  const ms = mem('sealed');
  const mp = mem('plain');
  if (ms) {
    const maxOf = (m: typeof ms | undefined) => (m?.duringMiB.length ? Math.max(...m.duringMiB) : null);
    add('macro.longStream.MiB', 'MiB', ms.bytes / 1048576, mp ? mp.bytes / 1048576 : null);
    add('macro.longStream.seconds', 's', ms.seconds, mp?.seconds ?? null);
    add('macro.longStream.rss.before', 'MiB', ms.beforeMiB, mp?.beforeMiB ?? null);
    add('macro.longStream.rss.max', 'MiB', maxOf(ms), maxOf(mp));
    add('macro.longStream.rss.after', 'MiB', ms.afterMiB, mp?.afterMiB ?? null);
    const proxyMax = (m: typeof ms | undefined) =>
      m?.proxyDuringMiB.length ? Math.max(...m.proxyDuringMiB) : null;
    add('macro.longStream.proxyRss.before', 'MiB', ms.proxyBeforeMiB, mp?.proxyBeforeMiB ?? null);
    add('macro.longStream.proxyRss.max', 'MiB', proxyMax(ms), proxyMax(mp));
    add('macro.longStream.proxyRss.after', 'MiB', ms.proxyAfterMiB, mp?.proxyAfterMiB ?? null);
    // Flat = no growth once the stream is under way: the maximum of the second half of the samples
    // against the maximum of the first half (a leak grows with the bytes passed; warm-up does not).
    const secondHalf = (m: typeof ms | undefined) => {
      const d = m?.duringMiB ?? [];
      if (d.length < 4) return null;
      const h = Math.floor(d.length / 2);
      return Math.max(...d.slice(h)) - Math.max(...d.slice(0, h));
    };
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
    if (rs) {
      add('macro.longStream.retained.before', 'MiB', rs.before, rp?.before ?? null);
      add('macro.longStream.retained.maxDuring', 'MiB', rs.maxDuring, rp?.maxDuring ?? null);
      add('macro.longStream.retained.after', 'MiB', rs.after, rp?.after ?? null);
      add('macro.longStream.retained.leftBehind', 'MiB', rs.leftBehind, rp?.leftBehind ?? null);
      add('macro.longStream.retained.growth', 'MiB', rs.growth, rp?.growth ?? null);
      add('macro.longStream.retained.collections', 'count', rs.collections, rp?.collections ?? null);
      add('macro.longStream.heapTotal.max', 'MiB', rs.heapTotalMax, rp?.heapTotalMax ?? null);
    }
  }
  return out;
}

/** `old` with each figure of `fresh` put in place of the one of the same name, or appended. */
export function mergeResults(old: Result[], fresh: Result[]): Result[] {
  const byName = new Map(fresh.map((r) => [r.name, r]));
  const out = old.map((r) => byName.get(r.name) ?? r);
  const have = new Set(old.map((r) => r.name));
  return [...out, ...fresh.filter((r) => !have.has(r.name))];
}
