/** Test helpers for format-3 sealed streams: build bodies by hand, open them in chunks. */
import type { RequestContext } from '../../src/envelope/data-key.js';
import { HKDF_INFO } from '../../src/envelope/data-key.js';
import { createStreamOpener, type StreamOpener } from '../../src/envelope/stream.js';
import { AAD_LABEL } from '../../src/envelope/wire.js';
import { cat, lp } from '../vectors/reference.js';

export { cat };

/** u8 type ‖ u32be length ‖ payload. */
export function record(type: number, payload: Uint8Array, length = payload.length): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = type;
  new DataView(head.buffer).setUint32(1, length);
  return cat(head, payload);
}

/** A data frame's plaintext: each event as u32be(len) ‖ bytes. */
export function eventsPlaintext(...events: (string | Uint8Array)[]): Uint8Array {
  return cat(
    ...events.map((e) => {
      const bytes = typeof e === 'string' ? new TextEncoder().encode(e) : e;
      return record(0, bytes).subarray(1); // the u32be length and the bytes
    }),
  );
}

/**
 * Authentic records with any plaintext, AAD label and record types: what a hostile or buggy worker
 * holding the DEK could send (the opener must refuse what the format does not allow, tag or not).
 * Returns the header and each record separately.
 */
export async function forgeRecords(
  ctx: RequestContext,
  plaintexts: Uint8Array[],
  { label = AAD_LABEL.stream, magic = 'SGS3' }: { label?: string; magic?: string } = {},
): Promise<{ header: Uint8Array; records: Uint8Array[] }> {
  const rs = new Uint8Array(32).fill(7);
  const key = await ctx.crypto.deriveAesKey(ctx.dek, rs, HKDF_INFO.stream);
  const seal = async (seq: number, end: boolean, pt: Uint8Array) => {
    const aad = lp(label, ctx.kid, ctx.requestId, ctx.route, seq, new Uint8Array([end ? 1 : 0]));
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(8, seq);
    return record(end ? 1 : 0, await ctx.crypto.gcmSeal(key, nonce, aad, pt));
  };
  const records = await Promise.all(plaintexts.map((pt, i) => seal(i, false, pt)));
  records.push(await seal(plaintexts.length, true, new Uint8Array(0)));
  return { header: cat(new TextEncoder().encode(magic), rs), records };
}

export interface Opened {
  /** Events released, decoded, in order. */
  events: string[];
  /** Everything `hashed` returned, concatenated. */
  hashed: Uint8Array;
  trailer?: string;
  error?: unknown;
}

/** Pushes `chunks` in order, then finish(); stops at the first error and reports it. */
export async function openChunks(
  ctx: RequestContext,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: { trailer?: boolean; opener?: StreamOpener } = {},
): Promise<Opened> {
  const opener = opts.opener ?? createStreamOpener(ctx, { trailer: opts.trailer === true });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out: Opened = { events: [], hashed: new Uint8Array(0) };
  try {
    for await (const chunk of chunks) {
      const p = await opener.push(chunk, (events) => {
        for (const e of events) out.events.push(decoder.decode(e));
      });
      out.hashed = cat(out.hashed, p.hashed);
      if (p.trailer !== undefined) out.trailer = p.trailer;
    }
    opener.finish();
  } catch (error) {
    out.error = error;
  }
  return out;
}

/** The body as chunks of `size` bytes (1: byte by byte). */
export function split(body: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.slice(i, i + size));
  return out;
}
