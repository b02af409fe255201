/**
 * The gateway's memory while one long stream passes through it: the RSS of the workerd that runs the
 * Worker (and of wrangler dev's proxy in front of it), and — the figure that tells a leak from V8's
 * heap sizing — what the Worker's isolate *retains*: its V8 heap in use right after a full
 * collection, plus ArrayBuffer backing stores, read over the inspector (isolate-heap.ts) every
 * `GC_PAUSE_MS` through the stream, before it and after it.
 *
 * A stream that leaves something behind per byte (a tee, a growing buffer, a hash over the whole
 * answer kept as chunks) shows as retained memory rising from one collection to the next; V8 growing
 * its heap before it collects shows only in RSS and `totalMiB`, and is given back at the next full GC.
 * The forced collections change the RSS curve (each one may shrink the heap): the RSS figures of
 * this trace are of a stream with a full GC every few hundred milliseconds, not of an undisturbed one.
 */
import { readFileSync } from 'node:fs';
import { connectIsolateHeap, type HeapUsage, type IsolateHeap } from './isolate-heap.js';
import type { LoadResult } from './load-worker.js';

const GC_PAUSE_MS = 250;
const SAMPLE_EVERY_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One full collection during the stream: when (ms after its start) and what the isolate retained. */
export interface RetainedSample {
  atMs: number;
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

export async function memoryTrace(
  target: 'sealed' | 'plain',
  pids: { worker: number[]; proxy: number[] },
  /** Drains the long stream; resolves when it has ended (or failed, or hit its cap). */
  drain: () => Promise<LoadResult>,
  /** A cheap request to the Worker: workerd runs a queued collection only once its isolate is entered. */
  poke: () => Promise<void>,
  say: (s: string) => void,
): Promise<MemoryTrace> {
  let heap: IsolateHeap | null = null;
  let retainedError: string | null = null;
  try {
    if (pids.worker.length !== 1) throw new Error(`expected one Worker workerd, found ${pids.worker.length}`);
    heap = await connectIsolateHeap(pids.worker[0]!);
  } catch (e) {
    retainedError = (e as Error).message;
  }
  let retainedBefore: HeapUsage | null = null;
  if (heap) {
    try {
      retainedBefore = await heap.retained(poke);
    } catch (e) {
      retainedError = (e as Error).message;
      heap.close();
      heap = null;
    }
  }
  const beforeMiB = rssMiB(pids.worker);
  const proxyBeforeMiB = rssMiB(pids.proxy);
  const duringMiB: number[] = [];
  const proxyDuringMiB: number[] = [];
  const during: RetainedSample[] = [];
  let heapTotalMaxMiB = 0;
  let done = false;
  const t0 = performance.now();
  // RSS every SAMPLE_EVERY_MS; apart from it, a full collection GC_PAUSE_MS after the last one
  // returned (a collection waits until workerd next enters the isolate: mostly 20–50 ms during a
  // stream, now and then seconds).
  const rssSampler = (async () => {
    while (!done) {
      duringMiB.push(rssMiB(pids.worker));
      proxyDuringMiB.push(rssMiB(pids.proxy));
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  const heapSampler = (async () => {
    while (!done && heap) {
      try {
        heapTotalMaxMiB = Math.max(heapTotalMaxMiB, (await heap.usage()).totalMiB);
        const at = performance.now() - t0;
        const u = await heap.retained(poke);
        if (!done)
          during.push({ atMs: Math.round(at), retainedMiB: retainedOf(u), heapTotalMiB: u.totalMiB });
      } catch (e) {
        retainedError = (e as Error).message;
        heap.close();
        heap = null;
      }
      await sleep(GC_PAUSE_MS);
    }
  })();
  const r = await drain().finally(() => {
    done = true;
  });
  await Promise.all([rssSampler, heapSampler]);
  await sleep(3_000);
  const afterMiB = rssMiB(pids.worker);
  const proxyAfterMiB = rssMiB(pids.proxy);
  let retainedAfter: HeapUsage | null = null;
  let reconnects = 0;
  if (heap) {
    reconnects = heap.reconnects;
    try {
      retainedAfter = await heap.retained(poke);
    } catch (e) {
      retainedError = (e as Error).message;
    }
    heap.close();
  }
  const mib = (x: number) => x.toFixed(0);
  const retained =
    retainedBefore && retainedAfter && retainedError === null
      ? { before: retainedBefore, during, after: retainedAfter, heapTotalMaxMiB }
      : null;
  say(
    `  ${target} long stream: ${(r.bytes / 1048576).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s; Worker's workerd RSS ${mib(beforeMiB)} → max ${mib(Math.max(...duringMiB))} → ${mib(afterMiB)} MiB; ${
      retained
        ? `isolate retains ${retainedOf(retained.before).toFixed(1)} → max ${during.length ? Math.max(...during.map((d) => d.retainedMiB)).toFixed(1) : '–'} (${during.length} collections) → ${retainedOf(retained.after).toFixed(1)} MiB, V8 heap reserved up to ${heapTotalMaxMiB.toFixed(0)} MiB${reconnects ? ` (inspector session reopened ${reconnects}×)` : ''}`
        : `isolate heap not read (${retainedError})`
    }; wrangler proxy ${mib(proxyBeforeMiB)} → max ${mib(Math.max(...proxyDuringMiB))} → ${mib(proxyAfterMiB)} MiB${r.firstError ? ` (error: ${r.firstError})` : ''}`,
  );
  return {
    target,
    bytes: r.bytes,
    seconds: r.seconds,
    error: r.firstError,
    beforeMiB,
    duringMiB,
    afterMiB,
    proxyBeforeMiB,
    proxyDuringMiB,
    proxyAfterMiB,
    retained,
    retainedError,
  };
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
   * How much the floor of retained memory rose during the stream: the least retained in the second
   * half of the collections minus the least in the first half (the first tenth of the stream, when
   * the answer is still being set up, left out). A store per byte passed lifts the floor; the work in
   * flight when a collection lands (one network read of the worker's answer, its frames, decoded and
   * re-encoded: several MiB at a time) only makes spikes above it.
   */
  floorGrowth: number | null;
  collections: number;
  heapTotalMax: number;
}

/** Fewer collections than this in either half give no floor (not judged). */
const MIN_COLLECTIONS_PER_HALF = 3;

export function retainedFigures(m: MemoryTrace): RetainedFigures | null {
  const r = m.retained;
  if (!r) return null;
  const settled = r.during.filter((d) => d.atMs >= m.seconds * 100);
  const h = Math.floor(settled.length / 2);
  const floor = (xs: RetainedSample[]) => Math.min(...xs.map((d) => d.retainedMiB));
  const floorGrowth =
    h >= MIN_COLLECTIONS_PER_HALF
      ? floor(settled.slice(settled.length - h)) - floor(settled.slice(0, h))
      : null;
  const before = retainedOf(r.before);
  const after = retainedOf(r.after);
  return {
    before,
    after,
    leftBehind: after - before,
    maxDuring: r.during.length ? Math.max(...r.during.map((d) => d.retainedMiB)) : null,
    floorGrowth,
    collections: r.during.length,
    heapTotalMax: r.heapTotalMaxMiB,
  };
}
