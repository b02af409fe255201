/**
 * The worker app with the `node:crypto` envelope backend, as server.ts runs it: requests sealed by
 * the gateway's WebCrypto open, answers (JSON and streams) open at the gateway, refusals keep their
 * codes — and every envelope operation of the exchange goes through the chosen backend (counted by
 * a pass-through wrapper around the real one, so a fallback to WebCrypto would show).
 */
import { describe, expect, it } from 'vitest';
import { createWorkerApp, type WorkerAppDeps } from '../../src/ai-worker/app.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { createSaltPool } from '../../src/ai-worker/node-salt-pool.js';
import { nodeSha256, nodeSha256Hex } from '../../src/ai-worker/node-sha256.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { fromBase64Url, toBase64Url } from '../../src/bytes.js';
import type { EnvelopeCrypto } from '../../src/envelope/envelope-crypto.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import { expectError, kekAt, openJson, openSse, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';
const chatBody = { model: BUILTIN_MODEL_ID, messages: [{ role: 'user', content: 'the secret prompt' }] };
const ANSWER = 'You said: "the secret prompt" Backwards: "prompt secret the"';

async function setup(envelopeCrypto?: EnvelopeCrypto, extra: Partial<WorkerAppDeps> = {}) {
  const kek = await kekAt();
  const keys = new WorkerKeys({ minIntervalMs: 0, clock: () => T * 1000, refresher: async () => undefined });
  await keys.add(kek);
  const calls: Record<string, number> = {};
  const counted = Object.fromEntries(
    Object.entries(envelopeCrypto ?? {}).map(([name, value]) => [
      name,
      typeof value === 'function'
        ? (...args: unknown[]) => {
            calls[name] = (calls[name] ?? 0) + 1;
            return (value as (...a: unknown[]) => unknown).apply(envelopeCrypto, args);
          }
        : value,
    ]),
  ) as unknown as EnvelopeCrypto;
  const app = createWorkerApp({
    keys,
    model: createBuiltinModel({ now: () => T }),
    manifestDigest: 'ab'.repeat(32),
    simulated: true,
    certificate: () => null,
    clock: () => T * 1000 + 500,
    log: () => undefined,
    ...(envelopeCrypto ? { envelopeCrypto: counted, sha256: nodeSha256 } : {}),
    ...extra,
  });
  return { app, kek, calls };
}

describe('worker app on the node:crypto envelope backend', () => {
  it('a JSON answer: opens the WebCrypto-sealed request, the gateway opens the answer', async () => {
    const { app, kek, calls } = await setup(nodeEnvelopeCrypto);
    const { sealed, context } = await seal(kek, CHAT, chatBody);
    const body = await openJson(await post(app, CHAT, sealed), context);
    expect(body.choices[0].message.content).toBe(ANSWER);
    // unwrap, K_req, open; K_resp, seal — all in the node backend.
    expect(calls).toMatchObject({ unwrapDek: 1, deriveAesKey: 2, gcmOpen: 1, gcmSeal: 1 });
  });

  it('with the pooled salt and the one-shot hash: each answer opens, each under its own rs', async () => {
    const pool = createSaltPool();
    let draws = 0;
    const { app, kek } = await setup(nodeEnvelopeCrypto, {
      sha256Hex: nodeSha256Hex,
      saltRandom: (n) => {
        draws++;
        return pool(n);
      },
    });
    const salts = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { sealed, context } = await seal(kek, CHAT, {
        model: BUILTIN_MODEL_ID,
        messages: [{ role: 'user', content: `prompt ${i}` }],
      });
      const response = await post(app, CHAT, sealed);
      const wire = (await response.clone().json()) as { sealgate: { rs: string } };
      salts.add(wire.sealgate.rs);
      const body = await openJson(response, context);
      expect(body.choices[0].message.content).toContain(`prompt ${i}`);
    }
    expect(draws).toBe(3);
    expect(salts.size).toBe(3);
  });

  it('a stream: every frame sealed by the node backend opens at the gateway', async () => {
    const { app, kek, calls } = await setup(nodeEnvelopeCrypto);
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const opened = await openSse(await post(app, CHAT, sealed), context);
    expect(opened.error).toBeUndefined();
    const text = opened.chunks
      .slice(0, -1)
      .map((c) => JSON.parse(c).choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe(ANSWER);
    expect(calls.gcmSeal).toBe(opened.frames.length);
    expect(calls.deriveAesKey).toBe(2); // K_req and K_stream
  });

  it("a stream's salt rs comes from the salt source, and the stream opens under it", async () => {
    const drawn: Uint8Array[] = [];
    const { app, kek } = await setup(nodeEnvelopeCrypto, {
      saltRandom: (n) => {
        const bytes = new Uint8Array(n).fill(0x5a + drawn.length);
        drawn.push(bytes);
        return bytes;
      },
    });
    const { sealed, context } = await seal(kek, CHAT, { ...chatBody, stream: true });
    const response = await post(app, CHAT, sealed);
    const body = new Uint8Array(await response.clone().arrayBuffer());
    expect(drawn).toHaveLength(1);
    // "SGS3" ‖ rs: the body's header carries the drawn salt.
    expect(body.subarray(4, 36)).toEqual(drawn[0]);
    const opened = await openSse(response, context);
    expect(opened.error).toBeUndefined();
    expect(opened.chunks.at(-1)).toBe('[DONE]');
  });

  it('refusals keep their codes (the message is the code only): tampered request, replay', async () => {
    const node = await setup(nodeEnvelopeCrypto);
    const web = await setup();
    for (const s of [node, web]) {
      const { sealed } = await seal(s.kek, CHAT, chatBody);
      const tampered = JSON.parse(JSON.stringify(sealed));
      const ct = fromBase64Url(tampered.sealgate.ct);
      ct[ct.length - 1]! ^= 1;
      tampered.sealgate.ct = toBase64Url(ct);
      expect(await expectError(await post(s.app, CHAT, tampered), 400, 'decryption_failed')).toBe(
        "sealed request refused: decryption_failed (details are in the worker's log)",
      );
      const wk = fromBase64Url(tampered.sealgate.wk);
      wk[0]! ^= 1;
      tampered.sealgate.wk = toBase64Url(wk);
      expect(await expectError(await post(s.app, CHAT, tampered), 400, 'decryption_failed')).toBe(
        "sealed request refused: decryption_failed (details are in the worker's log)",
      );
      expect((await post(s.app, CHAT, sealed)).status).toBe(200);
      await expectError(await post(s.app, CHAT, sealed), 409, 'replay_detected');
    }
  });
});
