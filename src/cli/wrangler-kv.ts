/**
 * The gateway's KV namespace through `wrangler kv key get|put|delete|list` (`--local` for `wrangler
 * dev`'s local state — the running local stack reads the same files, so a write there needs no
 * restart — `--env` for an environment of wrangler.toml, else `--remote`).
 */
import { spawn } from 'node:child_process';

const KV_BINDING = 'SEALGATE_KV';

export interface KvTarget {
  env?: string | undefined;
  local: boolean;
  persistTo?: string | undefined;
}

export function wranglerKvArgs(
  verb: 'get' | 'put' | 'delete' | 'list',
  key: string,
  value: string | null,
  t: KvTarget,
) {
  return [
    'wrangler',
    'kv',
    'key',
    verb,
    '--binding',
    KV_BINDING,
    ...(t.env ? ['--env', t.env] : []),
    t.local ? '--local' : '--remote',
    ...(t.persistTo ? ['--persist-to', t.persistTo] : []),
    ...(verb === 'list' ? ['--prefix', key] : [key]),
    ...(value === null ? [] : [value]),
    ...(verb === 'get' ? ['--text'] : []),
  ];
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command as a shell line (for `--print`). */
export function commandLine(args: readonly string[]): string {
  return `npx ${args.map((a) => (/^[\w:./=-]+$/.test(a) ? a : shellQuote(a))).join(' ')}`;
}

export function runWrangler(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        NO_COLOR: '1',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The text stored under `key`, or null when there is none. */
export async function kvGet(key: string, t: KvTarget): Promise<string | null> {
  const r = await runWrangler(wranglerKvArgs('get', key, null, t));
  if (r.code !== 0) throw new Error(`wrangler failed (${r.code}):\n${r.stdout}${r.stderr}`);
  return r.stdout.includes('Value not found') ? null : r.stdout.trim();
}

/** The names of the keys that start with `prefix` (`wrangler kv key list` prints a JSON array). */
export async function kvList(prefix: string, t: KvTarget): Promise<string[]> {
  const r = await runWrangler(wranglerKvArgs('list', prefix, null, t));
  if (r.code !== 0) throw new Error(`wrangler failed (${r.code}):\n${r.stdout}${r.stderr}`);
  let listed: unknown;
  try {
    listed = JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`wrangler kv key list printed no JSON:\n${r.stdout}`, { cause: e });
  }
  if (!Array.isArray(listed)) throw new Error('wrangler kv key list printed no JSON array');
  return listed.map((k: { name?: unknown }) => k?.name).filter((n): n is string => typeof n === 'string');
}
