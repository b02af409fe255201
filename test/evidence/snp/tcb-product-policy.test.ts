/**
 * TCB_VERSION layouts (Milan/Genoa vs Turin), component-wise minimum comparison, the product from
 * CPUID and from a certificate's productName, GUEST_POLICY / PLATFORM_INFO bits, and the
 * signature's P1363 conversion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealgateError } from '../../../src/errors.js';
import {
  decodeGuestPolicy,
  decodePlatformInfo,
  encodeGuestPolicy,
  encodePlatformInfo,
} from '../../../src/evidence/snp/policy-bits.js';
import { productFromCpuid, productFromName } from '../../../src/evidence/snp/product.js';
import { reportSignatureP1363, signatureFromP1363 } from '../../../src/evidence/snp/signature.js';
import { decodeTcb, encodeTcb, tcbBelow } from '../../../src/evidence/snp/tcb.js';

describe('decodeTcb / encodeTcb', () => {
  it('every byte of any u64 lands where a BigInt shift per byte puts it (both layouts)', () => {
    const byte = (raw: bigint, i: number) => Number((raw >> BigInt(8 * i)) & 0xffn);
    const reference = {
      Milan: { reserved: [2, 3, 4, 5], bootloader: 0, tee: 1, snp: 6, microcode: 7 },
      Turin: { reserved: [4, 5, 6], fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
    } as const;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.boolean(),
        fc.boolean(),
        (u64, turin, clear) => {
          const product = turin ? 'Turin' : 'Milan';
          const l = reference[product];
          // Half the cases with the reserved bytes cleared, so both outcomes are exercised.
          let raw = u64;
          if (clear) for (const i of l.reserved) raw &= ~(0xffn << BigInt(8 * i));
          const reservedZero = l.reserved.every((i) => byte(raw, i) === 0);
          if (!reservedZero) {
            expect(() => decodeTcb(raw, product)).toThrow(SealgateError);
            return;
          }
          expect(decodeTcb(raw, product)).toEqual({
            ...('fmc' in l ? { fmc: byte(raw, l.fmc) } : {}),
            bootloader: byte(raw, l.bootloader),
            tee: byte(raw, l.tee),
            snp: byte(raw, l.snp),
            microcode: byte(raw, l.microcode),
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('Milan and Genoa: bl=byte0 tee=byte1 snp=byte6 ucode=byte7', () => {
    for (const product of ['Milan', 'Genoa'] as const) {
      expect(decodeTcb(0x0807000000000201n, product)).toEqual({
        bootloader: 1,
        tee: 2,
        snp: 7,
        microcode: 8,
      });
      expect(encodeTcb({ bootloader: 1, tee: 2, snp: 7, microcode: 8 }, product)).toBe(0x0807000000000201n);
    }
  });

  it('Turin: fmc=byte0 bl=byte1 tee=byte2 snp=byte3 ucode=byte7', () => {
    expect(decodeTcb(0x0800000004030201n, 'Turin')).toEqual({
      fmc: 1,
      bootloader: 2,
      tee: 3,
      snp: 4,
      microcode: 8,
    });
    expect(encodeTcb({ fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 8 }, 'Turin')).toBe(
      0x0800000004030201n,
    );
  });

  it('rejects a non-zero reserved byte, naming it', () => {
    for (const byte of [2, 3, 4, 5]) {
      const raw = 0x0807000000000201n | (0x5an << BigInt(8 * byte));
      expect(() => decodeTcb(raw, 'Milan')).toThrowError(
        `TCB_VERSION 0x${raw.toString(16).padStart(16, '0')}: reserved byte ${byte} is 0x5a in the Milan layout`,
      );
    }
    for (const byte of [4, 5, 6]) {
      const raw = 0x0800000004030201n | (0xffn << BigInt(8 * byte));
      let caught: unknown;
      try {
        decodeTcb(raw, 'Turin');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SealgateError);
      expect((caught as SealgateError).code).toBe('malformed_evidence');
      expect((caught as SealgateError).message).toBe(
        `TCB_VERSION 0x${raw.toString(16).padStart(16, '0')}: reserved byte ${byte} is 0xff in the Turin layout`,
      );
    }
  });

  it('round-trips every in-range value per product', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 5, maxLength: 5 }),
        ([f, b, t, s, u]) => {
          const legacy = { bootloader: b!, tee: t!, snp: s!, microcode: u! };
          const turin = { fmc: f!, ...legacy };
          expect(decodeTcb(encodeTcb(legacy, 'Genoa'), 'Genoa')).toEqual(legacy);
          expect(decodeTcb(encodeTcb(turin, 'Turin'), 'Turin')).toEqual(turin);
        },
      ),
    );
  });

  it('checks its arguments', () => {
    const tcb = { bootloader: 1, tee: 0, snp: 1, microcode: 1 };
    expect(() => encodeTcb({ ...tcb, fmc: 0 }, 'Milan')).toThrowError('TCB: Milan has no fmc component');
    expect(() => encodeTcb(tcb, 'Turin')).toThrowError('TCB: Turin requires an fmc component');
    expect(() => encodeTcb({ ...tcb, snp: 256 }, 'Genoa')).toThrowError(
      'TCB: snp must be an integer in [0, 255], got 256',
    );
    expect(() => decodeTcb(-1n, 'Milan')).toThrowError('TCB: expected a bigint in [0, 2^64)');
    expect(() => decodeTcb(1n << 64n, 'Milan')).toThrowError('TCB: expected a bigint in [0, 2^64)');
    expect(() => decodeTcb(0n, 'Venice' as 'Milan')).toThrowError('TCB: unknown product "Venice"');
  });
});

describe('tcbBelow', () => {
  const min = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };

  it('is empty at or above the minimum', () => {
    expect(tcbBelow(min, min)).toEqual([]);
    expect(tcbBelow({ bootloader: 4, tee: 1, snp: 9, microcode: 200 }, min)).toEqual([]);
  });

  it('compares component-wise: a newer microcode does not make up for an older SNP', () => {
    expect(tcbBelow({ bootloader: 3, tee: 0, snp: 7, microcode: 255 }, min)).toEqual(['snp']);
    expect(tcbBelow({ bootloader: 2, tee: 0, snp: 7, microcode: 114 }, min)).toEqual([
      'bootloader',
      'snp',
      'microcode',
    ]);
  });

  it('compares fmc only where both have it', () => {
    const turin = { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 };
    expect(tcbBelow(turin, { ...turin, fmc: 2 })).toEqual(['fmc']);
    expect(tcbBelow({ ...turin, fmc: 0 }, { bootloader: 1, tee: 0, snp: 2, microcode: 71 })).toEqual([]);
    expect(tcbBelow({ bootloader: 1, tee: 0, snp: 2, microcode: 71 }, { ...turin, fmc: 9 })).toEqual([]);
  });
});

describe('productFromCpuid', () => {
  const p = (family: number, model: number, stepping = 0) => productFromCpuid({ family, model, stepping });

  it('Milan: family 0x19 models 0x00–0x0F', () => {
    expect([p(0x19, 0x00), p(0x19, 0x01, 1), p(0x19, 0x0f)]).toEqual(['Milan', 'Milan', 'Milan']);
  });
  it('Genoa: family 0x19 models 0x10–0x1F and 0xA0–0xAF', () => {
    expect([p(0x19, 0x10), p(0x19, 0x11, 1), p(0x19, 0x1f), p(0x19, 0xa0), p(0x19, 0xaf)]).toEqual(
      Array(5).fill('Genoa'),
    );
  });
  it('Turin: family 0x1A models 0x00–0x11', () => {
    expect([p(0x1a, 0x00), p(0x1a, 0x02, 1), p(0x1a, 0x11)]).toEqual(['Turin', 'Turin', 'Turin']);
  });
  it('null outside those ranges', () => {
    for (const [f, m] of [
      [0x19, 0x20],
      [0x19, 0x21],
      [0x19, 0x9f],
      [0x19, 0xb0],
      [0x1a, 0x12],
      [0x1a, 0x44],
      [0x17, 0x31],
      [0x00, 0x00],
      [0x1b, 0x00],
    ] as const) {
      expect(p(f, m), `${f}/${m}`).toBeNull();
    }
  });
  it('checks its argument', () => {
    expect(() => p(0x19, 256)).toThrowError('CPUID: model must be an integer in [0, 255]');
    expect(() => productFromCpuid({ family: 25.5, model: 1, stepping: 0 })).toThrowError(
      'CPUID: family must be an integer in [0, 255]',
    );
  });
});

describe('productFromName', () => {
  it('accepts the generation with or without a stepping version', () => {
    const names = ['Milan', 'Milan-B0', 'Milan-B1', 'Genoa', 'Genoa-B2', 'Turin', 'Turin-B0'];
    expect(names.map(productFromName)).toEqual([
      'Milan',
      'Milan',
      'Milan',
      'Genoa',
      'Genoa',
      'Turin',
      'Turin',
    ]);
  });
  it('returns null for anything else', () => {
    for (const name of [
      '',
      'milan',
      'Milan-',
      'Milan-b0',
      'Milan-B',
      'Milan-B01',
      'Venice',
      'SEV-Milan',
      ' Milan',
    ]) {
      expect(productFromName(name), name).toBeNull();
    }
  });
});

describe('guest policy and platform info bits', () => {
  const names = [
    'smt',
    'migrateMa',
    'debug',
    'singleSocket',
    'cxlAllow',
    'memAes256Xts',
    'raplDis',
    'ciphertextHiding',
    'pageSwapDisable',
  ] as const;

  it('decodes each GUEST_POLICY flag at its Table 9 bit (16, 18..25)', () => {
    const bits = [16, 18, 19, 20, 21, 22, 23, 24, 25];
    names.forEach((name, i) => {
      const p = decodeGuestPolicy((1n << 17n) | (1n << BigInt(bits[i]!)));
      for (const other of names) expect(p[other], `${name}/${other}`).toBe(other === name);
    });
    expect(decodeGuestPolicy(0x2abcdn)).toMatchObject({ abiMinor: 0xcd, abiMajor: 0xab });
  });

  it('encodeGuestPolicy is the inverse and sets bit 17', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 26n) - 1n }), (low) => {
        const raw = low | (1n << 17n);
        const { raw: _raw, ...fields } = decodeGuestPolicy(raw);
        expect(encodeGuestPolicy(fields)).toBe(raw);
      }),
    );
    expect(() => encodeGuestPolicy({ ...decodeGuestPolicy(1n << 17n), abiMajor: 256 })).toThrowError(
      'guest policy: abiMajor must be an integer in [0, 255]',
    );
  });

  it('decodes each PLATFORM_INFO flag at its Table 24 bit, keeps reserved bits in raw', () => {
    const fields = [
      ['smtEnabled', 0],
      ['tsmeEnabled', 1],
      ['eccEnabled', 2],
      ['raplDisabled', 3],
      ['ciphertextHidingEnabled', 4],
      ['aliasCheckComplete', 5],
      ['tioEnabled', 7],
    ] as const;
    for (const [name, b] of fields) {
      const info = decodePlatformInfo(1n << BigInt(b));
      for (const [other] of fields) expect(info[other], `${name}/${other}`).toBe(other === name);
      const { raw: _raw, ...flags } = info;
      expect(encodePlatformInfo(flags)).toBe(1n << BigInt(b));
    }
    // Bit 6 is reserved, but real Turin firmware sets it (PLATFORM_INFO 0x67): not an error.
    expect(decodePlatformInfo(0x67n)).toMatchObject({
      raw: 0x67n,
      smtEnabled: true,
      aliasCheckComplete: true,
    });
    expect(decodePlatformInfo(1n << 63n).raw).toBe(1n << 63n);
  });
});

describe('report signature ⇄ P1363', () => {
  it('reverses 48-byte scalars into the 72-byte little-endian fields and back', () => {
    const p1363 = Uint8Array.from({ length: 96 }, (_, i) => i + 1);
    const { rLe, sLe } = signatureFromP1363(p1363);
    expect(rLe.length).toBe(72);
    expect(rLe[0]).toBe(48);
    expect(rLe[47]).toBe(1);
    expect(sLe[0]).toBe(96);
    expect(rLe.subarray(48).every((b) => b === 0)).toBe(true);
    expect(reportSignatureP1363({ rLe, sLe })).toEqual(p1363);
  });

  it('is null when r or s does not fit P-384, and checks lengths', () => {
    const { rLe, sLe } = signatureFromP1363(new Uint8Array(96).fill(7));
    rLe[71] = 1;
    expect(reportSignatureP1363({ rLe, sLe })).toBeNull();
    expect(() => signatureFromP1363(new Uint8Array(95))).toThrowError(
      'report signature: expected 96 bytes of r||s',
    );
    expect(() => reportSignatureP1363({ rLe: new Uint8Array(48), sLe })).toThrowError(
      'report signature: r and s must be 72-byte Uint8Arrays',
    );
  });
});
