/**
 * The request and response AADs (src/envelope/wire.ts) are LP(label) ‖ LP(UTF-8 of each field) —
 * byte for byte what TextEncoder gives, whether a field takes the ASCII copy or the encoder: ASCII,
 * non-ASCII at the first or the last position, a lone surrogate (encoded as U+FFFD), and fields
 * longer than the short-text bound.
 */
import { describe, expect, it } from 'vitest';
import { AAD_LABEL, requestAad, responseAad } from '../../src/envelope/wire.js';
import { lengthPrefixed, u64be } from '../../src/keys/encoding.js';

const enc = new TextEncoder();

const SAMPLES = [
  '',
  'AbCdEfGhIjKlMnOpQrStUg',
  '/v1/chat/completions',
  '{"max_tokens":64,"model":"sealgate-builtin","stream":false}',
  '{"model":"modèle"}',
  'é-first',
  'last-😀',
  'lone \ud800 surrogate',
  '\x7f\x00\x01',
  'a'.repeat(256),
  'a'.repeat(257),
  `${'b'.repeat(300)}ü`,
];

describe('AADs', () => {
  it('requestAad is LP of the label and the UTF-8 of every field', () => {
    for (const text of SAMPLES) {
      const f = { kid: text, requestId: `r-${text}`, ts: 1_767_225_600, route: text, plainJson: text };
      expect(requestAad(f)).toEqual(
        lengthPrefixed(
          enc.encode(AAD_LABEL.request),
          enc.encode(f.kid),
          enc.encode(f.requestId),
          u64be(f.ts),
          enc.encode(f.route),
          enc.encode(f.plainJson),
        ),
      );
    }
  });

  it('responseAad is LP of the label and the UTF-8 of every field', () => {
    for (const text of SAMPLES) {
      const f = { kid: `k${text}`, requestId: text, route: `/${text}`, plainJson: text };
      expect(responseAad(f)).toEqual(
        lengthPrefixed(
          enc.encode(AAD_LABEL.response),
          enc.encode(f.kid),
          enc.encode(f.requestId),
          enc.encode(f.route),
          enc.encode(f.plainJson),
        ),
      );
    }
  });

  it('two AADs never share their label bytes with a caller', () => {
    const a = requestAad({ kid: 'k', requestId: 'r', ts: 1, route: '/x', plainJson: '{}' });
    a.fill(0);
    const b = requestAad({ kid: 'k', requestId: 'r', ts: 1, route: '/x', plainJson: '{}' });
    expect(new TextDecoder().decode(b.subarray(4, 4 + AAD_LABEL.request.length))).toBe(AAD_LABEL.request);
  });
});
