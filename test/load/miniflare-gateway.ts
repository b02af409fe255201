/**
 * The gateway Worker under Miniflare (one workerd, real KV and Durable Object, persisted to a
 * folder), for the load test. Why not `wrangler dev`: wrangler puts its dev ProxyWorker (a second
 * workerd) in front of the Worker, and under sustained concurrent load that hop drops POSTs —
 * wrangler's own 503 "Your worker restarted mid-request" or a reset socket, before the gateway's
 * code sees the request (cloudflare/workers-sdk#14641, #15317). Measured here with 200 clients it
 * failed about a quarter of all requests, so a load test through it would measure the dev tool.
 * The code is the same: wrangler bundles it (`wrangler deploy --dry-run --outdir`, with its
 * nodejs_compat handling), Miniflare runs the bundle with wrangler.toml's bindings.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';

function bundle(outdir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      'npx',
      ['wrangler', 'deploy', '--dry-run', '--outdir', outdir],
      { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`wrangler bundle failed: ${stderr}`)) : resolve(),
    ),
  );
}

export async function runGatewayInMiniflare(
  dir: string,
  input: { port: number; vars: Record<string, string>; persistTo?: string },
): Promise<{ exited(): boolean; close(): Promise<void> }> {
  const outdir = join(dir, 'bundle');
  await bundle(outdir);
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: join(outdir, 'worker.js'),
      modulesRoot: outdir,
      compatibilityDate: '2025-06-01',
      compatibilityFlags: ['nodejs_compat'],
      kvNamespaces: ['SEALGATE_KV'],
      durableObjects: { KEY_ROTATION: 'KeyRotation' },
      bindings: input.vars,
      host: '127.0.0.1',
      port: input.port,
      ...(input.persistTo ? { resourcePersistencePath: input.persistTo } : {}),
    }),
  );
  await mf.ready;
  let closed = false;
  return {
    exited: () => closed,
    close: async () => {
      closed = true;
      await mf.dispose();
    },
  };
}
