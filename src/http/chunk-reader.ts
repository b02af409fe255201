/**
 * The reader of a body that is read piece by piece in JavaScript (a request body under its limit,
 * the AI worker's sealed stream): as few reads as the runtime allows. Runtime-neutral.
 *
 * Why BYOB: workerd's default reader hands a body over in pieces of at most 4096 bytes — a
 * 14 000-byte body that arrived in one network write is four reads, with a 64 KiB BYOB buffer one
 * (docs/gateway.md "What a stream's network reads cost") — and each read costs a Worker ~50–130 µs
 * of CPU, where the runtime's native pump of the same body costs nothing in JavaScript.
 *
 * Why the read buffers are reused: a fresh 64 KiB `ArrayBuffer` per read cost the gateway ~30 µs
 * each in workerd (bench/macro/ablate `read-alloc×8`: 147 µs per streamed request of ~5 reads), far
 * more than copying the bytes a read returned (a streamed answer's ~14 KB). So each read goes into a
 * buffer of the isolate's small pool and returns a COPY of exactly the bytes it got; the buffer goes
 * back to the pool at once (docs/gateway.md "Where a stream's relay CPU goes").
 *
 * Invariants: every read returns bytes of its own (a copy, never a view of a pooled buffer), so no
 * read's bytes are ever overwritten, by this reader or another; the copy is made before the buffer
 * goes back, with no await in between (JavaScript runs one turn at a time); a pooled buffer is only
 * ever written by the runtime's read into it and only its first `n` bytes, the `n` the read
 * returned, are ever copied out — bytes of an earlier body left in it never leave. A read returns at
 * least one byte or `done`. A stream that is not a byte stream (no BYOB reader) is read with its
 * default reader: the same bytes, more reads, its own chunks.
 */

export interface ChunkReader {
  /** The next bytes (≥ 1 byte, at most the buffer size) or `done`; rejects as the stream does. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** 64 KiB: a model server's burst, or a request body of typical size, in one read. */
export const CHUNK_READ_BYTES = 64 * 1024;

/**
 * Idle read buffers of CHUNK_READ_BYTES, shared by the isolate's (or process's) readers. A read
 * holds its buffer only while it is pending: the pool holds at most as many as reads were pending
 * at once, and never more than MAX_SPARE_BUFFERS (1 MiB).
 */
const spares: ArrayBuffer[] = [];
const MAX_SPARE_BUFFERS = 16;

export function chunkReader(body: ReadableStream<Uint8Array>, bufferBytes = CHUNK_READ_BYTES): ChunkReader {
  const byob = byobReader(body);
  if (!byob) {
    const reader = body.getReader();
    return { read: () => reader.read(), cancel: (reason) => reader.cancel(reason) };
  }
  const done: ReadableStreamReadResult<Uint8Array> = { done: true, value: undefined };
  return {
    async read() {
      for (;;) {
        const next = await byob.read(new Uint8Array(takeBuffer(bufferBytes)));
        const view = next.value;
        // Copied before its buffer is pooled again (the header's invariants).
        const bytes = view && view.byteLength > 0 ? view.slice() : undefined;
        if (view) giveBack(view.buffer as ArrayBuffer);
        if (bytes) return { done: false, value: bytes };
        if (next.done) return done;
      }
    },
    cancel: (reason) => byob.cancel(reason),
  };
}

/** A buffer for one read: a pooled one of the default size, else a fresh one. */
function takeBuffer(bytes: number): ArrayBuffer {
  return (bytes === CHUNK_READ_BYTES ? spares.pop() : undefined) ?? new ArrayBuffer(bytes);
}

/** A read's buffer back to the pool (a read transfers it: §4.6, so this is its only handle). */
function giveBack(buffer: ArrayBuffer): void {
  // A detached buffer has byteLength 0: never pooled.
  if (buffer.byteLength === CHUNK_READ_BYTES && spares.length < MAX_SPARE_BUFFERS) {
    spares.push(buffer);
  }
}

/** The stream's BYOB reader, or undefined when it is not a readable byte stream (§4.2.4 getReader). */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: 'byob' });
  } catch (e) {
    if (e instanceof TypeError) return undefined; // not a byte stream: the default reader reads it
    throw e;
  }
}
