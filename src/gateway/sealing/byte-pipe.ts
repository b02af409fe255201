/**
 * workerd's native byte pipe, `IdentityTransformStream`: what is written to `writable` is read from
 * `readable`, with no queue in between — a write resolves once the reader took the chunk. Its
 * readable side is a native stream, so workerd sends it as a response body without running
 * JavaScript per chunk (stream-answer.ts says why that matters). Only workerd has it; the
 * gateway runs nowhere else, and refuses to stream rather than fall back to something that piles up.
 */
export interface BytePipe {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

type BytePipeConstructor = new () => BytePipe;

export function byteStreamPipe(): BytePipe {
  const Pipe = (globalThis as { IdentityTransformStream?: BytePipeConstructor }).IdentityTransformStream;
  if (typeof Pipe !== 'function') {
    throw new Error('IdentityTransformStream is not available: the gateway runs on workerd');
  }
  return new Pipe();
}
