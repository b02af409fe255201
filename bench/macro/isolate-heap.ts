/**
 * The gateway Worker's own V8 heap, read over the DevTools protocol of the workerd that runs it.
 *
 * Why not RSS alone: V8 sizes its heap by its own heuristics (it grows the heap before it collects,
 * and what it has grown stays mapped until a full GC shrinks it), so the RSS of a workerd can rise by
 * tens of MiB during a long stream while the objects it holds do not grow at all. What a leak looks
 * like is *retained* memory growing with the bytes passed: the heap still in use right after a full
 * collection (`HeapProfiler.collectGarbage`), plus the ArrayBuffer backing stores V8 keeps outside
 * its heap (`Runtime.getHeapUsage().backingStorageSize`).
 *
 * `wrangler dev` starts the Worker's workerd with `--inspector-addr=localhost:0`; its proxy workerd
 * holds the public inspector (9229) and forwards to that one. We talk to the Worker's own inspector
 * directly: found among the process's listening sockets as the one that answers `/json/list`.
 *
 * workerd runs inspector commands that need the isolate only when the isolate is entered, so a
 * collection on an idle gateway waits for the next request: `collectGarbage` keeps `poke()`ing (a
 * cheap GET) until the command returns.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';

export interface HeapUsage {
  /** MiB in use in the V8 heap. */
  usedMiB: number;
  /** MiB the V8 heap has reserved (what RSS follows). */
  totalMiB: number;
  /** MiB of ArrayBuffer backing stores (outside the heap). */
  backingMiB: number;
}

export interface IsolateHeap {
  usage(): Promise<HeapUsage>;
  /** A full collection, then the usage: what the isolate retains. */
  retained(poke: () => Promise<void>): Promise<HeapUsage>;
  /** How often the session was taken by another client and reopened. */
  readonly reconnects: number;
  close(): void;
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** TCP ports the process listens on: its socket inodes matched against /proc/net/tcp{,6} in LISTEN (0A). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed while we looked
    }
  }
  const ports: number[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) {
        ports.push(Number.parseInt(f[1]!.split(':')[1]!, 16));
      }
    }
  }
  return ports;
}

async function debuggerUrl(pid: number): Promise<string> {
  for (const port of listeningPorts(pid)) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1_000) });
      if (!res.ok) continue;
      const list = (await res.json()) as { webSocketDebuggerUrl?: string }[];
      const url = Array.isArray(list)
        ? list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl
        : undefined;
      if (url) return url;
    } catch {
      // not the inspector (the Worker's own sockets answer something else or nothing)
    }
  }
  throw new Error(`no DevTools inspector among the listening sockets of workerd ${pid}`);
}

/** A command's connection went away: the command may be sent again on a new one. */
class SessionLost extends Error {}

/**
 * workerd keeps ONE inspector session per Worker: a new connection closes the one before it ("client
 * closed connection", code 1000). wrangler dev's own inspector proxy connects again after each
 * reload of the Worker, and may take the session from us; it does not reconnect when we take it
 * back. So a lost session is reopened, up to `MAX_RECONNECTS` times, and the command sent again.
 */
const MAX_RECONNECTS = 5;

type Pending = { resolve: (r: unknown) => void; reject: (e: Error) => void };

/** One DevTools session on `url`: commands matched to their replies by id, the session reopened when lost. */
class InspectorSession {
  readonly #url: string;
  #ws: WebSocket | null = null;
  #id = 0;
  #reconnects = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(url: string) {
    this.#url = url;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** The open socket, or a new one (which takes the session from any other client). */
  async open(): Promise<WebSocket> {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) return this.#ws;
    const next = new WebSocket(this.#url);
    await new Promise<void>((resolve, reject) => {
      next.once('open', () => resolve());
      next.once('error', reject);
    });
    next.on('message', (data) => this.#reply(data));
    next.on('close', (code, reason) => {
      if (this.#ws === next) this.#ws = null;
      for (const p of this.#pending.values())
        p.reject(new SessionLost(`inspector session closed (${code} ${String(reason)})`));
      this.#pending.clear();
    });
    this.#ws = next;
    return next;
  }

  #reply(data: WebSocket.RawData): void {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const p = msg.id === undefined ? undefined : this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id!);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  }

  async #send<T>(method: string): Promise<T> {
    const socket = await this.open();
    return new Promise<T>((resolve, reject) => {
      const n = ++this.#id;
      this.#pending.set(n, { resolve: resolve as (r: unknown) => void, reject });
      socket.send(JSON.stringify({ id: n, method }));
    });
  }

  /** `method`'s result, sent again on a new session when the session was lost (up to MAX_RECONNECTS). */
  async call<T>(method: string): Promise<T> {
    for (;;) {
      try {
        return await this.#send<T>(method);
      } catch (e) {
        if (!(e instanceof SessionLost) || this.#reconnects >= MAX_RECONNECTS) throw e;
        this.#reconnects++;
      }
    }
  }

  close(): void {
    this.#ws?.close();
  }
}

async function heapUsage(session: InspectorSession): Promise<HeapUsage> {
  const u = await session.call<{ usedSize: number; totalSize: number; backingStorageSize?: number }>(
    'Runtime.getHeapUsage',
  );
  return {
    usedMiB: u.usedSize / MiB,
    totalMiB: u.totalSize / MiB,
    backingMiB: (u.backingStorageSize ?? 0) / MiB,
  };
}

/** A full collection, `poke()`d along until workerd enters the isolate and runs it (30 s at most). */
async function collectGarbage(session: InspectorSession, poke: () => Promise<void>): Promise<void> {
  let done = false;
  const gc = session.call<unknown>('HeapProfiler.collectGarbage').finally(() => {
    done = true;
  });
  const deadline = Date.now() + 30_000;
  while (!done) {
    if (Date.now() > deadline) throw new Error('HeapProfiler.collectGarbage did not return within 30 s');
    await Promise.race([
      gc,
      poke()
        .catch(() => undefined)
        .then(() => sleep(100)),
    ]);
  }
  await gc;
}

export async function connectIsolateHeap(pid: number): Promise<IsolateHeap> {
  const session = new InspectorSession(await debuggerUrl(pid));
  await session.open();
  return {
    usage: () => heapUsage(session),
    async retained(poke) {
      await collectGarbage(session, poke);
      return heapUsage(session);
    },
    get reconnects() {
      return session.reconnects;
    },
    close: () => session.close(),
  };
}
