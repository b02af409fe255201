/**
 * `sealgate apikey create|update|show|revoke|seal`: API keys for the gateway and their limits. A key
 * is shown once, at creation; the gateway stores only its SHA-256 (`apikey:<hex>` in KV,
 * docs/gateway.md), so a KV dump yields no usable key. The entry is
 * `{name?, createdAt, limits?: {rpm?, tpm?, budgetTokens?, budgetPeriod?}}`, stored authenticated
 * under GATEWAY_SECRET (kv-auth.ts, kind `apiKeyEntry`; the secret: gateway-secret.ts) — the gateway
 * refuses any other — and read again within 30 s, so a change needs no restart. `show` says whether
 * the entry authenticates; `seal` (apikey-seal.ts) authenticates entries written without the
 * secret or under a previous one. KV goes through `wrangler kv key` (wrangler-kv.ts): `--local` for
 * the running local stack, `--env` for an environment; `--print` (create, revoke) only prints the
 * command.
 */
import { toBase64Url } from '../bytes.js';
import { hashApiKey } from '../gateway/kv/api-keys.js';
import { kvKeys } from '../gateway/kv/kv-store.js';
import { parseKeyLimits } from '../gateway/limits/key-limits.js';
import { sealApiKeyEntry, storedEntry } from './apikey-entry.js';
import { entryKey, writeKv } from './apikey-kv.js';
import { applyLimitFlags, LIMIT_FLAGS } from './apikey-limits.js';
import { seal } from './apikey-seal.js';
import { type ParsedFlags, parseFlags, UsageError } from './args.js';
import { apikeySecret } from './gateway-secret.js';
import { printable } from './printable.js';
import type { CommandResult } from './result.js';
import { commandLine, type KvTarget, kvGet, wranglerKvArgs } from './wrangler-kv.js';

const TARGET = '[--env ENV] [--local [--persist-to DIR]]';
const SECRET = '[--secret-file F]';
const LIMITS = '[--rpm N] [--tpm N] [--budget-tokens N --budget-period day|month]';
export const APIKEY_USAGE = [
  `apikey create [--name NAME] ${LIMITS} ${SECRET} ${TARGET} [--print]`,
  `apikey update (--key KEY | --hash HEX) [--name NAME] ${LIMITS} ${SECRET} ${TARGET}   (N or none)`,
  `apikey show (--key KEY | --hash HEX) ${SECRET} ${TARGET}`,
  `apikey revoke (--key KEY | --hash HEX) ${TARGET} [--print]`,
  `apikey seal (--key KEY | --hash HEX | --all) [--old-secret-file F] ${SECRET} ${TARGET}`,
  `  (GATEWAY_SECRET: --secret-file F, or env SEALGATE_GATEWAY_SECRET; --local: the dev dir's gateway-secret)`,
];

const SUBCOMMANDS = ['create', 'update', 'show', 'revoke', 'seal'] as const;
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
  // Every subcommand but revoke seals or checks entries: each asks for the secret once its other
  // flags are checked, and without one stops there (never a plain write).
  const secret = () => apikeySecret(flags.values['secret-file'], target.local);
  switch (sub as Sub) {
    case 'revoke':
      return revoke(flags, target);
    case 'create':
      return create(flags, target, secret, now);
    case 'update':
      return update(flags, target, secret);
    case 'show':
      return show(flags, target, secret);
    case 'seal':
      return seal(flags, target, secret);
  }
}

function flagSpec(sub: Sub) {
  const ids = sub === 'create' ? [] : ['key', 'hash'];
  const limits = sub === 'create' || sub === 'update' ? [...LIMIT_FLAGS, 'name'] : [];
  const secret = sub === 'revoke' ? [] : ['secret-file'];
  const sealing = sub === 'seal' ? ['old-secret-file'] : [];
  const switches = ['local', ...(sub === 'create' || sub === 'revoke' ? ['print'] : [])];
  return {
    values: [...ids, ...limits, ...secret, ...sealing, 'env', 'persist-to'],
    switches: sub === 'seal' ? [...switches, 'all'] : switches,
  };
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

/** The GATEWAY_SECRET to seal under (gateway-secret.ts), asked for when a subcommand needs it. */
type SecretSource = () => Promise<string>;

async function create(
  flags: ParsedFlags,
  target: KvTarget,
  secretOf: SecretSource,
  now: () => Date,
): Promise<CommandResult> {
  const v = flags.values;
  checkName(v.name);
  const limits = applyLimitFlags(null, v, false);
  const secret = await secretOf();
  // 32 random bytes: the key's strength; the prefix only tells people what it is.
  const apiKey = `sk-sealgate-${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const kvKey = kvKeys.apiKey(await hashApiKey(apiKey));
  const entry = {
    ...(v.name ? { name: v.name } : {}),
    createdAt: now().toISOString(),
    ...(limits ? { limits } : {}),
  };
  const args = wranglerKvArgs('put', kvKey, await sealApiKeyEntry(secret, kvKey, entry), target);
  if (flags.switches.has('print')) return { stdout: `${apiKey}\n${commandLine(args)}\n`, exitCode: 0 };
  const failed = await writeKv(args);
  if (failed) return failed;
  return {
    stdout: `${apiKey}\n`,
    stderr: `created ${kvKey.slice(0, 'apikey:'.length + 12)}… — the key is shown only now; store it safely\n`,
    exitCode: 0,
  };
}

const failure = (stderr: string): CommandResult => ({ stdout: '', stderr, exitCode: 1 });

/** What `show` says of an entry in each state (the gateway accepts only `sealed`). */
const VERDICT = {
  sealed: 'the entry authenticates under this GATEWAY_SECRET: the gateway accepts the key',
  plain:
    'the entry does NOT authenticate (written without GATEWAY_SECRET): the gateway refuses the key; check it, then `apikey seal`',
  foreign:
    'the entry does NOT authenticate under this GATEWAY_SECRET (another secret, another key, or altered): the gateway refuses the key',
  unreadable: 'the entry is not an API key entry: the gateway refuses the key',
} as const;

async function update(flags: ParsedFlags, target: KvTarget, secretOf: SecretSource): Promise<CommandResult> {
  const v = flags.values;
  checkName(v.name);
  const kvKey = await entryKey(flags);
  const secret = await secretOf();
  const text = await kvGet(kvKey, target);
  if (text === null) return failure(`no such API key (${kvKey})\n`);
  const entry = await storedEntry(secret, kvKey, text);
  if (entry.state !== 'sealed') return failure(`${VERDICT[entry.state]}; not updated\n`);
  const current = parseKeyLimits(entry.value.limits);
  const limits = applyLimitFlags(current === 'invalid' ? null : current, v, true);
  const { limits: _old, ...rest } = entry.value;
  const next = { ...rest, ...(v.name ? { name: v.name } : {}), ...(limits ? { limits } : {}) };
  const failed = await writeKv(
    wranglerKvArgs('put', kvKey, await sealApiKeyEntry(secret, kvKey, next), target),
  );
  if (failed) return failed;
  return { stdout: `${JSON.stringify(next)}\n`, stderr: `updated ${kvKey}\n`, exitCode: 0 };
}

/** The entry (its value, when it has one to show) and whether it authenticates (exit 0) or not (1). */
async function show(flags: ParsedFlags, target: KvTarget, secretOf: SecretSource): Promise<CommandResult> {
  const kvKey = await entryKey(flags);
  const secret = await secretOf();
  const text = await kvGet(kvKey, target);
  if (text === null) return failure(`no such API key (${kvKey})\n`);
  const entry = await storedEntry(secret, kvKey, text);
  // Text that is not an entry's JSON is anyone's who can write KV: shown through `printable`.
  const shown = 'value' in entry ? JSON.stringify(entry.value, null, 2) : printable(text);
  return {
    stdout: `${shown}\n`,
    stderr: `${VERDICT[entry.state]}\n`,
    exitCode: entry.state === 'sealed' ? 0 : 1,
  };
}

async function revoke(flags: ParsedFlags, target: KvTarget): Promise<CommandResult> {
  const kvKey = await entryKey(flags);
  const args = wranglerKvArgs('delete', kvKey, null, target);
  if (flags.switches.has('print')) return { stdout: `${commandLine(args)}\n`, exitCode: 0 };
  const failed = await writeKv(args);
  return failed ?? { stdout: `revoked ${kvKey}\n`, exitCode: 0 };
}
