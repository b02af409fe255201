/**
 * A newcomer's path: `npm start` itself, as a child process on free ports with its dev files in a
 * temporary folder, prints the gateway's URL, the manifest digest and the API key; `curl` gets an
 * answer from the built-in model through it; SIGTERM stops everything — npm exits and no process it
 * started (sh, tsx, the services, wrangler, workerd) is left. And when the process running
 * scripts/start.ts dies without its handlers (SIGKILL), the gateway's group still goes and its port
 * is free (src/dev/parent-watch.ts).
 *
 * The SIGTERM goes to the npm process alone, as a service manager that signals one pid does: npm
 * forwards it to its script, which `exec`s tsx (package.json `"start": "exec tsx …"`), so the
 * signal reaches scripts/start.ts, which stops the services and wrangler's own process group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  curl,
  freePorts,
  groupAlive,
  groupGone,
  listProcesses,
  parseCurlInclude,
  processTree,
} from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REPLY = 'You said: "hello" Backwards: "hello"';

let dir: string | undefined;
/** The process groups npm start made (its own, wrangler's): a failed test must not leave them. */
const groups = new Set<number>();

afterAll(async () => {
  for (const pgid of groups) {
    if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * `npm start` on three free ports with its dev files under `home`, in its own process group (added
 * to `groups`, so a failed test can still stop everything in afterAll); everything it prints, on
 * stdout and stderr, is appended to `out.text`. `port` is the gateway's.
 */
async function startNpm(home: string): Promise<{ npm: ChildProcess; out: { text: string }; port: number }> {
  const [port, servicePort, workerPort] = (await freePorts(3)) as [number, number, number];
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      SEALGATE_SERVICE_PORT: String(servicePort),
      SEALGATE_WORKER_PORT: String(workerPort),
      SEALGATE_DEV_DIR: join(home, 'dev'),
      NO_COLOR: '1',
    },
  });
  if (npm.pid !== undefined) groups.add(npm.pid);
  const out = { text: '' };
  const collect = (d: string) => {
    out.text += d;
  };
  npm.stdout?.setEncoding('utf8').on('data', collect);
  npm.stderr?.setEncoding('utf8').on('data', collect);
  return { npm, out, port };
}

/** Resolves with everything printed so far once `line` matches; rejects if npm exits first. */
function untilPrinted(proc: ChildProcess, out: { text: string }, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(out.text)) {
        proc.stdout?.off('data', check);
        proc.off('exit', exited);
        resolve();
      }
    };
    const exited = (code: number | null) => {
      proc.stdout?.off('data', check);
      reject(new Error(`npm start exited (${code}) before printing ${pattern}:\n${out.text}`));
    };
    proc.stdout?.on('data', check);
    proc.once('exit', exited);
    check();
  });
}

describe('npm start', () => {
  it('prints URL, manifest digest and API key; curl gets an answer; SIGTERM leaves nothing behind', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-npm-start-'));
    const { npm, out, port } = await startNpm(dir);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      npm.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await untilPrinted(npm, out, /Ctrl-C stops everything/);

    // What it prints: the URL, the manifest digest, the API key.
    const url = out.text.match(/\[sealgate\] gateway\s+(http:\/\/\S+)/)?.[1];
    const digest = out.text.match(/\[sealgate\] manifest\s+(\S+)/)?.[1];
    const apiKey = out.text.match(/\[sealgate\] API key\s+(\S+)/)?.[1];
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKey).toBe('sk-sealgate-local-development-key');
    expect(out.text).toMatch(/SIMULATED HARDWARE/);
    // The worker's GPUs registered under gpu.ocsp "require": answered by the stack's own responder.
    expect(out.text).toMatch(/GPU OCSP {4}http:\/\/127\.0\.0\.1:\d+ \(SIMULATED responder/);

    // curl, as the printed hint says.
    const r = await curl([
      '-i',
      `${url}/v1/chat/completions`,
      '-H',
      `authorization: Bearer ${apiKey}`,
      '-H',
      'content-type: application/json',
      '-d',
      '{"model":"sealgate-builtin","messages":[{"role":"user","content":"hello"}]}',
    ]);
    expect(r.code).toBe(0);
    const answer = parseCurlInclude(r.stdout);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-sealgate-manifest']).toBe(digest);
    expect(answer.headers['x-sealgate-simulated']).toBe('1');
    expect(JSON.parse(answer.body).choices[0].message.content).toBe(REPLY);

    // Everything npm started, while it runs: wrangler and workerd among them.
    const npmPid = npm.pid as number;
    const tree = await processTree(npmPid);
    const commands = tree.map((p) => p.args).join('\n');
    expect(commands).toMatch(/wrangler/);
    expect(commands).toMatch(/workerd/);
    for (const p of tree) groups.add(p.pgid);
    expect(groups.size).toBe(2); // npm's group, and wrangler's own (src/dev/stack.ts)

    // SIGTERM to the npm process alone: npm exits (re-raising the signal it forwarded)…
    process.kill(npmPid, 'SIGTERM');
    const { code, signal } = await exit;
    expect(code === 0 || signal === 'SIGTERM', `npm exited with code ${code}, signal ${signal}`).toBe(true);
    // …and nothing it started is left: no pid of its tree, no process in either group. (The stack
    // may still be closing when npm is gone: wait for the groups, then look.)
    for (const pgid of groups) await groupGone(pgid, 30_000);
    const pids = new Set(tree.map((p) => p.pid));
    const left = (await listProcesses()).filter((p) => pids.has(p.pid) || groups.has(p.pgid));
    expect(left).toEqual([]);
    const gateway = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}/healthz`]);
    expect(gateway.stdout).toBe('000'); // nothing listens on the gateway's port any more
  }, 240_000);

  it('SIGKILL of the process running scripts/start.ts: the gateway still exits and frees its port', async () => {
    const home = await mkdtemp(join(tmpdir(), 'sealgate-npm-start-kill-'));
    const { npm, out, port } = await startNpm(home);
    try {
      await untilPrinted(npm, out, /Ctrl-C stops everything/);
      const tree = await processTree(npm.pid as number);
      // The process that started wrangler is the one running scripts/start.ts (tsx's child).
      const wrangler = tree.find((p) => /wrangler/.test(p.args) && p.pgid !== npm.pid);
      expect(wrangler).toBeDefined();
      groups.add(wrangler!.pgid);
      process.kill(wrangler!.ppid, 'SIGKILL'); // no handler runs
      await groupGone(wrangler!.pgid, 15_000);
      expect(groupAlive(wrangler!.pgid)).toBe(false);
      const gateway = await curl([
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://127.0.0.1:${port}/healthz`,
      ]);
      expect(gateway.stdout).toBe('000');
    } finally {
      if (npm.pid !== undefined && groupAlive(npm.pid)) process.kill(-npm.pid, 'SIGKILL');
      await rm(home, { recursive: true, force: true });
    }
  }, 240_000);
});
