/**
 * `sealgate apikey create|revoke`: API keys for the gateway. A key is shown once, at creation; the
 * gateway stores only its SHA-256 (`apikey:<hex>` in KV, docs/gateway.md), so a KV dump yields no
 * usable key. The KV write goes through `wrangler kv key put|delete` (`--local` for `wrangler dev`'s
 * local state, `--env` for an environment of wrangler.toml); `--print` only prints the command.
 */
import { spawn } from 'node:child_process';
import { toBase64Url } from '../bytes.js';
import { hashApiKey } from '../gateway/kv/api-keys.js';
import { kvKeys } from '../gateway/kv/kv-store.js';
import { parseFlags, UsageError } from './args.js';
import type { CommandResult } from './result.js';

export const APIKEY_USAGE = [
  'apikey create [--name NAME] [--env ENV] [--local [--persist-to DIR]] [--print]',
  'apikey revoke (--key KEY | --hash HEX) [--env ENV] [--local [--persist-to DIR]] [--print]',
];

const KV_BINDING = 'SEALGATE_KV';

function wranglerArgs(
  verb: 'put' | 'delete',
  key: string,
  value: string | null,
  env?: string,
  local?: boolean,
  persistTo?: string,
) {
  return [
    'wrangler',
    'kv',
    'key',
    verb,
    '--binding',
    KV_BINDING,
    ...(env ? ['--env', env] : []),
    local ? '--local' : '--remote',
    ...(persistTo ? ['--persist-to', persistTo] : []),
    key,
    ...(value === null ? [] : [value]),
  ];
}

function run(args: string[]): Promise<{ code: number; output: string }> {
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
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function apikeyCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const [sub, ...rest] = argv;
  if (sub !== 'create' && sub !== 'revoke') {
    throw new UsageError(
      sub === undefined ? 'apikey: missing subcommand (create, revoke)' : `apikey: unknown subcommand ${sub}`,
    );
  }
  const flags = parseFlags(rest, {
    values: sub === 'create' ? ['name', 'env', 'persist-to'] : ['key', 'hash', 'env', 'persist-to'],
    switches: ['local', 'print'],
  });
  const v = flags.values;
  const local = flags.switches.has('local');
  if (v['persist-to'] !== undefined && !local) throw new UsageError('--persist-to goes with --local');
  let kvKey: string;
  let value: string | null = null;
  let secret: string | null = null;
  if (sub === 'create') {
    if (v.name !== undefined && !/^[\x20-\x7e]{1,64}$/.test(v.name)) {
      throw new UsageError('--name: 1 to 64 printable ASCII characters');
    }
    // 32 random bytes: the key's strength; the prefix only tells people what it is.
    secret = `sk-sealgate-${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
    kvKey = kvKeys.apiKey(await hashApiKey(secret));
    value = JSON.stringify({ ...(v.name ? { name: v.name } : {}), createdAt: now().toISOString() });
  } else {
    if ((v.key === undefined) === (v.hash === undefined))
      throw new UsageError('give exactly one of --key or --hash');
    const hash = v.hash ?? (await hashApiKey(v.key!));
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new UsageError('--hash: 64 lower-case hex characters');
    kvKey = kvKeys.apiKey(hash);
  }
  const args = wranglerArgs(sub === 'create' ? 'put' : 'delete', kvKey, value, v.env, local, v['persist-to']);
  const command = `npx ${args.map((a) => (/^[\w:./=-]+$/.test(a) ? a : shellQuote(a))).join(' ')}`;
  if (flags.switches.has('print')) {
    return { stdout: `${secret ? `${secret}\n` : ''}${command}\n`, exitCode: 0 };
  }
  const result = await run(args);
  if (result.code !== 0) {
    return { stdout: '', stderr: `wrangler failed (${result.code}):\n${result.output}\n`, exitCode: 1 };
  }
  if (secret) {
    return {
      stdout: `${secret}\n`,
      stderr: `created ${kvKey.slice(0, 'apikey:'.length + 12)}… — the key is shown only now; store it safely\n`,
      exitCode: 0,
    };
  }
  return { stdout: `revoked ${kvKey}\n`, exitCode: 0 };
}
