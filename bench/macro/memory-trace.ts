/**
 * The gateway's memory while one long stream passes through it: the RSS of the workerd that runs the
 * Worker (and of wrangler dev's proxy in front of it), and — the figure that tells a leak from V8's
 * heap sizing — what the Worker's isolate *retains*: its V8 heap in use right after a full
 * collection, plus ArrayBuffer backing stores, read over the inspector (isolate-heap.ts) before the
 * stream, at each of ~20 pauses of the reader through it, and after it.
 *
 * A stream that leaves something behind per byte (a tee, a growing buffer, a hash over the whole
 * answer kept as chunks) shows as retained memory rising from one pause to the next; V8 growing its
 * heap before it collects shows only in RSS and `totalMiB`, and is given back at the next full GC.
 * The pauses and forced collections shape the RSS curve (a collection may shrink the heap): the RSS
 * figures of this trace are of a stream read in ~20 legs, not of an undisturbed one.
 */
import { readFileSync } from 'node:fs';
import { connectIsolateHeap, type HeapUsage, type IsolateHeap } from './isolate-heap.js';
import type { LoadResult } from './load-worker.js';

const SAMPLE_EVERY_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One full collection during the stream: when (ms after its start) and what the isolate retained. */
export interface RetainedSample {
  atMs: number;
  /** Bytes of the answer read when the reader paused for this collection. */
  bytes: number;
  /** V8 heap in use plus ArrayBuffer backing stores, MiB, right after the collection. */
  retainedMiB: number;
  /** The V8 heap's reservation at that moment, MiB. */
  heapTotalMiB: number;
}

export interface MemoryTrace {
  target: 'sealed' | 'plain';
  bytes: number;
  seconds: number;
  error: string | null;
  /** RSS in MiB of the workerd that runs the Worker itself: idle before, samples during, 3 s after. */
  beforeMiB: number;
  duringMiB: number[];
  afterMiB: number;
  /** The same for wrangler dev's proxy workerd (listens on the public port, forwards to the Worker). */
  proxyBeforeMiB: number;
  proxyDuringMiB: number[];
  proxyAfterMiB: number;
  /** What the Worker's isolate retains (after a full GC): before the stream, through it, after it. Null when the inspector was not reachable. */
  retained: {
    before: HeapUsage;
    during: RetainedSample[];
    after: HeapUsage;
    /** Largest V8 heap reservation seen between collections, MiB (what RSS follows). */
    heapTotalMaxMiB: number;
  } | null;
  /** Why `retained` is null. */
  retainedError: string | null;
}

function rssMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // the process is gone
    }
  }
  return kib / 1024;
}

const retainedOf = (u: HeapUsage) => u.usedMiB + u.backingMiB;

/** The inspector session on the Worker's isolate, or null with why (then only RSS is traced). */
interface HeapState {
  heap: IsolateHeap | null;
  error: string | null;
}

/** A read failed: the session is dropped, and the trace goes on with RSS only. */
function loseHeap(state: HeapState, e: unknown): void {
  state.error = (e as Error).message;
  state.heap?.close();
  state.heap = null;
}

/** Connects to the one Worker isolate and reads what it retains at rest (after a full GC). */
async function openHeap(
  workerPids: number[],
  poke: () => Promise<void>,
): Promise<{ state: HeapState; before: HeapUsage | null }> {
  const state: HeapState = { heap: null, error: null };
  try {
    if (workerPids.length !== 1) throw new Error(`expected one Worker workerd, found ${workerPids.length}`);
    state.heap = await connectIsolateHeap(workerPids[0]!);
    return { state, before: await state.heap.retained(poke) };
  } catch (e) {
    loseHeap(state, e);
    return { state, before: null };
  }
}

interface RssSamples {
  worker: number[];
  proxy: number[];
  /** Largest V8 heap reservation seen (not a collection: the heap as V8 sized it, what RSS follows). */
  heapTotalMaxMiB: number;
}

/** Samples both workerds' RSS (and the heap's reservation) every SAMPLE_EVERY_MS until `stop`. */
function sampleRss(
  pids: { worker: number[]; proxy: number[] },
  state: HeapState,
): { samples: RssSamples; stop: () => Promise<void> } {
  const samples: RssSamples = { worker: [], proxy: [], heapTotalMaxMiB: 0 };
  let done = false;
  const loop = (async () => {
    while (!done) {
      samples.worker.push(rssMiB(pids.worker));
      samples.proxy.push(rssMiB(pids.proxy));
      if (state.heap) {
        const total = (await state.heap.usage().catch(() => null))?.totalMiB ?? 0;
        samples.heapTotalMaxMiB = Math.max(samples.heapTotalMaxMiB, total);
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  return {
    samples,
    stop: () => {
      done = true;
      return loop;
    },
  };
}

/**
 * The reader's pause handler: at each pause (the stream at rest, the gateway holding at most its one
 * read), a full collection. During a stream that flows, workerd takes the command only when the
 * stream ends, so the client stops reading for the moment of the collection instead.
 */
function collectAtPauses(
  state: HeapState,
  poke: () => Promise<void>,
  during: RetainedSample[],
): (bytes: number) => Promise<void> {
  const t0 = performance.now();
  return async (bytes) => {
    if (!state.heap) return;
    try {
      const u = await state.heap.retained(poke);
      const atMs = Math.round(performance.now() - t0);
      during.push({ atMs, bytes, retainedMiB: retainedOf(u), heapTotalMiB: u.totalMiB });
    } catch (e) {
      loseHeap(state, e);
    }
  };
}

/** What the isolate retains after the stream, and how often the session was reopened; closes it. */
async function closeHeap(
  state: HeapState,
  poke: () => Promise<void>,
): Promise<{ after: HeapUsage | null; reconnects: number }> {
  const heap = state.heap;
  if (!heap) return { after: null, reconnects: 0 };
  const reconnects = heap.reconnects;
  let after: HeapUsage | null = null;
  try {
    after = await heap.retained(poke);
  } catch (e) {
    state.error = (e as Error).message;
  }
  heap.close();
  return { after, reconnects };
}

/** The trace in one line of the bench log. */
function describeTrace(t: MemoryTrace, reconnects: number): string {
  const mib = (x: number) => x.toFixed(0);
  const r = t.retained;
  const isolate = r
    ? `isolate retains ${retainedOf(r.before).toFixed(1)} → max ${r.during.length ? Math.max(...r.during.map((d) => d.retainedMiB)).toFixed(1) : '–'} (${r.during.length} collections) → ${retainedOf(r.after).toFixed(1)} MiB, V8 heap reserved up to ${r.heapTotalMaxMiB.toFixed(0)} MiB${reconnects ? ` (inspector session reopened ${reconnects}×)` : ''}`
    : `isolate heap not read (${t.retainedError})`;
  return `  ${t.target} long stream: ${(t.bytes / 1048576).toFixed(1)} MiB in ${t.seconds.toFixed(1)} s; Worker's workerd RSS ${mib(t.beforeMiB)} → max ${mib(Math.max(...t.duringMiB))} → ${mib(t.afterMiB)} MiB; ${isolate}; wrangler proxy ${mib(t.proxyBeforeMiB)} → max ${mib(Math.max(...t.proxyDuringMiB))} → ${mib(t.proxyAfterMiB)} MiB${t.error ? ` (error: ${t.error})` : ''}`;
}

export async function memoryTrace(
  target: 'sealed' | 'plain',
  pids: { worker: number[]; proxy: number[] },
  /**
   * Drains the long stream, pausing every so many bytes until `onPause` settles; resolves when it
   * has ended (or failed, or hit its cap).
   */
  drain: (onPause: (bytes: number) => Promise<void>) => Promise<LoadResult>,
  /** A cheap request to the Worker: workerd runs a queued collection only once its isolate is entered. */
  poke: () => Promise<void>,
  say: (s: string) => void,
): Promise<MemoryTrace> {
  const { state, before } = await openHeap(pids.worker, poke);
  const beforeMiB = rssMiB(pids.worker);
  const proxyBeforeMiB = rssMiB(pids.proxy);
  const sampler = sampleRss(pids, state);
  const during: RetainedSample[] = [];
  const r = await drain(collectAtPauses(state, poke, during)).finally(sampler.stop);
  await sleep(3_000);
  const afterMiB = rssMiB(pids.worker);
  const proxyAfterMiB = rssMiB(pids.proxy);
  const { after, reconnects } = await closeHeap(state, poke);
  const { worker, proxy, heapTotalMaxMiB } = sampler.samples;
  const trace: MemoryTrace = {
    target,
    bytes: r.bytes,
    seconds: r.seconds,
    error: r.firstError,
    beforeMiB,
    duringMiB: worker,
    afterMiB,
    proxyBeforeMiB,
    proxyDuringMiB: proxy,
    proxyAfterMiB,
    retained: before && after && state.error === null ? { before, during, after, heapTotalMaxMiB } : null,
    retainedError: state.error,
  };
  say(describeTrace(trace, reconnects));
  return trace;
}

export interface RetainedFigures {
  /** MiB retained by the idle isolate before the stream and 3 s after it (each after a full GC). */
  before: number;
  after: number;
  /** After − before: what the stream left behind. */
  leftBehind: number;
  /** Largest retained during the stream (in-flight reads and events included). */
  maxDuring: number | null;
  /**
   * How much retained memory grew over the stream: the Theil–Sen slope of retained against bytes
   * read (the median of the slopes between every two pauses) times the stream's bytes. A store per
   * byte or per frame passed grows it; a collection that lands on work in flight (a spike) or after
   * the gateway already sent its last byte (the client still reading what the proxy holds) is an
   * outlier the median ignores (Theil–Sen tolerates up to 29 % outliers). Pauses in the first
   * tenth and the last 16 MiB are left out (see `retainedFigures`).
   */
  growth: number | null;
  collections: number;
  heapTotalMax: number;
}

/** Fewer pauses than this give no slope (not judged). */
const MIN_PAUSES = 6;
/** A bound on what may sit downstream of the gateway (proxy, socket buffers) after its last byte. */
const TAIL_BYTES = 16 * 1024 * 1024;

/** Median of the pairwise slopes (Theil–Sen): robust to outliers, unlike least squares. */
function theilSen(points: { x: number; y: number }[]): number | null {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j]!.x - points[i]!.x;
      if (dx > 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
    }
  }
  if (slopes.length === 0) return null;
  slopes.sort((a, b) => a - b);
  const h = slopes.length >> 1;
  return slopes.length % 2 ? slopes[h]! : (slopes[h - 1]! + slopes[h]!) / 2;
}

export function retainedFigures(m: MemoryTrace): RetainedFigures | null {
  const r = m.retained;
  if (!r) return null;
  // Pauses while the gateway is still streaming: the first tenth (the answer being set up) and the
  // last TAIL_BYTES (by then the gateway may have sent its last byte, which waits in wrangler's proxy
  // and the sockets for the client: the isolate is idle again) are left out.
  const inStream = r.during.filter((d) => d.bytes >= m.bytes / 10 && d.bytes <= m.bytes - TAIL_BYTES);
  const slope =
    inStream.length >= MIN_PAUSES ? theilSen(inStream.map((d) => ({ x: d.bytes, y: d.retainedMiB }))) : null;
  const before = retainedOf(r.before);
  const after = retainedOf(r.after);
  return {
    before,
    after,
    leftBehind: after - before,
    maxDuring: r.during.length ? Math.max(...r.during.map((d) => d.retainedMiB)) : null,
    growth: slope === null ? null : slope * m.bytes,
    collections: r.during.length,
    heapTotalMax: r.heapTotalMaxMiB,
  };
}
