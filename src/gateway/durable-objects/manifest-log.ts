/**
 * The Durable Object holding the manifest history (verification/manifest-chain.ts): ONE instance,
 * `idFromName("manifest-log")`, so appends are serialized and the whole log is written with a
 * single storage put (atomic). KV would not do: it is eventually consistent, two edges could both
 * append "seq n". Entries are only ever appended; nothing here deletes or rewrites one.
 *
 *   observe(manifestDigest)  appends when the digest differs from the newest entry; the log
 *   read()                   the log: {entries: [...], head: hash | null}
 *
 * (Workers RPC methods; callers hold a `DurableObjectNamespace<ManifestLog>` stub.)
 */
import { DurableObject } from 'cloudflare:workers';
import type { DurableObjectNamespace } from '../cf-types.js';
import { nowSeconds } from '../clock.js';
import { appendIfNew, entryHash, type ManifestLogEntry } from '../verification/manifest-chain.js';

export const MANIFEST_LOG_NAME = 'manifest-log';

export interface ManifestLogView {
  entries: ManifestLogEntry[];
  head: string | null;
}

export class ManifestLog extends DurableObject {
  /** Appends `manifestDigest` when it differs from the newest entry; returns the log. */
  async observe(manifestDigest: string): Promise<ManifestLogView> {
    if (typeof manifestDigest !== 'string' || !/^[0-9a-f]{64}$/.test(manifestDigest)) {
      throw new TypeError('bad digest');
    }
    const s = this.ctx.storage;
    const current = (await s.get<ManifestLogEntry[]>('entries')) ?? [];
    const next = await appendIfNew(current, manifestDigest, nowSeconds());
    if (next.length !== current.length) await s.put('entries', next);
    return await view(next);
  }

  /** The log as it stands. */
  async read(): Promise<ManifestLogView> {
    return await view((await this.ctx.storage.get<ManifestLogEntry[]>('entries')) ?? []);
  }
}

async function view(entries: ManifestLogEntry[]): Promise<ManifestLogView> {
  const last = entries.at(-1);
  return { entries, head: last ? await entryHash(last) : null };
}

/** Records that the gateway serves under `digest` (idempotent) and returns the log. */
export function observeManifest(
  ns: DurableObjectNamespace<ManifestLog>,
  digest: string,
): Promise<ManifestLogView> {
  return ns.get(ns.idFromName(MANIFEST_LOG_NAME)).observe(digest);
}
