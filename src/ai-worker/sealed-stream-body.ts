/**
 * The body of a sealed SSE answer (docs/protocol.md, sealed streams): the model's payloads sealed
 * frame by frame, then the end frame — read ahead of the transport, but bounded.
 *
 * Why read ahead: a model (or model server) hands over its payloads in bursts. Sealing one frame
 * per transport read would make every frame its own socket write, its own read at the gateway and
 * its own trip through everything behind it, and put each frame's sealing (a WebCrypto call: a
 * thread-pool hop in Node) between the model and the socket. Here a producer seals as payloads come
 * — several seals in flight, their frames appended strictly in sequence order — and each transport
 * read takes every frame sealed so far as one chunk (waiting, while seals of the same burst are
 * still in flight, for those too: up to 16 Ki characters). The producer pauses when
 * `maxBufferedChars` of frames wait unread or `maxInFlight` seals are pending, so a slow gateway
 * still slows the model and nothing piles up.
 *
 * Failure: if the model fails mid-stream, the frames sealed before the failure are still delivered
 * (each is authentic on its own), then the body ends WITHOUT the end frame: the gateway reports
 * `stream_truncated`, and no half-answer can pass as a whole one.
 */
import { utf8 } from '../bytes.js';
import type { StreamSealer } from '../envelope/stream.js';
import { encodeSseEvent } from '../model/sse.js';

export interface SealedStreamBodyOptions {
  events: AsyncIterator<string>;
  sealer: StreamSealer;
  /** The end frame was produced (the model finished). */
  onEnd: () => void;
  /** The model or a seal failed after `frames` frames: the body ends without its end frame. */
  onFailure: (error: unknown, frames: number) => void;
  /** The reader went away: stop the model. */
  onCancel: () => void;
  /** Each sealed frame's SSE data, in sequence order, the end frame last (the receipt's frame hash). */
  onFrame?: (frame: string) => void;
  /**
   * SSE data of one more event after the end frame (the receipt trailer, docs/protocol.md
   * "Receipts"), made once every frame has passed `onFrame`. If it fails, the body ends after the
   * end frame without it, and the gateway refuses the answer (`upstream_tampered`).
   */
  trailer?: () => Promise<string>;
  /** Frames (SSE text) waiting unread before the producer pauses. Default 64 Ki characters. */
  maxBufferedChars?: number;
  /** Seals pending at once. Default 16. */
  maxInFlight?: number;
}

export function sealedStreamBody(opts: SealedStreamBodyOptions): ReadableStream<Uint8Array> {
  const maxBuffered = opts.maxBufferedChars ?? 64 * 1024;
  const maxInFlight = opts.maxInFlight ?? 16;
  const flushChars = Math.min(maxBuffered, 16 * 1024);
  let buffered = '';
  let frames = 0;
  let inFlight = 0;
  let sentFirst = false;
  let state: 'running' | 'done' | 'failed' | 'cancelled' = 'running';
  let wakeReader: (() => void) | null = null;
  let wakeProducer: (() => void) | null = null;
  const signalReader = () => {
    const w = wakeReader;
    wakeReader = null;
    w?.();
  };
  const signalProducer = () => {
    const w = wakeProducer;
    wakeProducer = null;
    w?.();
  };
  // Frames are appended in sequence order: each append waits for the previous one.
  let appended: Promise<void> = Promise.resolve();

  const fail = (e: unknown) => {
    if (state !== 'running') return;
    state = 'failed';
    opts.onFailure(e, frames);
    signalReader();
    signalProducer();
  };

  const append = (frame: Promise<string>, last: boolean) => {
    inFlight++;
    appended = appended.then(async () => {
      let text: string;
      try {
        text = await frame;
      } finally {
        inFlight--;
      }
      if (state !== 'running') return;
      opts.onFrame?.(text);
      buffered += encodeSseEvent(text);
      frames++;
      if (last) {
        if (opts.trailer) {
          // Not `buffered += await …`: that reads `buffered` before the await, and the reader may
          // take (and clear) it meanwhile — its frames would then be sent twice.
          const trailer = encodeSseEvent(await opts.trailer());
          if (state !== 'running') return;
          buffered += trailer;
        }
        state = 'done';
        opts.onEnd();
      }
      signalReader();
      signalProducer();
    });
    appended.catch(fail);
  };

  const produce = async () => {
    try {
      for (;;) {
        while (state === 'running' && (buffered.length >= maxBuffered || inFlight >= maxInFlight)) {
          await new Promise<void>((r) => {
            wakeProducer = r;
          });
        }
        if (state !== 'running') return;
        const next = await opts.events.next();
        if (state !== 'running') return;
        // The sealer takes each frame's sequence number synchronously, in call order.
        if (next.done) {
          append(opts.sealer.end(), true);
          return;
        }
        append(opts.sealer.seal(next.value), false);
      }
    } catch (e) {
      // Frames already sealed still go out, in order, before the body ends without its end frame.
      await appended.catch(() => undefined);
      fail(e);
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      start() {
        void produce();
      },
      async pull(controller) {
        // Wait for a frame; and, after the first chunk (which goes out at once: time to first
        // chunk), while more seals are in flight (the model handed over a burst), for them too, up
        // to `flushChars`: a burst goes out as one write, a lone frame at once.
        while (
          state === 'running' &&
          (buffered === '' || (sentFirst && inFlight > 0 && buffered.length < flushChars))
        ) {
          await new Promise<void>((r) => {
            wakeReader = r;
          });
        }
        // The model's events of one network read arrive one microtask apart, and with synchronous
        // sealing (node:crypto) no seal stays in flight to hold the write back: without this turn of
        // the event loop every frame would be its own write, and each would cross every hop on its
        // own. One macrotask lets the rest of the read be sealed.
        if (sentFirst && state === 'running' && buffered.length < flushChars) {
          await nextTurn();
        }
        if (buffered !== '') {
          controller.enqueue(utf8.encode(buffered));
          buffered = '';
          sentFirst = true;
          signalProducer();
        }
        // Done: every frame, the end frame last, is out. Failed or cancelled: what was sealed before is.
        if (state !== 'running') controller.close();
      },
      async cancel() {
        state = 'cancelled';
        signalProducer();
        opts.onCancel();
        await opts.events.return?.(undefined)?.catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** One turn of the event loop: after the I/O callbacks and microtasks now due (setImmediate in Node). */
function nextTurn(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  return new Promise<void>((r) => (g.setImmediate ? g.setImmediate(r) : setTimeout(r, 0)));
}
