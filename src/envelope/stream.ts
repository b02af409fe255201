/**
 * Sealed SSE streams: one sealed frame per chunk, then an authenticated end frame.
 *
 * Frames (JSON; each is the `data:` of one SSE event):
 *   first   {"v":1,"rs":"<base64url 32 bytes>","seq":0,"ct":"…"}
 *   next    {"seq":n,"ct":"…"}
 *   end     {"seq":N,"end":true,"ct":"<16-byte tag>"}          (N = number of chunks)
 *
 * K_stream = HKDF(DEK, salt = rs, "sealgate/v1/stream-key"); frame n is
 * AES-256-GCM(K_stream, nonce = u32be(0) ‖ u64be(n), chunk, AAD) with
 * AAD = LP("sealgate/v1/stream") ‖ LP(kid) ‖ LP(rid) ‖ LP(route) ‖ LP(u64be(n)) ‖ LP(end ? 0x01 : 0x00).
 *
 * The opener decrypts frame n only with counter n, so a reordered, dropped or duplicated frame
 * fails authentication even if its `seq` field is edited (`decryption_failed`); the end frame is the
 * only way to finish, so a cut stream is `stream_truncated`. Plaintext is released only from frames
 * whose tag verified, strictly in order, and nothing after the first failure.
 */
import { toBase64Url, utf8 } from '../bytes.js';
import { SealgateError } from '../errors.js';
import { isWellFormedString } from '../json/strict-json.js';
import { decodeBase64UrlField } from '../keys/encoding.js';
import { drawRandom, type RandomSource, systemRandom } from '../keys/random.js';
import { HKDF_INFO, RESPONSE_SALT_LENGTH, type RequestContext, TAG_LENGTH } from './data-key.js';
import type { AesKeyHandle } from './envelope-crypto.js';
import { checkContext } from './response.js';
import { isPlainObject, PROTOCOL_VERSION, parseJsonInput, streamFrameAads, streamNonce } from './wire.js';

const WHAT = 'sealed stream';
const EMPTY = new Uint8Array(0);

export interface StreamSealer {
  /** Seals the next chunk (e.g. one SSE `data:` payload, "[DONE]" included); returns the frame JSON. */
  seal(chunk: string): Promise<string>;
  /** The end frame. After it, `seal` refuses. */
  end(): Promise<string>;
}

export interface StreamOpener {
  /** Opens the next frame (JSON text or parsed): the chunk, or null for the end frame. */
  open(frame: unknown): Promise<string | null>;
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
  let key: AesKeyHandle | Promise<AesKeyHandle> | undefined;
  const aadOf = streamFrameAads(ids(context));
  let next = 0;
  let ended = false;

  const frame = async (seq: number, end: boolean, pt: Uint8Array): Promise<string> => {
    key ??= backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
    const aad = aadOf(seq, end);
    const ct = toBase64Url(await backend.gcmSeal(await key, streamNonce(seq), aad, pt));
    // Fixed member order so that frames are byte-identical across implementations (test vectors).
    const head = seq === 0 ? `"v":${PROTOCOL_VERSION},"rs":"${toBase64Url(rs)}",` : '';
    return `{${head}"seq":${seq},${end ? '"end":true,' : ''}"ct":"${ct}"}`;
  };

  return {
    seal(chunk) {
      if (ended) return Promise.reject(new SealgateError('invalid_argument', 'stream sealer: already ended'));
      if (typeof chunk !== 'string' || !isWellFormedString(chunk)) {
        return Promise.reject(
          new SealgateError('invalid_argument', 'stream sealer: chunk must be a well-formed string'),
        );
      }
      // The counter is taken synchronously, so concurrent calls still get distinct, ordered seqs.
      return frame(next++, false, utf8.encode(chunk));
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

  const step = async (input: unknown): Promise<string | null> => {
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
      if (frame.v !== PROTOCOL_VERSION) fail('unsupported version');
      const rs = decodeBase64UrlField(frame.rs, {
        code: 'decryption_failed',
        message: `${WHAT}: rs must be ${RESPONSE_SALT_LENGTH} bytes of canonical base64url`,
        length: RESPONSE_SALT_LENGTH,
      });
      key = await backend.deriveAesKey(context.dek, rs, HKDF_INFO.stream);
    }
    const ct = decodeBase64UrlField(frame.ct, {
      code: 'decryption_failed',
      message: `${WHAT}: ct must be ${isEnd ? '' : 'at least '}${TAG_LENGTH} bytes of canonical base64url`,
      ...(isEnd ? { length: TAG_LENGTH } : { minLength: TAG_LENGTH }),
    });
    const aad = aadOf(seq, isEnd);
    const pt = await backend.gcmOpen(key!, streamNonce(seq), aad, ct, `${WHAT}: authentication failed`);
    expected = seq + 1;
    if (isEnd) {
      ended = true;
      return null;
    }
    try {
      return utf8.decode(pt);
    } catch {
      return fail('chunk is not UTF-8');
    }
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

/** Seals every chunk of `chunks`, then the end frame. If `chunks` throws, no end frame is sent. */
export async function* sealStream(
  context: RequestContext,
  chunks: AsyncIterable<string> | Iterable<string>,
  options: { random?: RandomSource } = {},
): AsyncGenerator<string> {
  const sealer = createStreamSealer(context, options);
  for await (const chunk of chunks) yield await sealer.seal(chunk);
  yield await sealer.end();
}

/** Opens every frame of `frames` in order; throws `stream_truncated` if they stop before the end frame. */
export async function* openStream(
  context: RequestContext,
  frames: AsyncIterable<unknown> | Iterable<unknown>,
): AsyncGenerator<string> {
  const opener = createStreamOpener(context);
  for await (const frame of frames) {
    const chunk = await opener.open(frame);
    if (chunk !== null) yield chunk;
  }
  await opener.finish();
}

function ids(context: RequestContext): { kid: string; requestId: string; route: string } {
  return { kid: context.kid, requestId: context.requestId, route: context.route };
}
