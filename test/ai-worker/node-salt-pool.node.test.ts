/**
 * The response salt's pool (src/ai-worker/node-salt-pool.ts): every draw is fresh CSPRNG bytes of
 * the asked length, no byte is handed out twice (a refill is a new buffer, never a rewind). The
 * worker app's use of it (each JSON answer under its own `rs`, opening at the gateway) is in
 * node-crypto.node.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createSaltPool } from '../../src/ai-worker/node-salt-pool.js';
import { toHex } from '../../src/bytes.js';

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
