/**
 * The OCSP reader takes bytes from the network before anything is authenticated, so it is fuzzed
 * (fast-check; a failure prints its seed and shrunk input): random bytes and random edits of a real
 * (simulated, signed) answer — byte changes, cuts, insertions — never throw anything but
 * `malformed_evidence` from parseOcspResponse, never throw from checkOcspResponse, and an edited
 * answer is never judged good. Every single-byte change of the whole answer is tried too.
 * Runs in Node and workerd.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseOcspResponse } from '../../../src/der/ocsp.js';
import { isSealgateError } from '../../../src/errors.js';
import { checkOcspResponse } from '../../../src/verify/nvidia/ocsp.js';
import { AT, makeOcspResponderCertificate, type OcspFixture, ocspFixture } from './ocsp-support.js';

function parsesOrMalformed(bytes: Uint8Array): void {
  try {
    parseOcspResponse(bytes);
  } catch (e) {
    if (!isSealgateError(e, 'malformed_evidence')) throw e;
  }
}

describe('OCSP reader fuzzing', () => {
  let f: OcspFixture;
  let good: Uint8Array;
  beforeAll(async () => {
    f = await ocspFixture();
    // With a delegated responder, so `certs` and a second signature are in the bytes too.
    good = await f.answer({ signer: await makeOcspResponderCertificate(f.sim.certs[1]!) });
  });
  const check = (response: Uint8Array) =>
    checkOcspResponse({ response, cert: f.certs[0]!, issuer: f.certs[1]!, at: AT, nonce: null, field: 'x' });

  it('random bytes: parsed or malformed_evidence, never another throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => parsesOrMalformed(bytes)),
      { numRuns: 300 },
    );
  });

  it('random edits of a signed answer: never a throw, never good', async () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        let bytes = good.slice();
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
          else if (e.kind === 'cut') bytes = bytes.slice(0, at);
          else if (e.kind === 'insert')
            bytes = new Uint8Array([...bytes.subarray(0, at), e.value, ...bytes.subarray(at)]);
        }
        parsesOrMalformed(bytes);
        const r = await check(bytes);
        if (bytes.length !== good.length || bytes.some((b, i) => b !== good[i])) {
          expect(r.status === 'good' && r.violations.length === 0).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('every single-byte change of the whole answer is refused', async () => {
    expect((await check(good)).status).toBe('good');
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i]! ^= 0x80;
      const r = await check(bad);
      expect(r.violations.length, `byte ${i}`).toBeGreaterThan(0);
    }
  });
});
