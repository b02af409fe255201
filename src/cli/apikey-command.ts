/**
 * `sealgate apikey create|update|show|revoke`: API keys for the gateway and their limits. A key is
 * shown once, at creation; the gateway stores only its SHA-256 (`apikey:<hex>` in KV,
 * docs/gateway.md), so a KV dump yields no usable key. The entry is
 * `{name?, createdAt, limits?: {rpm?, tpm?, budgetTokens?, budgetPeriod?}}`; the gateway reads it
 * again within 30 s, so a change needs no restart. KV goes through `wrangler kv key` (wrangler-kv.ts):
 * `--local` for the running local stack, `--env` for an environment; `--print` (create, revoke)
 * only prints the command.
 */
import { toBase64Url } from '../bytes.js';
import { hashApiKey } from '../gateway/kv/api-keys.js';
import { kvKeys } from '../gateway/kv/kv-store.js';
import { parseKeyLimits } from '../gateway/limits/key-limits.js';
import { isRecord } from '../json/object-guards.js';
import { applyLimitFlags, LIMIT_FLAGS } from './apikey-limits.js';
import { type ParsedFlags, parseFlags, UsageError } from './args.js';
import type { CommandResult } from './result.js';
import { commandLine, type KvTarget, kvGet, runWrangler, wranglerKvArgs } from './wrangler-kv.js';

const TARGET = '[--env ENV] [--local [--persist-to DIR]]';
const LIMITS = '[--rpm N] [--tpm N] [--budget-tokens N --budget-period day|month]';
export const APIKEY_USAGE = [
  `apikey create [--name NAME] ${LIMITS} ${TARGET} [--print]`,
  `apikey update (--key KEY | --hash HEX) [--name NAME] ${LIMITS} ${TARGET}   (N or none)`,
  `apikey show (--key KEY | --hash HEX) ${TARGET}`,
  `apikey revoke (--key KEY | --hash HEX) ${TARGET} [--print]`,
];

const SUBCOMMANDS = ['create', 'update', 'show', 'revoke'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

export async function apikeyCommand(argv: readonly string[], now: () => Date): Promise<CommandResult> {
  const [sub, ...rest] = argv;
  if (!SUBCOMMANDS.includes(sub as Sub)) {
    throw new UsageError(
      sub === undefined
        ? `apikey: missing subcommand (${SUBCOMMANDS.join(', ')})`
        : `apikey: unknown subcommand ${sub}`,
    );
  }
  const flags = parseFlags(rest, flagSpec(sub as Sub));
  const target = targetOf(flags);
  switch (sub as Sub) {
    case 'create':
      return create(flags, target, now);
    case 'update':
      return update(flags, target);
    case 'show':
      return show(flags, target);
    case 'revoke':
      return revoke(flags, target);
  }
}

function flagSpec(sub: Sub) {
  const ids = sub === 'create' ? [] : ['key', 'hash'];
  const limits = sub === 'create' || sub === 'update' ? [...LIMIT_FLAGS, 'name'] : [];
  const print = sub === 'create' || sub === 'revoke' ? ['print'] : [];
  return { values: [...ids, ...limits, 'env', 'persist-to'], switches: ['local', ...print] };
}

function targetOf(flags: ParsedFlags): KvTarget {
  const local = flags.switches.has('local');
  if (flags.values['persist-to'] !== undefined && !local)
    throw new UsageError('--persist-to goes with --local');
  return { env: flags.values.env, local, persistTo: flags.values['persist-to'] };
}

function checkName(name: string | undefined): void {
  if (name !== undefined && !/^[\x20-\x7e]{1,64}$/.test(name)) {
    throw new UsageError('--name: 1 to 64 printable ASCII characters');
  }
}

/** The KV key of the API key named by `--key` or `--hash`. */
async function entryKey(flags: ParsedFlags): Promise<string> {
  const v = flags.values;
  if ((v.key === undefined) === (v.hash === undefined))
    throw new UsageError('give exactly one of --key or --hash');
  const hash = v.hash ?? (await hashApiKey(v.key!));
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new UsageError('--hash: 64 lower-case hex characters');
  return kvKeys.apiKey(hash);
}

async function create(flags: ParsedFlags, target: KvTarget, now: () => Date): Promise<CommandResult> {
  const v = flags.values;
  checkName(v.name);
  const limits = applyLimitFlags(null, v, false);
  // 32 random bytes: the key's strength; the prefix only tells people what it is.
  const secret = `sk-sealgate-${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const kvKey = kvKeys.apiKey(await hashApiKey(secret));
  const entry = {
    ...(v.name ? { name: v.name } : {}),
    createdAt: now().toISOString(),
    ...(limits ? { limits } : {}),
  };
  const args = wranglerKvArgs('put', kvKey, JSON.stringify(entry), target);
  if (flags.switches.has('print')) return { stdout: `${secret}\n${commandLine(args)}\n`, exitCode: 0 };
  const failed = await write(args);
  if (failed) return failed;
  return {
    stdout: `${secret}\n`,
    stderr: `created ${kvKey.slice(0, 'apikey:'.length + 12)}… — the key is shown only now; store it safely\n`,
    exitCode: 0,
  };
}

/** The stored entry as an object (operator-written; one that is not an object is refused). */
async function readEntry(kvKey: string, target: KvTarget): Promise<Record<string, unknown> | CommandResult> {
  const text = await kvGet(kvKey, target);
  if (text === null) return { stdout: '', stderr: `no such API key (${kvKey})\n`, exitCode: 1 };
  try {
    const value: unknown = JSON.parse(text);
    if (isRecord(value)) return value;
  } catch {}
  return { stdout: '', stderr: `the entry ${kvKey} is not a JSON object; fix it by hand\n`, exitCode: 1 };
}

const isResult = (x: object): x is CommandResult => 'exitCode' in x;

async function update(flags: ParsedFlags, target: KvTarget): Promise<CommandResult> {
  const v = flags.values;
  checkName(v.name);
  const kvKey = await entryKey(flags);
  const entry = await readEntry(kvKey, target);
  if (isResult(entry)) return entry;
  const current = parseKeyLimits(entry.limits);
  const limits = applyLimitFlags(current === 'invalid' ? null : current, v, true);
  const { limits: _old, ...rest } = entry;
  const next = { ...rest, ...(v.name ? { name: v.name } : {}), ...(limits ? { limits } : {}) };
  const failed = await write(wranglerKvArgs('put', kvKey, JSON.stringify(next), target));
  if (failed) return failed;
  return { stdout: `${JSON.stringify(next)}\n`, stderr: `updated ${kvKey}\n`, exitCode: 0 };
}

async function show(flags: ParsedFlags, target: KvTarget): Promise<CommandResult> {
  const entry = await readEntry(await entryKey(flags), target);
  if (isResult(entry)) return entry;
  return { stdout: `${JSON.stringify(entry, null, 2)}\n`, exitCode: 0 };
}

async function revoke(flags: ParsedFlags, target: KvTarget): Promise<CommandResult> {
  const kvKey = await entryKey(flags);
  const args = wranglerKvArgs('delete', kvKey, null, target);
  if (flags.switches.has('print')) return { stdout: `${commandLine(args)}\n`, exitCode: 0 };
  const failed = await write(args);
  return failed ?? { stdout: `revoked ${kvKey}\n`, exitCode: 0 };
}

/** Runs a wrangler write; the failure to return, or null. */
async function write(args: string[]): Promise<CommandResult | null> {
  const r = await runWrangler(args);
  if (r.code === 0) return null;
  return { stdout: '', stderr: `wrangler failed (${r.code}):\n${r.stdout}${r.stderr}\n`, exitCode: 1 };
}
