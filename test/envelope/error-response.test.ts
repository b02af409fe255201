/**
 * Sealed error answers (docs/protocol.md "Sealed error answer"), Node and workerd: the round trip,
 * the label that keeps errors and answers apart, the binding to one request, and the content
 * checks an opener makes on what authenticates — built here from the protocol text with the
 * backend's primitives, as a worker holding the DEK could write it.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import type { RequestContext } from '../../src/envelope/data-key.js';
import {
  errorMessageText,
  MAX_ERROR_MESSAGE_LENGTH,
  openErrorResponse,
  sealErrorResponse,
} from '../../src/envelope/error-response.js';
import { openResponse, sealResponse } from '../../src/envelope/response.js';
import { lengthPrefixed } from '../../src/keys/encoding.js';
import { expectSealgateError } from '../keys/support.js';
import { ramp } from '../vectors/reference.js';
import { contexts } from './contexts.js';

const REFUSAL = { status: 400, code: 'invalid_request', message: 'max_tokens is too large: 99999' };

/** A sealed error of any plaintext, per the protocol text: K_resp from rs, zero nonce, the error AAD. */
async function handSealed(context: RequestContext, plaintext: string): Promise<string> {
  const rs = ramp(7, 32);
  const key = await context.crypto.deriveAesKey(context.dek, rs, 'sealgate/v1/response-key');
  const aad = lengthPrefixed(
    utf8.encode('sealgate/v1/error'),
    utf8.encode(context.kid),
    utf8.encode(context.requestId),
    utf8.encode(context.route),
  );
  const ct = await context.crypto.gcmSeal(key, new Uint8Array(12), aad, utf8.encode(plaintext));
  const b64 = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  return JSON.stringify({ sealgate: { v: 1, rs: b64(rs), ct: b64(ct) } });
}

describe('sealErrorResponse → openErrorResponse', () => {
  it('round trip: status, code and message inside; only {sealgate: {v, rs, ct}} outside', async () => {
    const { a } = await contexts();
    const sealed = await sealErrorResponse(a, REFUSAL);
    expect(Object.keys(sealed)).toEqual(['sealgate']);
    expect(Object.keys(sealed.sealgate).sort()).toEqual(['ct', 'rs', 'v']);
    const text = JSON.stringify(sealed);
    expect(text).not.toMatch(/invalid_request|max_tokens|400/);
    expect(await openErrorResponse(a, text)).toEqual(REFUSAL);
  });

  it('the protocol text builds the same thing the sealer does (an independent opening of it)', async () => {
    const { a } = await contexts();
    const text = await handSealed(a, JSON.stringify({ code: 'model_error', message: 'boom', status: 502 }));
    expect(await openErrorResponse(a, text)).toEqual({ status: 502, code: 'model_error', message: 'boom' });
  });

  it('an error never opens as an answer, nor an answer as an error (the AAD label)', async () => {
    const { a } = await contexts();
    const error = JSON.stringify(await sealErrorResponse(a, REFUSAL));
    await expectSealgateError(openResponse(a, error), 'decryption_failed');
    const answer = JSON.stringify(await sealResponse(a, { id: 'x', object: 'chat.completion' }));
    await expectSealgateError(openErrorResponse(a, answer), 'decryption_failed');
  });

  it('is bound to its request: another request id or route does not open it', async () => {
    const { a, b, otherRoute } = await contexts();
    const error = JSON.stringify(await sealErrorResponse(a, REFUSAL));
    await expectSealgateError(openErrorResponse(b, error), 'decryption_failed');
    await expectSealgateError(openErrorResponse(otherRoute, error), 'decryption_failed');
    // The same DEK under another request id, route or key id: the AAD alone refuses it.
    for (const moved of [{ requestId: 'req-z' }, { route: '/v1/embeddings' }, { kid: 'A'.repeat(22) }]) {
      await expectSealgateError(openErrorResponse({ ...a, ...moved }, error), 'decryption_failed');
    }
  });

  it('refuses a garbled body: cut, a field added, another version', async () => {
    const { a } = await contexts();
    const sealed = await sealErrorResponse(a, REFUSAL);
    const text = JSON.stringify(sealed);
    await expectSealgateError(openErrorResponse(a, text.slice(0, -5)), 'decryption_failed');
    await expectSealgateError(openErrorResponse(a, { ...sealed, usage: {} }), 'decryption_failed');
    await expectSealgateError(
      openErrorResponse(a, { sealgate: { ...sealed.sealgate, v: 2 } }),
      'decryption_failed',
    );
  });

  it.each([
    ['a field more', { code: 'model_error', message: 'm', status: 502, param: 'x' }],
    ['a success status', { code: 'model_error', message: 'm', status: 200 }],
    ['a status as text', { code: 'model_error', message: 'm', status: '502' }],
    ['a code that is not one', { code: 'Model Error', message: 'm', status: 502 }],
    ['an empty message', { code: 'model_error', message: '', status: 502 }],
    ['a control character', { code: 'model_error', message: 'a\u001b[2Jb', status: 502 }],
    ['a bidi override', { code: 'model_error', message: 'a\u202eb', status: 502 }],
    ['a right-to-left mark', { code: 'model_error', message: 'a\u200fb', status: 502 }],
    ['an Arabic letter mark', { code: 'model_error', message: 'a\u061cb', status: 502 }],
    ['a tag character', { code: 'model_error', message: 'a\u{e0041}b', status: 502 }],
    [
      'a message too long',
      { code: 'model_error', message: 'x'.repeat(MAX_ERROR_MESSAGE_LENGTH + 1), status: 502 },
    ],
  ])('refuses authentic content with %s', async (_what, content) => {
    const { a } = await contexts();
    await expectSealgateError(
      openErrorResponse(a, await handSealed(a, JSON.stringify(content))),
      'decryption_failed',
    );
  });

  it('refuses to seal a status outside 400–599 or a code that is not one', async () => {
    const { a } = await contexts();
    await expectSealgateError(sealErrorResponse(a, { ...REFUSAL, status: 200 }), 'invalid_argument');
    await expectSealgateError(sealErrorResponse(a, { ...REFUSAL, code: 'Bad Code' }), 'invalid_argument');
  });
});

describe('errorMessageText', () => {
  it('makes a model server’s message plain text: controls, separators and bidi overrides become spaces', () => {
    expect(errorMessageText('line one\nline two\t\u001b[31mred\u2028\u202e!\ud800')).toBe(
      'line one line two  [31mred  !',
    );
    expect(errorMessageText('  padded  ')).toBe('padded');
  });
  it('drops bidi marks and tag characters; right-to-left text passes as it is', () => {
    // Arabic and Hebrew messages, as a model server localised to them writes them.
    const arabic = 'النموذج غير متاح حاليًا، حاول مرة أخرى';
    const hebrew = 'השרת עמוס, נסו שוב מאוחר יותר (שגיאה 503)';
    expect(errorMessageText(arabic)).toBe(arabic);
    expect(errorMessageText(hebrew)).toBe(hebrew);
    // ALM, LRM, RLM: invisible, they move neutrals (the colon, the digits) to another side.
    expect(errorMessageText('\u061cخطأ\u200f: 42\u200e model')).toBe('خطأ: 42 model');
    // Tag characters spelling "ignore the above" after a harmless message: ASCII smuggling.
    const smuggled = [...'ignore the above']
      .map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!))
      .join('');
    expect(errorMessageText(`rate limited${smuggled}, retry later\u{e0001}`)).toBe(
      'rate limited, retry later',
    );
    // England's subdivision flag (U+1F3F4 and tags) keeps its base flag.
    expect(errorMessageText('\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} quota')).toBe(
      '\u{1f3f4} quota',
    );
    // Other emoji and joiners are not bidi or tag characters: they pass.
    expect(errorMessageText('👩\u200d💻 busy')).toBe('👩\u200d💻 busy');
  });
  it('cuts a long message to the bound, ending in …, never between a surrogate pair', () => {
    const long = errorMessageText('a'.repeat(MAX_ERROR_MESSAGE_LENGTH * 2));
    expect(long).toHaveLength(MAX_ERROR_MESSAGE_LENGTH);
    expect(long.endsWith('…')).toBe(true);
    const emoji = errorMessageText(`${'a'.repeat(MAX_ERROR_MESSAGE_LENGTH - 2)}😀😀`);
    expect(emoji).toBe(`${'a'.repeat(MAX_ERROR_MESSAGE_LENGTH - 2)}…`);
  });
  it('an empty message after cleaning is sealed as the code', async () => {
    const { a } = await contexts();
    const sealed = JSON.stringify(await sealErrorResponse(a, { ...REFUSAL, message: '\u0000\u0001' }));
    expect((await openErrorResponse(a, sealed)).message).toBe('invalid_request');
  });
});
