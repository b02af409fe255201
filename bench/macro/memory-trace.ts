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
  const rssSampler = (async () => {
    while (!done) {
      duringMiB.push(rssMiB(pids.worker));
      proxyDuringMiB.push(rssMiB(pids.proxy));
      if (heap) {
        // Not a collection: the heap's reservation as V8 sized it, what RSS follows.
        heapTotalMaxMiB = Math.max(heapTotalMaxMiB, (await heap.usage().catch(() => null))?.totalMiB ?? 0);
      }
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  // At each pause of the reader (the stream at rest, the gateway holding at most its one read), a
  // full collection: during a stream that flows, workerd takes the command only when the stream
  // ends, so the client stops reading for the moment of the collection instead.
  const onPause = async (bytes: number) => {
    if (!heap) return;
    try {
      const u = await heap.retained(poke);
      during.push({
        atMs: Math.round(performance.now() - t0),
        bytes,
        retainedMiB: retainedOf(u),
        heapTotalMiB: u.totalMiB,
      });
    } catch (e) {
      retainedError = (e as Error).message;
      heap.close();
      heap = null;
    }
  };
  const r = await drain(onPause).finally(() => {
    done = true;
  });
  await rssSampler;
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
