/**
 * End-to-end helpers: the REAL local stack (`startStack`, src/dev/stack.ts — what `npm start`
 * runs: attestation service and AI worker in this process on SIMULATED hardware, the gateway Worker
 * under `wrangler dev` in its own process group) on free ports, with its dev chain, manifest and
 * wrangler state in a temporary folder of its own; `curl`; and process-group checks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type RunningStack, type StackOptions, startStack } from '../../src/dev/stack.js';

/** A port nobody listens on now (the OS picks it; the throwaway server is closed before use). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `n` distinct ports nobody listens on now. Every throwaway server stays open until all are chosen:
 * picked one after another, each closed first, the OS may hand out the same port twice (seen: the
 * gateway and the service of one `npm start` given the same port).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Whether any process of the group `pgid` exists (signal 0 checks without signalling). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The processes of group `pgid` as `ps` lists them (`pid args`), none when it is gone. */
export async function groupProcesses(pgid: number): Promise<string[]> {
  return (await listProcesses()).filter((p) => p.pgid === pgid).map((p) => `${p.pid} ${p.args}`);
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  args: string;
}

/** Every process `ps` lists now. */
export function listProcesses(): Promise<ProcessInfo[]> {
  return new Promise((resolve, reject) =>
    execFile('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(
        stdout
          .split('\n')
          .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/))
          .filter((m): m is RegExpMatchArray => m !== null)
          .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), args: m[4] ?? '' })),
      );
    }),
  );
}

/** `root` and all its descendants, as `ps` lists them now. */
export async function processTree(root: number): Promise<ProcessInfo[]> {
  const all = await listProcesses();
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) {
    for (const p of all) if (p.ppid === tree[i]?.pid) tree.push(p);
  }
  return tree;
}

/**
 * Polls `probe` (every `intervalMs`) until it returns a value other than `undefined`, which it
 * resolves with. The deadline only bounds a hang — it throws `what` then; nothing asserts timings.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { deadlineMs: number; intervalMs?: number },
): Promise<T> {
  const until = Date.now() + opts.deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what}: not within ${opts.deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}

/**
 * Resolves once no process of the group is left; polls, because a process group has no event to
 * wait on. The deadline only bounds a hang: callers assert the state afterwards.
 */
export async function groupGone(pgid: number, deadlineMs = 15_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (groupAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

export interface E2eStack extends RunningStack {
  /** The temporary folder: dev chain, manifest, wrangler state. */
  dir: string;
  /**
   * Stops the stack, waits for wrangler's process group to vanish, removes the folder. `running`:
   * the group's processes before (wrangler, workerd); `leftover`: after (must be none).
   */
  stop(): Promise<{ running: string[]; leftover: string[] }>;
}

/** `startStack` on free ports, quiet, with its own dev dir and wrangler state. */
export async function startE2eStack(opts: StackOptions = {}): Promise<E2eStack> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-e2e-'));
  try {
    const stack = await startStack({
      port: await freePort(),
      servicePort: 0,
      workerPort: 0,
      devDir: join(dir, 'dev'),
      persistTo: join(dir, 'wrangler-state'),
      verbose: process.env.SEALGATE_E2E_VERBOSE === '1',
      readyTimeoutMs: 150_000,
      ...opts,
    });
    return {
      ...stack,
      dir,
      async stop() {
        const pgid = stack.gatewayPid;
        if (pgid === undefined) throw new Error('wrangler dev had no pid');
        const running = await groupProcesses(pgid);
        await stack.close();
        await groupGone(pgid);
        const leftover = await groupProcesses(pgid);
        if (leftover.length > 0) process.kill(-pgid, 'SIGKILL'); // reported, but never left running
        await rm(dir, { recursive: true, force: true });
        return { running, leftover };
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Time for a file's stack to come up: wrangler's first bundle and the first attestation. */
export const E2E_START_MS = 180_000;
/** Time to stop it and see wrangler's process group gone. */
export const E2E_STOP_MS = 60_000;

/**
 * A file's afterAll: stops its own stack when it started and asserts that nothing of wrangler's
 * process group is left (with `ranWorkerd`, also that the group did run workerd); then closes what
 * the file started beside the stack (a model server), in order, even when an assertion failed.
 */
export async function stopE2eStack(
  stack: E2eStack | undefined,
  opts: { ranWorkerd?: boolean; beside?: readonly ({ close(): Promise<void> } | undefined)[] } = {},
): Promise<void> {
  try {
    if (!stack) return;
    const { running, leftover } = await stack.stop();
    if (opts.ranWorkerd) expect(running.some((p) => /workerd/.test(p))).toBe(true);
    expect(leftover).toEqual([]);
  } finally {
    for (const server of opts.beside ?? []) await server?.close();
  }
}

export interface CurlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real `curl` binary; `-sS` (quiet, but errors on stderr). Never rejects: callers assert. */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `curl -i` output → status, headers (lower-case names), body. */
export function parseCurlInclude(out: string): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const normalized = out.replace(/\r\n/g, '\n');
  const cut = normalized.indexOf('\n\n');
  const head = normalized.slice(0, cut).split('\n');
  const status = Number(head[0]?.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: normalized.slice(cut + 2) };
}
