/**
 * The Durable Object holding the manifest history (manifest-log.ts): ONE instance,
 * `idFromName("manifest-log")`, so appends are serialized and the whole log is written with a
 * single storage put (atomic). KV would not do: it is eventually consistent, two edges could both
 * append "seq n". Entries are only ever appended; nothing here deletes or rewrites one.
 *
 *   POST /observe {"manifestDigest"}  appends when the digest differs from the newest entry
 *   GET  /log                          {"entries": [...], "head": hash|null}
 */
import type { DurableObjectNamespaceLike, DurableObjectStateLike } from './cf-types.js';
import { nowSeconds } from './clock.js';
import { appendIfNew, entryHash, type ManifestLogEntry } from './manifest-log.js';

export const MANIFEST_LOG_NAME = 'manifest-log';

export interface ManifestLogView {
  entries: ManifestLogEntry[];
  head: string | null;
}

export class ManifestLog {
  readonly #state: DurableObjectStateLike;

  constructor(state: DurableObjectStateLike, _env: unknown) {
    this.#state = state;
  }

  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    const s = this.#state.storage;
    const current = (await s.get<ManifestLogEntry[]>('entries')) ?? [];
    if (request.method === 'POST' && pathname === '/observe') {
      const body = (await request.json().catch(() => null)) as { manifestDigest?: unknown } | null;
      const digest = body?.manifestDigest;
      if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) {
        return new Response('bad digest', { status: 400 });
      }
      const next = await appendIfNew(current, digest, nowSeconds());
      if (next.length !== current.length) await s.put('entries', next);
      return Response.json(await view(next));
    }
    if (request.method === 'GET' && pathname === '/log') return Response.json(await view(current));
    return new Response('not found', { status: 404 });
  }
}

async function view(entries: ManifestLogEntry[]): Promise<ManifestLogView> {
  const last = entries.at(-1);
  return { entries, head: last ? await entryHash(last) : null };
}

/** Records that the gateway serves under `digest` (idempotent) and returns the log. */
export async function observeManifest(
  ns: DurableObjectNamespaceLike,
  digest: string,
): Promise<ManifestLogView> {
  const stub = ns.get(ns.idFromName(MANIFEST_LOG_NAME));
  const res = await stub.fetch('https://manifest-log/observe', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ manifestDigest: digest }),
  });
  if (!res.ok) throw new Error(`manifest log answered ${res.status}`);
  return (await res.json()) as ManifestLogView;
}
