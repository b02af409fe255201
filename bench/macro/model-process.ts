/** The model server (bench/macro/model-server.ts) in its own process, for the macro bench and the profiler. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Starts the model server process; resolves with its URL. */
export function startModelServerProcess(
  root: string,
  longStreamBytes = 100 * 1024 * 1024,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/macro/model-server.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_LONG_BYTES: String(longStreamBytes) },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ url: (JSON.parse(line) as { url: string }).url, child });
    });
    child.once('exit', (code) => reject(new Error(`model server exited (${code})`)));
  });
}
