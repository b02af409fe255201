/**
 * The reader of a body that is read piece by piece in JavaScript (a request body under its limit,
 * the AI worker's sealed stream): as few reads as the runtime allows. Runtime-neutral.
 *
 * Why BYOB: workerd's default reader hands a body over in pieces of at most 4096 bytes — a
 * 14 000-byte body that arrived in one network write is four reads, with a 64 KiB BYOB buffer one
 * (docs/gateway.md "What a stream's network reads cost") — and each read costs a Worker ~50–130 µs
 * of CPU, where the runtime's native pump of the same body costs nothing in JavaScript.
 *
 * Invariants: every read gets a FRESH buffer (WHATWG Streams §4.6 transfers the one passed in; a
 * read's bytes may be held — a partial record, a client's chunk — while later reads go on), so no
 * read's bytes are ever overwritten; a read returns at least one byte or `done`. A stream that is
 * not a byte stream (no BYOB reader) is read with its default reader: the same bytes, more reads.
 */

export interface ChunkReader {
  /** The next bytes (≥ 1 byte, at most the buffer size) or `done`; rejects as the stream does. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** 64 KiB: a model server's burst, or a request body of typical size, in one read. */
export const CHUNK_READ_BYTES = 64 * 1024;

export function chunkReader(body: ReadableStream<Uint8Array>, bufferBytes = CHUNK_READ_BYTES): ChunkReader {
  const byob = byobReader(body);
  if (byob) return byobChunkReader(byob, bufferBytes);
  const reader = body.getReader();
  return { read: () => reader.read(), cancel: (reason) => reader.cancel(reason) };
}

/** The same over a BYOB reader already taken: a fresh buffer of `bufferBytes` per read. */
export function byobChunkReader(byob: ReadableStreamBYOBReader, bufferBytes = CHUNK_READ_BYTES): ChunkReader {
  const done: ReadableStreamReadResult<Uint8Array> = { done: true, value: undefined };
  return {
    async read() {
      for (;;) {
        const next = await byob.read(new Uint8Array(bufferBytes));
        if (next.done) return done;
        if (next.value.byteLength > 0) return next as ReadableStreamReadResult<Uint8Array>;
      }
    },
    cancel: (reason) => byob.cancel(reason),
  };
}

/** The stream's BYOB reader, or undefined when it is not a readable byte stream (§4.2.4 getReader). */
export function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: 'byob' });
  } catch (e) {
    if (e instanceof TypeError) return undefined; // not a byte stream: the default reader reads it
    throw e;
  }
}
