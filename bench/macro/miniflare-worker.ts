/**
 * A Worker run the way Cloudflare runs it, for the macro benchmark (issue #18 target 1): bundled by
 * wrangler exactly as `wrangler deploy` would (`--dry-run --outdir`: its nodejs_compat handling,
 * wrangler.toml's `keep_names = false`), then served by ONE workerd through Miniflare — real KV and
 * Durable Objects (SQLite, persisted to a fresh folder), no `wrangler dev` proxy workerd in front,
 * no inspector session attached (an inspector port is opened only when asked, for the memory trace,
 * which attaches after the load phases). Miniflare's own entry router runs inside that same workerd.
 *
 * `pids`: the workerd process(es) Miniflare started for this Worker (children of this process that
 * appeared while it started), whose CPU is the Worker's.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

export interface MiniflareWorker {
  url: string;
  pids: number[];
  mf: Miniflare;
  exited(): boolean;
  close(): Promise<void>;
}

/** The Worker of `config` (default wrangler.toml) bundled into `outdir` as `wrangler deploy` would. */
export function bundleWithWrangler(root: string, outdir: string, config?: string): Promise<void> {
  const args = [
    'wrangler',
    'deploy',
    '--dry-run',
    '--outdir',
    outdir,
    ...(config ? ['--config', config] : []),
  ];
  return new Promise((resolve, reject) =>
    execFile(
      'npx',
      args,
      {
        cwd: root,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`wrangler bundle failed: ${stderr}`)) : resolve(),
    ),
  );
}

/** workerd processes whose parent is this process. */
export function childWorkerds(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('workerd')) out.push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** A Rate Limiting binding as Miniflare takes it (wrangler's `[[ratelimits]]` entries). */
export type RateLimitBindings = Record<
  string,
  { namespace_id: string; simple: { limit: number; period?: 10 | 60 } }
>;

export async function startMiniflareWorker(input: {
  root: string;
  /** Folder for the bundle (and nothing else). */
  dir: string;
  /** A wrangler config other than the repo's wrangler.toml. */
  config?: string;
  /** The bundle's entry file name in `dir` (wrangler names it after `main`). */
  entry: string;
  port: number;
  bindings: Record<string, string>;
  /** KV bindings: names (the name is the namespace id) or wrangler's `{ BINDING: { id } }`. */
  kv?: string[] | Record<string, { id: string }>;
  /** Class names, or wrangler's own entries (`{ className, useSQLite }`). */
  durableObjects?: Record<string, string | { className: string; useSQLite?: boolean }>;
  /** Workers Rate Limiting bindings, as wrangler derives them from `[[ratelimits]]`. */
  ratelimits?: RateLimitBindings;
  /**
   * wrangler's `--persist-to` folder: the state lives in its `v3/` (as `wrangler dev` and
   * `wrangler kv … --local --persist-to` keep it), so `sealgate apikey --local` reaches it.
   */
  persistTo?: string;
  inspectorPort?: number;
}): Promise<MiniflareWorker> {
  const outdir = join(input.dir, 'bundle');
  await bundleWithWrangler(input.root, outdir, input.config);
  const before = new Set(childWorkerds());
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: join(outdir, input.entry),
      modulesRoot: outdir,
      compatibilityDate: '2025-06-01',
      compatibilityFlags: ['nodejs_compat'],
      kvNamespaces: input.kv ?? [],
      durableObjects: input.durableObjects ?? {},
      ...(input.ratelimits ? { ratelimits: input.ratelimits } : {}),
      bindings: input.bindings,
      host: '127.0.0.1',
      port: input.port,
      ...(input.persistTo ? { resourcePersistencePath: join(input.persistTo, 'v3') } : {}),
      ...(input.inspectorPort ? { inspectorPort: input.inspectorPort } : {}),
    }),
  );
  await mf.ready;
  const pids = childWorkerds().filter((p) => !before.has(p));
  let closed = false;
  return {
    url: `http://127.0.0.1:${input.port}`,
    pids,
    mf,
    exited: () => closed,
    close: async () => {
      closed = true;
      await mf.dispose();
    },
  };
}

/**
 * The gateway's Durable Objects and Rate Limiting bindings exactly as wrangler.toml declares them
 * (a limited key needs `KEY_USAGE` and its `RPM_<n>` binding; the gateway refuses it without), and
 * its KV namespace under wrangler.toml's id, where `sealgate apikey create --local` writes.
 */
export function gatewayBindingsFromWranglerToml(root: string) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, 'wrangler.toml'));
  return {
    durableObjects: workerOptions.durableObjects as Record<
      string,
      { className: string; useSQLite?: boolean }
    >,
    ratelimits: (workerOptions.ratelimits ?? {}) as RateLimitBindings,
    // The namespace id wrangler.toml names: `sealgate apikey create --local` writes under it.
    kv: workerOptions.kvNamespaces as Record<string, { id: string }>,
  };
}

/**
 * The gateway bundled as `wrangler deploy` bundles it and served by one workerd, with wrangler.toml's
 * Durable Objects, Rate Limiting bindings and KV namespace id: what `startStack`'s `runGateway`
 * gets in the macro bench and the profiler.
 */
export function startGatewayWorker(
  root: string,
  dir: string,
  input: {
    port: number;
    vars: Record<string, string>;
    persistTo?: string | undefined;
    /** Opened only when given (the profiler and the memory trace attach there). */
    inspectorPort?: number;
  },
): Promise<MiniflareWorker> {
  return startMiniflareWorker({
    root,
    dir,
    entry: 'worker.js',
    port: input.port,
    bindings: input.vars,
    ...gatewayBindingsFromWranglerToml(root),
    ...(input.persistTo ? { persistTo: input.persistTo } : {}),
    ...(input.inspectorPort ? { inspectorPort: input.inspectorPort } : {}),
  });
}

/**
 * `startStack`'s options as the bench tools run it (src/dev/stack.ts): the attestation service and
 * AI worker on free ports, development files and persisted state under `dir`, the model server at
 * `modelUrl`, quiet. The caller adds `runGateway`.
 */
export function benchStackOptions(dir: string, port: number, modelUrl: string) {
  return {
    port,
    servicePort: 0,
    workerPort: 0,
    devDir: join(dir, 'dev'),
    persistTo: join(dir, 'state'),
    modelUrl,
    verbose: false,
  };
}
