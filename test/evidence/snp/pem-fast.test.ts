/**
 * The one-pass PEM reader (src/der/pem.ts `decodeCertificates`) against the reference reader it
 * shortcuts (`referencePemBlocks`: UTF-8, regular expressions, `fromBase64`): on the real PEM files
 * and on every single-byte change of one of them, both accept the same inputs with the same DER,
 * or refuse them with the same message. Without the fallback to the reference, or with a one-pass
 * decoder that accepted more (a '=' inside the body, a body whose length is not a multiple of 4,
 * text outside the blocks), this fails.
 */
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/bytes.js';
import { decodeCertificates, referencePemBlocks } from '../../../src/der/pem.js';
import { vectors } from '../../support/vectors.js';

const v = vectors();

/** What a reader made of the bytes: `ok:` and the certificates' hex, or `error:` and the message. */
function outcome(read: (b: Uint8Array) => Uint8Array[], bytes: Uint8Array): string {
  try {
    return `ok:${read(bytes).map(toHex).join(',')}`;
  } catch (e) {
    return `error:${(e as Error).message}`;
  }
}

/** Empty input and DER (a leading 0x30) are decided before any PEM reading, by both. */
const isPemInput = (b: Uint8Array): boolean => b.length > 0 && b[0] !== 0x30;

function expectSame(bytes: Uint8Array, what: string): string {
  const fast = outcome(decodeCertificates, bytes);
  const reference = outcome(isPemInput(bytes) ? referencePemBlocks : decodeCertificates, bytes);
  // Compared as strings, and through expect only when they differ: thousands of cases stay fast.
  if (fast !== reference) expect(fast, what).toBe(reference);
  return fast;
}

const pemFiles = (): string[] =>
  [...v.list('amd-roots/'), ...v.list('snp/'), ...v.list('nvidia/')].filter((f) => f.endsWith('.pem'));

describe.skipIf(!v.present)('PEM: the one-pass reader gives what the reference reader gives', () => {
  it('every real PEM file decodes to the same certificates', () => {
    const files = pemFiles();
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const got = expectSame(v.bytes(f), f);
      expect(got.startsWith('ok:'), f).toBe(true);
    }
  });

  it('many tiny blocks in one input: the same certificates or the same first error', () => {
    const tiny = (b64: string, n: number) =>
      utf8.encode('-----BEGIN CERTIFICATE-----MAA=-----END CERTIFICATE-----\n'.repeat(n).concat(b64));
    // 20 000 blocks: before the output was sized by its body, this input allocated ~8 GB.
    expect(expectSame(tiny('', 20_000), '20000 empty SEQUENCEs').startsWith('ok:')).toBe(true);
    const bad = tiny('-----BEGIN CERTIFICATE-----AAAA-----END CERTIFICATE-----', 5_000);
    expect(expectSame(bad, 'a bad last block')).toMatch(/^error:.*not a DER SEQUENCE/);
  });

  it('every single-byte change of the Genoa VCEK PEM is read the same, or refused the same', () => {
    const pem = v.bytes('snp/genoa-v3-azure-trustee/vcek.pem');
    // Characters each branch of the one-pass reader treats differently.
    const swaps = [0x20, 0x0a, 0x0d, 0x09, 0x0c, 0x3d, 0x2d, 0x2b, 0x2f, 0x41, 0x7a, 0x30, 0x2a, 0x80, 0xc3];
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < pem.length; i++) {
      for (const b of swaps) {
        if (pem[i] === b) continue;
        const changed = pem.slice();
        changed[i] = b;
        const got = expectSame(changed, `byte ${i} → 0x${b.toString(16)}`);
        if (got.startsWith('ok:')) accepted++;
        else refused++;
      }
    }
    // Both kinds occur: whitespace inside the body is accepted, a '=' in the middle refused, …
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('bodies, padding and surroundings at the edges', () => {
    const pem = utf8.decode(v.bytes('snp/genoa-v3-azure-trustee/vcek.pem'));
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const block = (b: string) => `-----BEGIN CERTIFICATE-----\n${b}\n-----END CERTIFICATE-----\n`;
    const cases = [
      block(body),
      `\r\n\t ${block(body)}${block(body)}  `,
      block(body.slice(0, -4)), // shorter body: DER length no longer matches
      block(`${body.slice(0, -2)}=`),
      block(`${body.slice(0, -1)}==`),
      block(`${body}====`),
      block(`${body.slice(0, 8)}=${body.slice(9)}`),
      block(body.slice(1)),
      block('===='),
      block('QQ=='),
      block('QUE='),
      block('QUFB'),
      block(''),
      `\uFEFF${block(body)}`,
      `\f${block(body)}`,
      `${block(body)}x`,
      block(body).replace('-----END CERTIFICATE-----', '-----END CERTIFICATE----'),
      block(body).replace('-----BEGIN', '----BEGIN'),
      '-----BEGIN CERTIFICATE-----',
      '',
      // An empty SEQUENCE is outer-shape DER: padding and unused bits decide alone.
      block('MAA='),
      block('MAB='), // unused low bits set: read as atob does, by both
      block('MAD='),
      block('MA=='),
      block('MA=A'),
      block('M A A ='),
      // Whitespace, '=' or a byte outside the alphabet inside a four-character group, mid-body.
      block(`${body.slice(0, 8)} ${body.slice(8)}`),
      block(`${body.slice(0, 9)}\n${body.slice(9)}`),
      block(`${body.slice(0, 10)}=${body.slice(10)}`),
      block(`${body.slice(0, 11)}\u00e9${body.slice(11)}`),
      block(`${body.slice(0, 12)}-${body.slice(12)}`),
      block(`${body.slice(0, -3)} ${body.slice(-3)}`),
      block('MAA= '),
      block('MAA=\n\n'),
      // Mixed and doubled line ends, a blank line inside the body, a huge line.
      block(body).replace(/\n/g, '\r\n').replace('\r\n', '\n\r\n\r'),
      block(`${body.slice(0, 64)}\n\n${body.slice(64)}`),
      block(body.replace(/(.{64})/g, '$1\n')),
      block(body.repeat(64)),
      // RFC 1421 headers, another label, a label mismatch, a second BEGIN before the END.
      block(`Proc-Type: 4,ENCRYPTED\n\n${body}`),
      block(body).replace(/CERTIFICATE/g, 'X509 CRL'),
      block(body).replace('END CERTIFICATE', 'END X509 CRL'),
      `-----BEGIN CERTIFICATE-----\n${block(body)}`,
      `${block(body)}-----BEGIN CERTIFICATE-----\n${body}\n`,
      `${block(body)}${block('MAA=')}`,
      `${block('MAA=')}\u00a0${block(body)}`,
    ];
    for (const text of cases) expectSame(utf8.encode(text), JSON.stringify(text.slice(0, 60)));
  });
});
