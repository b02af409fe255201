/**
 * The AI worker's `Buffer` base64url codec (src/ai-worker/node-base64url.ts) against the
 * runtime-neutral one (src/keys/encoding.ts `jsBase64Url`): the same spelling of every byte string,
 * and the same verdict on every input — above all on the spellings `Buffer` alone would accept
 * (padding, "+" "/", whitespace, other characters, a non-canonical last character, a lone last
 * character), which docs/protocol.md refuses. Then the same through the envelope: a sealed request,
 * response and stream frame spelled in any of those ways is refused by the Node backend with the
 * WebCrypto backend's error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeBase64Url } from '../../src/ai-worker/node-base64url.js';
import { nodeEnvelopeCrypto } from '../../src/ai-worker/node-envelope-crypto.js';
import { toBase64Url } from '../../src/bytes.js';
import type { EnvelopeCrypto } from '../../src/envelope/envelope-crypto.js';
import { openRequest, sealRequest } from '../../src/envelope/request.js';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { webEnvelopeCrypto } from '../../src/envelope/web-crypto.js';
import { SealgateError } from '../../src/errors.js';
import { decodeBase64UrlField, jsBase64Url } from '../../src/keys/encoding.js';
import { createKek } from '../../src/keys/kek.js';
import { KeyRing } from '../../src/keys/key-ring.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every way to misspell canonical base64url `s` (each one refused by docs/protocol.md). */
function misspellings(s: string): [string, string][] {
  const mid = s.length >> 1;
  const at = (text: string) => s.slice(0, mid) + text + s.slice(mid);
  const out: [string, string][] = [
    ['one "="', `${s}=`],
    ['padded to 4', s + '='.repeat((4 - (s.length % 4)) % 4 || 4)],
    ['space', at(' ')],
    ['newline', at('\n')],
    ['tab at the end', `${s}\t`],
    ['"."', at('.')],
    ['"é"', at('é')],
    ['NUL', at('\0')],
    ['"+" inserted', at('+')],
    ['"/" inserted', at('/')],
    ['lone last character', s + 'AAAA'.slice(0, (5 - (s.length % 4)) % 4 || 4)],
  ];
  const swap = s.search(/[-_]/);
  if (swap >= 0) {
    out.push(['standard alphabet', s.slice(0, swap) + (s[swap] === '-' ? '+' : '/') + s.slice(swap + 1)]);
  }
  const rem = s.length % 4;
  if (rem !== 0) {
    // Set the lowest unused bit of the last character: the same bytes to a lenient decoder.
    const last = ALPHABET.indexOf(s[s.length - 1]!);
    out.push(['non-canonical last character', s.slice(0, -1) + ALPHABET[last | 1]!]);
  }
  return out;
}

const verdict = (decoded: Uint8Array | undefined) => (decoded ? toBase64Url(decoded) : 'refused');

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof SealgateError)) throw e;
    return `${e.code}: ${e.message}`;
  }
}

describe('node base64url codec', () => {
  it('spells and reads random bytes exactly as the JavaScript codec, views at any offset included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), (bytes, cut) => {
        const view = bytes.subarray(Math.min(cut, bytes.length));
        const s = jsBase64Url.encode(view);
        expect(nodeBase64Url.encode(view)).toBe(s);
        const decoded = nodeBase64Url.decodeCanonical(s)!;
        expect(decoded).toEqual(jsBase64Url.decodeCanonical(s));
        expect(decoded).toEqual(view);
        // Its own memory, not a slice of Buffer's shared pool.
        expect(decoded.buffer.byteLength).toBe(decoded.length);
        expect(Buffer.isBuffer(decoded)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every misspelling, as the JavaScript codec does, though Buffer alone reads them', () => {
    let lenient = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        for (const [name, bad] of misspellings(jsBase64Url.encode(bytes))) {
          expect(jsBase64Url.decodeCanonical(bad), name).toBeUndefined();
          expect(nodeBase64Url.decodeCanonical(bad), name).toBeUndefined();
          if (Buffer.from(bad, 'base64url').length > 0) lenient++;
        }
      }),
      { numRuns: 500 },
    );
    // The guard is what refuses them: Buffer's own decoder reads (nearly) all of these.
    expect(lenient).toBeGreaterThan(500 * 10);
  });

  it('gives the same verdict on arbitrary strings, near-alphabet and not', () => {
    const chars = fc.constantFrom(...ALPHABET, '=', '+', '/', ' ', '\n', '.', 'é', '\0', '👋');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 40 }), (s) => {
        expect(verdict(nodeBase64Url.decodeCanonical(s))).toBe(verdict(jsBase64Url.decodeCanonical(s)));
      }),
      { numRuns: 5000 },
    );
    // Short strings of the alphabet alone, where canonical and non-canonical tails both occur often.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 7 }), (s) => {
        expect(verdict(nodeBase64Url.decodeCanonical(s))).toBe(verdict(jsBase64Url.decodeCanonical(s)));
      }),
      { numRuns: 5000 },
    );
    for (const s of ['', 'AA', 'AB', 'AAE', 'AAF', 'A', 'AAAAA', '====', 'AA==', 'AA\r\n']) {
      expect(verdict(nodeBase64Url.decodeCanonical(s)), JSON.stringify(s)).toBe(
        verdict(jsBase64Url.decodeCanonical(s)),
      );
    }
  });

  it('decodeBase64UrlField throws the same code and message with either codec', () => {
    const opts = { code: 'decryption_failed', message: 'ct must be canonical', minLength: 2 } as const;
    const result = (value: unknown, codec = jsBase64Url) => {
      try {
        return toBase64Url(decodeBase64UrlField(value, { ...opts, codec }));
      } catch (e) {
        if (!(e instanceof SealgateError)) throw e;
        return `${e.code}: ${e.message}`;
      }
    };
    const inputs: unknown[] = ['AAE', 'AA', 'AB', 'AAAA', 'AAA=', ' AAA', 42, null, undefined];
    for (const [, bad] of misspellings('-_8AAQ')) inputs.push(bad);
    for (const value of inputs) {
      expect(result(value, nodeBase64Url), JSON.stringify(value)).toBe(result(value));
    }
    expect(result('AAE', nodeBase64Url)).toBe('AAE');
    expect(result('AB', nodeBase64Url)).toBe('decryption_failed: ct must be canonical');
  });
});

describe('node backend: misspelled envelopes are refused with the WebCrypto backend error', () => {
  const T = 1_767_225_600;
  const ROUTE = '/v1/chat/completions';
  const BODY = { model: 'm', messages: [{ role: 'user', content: `secret ${'x'.repeat(100)}` }] };
  const backends: Record<string, EnvelopeCrypto> = { web: webEnvelopeCrypto, node: nodeEnvelopeCrypto };

  async function fixture() {
    const kek = await createKek({ notBefore: T - 60, notAfter: T + 3600 });
    const ring = await KeyRing.from([kek]);
    const { sealed } = await sealRequest({ kek, route: ROUTE, requestId: 'r1', body: BODY, now: T });
    const open = (s: unknown, envelopeCrypto: EnvelopeCrypto) =>
      openRequest(s, ring, { route: ROUTE, now: T, maxAgeSeconds: 300, envelopeCrypto });
    return { sealed: sealed as unknown as { sealgate: Record<string, string> }, open };
  }

  it('a backend whose base64url is not a codec is refused, not half used', async () => {
    const { sealed, open } = await fixture();
    for (const base64url of [{}, { encode: toBase64Url }, 'buffer', null]) {
      const bad = { ...nodeEnvelopeCrypto, base64url } as unknown as EnvelopeCrypto;
      expect(await outcome(() => open(sealed, bad)), JSON.stringify(base64url)).toBe(
        'invalid_argument: openRequest: envelopeCrypto must be an EnvelopeCrypto',
      );
    }
    const withJs = { ...nodeEnvelopeCrypto, base64url: jsBase64Url };
    expect(await outcome(() => open(sealed, withJs))).toBe('ok');
  });

  it('sealed request: wk, iv and ct misspelt', async () => {
    const { sealed, open } = await fixture();
    for (const backend of Object.values(backends))
      expect(await outcome(() => open(sealed, backend))).toBe('ok');
    for (const field of ['wk', 'iv', 'ct']) {
      for (const [name, bad] of misspellings(sealed.sealgate[field]!)) {
        const s = { ...sealed, sealgate: { ...sealed.sealgate, [field]: bad } };
        const web = await outcome(() => open(s, webEnvelopeCrypto));
        expect(web, `${field} ${name}`).toMatch(
          /^decryption_failed: sealed request: \w+ must be .*canonical/,
        );
        expect(await outcome(() => open(s, nodeEnvelopeCrypto)), `${field} ${name}`).toBe(web);
      }
    }
  });

  it('sealed response: rs and ct misspelt (stream records carry no base64url)', async () => {
    const { sealed, open } = await fixture();
    const web = (await open(sealed, webEnvelopeCrypto)).context;
    const node = (await open(sealed, nodeEnvelopeCrypto)).context;
    // Sealed by the worker (node codec), opened by either.
    const response = (await sealResponse(node, { id: 'x', usage: { total_tokens: 1 } })) as unknown as {
      sealgate: Record<string, string>;
    };
    for (const ctx of [web, node]) expect(await outcome(() => openResponse(ctx, response))).toBe('ok');
    for (const field of ['rs', 'ct']) {
      for (const [name, bad] of misspellings(response.sealgate[field]!)) {
        const r = { ...response, sealgate: { ...response.sealgate, [field]: bad } };
        const w = await outcome(() => openResponse(web, r));
        expect(w, `${field} ${name}`).toMatch(/^decryption_failed: sealed response: \w+ must be/);
        expect(await outcome(() => openResponse(node, r)), `${field} ${name}`).toBe(w);
      }
    }
  });
});
