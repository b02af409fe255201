/**
 * The strict multipart check (src/api/transcriptions/multipart-syntax.ts): what the SDKs and curl
 * send passes; every ambiguity that lets two readers of the same bytes see two forms is refused.
 */
import { describe, expect, it } from 'vitest';
import { multipartSyntaxProblem, strictBoundary } from '../../src/api/transcriptions/multipart-syntax.js';
import { utf8 } from '../../src/bytes.js';

const B = 'b0undary';
const TYPE = `multipart/form-data; boundary=${B}`;
const field = (name: string, value: string, disposition = `form-data; name="${name}"`, headers = '') =>
  `--${B}\r\nContent-Disposition: ${disposition}\r\n${headers}\r\n${value}\r\n`;
const FILE = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a b;c.wav"\r\nContent-Type: audio/wav\r\n\r\n\r\n--x\r\n\r\n`;
const END = `--${B}--\r\n`;
const problem = (body: string, type = TYPE) => multipartSyntaxProblem(type, utf8.encode(body));

describe('strictBoundary', () => {
  it('takes one valid boundary, quoted or not, any case of the names', () => {
    expect(strictBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(strictBoundary('Multipart/Form-Data ; BOUNDARY="a b:c"; charset=utf-8')).toBe('a b:c');
    expect(strictBoundary(`multipart/form-data; boundary=${'x'.repeat(70)}`)).toBe('x'.repeat(70));
  });
  it('refuses two boundaries, none, a bad one, a repeated or broken parameter, another type', () => {
    for (const type of [
      'multipart/form-data; boundary=A; boundary=B',
      'multipart/form-data; boundary=A; Boundary=A',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; boundary="a "',
      `multipart/form-data; boundary=${'x'.repeat(71)}`,
      'multipart/form-data; boundary="a\\"b"',
      'multipart/form-data; boundary=a; charset=utf-8; charset=latin1',
      'multipart/form-data; boundary=a;',
      'multipart/form-data; boundary=a b',
      'multipart/mixed; boundary=a',
      'multipart/form-data, multipart/form-data; boundary=a',
    ]) {
      expect(strictBoundary(type), type).toBe(null);
    }
  });
});

describe('multipartSyntaxProblem', () => {
  it('passes what FormData (undici, workerd) makes, and curl -F', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array([13, 10, 45, 45, 0, 255])], { type: 'audio/wav' }),
      'a"b.wav',
    );
    form.append('model', 'whisper-1');
    form.append('timestamp_granularities[]', 'word');
    const request = new Request('http://x/', { method: 'POST', body: form });
    const bytes = new Uint8Array(await request.arrayBuffer());
    expect(multipartSyntaxProblem(request.headers.get('content-type')!, bytes)).toBe(null);
    expect(problem(field('model', 'whisper-1') + FILE + END)).toBe(null);
    expect(problem(`${field('model', 'm')}${FILE}--${B}--`)).toBe(null);
    expect(
      problem(field('model', '', 'form-data; name="model"', 'Content-Transfer-Encoding: binary\r\n') + END),
    ).toBe(null);
  });

  it('refuses every ambiguity found in round 7, and what no client sends', () => {
    const cases: [string, string][] = [
      ['a preamble', `preamble\r\n${field('model', 'm')}${END}`],
      ['an epilogue', `${field('model', 'm')}${END}--other\r\n`],
      ['bare LF line breaks', `--${B}\nContent-Disposition: form-data; name="model"\n\nm\n--${B}--\n`],
      ['no close delimiter', field('model', 'm')],
      ['a name twice', field('model', 'm', 'form-data; name="x"; name="model"')],
      [
        'two dispositions',
        field('model', 'm', 'form-data; name="model"', 'Content-Disposition: form-data; name="x"\r\n'),
      ],
      [
        'two content types',
        field('model', 'm', 'form-data; name="model"', 'Content-Type: a/b\r\nContent-Type: c/d\r\n'),
      ],
      [
        'base64 transfer encoding',
        field('model', 'bQ==', 'form-data; name="model"', 'Content-Transfer-Encoding: base64\r\n'),
      ],
      ['another header', field('model', 'm', 'form-data; name="model"', 'X-Name: model\r\n')],
      ['name*', field('model', 'm', "form-data; name*=utf-8''model")],
      ['an unquoted name', field('model', 'm', 'form-data; name=model')],
      ['an escaped quote', field('model', 'm', 'form-data; name="model"; filename="a\\"; name=\\"x.wav"')],
      ['another disposition type', field('model', 'm', 'attachment; name="model"')],
      ['no name', field('model', 'm', 'form-data; filename="a"')],
      ['a folded header', field('model', 'm', 'form-data;\r\n name="model"')],
      ['a boundary followed by junk', `${field('model', 'm')}--${B}x\r\n${END}`],
      ['no headers', `--${B}\r\n\r\nm\r\n${END}`],
    ];
    for (const [what, body] of cases) expect(problem(body), what).not.toBe(null);
    const many = Array.from({ length: 65 }, (_, i) => field(`f${i}`, 'v')).join('');
    expect(problem(many + END)).toMatch(/more than 64 parts/);
    expect(problem(field('model', 'm') + END, 'multipart/form-data; boundary=A; boundary=B')).not.toBe(null);
  });
});
