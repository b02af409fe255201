/**
 * `sealgate apikey seal (--key KEY | --hash HEX | --all) [--old-secret-file F]`: makes `apikey:`
 * entries authenticate under GATEWAY_SECRET again (docs/gateway.md "Upgrading: sealed API key
 * entries", "Rotating GATEWAY_SECRET"). Per entry:
 *
 *   authenticates already               left as it is
 *   plain JSON object (no MAC)          sealed as it stands — whoever can write KV could have
 *                                       written it, so `--all` prints every entry it seals (its
 *                                       hash and name) for the operator to check
 *   sealed under the old secret         re-sealed, only if it verifies under `--old-secret-file`
 *   anything else, or limits that the   refused (exit 1), left as it is (the gateway refuses it)
 *   gateway would not read
 *
 * `--all` lists the namespace's `apikey:` keys with `wrangler kv key list --prefix apikey:`.
 */
import { parseKeyLimits } from '../gateway/limits/key-limits.js';
import { openUnderOldSecret, sealApiKeyEntry, storedEntry } from './apikey-entry.js';
import { entryKey, writeKv } from './apikey-kv.js';
import { type ParsedFlags, UsageError } from './args.js';
import { oldSecret } from './gateway-secret.js';
import { printable } from './printable.js';
import type { CommandResult } from './result.js';
import { type KvTarget, kvGet, kvList, wranglerKvArgs } from './wrangler-kv.js';

const ENTRY_NAME = /^apikey:[0-9a-f]{64}$/;

/** The one entry named, or null for `--all`. */
async function named(flags: ParsedFlags): Promise<string | null> {
  if (!flags.switches.has('all')) return await entryKey(flags);
  if (flags.values.key !== undefined || flags.values.hash !== undefined) {
    throw new UsageError('--all goes without --key or --hash');
  }
  return null;
}

/** The value to seal under `name` now, or why not (`null`: it authenticates already). */
async function toSeal(
  secret: string,
  old: string | undefined,
  name: string,
  text: string,
): Promise<Record<string, unknown> | null | string> {
  const entry = await storedEntry(secret, name, text);
  if (entry.state === 'sealed') return null;
  if (entry.state === 'unreadable') return 'not an API key entry';
  const value = entry.state === 'plain' ? entry.value : old && (await openUnderOldSecret(old, name, text));
  if (!value) {
    return old ? 'does not verify under either secret' : 'sealed under another secret (--old-secret-file)';
  }
  if (parseKeyLimits(value.limits) === 'invalid') return 'its limits do not parse; fix them by hand';
  return value;
}

/** One entry: its line of the report, and whether it failed. */
async function sealOne(secret: string, old: string | undefined, name: string, target: KvTarget) {
  const short = `${name.slice(0, 'apikey:'.length + 12)}…`;
  const text = await kvGet(name, target);
  if (text === null) return { line: `${short} not found`, failed: true };
  const value = await toSeal(secret, old, name, text);
  if (value === null) return { line: `${short} authenticates already`, failed: false };
  if (typeof value === 'string') return { line: `${short} refused: ${value}`, failed: true };
  const failed = await writeKv(
    wranglerKvArgs('put', name, await sealApiKeyEntry(secret, name, value), target),
  );
  if (failed) return { line: `${short} not written: ${failed.stderr ?? ''}`.trimEnd(), failed: true };
  const label = typeof value.name === 'string' ? ` (name ${printable(JSON.stringify(value.name))})` : '';
  return { line: `${short} sealed${label}`, failed: false };
}

export async function seal(
  flags: ParsedFlags,
  target: KvTarget,
  secretOf: () => Promise<string>,
): Promise<CommandResult> {
  const one = await named(flags);
  const old = await oldSecret(flags.values['old-secret-file']);
  const secret = await secretOf();
  const names = one !== null ? [one] : (await kvList('apikey:', target)).filter((n) => ENTRY_NAME.test(n));
  const lines: string[] = [];
  let failed = false;
  for (const name of names) {
    const done = await sealOne(secret, old, name, target);
    lines.push(done.line);
    failed ||= done.failed;
  }
  if (names.length === 0) lines.push('no apikey: entries');
  return { stdout: `${lines.join('\n')}\n`, exitCode: failed ? 1 : 0 };
}
