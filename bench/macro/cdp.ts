/**
 * The V8 DevTools protocol of a workerd (Miniflare's `inspectorPort`), as the profiler and the
 * latency trace use it: one session with the Worker's isolate, and the CPU profile's shape.
 */
import WebSocket from 'ws';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  /** µs, V8's monotonic clock (CLOCK_MONOTONIC on Linux, as Node's process.hrtime). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools protocol session with the first target of a workerd inspector port. */
export async function inspector(port: number) {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once('open', r));
  let id = 0;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  });
  return {
    send: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve) => {
        const n = ++id;
        pending.set(n, resolve as (v: unknown) => void);
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}
