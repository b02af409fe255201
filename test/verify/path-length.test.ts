/**
 * src/verify/path-length.ts (RFC 5280 §6.1.4 (l)–(m), §4.2.1.9): the most non-self-issued
 * intermediates below each issuer, the end entity and self-issued intermediates not counted,
 * the trust anchor's own constraint held too. The chain checks that use it are tested with real,
 * re-signed chains in hostile-amd-chain.test.ts and hostile-ecdsa-chains.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { basicConstraints } from '../../src/der/x509-fields.js';
import { pathLengthExceeded } from '../../src/verify/path-length.js';

const name = (s: string) => new TextEncoder().encode(s);
/** Leaf first: [subject, issuer, pathLen] per certificate. */
const chain = (...certs: [string, string, number | null][]) =>
  certs.map(([subject, issuer, pathLen]) => ({ subject: name(subject), issuer: name(issuer), pathLen }));

describe('pathLengthExceeded', () => {
  it('no constraint, or constraints that the chain keeps: null', () => {
    expect(
      pathLengthExceeded(chain(['leaf', 'ca', null], ['ca', 'root', null], ['root', 'root', null])),
    ).toBeNull();
    expect(
      pathLengthExceeded(chain(['leaf', 'ca', null], ['ca', 'root', 0], ['root', 'root', 1])),
    ).toBeNull();
    expect(pathLengthExceeded(chain(['leaf', 'root', null], ['root', 'root', 0]))).toBeNull();
  });

  it('the first issuer, from the leaf up, with more intermediates below it than it allows', () => {
    const c = chain(
      ['leaf', 'a', null],
      ['a', 'b', null],
      ['b', 'c', 0],
      ['c', 'root', 0],
      ['root', 'root', 5],
    );
    expect(pathLengthExceeded(c)).toEqual({ index: 2, pathLen: 0, intermediates: 1 });
    // The trust anchor's own constraint counts too.
    const root = chain(['leaf', 'a', null], ['a', 'b', null], ['b', 'root', null], ['root', 'root', 1]);
    expect(pathLengthExceeded(root)).toEqual({ index: 3, pathLen: 1, intermediates: 2 });
  });

  it('a self-issued intermediate (a key rollover) is not counted (§6.1.4 (l))', () => {
    const c = chain(['leaf', 'a', null], ['a', 'a', null], ['a', 'root', null], ['root', 'root', 1]);
    expect(pathLengthExceeded(c)).toBeNull();
  });
});

describe('basicConstraints (src/der/x509-fields.ts)', () => {
  const bc = (...parts: number[][]) => Uint8Array.from([0x30, parts.flat().length, ...parts.flat()]);
  const CA = [0x01, 0x01, 0xff];
  it('reads cA and pathLenConstraint as DER INTEGER 0..MAX', () => {
    expect(basicConstraints(bc())).toEqual({ ca: false, pathLen: null });
    expect(basicConstraints(bc(CA))).toEqual({ ca: true, pathLen: null });
    expect(basicConstraints(bc(CA, [0x02, 0x01, 0x00]))).toEqual({ ca: true, pathLen: 0 });
    expect(basicConstraints(bc(CA, [0x02, 0x02, 0x01, 0x2c]))).toEqual({ ca: true, pathLen: 300 });
    // Past 2^31 - 1 no path can reach: read as that.
    expect(basicConstraints(bc(CA, [0x02, 0x05, 0x01, 0, 0, 0, 0]))).toEqual({
      ca: true,
      pathLen: 0x7fffffff,
    });
  });
  it('refuses a pathLenConstraint without cA (§4.2.1.9), negative or not minimal', () => {
    for (const value of [
      bc([0x02, 0x01, 0x00]),
      bc(CA, [0x02, 0x01, 0x80]),
      bc(CA, [0x02, 0x02, 0x00, 0x01]),
    ]) {
      expect(() => basicConstraints(value)).toThrow(/basicConstraints/);
    }
  });
});
