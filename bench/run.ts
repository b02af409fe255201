/**
 * `npm run bench`: micro benchmarks inside workerd and in Node, then the local stack under load
 * against a plaintext baseline, then bench/results.json and docs/benchmarks.md (generated from it).
 * About 5 minutes on 2 cores; knobs in docs/benchmarks.md. Nothing here asserts a speed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MacroRun, runMacro } from './macro/run-macro.js';
import {
  loadSnpVector,
  loadTdxVector,
  type MicroRun,
  PEER_SNP_SET,
  runNodeMicro,
  runWorkerdMicro,
} from './micro/run-micro.js';
import { writeReport } from './report.js';
import { buildResults, machineInfo, mergeResults, type Result } from './results.js';

const root = join(import.meta.dirname, '..');
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const machine = machineInfo(root);
say(
  `[bench] ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, workerd ${machine.workerd}, load average ${machine.loadAverage1m}`,
);
const { vector, missing } = loadSnpVector(root);
if (missing) say(`[bench] ${missing}: the SNP verification cases are skipped`);
const tdx = loadTdxVector(root);
if (tdx.missing) say(`[bench] ${tdx.missing}: the TDX verification cases are skipped`);

// BENCH_SKIP_MICRO=1: the macro part alone (for development of the macro cases; figures partial).
const skipMicro = process.env.BENCH_SKIP_MICRO === '1';
let workerd: MicroRun | null = null;
let node: MicroRun | null = null;
if (!skipMicro) {
  say('[bench] micro, inside workerd (miniflare)…');
  workerd = await runWorkerdMicro(root, vector, say, tdx.vector);
  say(`[bench] micro, in Node… (${elapsed()})`);
  const peer = loadSnpVector(root, PEER_SNP_SET);
  if (peer.missing) say(`[bench] ${peer.missing}: the @tinfoilsh/verifier comparison is skipped`);
  node = await runNodeMicro(vector, say, { root, vector: peer.vector }, tdx.vector);
}

let macro: MacroRun | null = null;
if (process.env.BENCH_SKIP_MACRO !== '1') {
  say(`[bench] macro, the local stack under load… (${elapsed()})`);
  macro = await runMacro(root, say);
}

const fresh = buildResults(machine, { workerd, node }, macro);
// BENCH_MERGE=1 (with BENCH_MICRO_FILTER): this run's figures of the selected cases replace those of
// the same name in the existing results.json; every other figure, with its own machine and time, is kept.
const resultsPath = join(root, 'bench/results.json');
const filter = process.env.BENCH_MICRO_FILTER ? new RegExp(process.env.BENCH_MICRO_FILTER) : null;
const selected = fresh.filter((r) => filter === null || filter.test(r.name.replace(/^(workerd|node)\./, '')));
const results =
  process.env.BENCH_MERGE === '1' && existsSync(resultsPath)
    ? mergeResults(JSON.parse(readFileSync(resultsPath, 'utf8')) as Result[], selected)
    : fresh;
writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
writeReport(root, results);
say(`[bench] wrote bench/results.json (${results.length} figures) and docs/benchmarks.md in ${elapsed()}`);
// The stack's in-process servers are closed; worker threads and sockets may linger a moment.
process.exit(0);
