/**
 * The report signature beside the chain checks (overlap-suite.ts) on WebCrypto, and with backends
 * that hold or break one check, so that the ordering is seen, not assumed:
 *   - a held report check keeps the verification pending after the chain is done: no verdict is
 *     read before its check settled, whichever way it then goes;
 *   - a held report check under a bad chain is still awaited;
 *   - checks that reject (a backend breaking its contract) reject the verification once, with the
 *     earlier step's error, after both settled — nothing left running, nothing unhandled (vitest
 *     fails a run on an unhandled rejection; overlap-node-crypto.node.test.ts also counts them).
 */
import { describe, expect, it } from 'vitest';
import { type SignatureBackend, webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { verifySnpEvidence } from '../../src/verify/verify-snp.js';
import { leafWithBadSignature, overlapSuite, realInput } from './overlap-suite.js';
import { codes, v } from './support.js';

overlapSuite('WebCrypto', webCryptoSignatures);

const SET = 'genoa-v3-azure-trustee';

/** WebCrypto whose ECDSA verdicts wait for `release` (real verdict, or the one given). */
function heldEcdsa() {
  const held: ((verdict?: boolean) => void)[] = [];
  let rsaDone = 0;
  const backend: SignatureBackend = {
    ...webCryptoSignatures,
    verifyEcdsa: (key, hash, signature, data) => {
      const real = webCryptoSignatures.verifyEcdsa(key, hash, signature, data);
      return new Promise((resolve) => held.push((verdict) => resolve(verdict ?? real)));
    },
    verifyRsaPss: async (...args) => {
      const ok = await webCryptoSignatures.verifyRsaPss(...args);
      rsaDone++;
      return ok;
    },
  };
  return { backend, held, rsaDone: () => rsaDone };
}

const tick = () => new Promise((r) => setTimeout(r, 1));

/**
 * Lets pending work run until `ready` holds (WebCrypto's RSA check is a thread-pool job in Node,
 * slow on a loaded machine), then a few turns more: what finishes without the held check.
 */
async function drain(ready: () => boolean = () => true): Promise<void> {
  for (let waited = 0; !ready(); waited++) {
    if (waited > 10_000) throw new Error('drain: still not ready after ~10 s');
    await tick();
  }
  for (let i = 0; i < 5; i++) await tick();
}

function track<T>(p: Promise<T>): { settled: () => boolean } {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { settled: () => settled };
}

describe.skipIf(!v.present)(`the report check is awaited, never read early ${v.skipReason}`, () => {
  it('stays pending after the chain is done, then reports what the held check says', async () => {
    for (const verdict of [undefined, false] as const) {
      const h = heldEcdsa();
      const p = verifySnpEvidence(realInput(SET, h.backend));
      const t = track(p);
      await drain(() => h.rsaDone() >= 1); // the chain ran beside the held check
      expect(h.held).toHaveLength(1); // started
      expect(t.settled()).toBe(false);
      h.held[0]!(verdict);
      const r = await p;
      if (verdict === undefined) expect(r.violations).toEqual([]);
      else expect(codes(r.violations)).toEqual(['report_signature_invalid']);
      expect(r.claims === null).toBe(verdict === false);
    }
  });

  it('under a bad chain, the held check is still awaited, and its verdict not reported', async () => {
    const h = heldEcdsa();
    const input = realInput(SET, h.backend);
    const p = verifySnpEvidence({ ...input, leaf: leafWithBadSignature(input.leaf!) });
    const t = track(p);
    await drain(() => h.rsaDone() >= 1);
    expect(h.held).toHaveLength(1);
    expect(t.settled()).toBe(false);
    h.held[0]!(false);
    expect(codes((await p).violations)).toEqual(['cert_chain_invalid']);
  });
});

/** WebCrypto whose ECDSA and/or RSA-PSS checks reject (a backend breaking its never-throw rule). */
function rejecting(which: { ecdsa?: boolean; rsa?: boolean }) {
  const calls: string[] = [];
  const backend: SignatureBackend = {
    ...webCryptoSignatures,
    verifyEcdsa: async (...args) => {
      calls.push('ecdsa');
      if (which.ecdsa) throw new Error('ecdsa backend failed');
      return await webCryptoSignatures.verifyEcdsa(...args);
    },
    verifyRsaPss: async (...args) => {
      calls.push('rsa');
      if (which.rsa) throw new Error('rsa backend failed');
      return await webCryptoSignatures.verifyRsaPss(...args);
    },
  };
  return { backend, calls };
}

describe.skipIf(!v.present)(`checks that reject reject the verification once ${v.skipReason}`, () => {
  it.each([
    ['both', { ecdsa: true, rsa: true }, 'rsa backend failed'],
    ['the report check', { ecdsa: true }, 'ecdsa backend failed'],
    ['the chain check', { rsa: true }, 'rsa backend failed'],
  ])('%s rejecting: the earlier step’s error, after both ran', async (_n, which, message) => {
    const r = rejecting(which);
    await expect(verifySnpEvidence(realInput(SET, r.backend))).rejects.toThrow(message);
    expect(r.calls).toContain('ecdsa');
    expect(r.calls).toContain('rsa');
  });
});
