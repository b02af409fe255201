/**
 * The transcription form as the gateway and the worker read it
 * (src/api/transcriptions/multipart-*.ts) against what a model server behind them reads. vLLM and
 * the other OpenAI-compatible Python servers read forms with Starlette over python-multipart; each
 * body below was run through Starlette 1.7.0 / python-multipart 0.0.32 (`await request.form()`)
 * by the reviewer, and its reading is written beside it; so were they through Werkzeug 3.1.8
 * (Flask's reader), which reads none of them two ways since the fix. No Python runs here: the test
 * holds our parser to what was observed.
 *
 * Found: whitespace between a part's disposition parameters was JavaScript's `\s` (and `trim()`),
 * which takes Unicode spaces. Starlette decodes a part's header bytes as Latin-1 and strips only
 * ASCII-range whitespace, so a UTF-8 no-break space after `name=model` gave it a field named
 * `modelÂ`: the envelope and the receipt named the client's model, the server saw no `model` field
 * (vLLM then runs its default model). Every such body is now refused.
 */
import { describe, expect, it } from 'vitest';
import { checkTranscriptionForm } from '../../src/api/transcriptions/form.js';
import { parseMultipart } from '../../src/api/transcriptions/multipart-syntax.js';
import { isSealgateError } from '../../src/errors.js';

const B = 'XyZ';
const TYPE = `multipart/form-data; boundary=${B}`;
/** Latin-1 text to bytes, so that `\xc2\xa0` is the two bytes of a UTF-8 U+00A0. */
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const part = (disposition: string, content: string) =>
  `--${B}\r\nContent-Disposition: ${disposition}\r\n\r\n${content}\r\n`;
const FILE = part('form-data; name="file"; filename="a.wav"', 'RIFF');
const END = `--${B}--\r\n`;
const form = (modelDisposition: string) => bytes(FILE + part(modelDisposition, 'whisper-1') + END);

/** [what, Starlette's reading, the `model` part's disposition]: our parser read `model` = whisper-1. */
const READ_OTHERWISE: [string, string, string][] = [
  ['U+00A0 after a token name', 'field "modelÂ"', 'form-data; name=model\xc2\xa0'],
  ['U+00A0 after a quoted name', 'field "\\"model\\"Â"', 'form-data; name="model"\xc2\xa0'],
  [
    'U+2028 after a quoted name',
    'field "\\"model\\"\\u2028" (Latin-1 of its bytes)',
    'form-data; name="model"\xe2\x80\xa8',
  ],
  ['U+FEFF after a quoted name', 'field "\\"model\\"\\ufeff"', 'form-data; name="model"\xef\xbb\xbf'],
  ['U+00A0 before the name', 'no name: 400', 'form-data;\xc2\xa0name="model"'],
  ['U+00A0 around =', 'no name: 400', 'form-data; name\xc2\xa0=\xc2\xa0"model"'],
  ['U+3000 before the name', 'no name: 400', 'form-data;\xe3\x80\x80name="model"'],
];

describe('a part header Starlette reads as another field (found)', () => {
  it.each(READ_OTHERWISE)('%s: refused (Starlette: %s)', (_label, _starlette, disposition) => {
    const body = form(disposition);
    const parsed = parseMultipart(TYPE, body);
    expect(parsed).toEqual({ ok: false, problem: 'a part has no single form-data name' });
    let error: unknown;
    try {
      checkTranscriptionForm({ contentType: TYPE, bytes: body });
    } catch (e) {
      error = e;
    }
    expect(isSealgateError(error, 'invalid_argument')).toBe(true);
  });

  it('a Content-Type with U+00A0 around its boundary: refused (Latin-1 in a header value)', () => {
    const body = form('form-data; name="model"');
    expect(parseMultipart('multipart/form-data;\u00a0boundary=XyZ', body).ok).toBe(false);
    expect(parseMultipart('multipart/form-data; boundary=XyZ\u00a0', body).ok).toBe(false);
    expect(parseMultipart('\u00a0multipart/form-data; boundary=XyZ', body).ok).toBe(false);
  });

  it('space and tab, the whitespace both read alike, are still taken', () => {
    for (const disposition of [
      'form-data;\tname=model\t',
      'form-data ;  name = "model" ',
      'FORM-DATA; NAME="model"',
    ]) {
      const parsed = parseMultipart(TYPE, form(disposition));
      expect(parsed.ok && parsed.parts.map((p) => p.name), disposition).toEqual(['file', 'model']);
    }
    expect(parseMultipart(`multipart/form-data;\tboundary=${B}\t`, form('form-data; name=model')).ok).toBe(
      true,
    );
  });
});

/**
 * Held: bodies Starlette reads as a form that our parser refuses, so no server reads a form the
 * gateway did not check (the other direction — ours takes, Starlette refuses — only fails the call).
 */
/** [what, Starlette's reading, the body]. */
const HELD: [string, string, string][] = [
  [
    'a part header line ending in a bare LF',
    'field "\\"model\\"\\nX: y"',
    `${FILE}--${B}\r\nContent-Disposition: form-data; name="model"\nX: y\r\n\r\nw\r\n${END}`,
  ],
  [
    'transport padding (a tab) after a delimiter',
    'the next part inside the file',
    `${FILE}--${B}\t\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n${END}`,
  ],
  [
    'a delimiter followed by a space',
    'the delimiter inside "model"',
    `${FILE}${part('form-data; name="model"', 'w')}--${B} \r\n${part('form-data; name="language"', 'en')}${END}`,
  ],
  [
    'the boundary as a prefix inside data',
    'data',
    `${part('form-data; name="file"; filename="a.wav"', `RI\r\n--${B}Z\r\nFF`)}${part('form-data; name="model"', 'w')}${END}`,
  ],
  [
    'a part after the close delimiter',
    'ignored',
    `${FILE}${part('form-data; name="model"', 'w')}${END}${part('form-data; name="model"', 'other')}${END}`,
  ],
  [
    'a close delimiter then a bare LF',
    'the form',
    `${FILE}${part('form-data; name="model"', 'w')}--${B}--\n`,
  ],
  [
    'Content-Disposition twice in two cases',
    'the last: "model"',
    `${FILE}--${B}\r\nContent-Disposition: form-data; name="x"\r\ncontent-disposition: form-data; name="model"\r\n\r\nw\r\n${END}`,
  ],
  [
    'a NUL after the quoted name',
    'field "\\"model\\"\\u0000"',
    `${FILE}${part('form-data; name="model"\x00', 'w')}${END}`,
  ],
  ['a parameter without a value', '"model"', `${FILE}${part('form-data; name="model"; foo', 'w')}${END}`],
  ['a token value holding =', 'field "model=x"', `${FILE}${part('form-data; name=model=x', 'w')}${END}`],
  ['no close delimiter', 'the file only', `${FILE}${part('form-data; name="model"', 'w')}`],
  [
    '65 parts',
    'all 65',
    `${FILE}${part('form-data; name="model"', 'w')}${Array.from({ length: 63 }, (_, i) => part(`form-data; name="f${i}"`, 'x')).join('')}${END}`,
  ],
];

describe('bodies Starlette reads that two readers could read two ways (held: refused)', () => {
  it.each(HELD)('%s (Starlette: %s)', (_label, _starlette, body) => {
    expect(parseMultipart(TYPE, bytes(body)).ok).toBe(false);
  });
});
