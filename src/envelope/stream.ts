/**
 * Sealed streams (format 3, docs/protocol.md "Sealed stream"): a binary body of length-prefixed
 * records, each data record sealing a burst of the model's events, then an authenticated end record.
 *
 *   body    = "SGS3" ‖ rs (32 bytes) ‖ record*
 *   record  = u8 type ‖ u32be length ‖ payload
 *   type 0  data frame n: AES-256-GCM ciphertext ‖ tag, 17..MAX_FRAME_BYTES+16 bytes
 *   type 1  end frame N (N = number of data frames): the 16-byte tag of the empty plaintext
 *   type 2  receipt trailer: ASCII compact JWS, 1..MAX_TRAILER_BYTES, only right after the end frame
 *   type 3  error frame n: the worker's sealed failure in place of the end frame — AES-256-GCM of
 *           JSON {code, message, status} (envelope/error-response.ts), 17..MAX_ERROR_FRAME_BYTES;
 *           nothing follows it, and the opener throws `model_error` with its content
 *
 * K_stream = HKDF(DEK, salt = rs, "sealgate/v1/stream-key"); frame n is sealed with nonce
 * u32be(0) ‖ u64be(n) and AAD = LP("sealgate/v3/stream") ‖ LP(kid) ‖ LP(rid) ‖ LP(route) ‖
 * LP(u64be(n)) ‖ LP(end ? 0x01 : error ? 0x02 : 0x00) (wire.ts). n is implicit: the opener's own counter, so a
 * reordered, dropped or duplicated record fails authentication (`decryption_failed`), and so does a
 * data record presented as the end or an error, or the reverse (the end byte). The label differs from format 2's
 * (`sealgate/v2/stream`), so no frame of one format opens as the other.
 *
 * Opener invariants: a record's type and length are checked from its 5-byte head before any of its
 * payload is held (a hostile worker holds the DEK and can send any bytes under a valid tag); at most
 * one record is held at a time; events are released only from frames whose tag verified, strictly
 * in order, and nothing after the first failure; the transport ending before the end frame is
 * `stream_truncated`.
 */
import { SealgateError } from '../errors.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { HKDF_INFO, RESPONSE_SALT_LENGTH, type RequestContext, TAG_LENGTH } from './data-key.js';
import type { AesKeyHandle } from './envelope-crypto.js';
import { errorContentOf, errorPlaintext, type SealedErrorContent } from './error-response.js';
import { checkContext } from './response.js';
import { decodeEvents, encodeEvents, MAX_FRAME_BYTES } from './stream-events.js';
import { type FrameEnd, streamFrameAads, streamNonce } from './wire.js';

export { MAX_FRAME_BYTES, MAX_FRAME_EVENTS } from './stream-events.js';

/** The media type of a sealed stream body; the gateway refuses a stream answer of any other. */
export const STREAM_CONTENT_TYPE = 'application/vnd.sealgate.stream+binary';
/** Magic and format version: "SGS3". A format-2 body (SSE text, `data: {"v":2…`) never matches. */
export const STREAM_MAGIC = Object.freeze([0x53, 0x47, 0x53, 0x33]);
export const RECORD_TYPE = Object.freeze({ data: 0, end: 1, receipt: 2, error: 3 });
/**
 * An error frame's bytes at most: the tag and JSON {code, message, status} whose message is at most
 * MAX_ERROR_MESSAGE_LENGTH UTF-16 units (3 UTF-8 bytes each at most; no character that JSON escapes
 * longer survives `errorMessageText`, but `"` and `\`, 2 bytes).
 */
export const MAX_ERROR_FRAME_BYTES = 8192;
/** A receipt trailer's bytes at most (a compact ES256 JWS is about 700). */
export const MAX_TRAILER_BYTES = 4096;

const WHAT = 'sealed stream';
const HEADER_BYTES = STREAM_MAGIC.length + RESPONSE_SALT_LENGTH;
const RECORD_HEAD_BYTES = 5;
const EMPTY = new Uint8Array(0);

export interface StreamSealer {
  /**
   * Seals the next batch of events (each one SSE `data:` payload, "[DONE]" included; well-formed,
   * no CR) as one data record: its bytes, the body's header before it on the first call.
   * 1..MAX_FRAME_EVENTS events, at most MAX_FRAME_BYTES as encoded (stream-events.ts). The header
   * comes first unless `header` took it.
   */
  seal(events: readonly string[]): Promise<Uint8Array>;
  /** The end record (with the header first if no frame came before). After it, `seal` refuses. */
  end(): Promise<Uint8Array>;
  /**
   * An error record in place of the end record: the failure the client is to read, sealed (with the
   * header first if no frame came before). After it, `seal` and `end` refuse.
   */
  fail(error: SealedErrorContent): Promise<Uint8Array>;
  /**
   * Derives the stream key now, ahead of the first event (the worker, while the model works);
   * otherwise the first seal does. A failure here is the first seal's failure, as without it.
   */
  prepare(): void;
  /**
   * The body's header ("SGS3" ‖ rs) alone, to send before the first record, which then does not
   * repeat it — or undefined once a record was sealed (its bytes carry the header). The same body
   * either way, split earlier: the opener derives the stream key from it before any frame comes.
   */
  header(): Uint8Array | undefined;
}

/** What one `push` of body bytes completed. */
export interface StreamProgress {
  /** The end frame verified (in this push or before). */
  ended: boolean;
  /** The receipt trailer, once it arrived (only after the end frame). */
  trailer: string | undefined;
  /**
   * The part of this push that the receipt's stream hash covers: the body from its first byte
   * through the end record's last byte (receipts/receipt.ts `createStreamHash`). A view, no copy.
   */
  hashed: Uint8Array;
  /**
   * Bytes followed the receipt trailer in this push. They are left unread (nothing may follow the
   * trailer, and the answer before them is whole): the caller cancels the body; a later push throws.
   */
  excess: boolean;
}

export interface StreamOpener {
  /**
   * Reads the next bytes of the body, as the transport split them. `onFrame` gets each data frame's
   * events right after its tag verified, in order (views into the frame's plaintext: well-formed
   * UTF-8, no CR; stream-events.ts). Throws `decryption_failed` at the first bad byte.
   */
  push(bytes: Uint8Array, onFrame: (events: readonly Uint8Array[]) => void): Promise<StreamProgress>;
  /**
   * Call when the transport ends: throws `stream_truncated` unless the end frame verified (and,
   * when a trailer is expected, it came), and `decryption_failed` for a record cut after the end.
   */
  finish(): void;
}

export function createStreamSealer(
  context: RequestContext,
  options: { random?: RandomSource } = {},
): StreamSealer {
  checkContext(context, 'createStreamSealer');
  const rs = drawRandom(options.random ?? systemRandom, RESPONSE_SALT_LENGTH, 'a stream salt');
  const backend = context.crypto;
  const encoder = new TextEncoder();
  let key: AesKeyHandle | Promise<AesKeyHandle> | undefined;
  const aadOf = streamFrameAads(ids(context));
  let next = 0;
  let ended = false;
  /** The header is out, alone (`header`) or in the first record: taken synchronously, once. */
  let headerTaken = false;
  const takeHeader = (): boolean => {
    const first = !headerTaken;
    headerTaken = true;
    return first;
  };

  const record = async (seq: number, end: FrameEnd, pt: Uint8Array, withHeader: boolean) => {
    key ??= backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
    const ct = await backend.gcmSeal(await key, streamNonce(seq), aadOf(seq, end), pt);
    return recordBytes(recordType(end), ct, withHeader ? rs : undefined);
  };

  return {
    prepare() {
      try {
        key ??= backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
        if (key instanceof Promise) key.catch(() => undefined); // rejects again at the first seal
      } catch {
        // Left for the first seal, which derives again and fails with this error.
      }
    },
    seal(events) {
      if (ended) return refuse('already ended');
      const pt = encodeEvents(events, encoder);
      if (typeof pt === 'string') return refuse(pt);
      // The counter is taken synchronously, so concurrent calls still get distinct, ordered seqs.
      return record(next++, false, pt, takeHeader());
    },
    end() {
      if (ended) return refuse('already ended');
      ended = true;
      return record(next++, true, EMPTY, takeHeader());
    },
    fail(error) {
      if (ended) return refuse('already ended');
      return withErrorPlaintext(error, (pt) => {
        ended = true;
        return record(next++, 'error', pt, takeHeader());
      });
    },
    header() {
      return takeHeader() ? writeHeader(new Uint8Array(HEADER_BYTES), rs) : undefined;
    },
  };
}

const refuse = (message: string): Promise<never> =>
  Promise.reject(new SealgateError('invalid_argument', `stream sealer: ${message}`));

/** The record type of a frame sealed with that AAD end byte. */
const recordType = (end: FrameEnd): number =>
  end === 'error' ? RECORD_TYPE.error : end ? RECORD_TYPE.end : RECORD_TYPE.data;

/** A record: its 5-byte head and `payload`, after the body's header when `rs` is given. */
function recordBytes(type: number, payload: Uint8Array, rs: Uint8Array | undefined): Uint8Array {
  const head = rs ? HEADER_BYTES : 0;
  const out = new Uint8Array(head + RECORD_HEAD_BYTES + payload.length);
  if (rs) writeHeader(out, rs);
  out[head] = type;
  new DataView(out.buffer).setUint32(head + 1, payload.length);
  out.set(payload, head + RECORD_HEAD_BYTES);
  return out;
}

/** `seal` of the error's plaintext (error-response.ts `errorPlaintext`); its refusal, rejected. */
function withErrorPlaintext(
  error: SealedErrorContent,
  seal: (pt: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  let pt: Uint8Array;
  try {
    pt = errorPlaintext(error, 'stream sealer');
  } catch (e) {
    return Promise.reject(e);
  }
  return seal(pt);
}

/** Writes the body's header ("SGS3" ‖ rs) at the start of `out`; returns `out`. */
function writeHeader(out: Uint8Array, rs: Uint8Array): Uint8Array {
  out.set(STREAM_MAGIC);
  out.set(rs, STREAM_MAGIC.length);
  return out;
}

/** The receipt trailer record that follows the end record (docs/protocol.md "Receipts"). */
export function receiptRecord(compact: string): Uint8Array {
  const length = compact.length;
  if (length === 0 || length > MAX_TRAILER_BYTES || !/^[\x21-\x7e]+$/.test(compact)) {
    throw new SealgateError('invalid_argument', `receipt trailer: 1..${MAX_TRAILER_BYTES} printable ASCII`);
  }
  const out = new Uint8Array(RECORD_HEAD_BYTES + length);
  out[0] = RECORD_TYPE.receipt;
  new DataView(out.buffer).setUint32(1, length);
  for (let i = 0; i < length; i++) out[RECORD_HEAD_BYTES + i] = compact.charCodeAt(i);
  return out;
}

/**
 * The opener of one stream. `trailer`: a receipt trailer must follow the end record (the gateway
 * expects receipts); otherwise nothing may.
 */
export function createStreamOpener(
  context: RequestContext,
  options: { trailer?: boolean } = {},
): StreamOpener {
  checkContext(context, 'createStreamOpener');
  return new RecordOpener(context, options.trailer === true);
}

class RecordOpener implements StreamOpener {
  readonly #context: RequestContext;
  readonly #aadOf: (seq: number, end: FrameEnd) => Uint8Array;
  readonly #expectTrailer: boolean;
  #key: AesKeyHandle | undefined;
  /** The header, then each record's head, gathered across pushes. */
  readonly #head = new Uint8Array(HEADER_BYTES);
  #headUsed = 0;
  /** The record whose payload is being read: its type, length, and bytes so far when split. */
  #record: { type: number; length: number; bytes: Uint8Array | undefined; used: number } | undefined;
  /** The next frame's counter n. */
  #n = 0;
  #ended = false;
  #trailer: string | undefined;
  #failure: SealgateError | undefined;
  #busy = false;

  constructor(context: RequestContext, expectTrailer: boolean) {
    this.#context = context;
    this.#aadOf = streamFrameAads(ids(context));
    this.#expectTrailer = expectTrailer;
  }

  async push(bytes: Uint8Array, onFrame: (events: readonly Uint8Array[]) => void): Promise<StreamProgress> {
    if (this.#failure) throw this.#failure;
    // Pushes must not overlap: each one's records follow the last one's in counter order.
    if (this.#busy) throw new SealgateError('internal', `${WHAT}: push while a push is under way`);
    this.#busy = true;
    const wasEnded = this.#ended;
    try {
      const { endAt, excess } = await this.#read(bytes, onFrame);
      const hashed = wasEnded ? EMPTY : endAt < 0 ? bytes : bytes.subarray(0, endAt);
      return { ended: this.#ended, trailer: this.#trailer, hashed, excess };
    } catch (e) {
      this.#failure =
        e instanceof SealgateError
          ? e
          : new SealgateError('internal', `${WHAT}: unexpected error`, {}, { cause: e });
      throw this.#failure;
    } finally {
      this.#busy = false;
    }
  }

  finish(): void {
    if (this.#failure) throw this.#failure;
    if (this.#record || this.#headUsed > 0) {
      if (this.#ended) this.#fail('a record after the end is cut');
      throw truncated(this.#n);
    }
    if (!this.#ended) throw truncated(this.#n);
    if (this.#expectTrailer && this.#trailer === undefined) this.#fail('ended without its receipt trailer');
  }

  /**
   * Consumes `bytes`: the offset just past the end record if it ended in them (else -1), and
   * whether bytes after the receipt trailer were left unread.
   */
  async #read(
    bytes: Uint8Array,
    onFrame: (events: readonly Uint8Array[]) => void,
  ): Promise<{ endAt: number; excess: boolean }> {
    let at = 0;
    let endAt = -1;
    while (at < bytes.length) {
      // Right after the trailer: what follows is not read (see StreamProgress.excess).
      if (this.#trailer !== undefined && at > 0 && this.#record === undefined && this.#headUsed === 0) {
        return { endAt, excess: true };
      }
      if (this.#record === undefined) {
        at = this.#gatherHead(bytes, at);
        if (this.#headUsed < this.#headLength()) break;
        this.#headUsed = 0;
        if (this.#key === undefined) {
          await this.#openHeader();
          continue;
        }
        this.#record = this.#startRecord();
      }
      const record = this.#record;
      let payload: Uint8Array;
      if (record.used === 0 && bytes.length - at >= record.length) {
        payload = bytes.subarray(at, at + record.length); // whole in this read: no copy
        at += record.length;
      } else {
        record.bytes ??= new Uint8Array(record.length); // bounded by #startRecord
        const take = Math.min(record.length - record.used, bytes.length - at);
        record.bytes.set(bytes.subarray(at, at + take), record.used);
        record.used += take;
        at += take;
        if (record.used < record.length) break;
        payload = record.bytes;
      }
      this.#record = undefined;
      await this.#openRecord(record.type, payload, onFrame);
      if (record.type === RECORD_TYPE.end) endAt = at;
    }
    return { endAt, excess: false };
  }

  #headLength(): number {
    return this.#key === undefined ? HEADER_BYTES : RECORD_HEAD_BYTES;
  }

  #gatherHead(bytes: Uint8Array, at: number): number {
    if (this.#ended && (!this.#expectTrailer || this.#trailer !== undefined)) {
      this.#fail('bytes after the end of the stream');
    }
    const take = Math.min(this.#headLength() - this.#headUsed, bytes.length - at);
    this.#head.set(bytes.subarray(at, at + take), this.#headUsed);
    this.#headUsed += take;
    return at + take;
  }

  async #openHeader(): Promise<void> {
    for (let i = 0; i < STREAM_MAGIC.length; i++) {
      if (this.#head[i] !== STREAM_MAGIC[i]) this.#fail('not a format-3 stream (magic "SGS3")');
    }
    const rs = this.#head.slice(STREAM_MAGIC.length, HEADER_BYTES);
    const { crypto, dek } = this.#context;
    this.#key = await crypto.deriveAesKey(dek, rs, HKDF_INFO.stream);
  }

  /** The record announced by the head just read, its type and length checked before any payload. */
  #startRecord(): { type: number; length: number; bytes: undefined; used: number } {
    const type = this.#head[0]!;
    const length = new DataView(this.#head.buffer).getUint32(1);
    const bad = (message: string) => this.#fail(message, { type, length });
    if (type === RECORD_TYPE.data) {
      if (this.#ended) bad('a frame after the end');
      if (length <= TAG_LENGTH || length > MAX_FRAME_BYTES + TAG_LENGTH) {
        bad(`a frame carries ${TAG_LENGTH + 1}..${MAX_FRAME_BYTES + TAG_LENGTH} bytes`);
      }
    } else if (type === RECORD_TYPE.end) {
      if (this.#ended) bad('a second end');
      if (length !== TAG_LENGTH) bad(`the end frame is its ${TAG_LENGTH}-byte tag`);
    } else if (type === RECORD_TYPE.error) {
      if (this.#ended) bad('an error after the end');
      if (length <= TAG_LENGTH || length > MAX_ERROR_FRAME_BYTES) {
        bad(`an error frame carries ${TAG_LENGTH + 1}..${MAX_ERROR_FRAME_BYTES} bytes`);
      }
    } else if (type === RECORD_TYPE.receipt) {
      if (!this.#ended) bad('a receipt trailer before the end');
      if (length === 0 || length > MAX_TRAILER_BYTES)
        bad(`a receipt trailer is 1..${MAX_TRAILER_BYTES} bytes`);
    } else bad('unknown record type');
    return { type, length, bytes: undefined, used: 0 };
  }

  async #openRecord(
    type: number,
    payload: Uint8Array,
    onFrame: (events: readonly Uint8Array[]) => void,
  ): Promise<void> {
    if (type === RECORD_TYPE.receipt) {
      this.#trailer = asciiTrailer(payload) ?? this.#fail('a receipt trailer is printable ASCII');
      return;
    }
    const end: FrameEnd = type === RECORD_TYPE.error ? 'error' : type === RECORD_TYPE.end;
    const n = this.#n;
    const pt = await this.#context.crypto.gcmOpen(
      this.#key!,
      streamNonce(n),
      this.#aadOf(n, end),
      payload,
      `${WHAT}: authentication failed`,
    );
    this.#n = n + 1;
    if (end === 'error') throw workerFailure(errorContentOf(pt, `${WHAT}: error frame`));
    if (end) {
      this.#ended = true;
      return;
    }
    const events = decodeEvents(pt);
    if (typeof events === 'string') this.#fail(events);
    onFrame(events as Uint8Array[]);
  }

  #fail(message: string, detail?: Record<string, unknown>): never {
    throw new SealgateError('decryption_failed', `${WHAT}: ${message}`, detail);
  }
}

/**
 * The worker's sealed failure, as the opener throws it: `model_error` whose detail holds the
 * sealed status and code, and whose `clientMessage` the sealed message (never logged).
 */
export function workerFailure(content: SealedErrorContent): SealgateError {
  const { status, code, message } = content;
  return new SealgateError(
    'model_error',
    `${WHAT}: the worker reported a failure (${code})`,
    { status, code },
    {
      clientMessage: message,
    },
  );
}

/** The sealed failure an opener threw (`workerFailure`), or undefined for any other error. */
export function sealedFailureOf(e: unknown): SealedErrorContent | undefined {
  if (!(e instanceof SealgateError) || e.code !== 'model_error' || e.clientMessage === undefined)
    return undefined;
  const { status, code } = e.detail ?? {};
  if (typeof status !== 'number' || typeof code !== 'string') return undefined;
  return { status, code, message: e.clientMessage };
}

function truncated(frames: number): SealgateError {
  return new SealgateError('stream_truncated', `${WHAT}: ended without end frame`, { frames });
}

/** The trailer's text if every byte is printable ASCII (a compact JWS), else undefined. */
function asciiTrailer(payload: Uint8Array): string | undefined {
  let text = '';
  for (const b of payload) {
    if (b < 0x21 || b > 0x7e) return undefined;
    text += String.fromCharCode(b);
  }
  return text;
}

/**
 * Seals every batch of `batches` as one record, then the end record: the body's bytes in order. If
 * `batches` throws, no end record is sent.
 */
export async function* sealStream(
  context: RequestContext,
  batches: AsyncIterable<readonly string[]> | Iterable<readonly string[]>,
  options: { random?: RandomSource } = {},
): AsyncGenerator<Uint8Array> {
  const sealer = createStreamSealer(context, options);
  for await (const batch of batches) yield await sealer.seal(batch);
  yield await sealer.end();
}

/**
 * Opens a body given as chunks (split anywhere) and yields its events, decoded, one by one; throws
 * `stream_truncated` if it stops before the end record.
 */
export async function* openStream(
  context: RequestContext,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<string> {
  const opener = createStreamOpener(context);
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    const out: string[] = [];
    await opener.push(chunk, (events) => {
      for (const e of events) out.push(decoder.decode(e));
    });
    yield* out;
  }
  opener.finish();
}

function ids(context: RequestContext): { kid: string; requestId: string; route: string } {
  return { kid: context.kid, requestId: context.requestId, route: context.route };
}
