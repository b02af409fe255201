/**
 * End to end, on loopback and SIMULATED hardware (createDevelopmentEnvironment): the attestation
 * service (`startService`) and AI workers (`startWorker`) as real HTTP servers, and a client using
 * the library code the gateway uses — `attestService` (its own nonce), `uploadKek`, `sealRequest`,
 * `openResponse` and the stream opener. Nothing is mocked: real crypto, the real simulator, the
 * real verifier (the MODEL_URL path is model-url.node.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWorker } from '../../src/ai-worker/main.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import { type DevelopmentEnvironment, DevSnpPlatform } from '../../src/dev/environment.js';
import { openResponse } from '../../src/envelope/response.js';
import { createStreamOpener } from '../../src/envelope/stream.js';
import { createKek } from '../../src/keys/kek.js';
import { BUILTIN_MODEL_ID } from '../../src/model/builtin.js';
import { measurementFor } from '../../src/platform/simulator/measurement.js';
import { createStreamHash, parseReceipt } from '../../src/receipts/receipt.js';
import { expectError, openSse, post } from '../ai-worker/support.js';
import { expectSealgateError } from '../keys/support.js';
import type { Json } from '../model/json.js';
import { CHAT, expectWorkerCertificate, nowSeconds, recordingLog, type Stack, startStack } from './stack.js';

let stack: Stack;
let worker: RunningWorker;
const workerLog = recordingLog();
const seal: Stack['seal'] = (body, opts) => stack.seal(body, opts);

beforeAll(async () => {
  stack = await startStack();
  worker = await stack.startWorker({ log: workerLog.log });
  await worker.ready; // resolves once the worker holds a key (it polls the service)
});
afterAll(() => stack?.close());

describe('services end to end (SIMULATED hardware)', () => {
  it('the worker attested to the service and holds the uploaded key; its certificate chains to the attested service', async () => {
    const health = await (await fetch(`${worker.url}/healthz`)).json();
    expect(health).toEqual({
      status: 'ok',
      role: 'worker',
      manifestDigest: stack.env.manifestDigest,
      simulated: true,
      keys: 1,
      keyIds: [stack.kek.kid],
      registered: true,
    });
    expect(workerLog.entries.some((e) => e.event === 'SIMULATED HARDWARE')).toBe(true);
    await expectWorkerCertificate(stack, worker);
  });

  it('chat, not streamed: a correct sealed answer', async () => {
    const { sealed, context } = await seal({
      model: BUILTIN_MODEL_ID,
      messages: [{ role: 'user', content: 'Where is my data?' }],
    });
    const response = await post(worker.url, CHAT, sealed);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('data?');
    const body = await openResponse(context, text);
    expect(body.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'You said: "Where is my data?" Backwards: "data? my is Where"',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ]);
  });

  it('chat, streamed: every frame opens in order, the end frame closes it', async () => {
    const { sealed, context } = await seal({
      model: BUILTIN_MODEL_ID,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream me' }],
    });
    const opened = await openSse(await post(worker.url, CHAT, sealed), context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks.at(-1)).toBe('[DONE]');
    const chunks = opened.chunks.slice(0, -1).map((c) => JSON.parse(c));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'You said: "stream me" Backwards: "me stream"',
    );
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 2, completion_tokens: 7, total_tokens: 9 });
    // The receipt trailer after the end frame: signed over the frame hash of exactly these frames.
    const receipt = parseReceipt(opened.trailer!);
    const hash = createStreamHash();
    hash.update(opened.hashed);
    expect(receipt.claims).toMatchObject({
      id: context.requestId,
      stream: true,
      responseSha256: hash.digest(),
    });
  });

  it('embeddings: a correct sealed answer', async () => {
    const { sealed, context } = await seal(
      { model: BUILTIN_MODEL_ID, input: ['alpha', 'beta'], dimensions: 8 },
      { route: '/v1/embeddings' },
    );
    const body: Json = await openResponse(
      context,
      await (await post(worker.url, '/v1/embeddings', sealed)).text(),
    );
    expect(body.data.map((d: { embedding: number[] }) => d.embedding.length)).toEqual([8, 8]);
    const norm = Math.hypot(...(body.data[0].embedding as number[]));
    expect(norm).toBeCloseTo(1, 5);
  });

  it('a key the worker does not hold yet is fetched at once (rotation): the request is answered', async () => {
    const next = await stack.uploadNewKek();
    const { sealed, context } = await seal(
      { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'new key' }] },
      { key: next },
    );
    const body = await openResponse(context, await (await post(worker.url, CHAT, sealed)).text());
    expect(body.object).toBe('chat.completion');
  });

  it('refusals, each with its own code: unknown key, replay, tampered request, plain JSON', async () => {
    const stranger = await createKek({ notBefore: nowSeconds() - 5, notAfter: nowSeconds() + 600 }); // never uploaded
    const unknown = await seal({ model: BUILTIN_MODEL_ID, messages: [] }, { key: stranger });
    await expectError(await post(worker.url, CHAT, unknown.sealed), 409, 'unknown_key');

    const { sealed } = await seal({ model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'once' }] });
    expect((await post(worker.url, CHAT, sealed)).status).toBe(200);
    await expectError(await post(worker.url, CHAT, sealed), 409, 'replay_detected');

    const fresh = await seal({ model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'x' }] });
    const ct = fromBase64Url(fresh.sealed.sealgate.ct);
    ct[ct.length - 1]! ^= 0x80;
    const tampered = { ...fresh.sealed, sealgate: { ...fresh.sealed.sealgate, ct: toBase64Url(ct) } };
    await expectError(await post(worker.url, CHAT, tampered), 400, 'decryption_failed');

    await expectError(
      await post(worker.url, CHAT, {
        model: BUILTIN_MODEL_ID,
        messages: [{ role: 'user', content: 'plain' }],
      }),
      400,
      'invalid_request',
    );
  });

  it('tampered, truncated and reordered sealed answers are detected; nothing unauthentic is released', async () => {
    // Not streamed: one flipped bit or a cut body, and nothing at all opens.
    const a = await seal({ model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'tamper' }] });
    const sealedAnswer = (await (await post(worker.url, CHAT, a.sealed)).json()) as {
      sealgate: { ct: string };
    };
    const ct = fromBase64Url(sealedAnswer.sealgate.ct);
    ct[3]! ^= 1;
    await expectSealgateError(
      openResponse(a.context, {
        ...sealedAnswer,
        sealgate: { ...sealedAnswer.sealgate, ct: toBase64Url(ct) },
      }),
      'decryption_failed',
    );
    const text = JSON.stringify(sealedAnswer);
    await expectSealgateError(openResponse(a.context, text.slice(0, text.length - 10)), 'decryption_failed');

    // Streamed: take the real frames off the wire, then replay them altered into a fresh opener.
    const b = await seal({
      model: BUILTIN_MODEL_ID,
      stream: true,
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    const { frames, hashed, error } = await openSse(await post(worker.url, CHAT, b.sealed), b.context);
    expect(error).toBeUndefined();
    const header = hashed.subarray(0, 36);
    // The first event alone (time to first chunk), the burst after it, the end frame.
    expect(frames.length).toBeGreaterThanOrEqual(3);
    const feed = async (altered: Uint8Array[]) => {
      const opener = createStreamOpener(b.context);
      const released: string[] = [];
      const onFrame = (events: readonly Uint8Array[]) => {
        for (const e of events) released.push(new TextDecoder().decode(e));
      };
      try {
        for (const f of [header, ...altered]) await opener.push(f, onFrame);
        opener.finish();
      } catch (e) {
        return { released, code: (e as { code: string }).code };
      }
      return { released, code: null };
    };
    const all = await feed(frames);
    expect(all.code).toBeNull();

    // Truncated: the end frame is missing.
    const truncated = await feed(frames.slice(0, -1));
    expect(truncated.code).toBe('stream_truncated');
    // The events of the first n frames (a frame carries a burst of events).
    const upTo = async (n: number) => (await feed(frames.slice(0, n))).released;
    expect((await upTo(1)).length).toBeGreaterThan(0);
    // Reordered: frames 1 and 2 swapped — nothing from frame 1 on is released.
    const swapped = [...frames];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    const reordered = await feed(swapped);
    expect(reordered).toEqual({ released: await upTo(1), code: 'decryption_failed' });
    // Tampered: one bit of frame 1's ciphertext — frame 0's events released, nothing after.
    const bytes = Uint8Array.from(frames[1]!);
    bytes[5]! ^= 1;
    const tamperedFrames = [...frames];
    tamperedFrames[1] = bytes;
    expect(await feed(tamperedFrames)).toEqual({
      released: await upTo(1),
      code: 'decryption_failed',
    });
  });

  it('a worker whose measurement is not in the manifest gets no keys and stays not ready', async () => {
    const rogueLog = recordingLog();
    const rogue = await stack.startWorker({
      platform: new DevSnpPlatform(
        (stack.env as DevelopmentEnvironment).chain,
        await measurementFor('sealgate/worker/tampered'),
        'rogue worker',
      ),
      log: rogueLog.log,
    });
    try {
      const rejected = await stack.serviceLog.until(
        (e) =>
          e.event === 'worker_rejected' &&
          JSON.stringify(e.detail.violations ?? []).includes('"measurement_not_allowed"'),
      );
      expect(rejected.level).toBe('warn');
      await rogueLog.until((e) => e.detail.code === 'attestation_rejected');
      expect(await (await fetch(`${rogue.url}/healthz`)).json()).toMatchObject({
        status: 'starting',
        keys: 0,
      });
      await expectError(await fetch(`${rogue.url}/v1/worker`), 503, 'not_ready');
      const { sealed } = await seal({ model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'hi' }] });
      await expectError(await post(rogue.url, CHAT, sealed), 503, 'not_ready');
    } finally {
      await rogue.close();
    }
  });
});
