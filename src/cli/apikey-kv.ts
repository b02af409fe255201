/** What `sealgate apikey`'s subcommands share: the entry named on the command line, a KV write. */
import { hashApiKey } from '../gateway/kv/api-keys.js';
import { kvKeys } from '../gateway/kv/kv-store.js';
import { type ParsedFlags, UsageError } from './args.js';
import type { CommandResult } from './result.js';
import { runWrangler } from './wrangler-kv.js';

/** The KV key of the API key named by `--key` or `--hash`. */
export async function entryKey(flags: ParsedFlags): Promise<string> {
  const v = flags.values;
  if ((v.key === undefined) === (v.hash === undefined))
    throw new UsageError('give exactly one of --key or --hash');
  const hash = v.hash ?? (await hashApiKey(v.key!));
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new UsageError('--hash: 64 lower-case hex characters');
  return kvKeys.apiKey(hash);
}

/** Runs a wrangler write; the failure to return, or null. */
export async function writeKv(args: string[]): Promise<CommandResult | null> {
  const r = await runWrangler(args);
  if (r.code === 0) return null;
  return { stdout: '', stderr: `wrangler failed (${r.code}):\n${r.stdout}${r.stderr}\n`, exitCode: 1 };
}
