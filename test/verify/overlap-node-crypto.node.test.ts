/**
 * The report signature beside the chain (overlap-suite.ts) on node:crypto: P-384 on libuv's thread
 * pool (the default) and inline. And, counted by the process itself: two checks that reject leave
 * no unhandled rejection behind (the verification rejects once; nothing else surfaces).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeSignatureBackend } from '../../src/platform/node-signature-backend.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { overlapSuite, realInput } from './overlap-suite.js';
import { v } from './support.js';

overlapSuite('node:crypto, P-384 on the thread pool', createNodeSignatureBackend());
overlapSuite('node:crypto, P-384 inline', createNodeSignatureBackend({ poolCurves: [] }));

describe.skipIf(!v.present)(`no unhandled rejection when both checks reject ${v.skipReason}`, () => {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  beforeEach(() => {
    seen.length = 0;
    process.on('unhandledRejection', listener);
  });
  afterEach(() => {
    process.off('unhandledRejection', listener);
  });

  it('rejects once with the chain’s error; the process sees no other', async () => {
    const pooled = createNodeSignatureBackend();
    const failing = {
      ...pooled,
      // The real pooled check runs first, then its answer is turned into a rejection.
      verifyEcdsa: async (...a: Parameters<typeof pooled.verifyEcdsa>) => {
        await pooled.verifyEcdsa(...a);
        throw new Error('ecdsa backend failed');
      },
      verifyRsaPss: async () => {
        throw new Error('rsa backend failed');
      },
    };
    for (let i = 0; i < 20; i++) {
      await expect(verifySnpEvidence(realInput('genoa-v3-azure-trustee', failing))).rejects.toThrow(
        'rsa backend failed',
      );
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    // The listener is live: a rejection nobody handles is seen (so the empty list above means something).
    void Promise.reject(new Error('unhandled on purpose'));
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(1);
  });
});
