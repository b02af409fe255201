/**
 * The response salt's pool (src/ai-worker/node-salt-pool.ts): every draw is fresh CSPRNG bytes of
 * the asked length, no byte is handed out twice (a refill is a new buffer, never a rewind), and the
 * worker app seals each JSON answer under a salt drawn from it — the answer still opens at the
 * gateway, and two answers never share an `rs`.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerApp } from '../../src/ai-worker/app.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { createSaltPool } from '../../src/ai-worker/node-salt-pool.js';
import { nodeSha256, nodeSha256Hex } from '../../src/ai-worker/node-sha256.js';
import { WorkerKeys } from '../../src/ai-worker/worker-keys.js';
import { toHex } from '../../src/bytes.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import { kekAt, openJson, post, seal, T } from './support.js';

const CHAT = '/v1/chat/completions';

describe('createSaltPool', () => {
  it('hands out fresh bytes of the asked length, none twice, across refills', () => {
    const draw = createSaltPool();
    const seen = new Set<string>();
    const buffers = new Set<ArrayBufferLike>();
    // 300 draws of 32 bytes: more than two pools of 4 KiB, so refills happen.
    for (let i = 0; i < 300; i++) {
      const rs = draw(32);
      expect(rs).toBeInstanceOf(Uint8Array);
      expect(rs.length).toBe(32);
      seen.add(toHex(rs));
      buffers.add(rs.buffer);
    }
    expect(seen.size).toBe(300);
    expect(buffers.size).toBeGreaterThanOrEqual(3);
    // Bytes already handed out are never overwritten by a refill: a caller's view stays as drawn.
    const first = draw(32);
    const copy = first.slice();
    for (let i = 0; i < 200; i++) draw(32);
    expect(first).toEqual(copy);
  });

  it('serves a draw larger than the pool on its own', () => {
    const big = createSaltPool()(5000);
    expect(big.length).toBe(5000);
    expect(big.some((b) => b !== 0)).toBe(true);
  });
});

describe('the worker app with the pooled salt and the one-shot hash', () => {
  it('each JSON answer opens at the gateway and has its own rs', async () => {
    const kek = await kekAt();
    const keys = new WorkerKeys({
      minIntervalMs: 0,
      clock: () => T * 1000,
      refresher: async () => undefined,
    });
    await keys.add(kek);
    const pool = createSaltPool();
    let draws = 0;
    const app = createWorkerApp({
      keys,
      model: createBuiltinModel({ now: () => T }),
      manifestDigest: 'ab'.repeat(32),
      simulated: true,
      certificate: () => null,
      clock: () => T * 1000 + 500,
      log: () => undefined,
      envelopeCrypto: nodeEnvelopeCrypto,
      sha256: nodeSha256,
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
});
