/**
 * Sealed SSE streams (format 2): each frame seals a batch of events, then an authenticated end frame.
 *
 * Frames (JSON; each is the `data:` of one SSE event):
 *   first   {"v":2,"rs":"<base64url 32 bytes>","seq":0,"ct":"…"}
 *   next    {"seq":n,"ct":"…"}
 *   end     {"seq":N,"end":true,"ct":"<16-byte tag>"}          (N = number of data frames)
 *
 * K_stream = HKDF(DEK, salt = rs, "sealgate/v1/stream-key"); frame n is
 * AES-256-GCM(K_stream, nonce = u32be(0) ‖ u64be(n), batch, AAD) with
 * AAD = LP("sealgate/v2/stream") ‖ LP(kid) ‖ LP(rid) ‖ LP(route) ‖ LP(u64be(n)) ‖ LP(end ? 0x01 : 0x00).
 *
 * A data frame's plaintext is a JSON array of 1..MAX_FRAME_EVENTS strings (the events' SSE data),
 * at most MAX_FRAME_BYTES of UTF-8. Why JSON and not length prefixes: the events are already
 * strings, the runtime's JSON parser is native (one call per frame, no per-event JavaScript
 * loop), and strict parsing leaves no ambiguity (one array, strings only). The format is bound by
 * the AAD label (v2), not only by the unauthenticated `v` field, so a v1 peer fails authentication
 * on a v2 frame (and a v1 frame here) rather than misreading it: no silent downgrade.
 *
 * The opener decrypts frame n only with counter n, so a reordered, dropped or duplicated frame
 * fails authentication even if its `seq` field is edited (`decryption_failed`); the end frame is the
 * only way to finish, so a cut stream is `stream_truncated`. Plaintext is released only from frames
 * whose tag verified, strictly in order, and nothing after the first failure.
 */
import { utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isWellFormedString } from '../json/strict-json.js';
import { decodeBase64UrlField, jsBase64Url } from '../keys/encoding.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { HKDF_INFO, RESPONSE_SALT_LENGTH, type RequestContext, TAG_LENGTH } from './data-key.js';
import type { AesKeyHandle } from './envelope-crypto.js';
import { checkContext } from './response.js';
import {
  isPlainObject,
  parseJsonInput,
  STREAM_FORMAT_VERSION,
  streamFrameAads,
  streamNonce,
} from './wire.js';

const WHAT = 'sealed stream';
const EMPTY = new Uint8Array(0);

/** Events in one frame at most: bounds the work one frame can ask of the opener. */
export const MAX_FRAME_EVENTS = 256;
/**
 * Plaintext bytes of one frame at most (1 MiB): the opener refuses a longer ciphertext before
 * decrypting it, so a hostile worker cannot make the gateway hold and decrypt an unbounded frame.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Ciphertext (base64url) characters of one frame at most: MAX_FRAME_BYTES + tag, encoded. */
const MAX_CT_CHARS = Math.ceil(((MAX_FRAME_BYTES + TAG_LENGTH) * 4) / 3);

export interface StreamSealer {
  /**
   * Seals the next batch of events (each one SSE `data:` payload, "[DONE]" included) as one frame;
   * returns the frame JSON. 1..MAX_FRAME_EVENTS events, at most MAX_FRAME_BYTES as encoded.
   */
  seal(events: readonly string[]): Promise<string>;
  /** The end frame. After it, `seal` refuses. */
  end(): Promise<string>;
  /**
   * Derives the stream key now, ahead of the first event (the worker, while the model works);
   * otherwise the first seal does. A failure here is the first seal's failure, as without it.
   */
  prepare(): void;
}

export interface StreamOpener {
  /** Opens the next frame (JSON text or parsed): its events, in order, or null for the end frame. */
  open(frame: unknown): Promise<string[] | null>;
  /** Call when the transport ends: throws `stream_truncated` unless the end frame was opened. */
  finish(): Promise<void>;
}

export function createStreamSealer(
  context: RequestContext,
  options: { random?: RandomSource } = {},
): StreamSealer {
  checkContext(context, 'createStreamSealer');
  const rs = drawRandom(options.random ?? systemRandom, RESPONSE_SALT_LENGTH, 'a stream salt');
  const backend = context.crypto;
  const b64 = backend.base64url ?? jsBase64Url;
  let key: AesKeyHandle | Promise<AesKeyHandle> | undefined;
  const aadOf = streamFrameAads(ids(context));
  let next = 0;
  let ended = false;

  const frame = async (seq: number, end: boolean, pt: Uint8Array): Promise<string> => {
    key ??= backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
    const aad = aadOf(seq, end);
    const ct = b64.encode(await backend.gcmSeal(await key, streamNonce(seq), aad, pt));
    // Fixed member order so that frames are byte-identical across implementations (test vectors).
    const head = seq === 0 ? `"v":${STREAM_FORMAT_VERSION},"rs":"${b64.encode(rs)}",` : '';
    return `{${head}"seq":${seq},${end ? '"end":true,' : ''}"ct":"${ct}"}`;
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
      if (ended) return Promise.reject(new SealgateError('invalid_argument', 'stream sealer: already ended'));
      const bad = batchProblem(events);
      if (bad) return Promise.reject(new SealgateError('invalid_argument', `stream sealer: ${bad}`));
      const pt = utf8.encode(JSON.stringify(events));
      if (pt.length > MAX_FRAME_BYTES) {
        return Promise.reject(
          new SealgateError('invalid_argument', `stream sealer: batch over ${MAX_FRAME_BYTES} bytes`),
        );
      }
      // The counter is taken synchronously, so concurrent calls still get distinct, ordered seqs.
      return frame(next++, false, pt);
    },
    end() {
      if (ended) return Promise.reject(new SealgateError('invalid_argument', 'stream sealer: already ended'));
      ended = true;
      return frame(next++, true, EMPTY);
    },
  };
}

export function createStreamOpener(context: RequestContext): StreamOpener {
  checkContext(context, 'createStreamOpener');
  const backend = context.crypto;
  const b64 = backend.base64url ?? jsBase64Url;
  let key: AesKeyHandle | undefined;
  const aadOf = streamFrameAads(ids(context));
  let expected = 0;
  let ended = false;
  let failure: SealgateError | undefined;
  // Calls are serialised: frame n+1 is looked at only after frame n settled.
  let queue: Promise<void> = Promise.resolve();

  const fail = (message: string, detail?: Record<string, unknown>): never => {
    throw new SealgateError('decryption_failed', `${WHAT}: ${message}`, detail);
  };

  const step = async (input: unknown): Promise<string[] | null> => {
    if (ended) fail('frame after end');
    const frame = parseJsonInput(input, WHAT);
    if (!isPlainObject(frame)) return fail('frame must be a JSON object');
    const { seq, end } = frame;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
      return fail('seq must be an integer');
    if (seq !== expected) return fail('frame out of order', { expected, seq });
    if (end !== undefined && end !== true) return fail('end must be true when present');
    const isEnd = end === true;
    const allowed = seq === 0 ? ['ct', 'end', 'rs', 'seq', 'v'] : ['ct', 'end', 'seq'];
    for (const k of Object.keys(frame)) if (!allowed.includes(k)) fail(`unexpected field "${k}"`);
    if (seq === 0) {
      if (frame.v !== STREAM_FORMAT_VERSION) fail('unsupported stream format', { v: frame.v });
      const rs = decodeBase64UrlField(frame.rs, {
        code: 'decryption_failed',
        message: `${WHAT}: rs must be ${RESPONSE_SALT_LENGTH} bytes of canonical base64url`,
        length: RESPONSE_SALT_LENGTH,
        codec: b64,
      });
      key = await backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
    }
    // The size cap before any decoding or decryption: a hostile worker's huge frame is refused here.
    if (typeof frame.ct === 'string' && frame.ct.length > MAX_CT_CHARS) {
      fail(`frame over ${MAX_FRAME_BYTES} bytes`, { chars: frame.ct.length });
    }
    const ct = decodeBase64UrlField(frame.ct, {
      code: 'decryption_failed',
      message: `${WHAT}: ct must be ${isEnd ? '' : 'at least '}${TAG_LENGTH} bytes of canonical base64url`,
      ...(isEnd ? { length: TAG_LENGTH } : { minLength: TAG_LENGTH }),
      codec: b64,
    });
    const aad = aadOf(seq, isEnd);
    const pt = await backend.gcmOpen(key!, streamNonce(seq), aad, ct, `${WHAT}: authentication failed`);
    expected = seq + 1;
    if (isEnd) {
      ended = true;
      return null;
    }
    return decodeBatch(pt, fail);
  };

  // An async function rather than promise chaining: a chained callback that rejects at once is
  // adopted a microtask late, which workerd reports as an unhandled rejection.
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    const previous = queue;
    let release = (): void => undefined;
    queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      if (failure) throw failure;
      try {
        return await run();
      } catch (e) {
        failure =
          e instanceof SealgateError
            ? e
            : new SealgateError('internal', `${WHAT}: unexpected error`, {}, { cause: e });
        throw failure;
      }
    } finally {
      release();
    }
  };

  return {
    open: (frame) => guarded(() => step(frame)),
    finish: () =>
      guarded(async () => {
        if (!ended)
          throw new SealgateError('stream_truncated', `${WHAT}: ended without end frame`, {
            frames: expected,
          });
      }),
  };
}

/**
 * Seals every batch of `batches` as one frame, then the end frame. If `batches` throws, no end
 * frame is sent.
 */
export async function* sealStream(
  context: RequestContext,
  batches: AsyncIterable<readonly string[]> | Iterable<readonly string[]>,
  options: { random?: RandomSource } = {},
): AsyncGenerator<string> {
  const sealer = createStreamSealer(context, options);
  for await (const batch of batches) yield await sealer.seal(batch);
  yield await sealer.end();
}

/**
 * Opens every frame of `frames` in order and yields their events one by one; throws
 * `stream_truncated` if they stop before the end frame.
 */
export async function* openStream(
  context: RequestContext,
  frames: AsyncIterable<unknown> | Iterable<unknown>,
): AsyncGenerator<string> {
  const opener = createStreamOpener(context);
  for await (const frame of frames) {
    const events = await opener.open(frame);
    if (events !== null) yield* events;
  }
  await opener.finish();
}

/** Why `events` cannot be one frame, or undefined. */
function batchProblem(events: unknown): string | undefined {
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_FRAME_EVENTS) {
    return `a frame carries 1..${MAX_FRAME_EVENTS} events`;
  }
  for (const e of events) {
    if (typeof e !== 'string' || !isWellFormedString(e)) return 'each event must be a well-formed string';
  }
  return undefined;
}

/** A verified frame's plaintext as its events; anything but a JSON array of 1..MAX strings fails. */
function decodeBatch(pt: Uint8Array, fail: (message: string) => never): string[] {
  let events: unknown;
  try {
    events = JSON.parse(utf8.decode(pt));
  } catch {
    return fail('frame is not a JSON array of events');
  }
  const bad = batchProblem(events);
  return bad ? fail(bad) : (events as string[]);
}

function ids(context: RequestContext): { kid: string; requestId: string; route: string } {
  return { kid: context.kid, requestId: context.requestId, route: context.route };
}
