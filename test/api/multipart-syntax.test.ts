/**
 * The multipart parser the gateway and the worker share (src/api/transcriptions/multipart-syntax.ts):
 * what RFC 7578 / RFC 2046 allow and what the SDKs, curl, requests and httpx send (their exact
 * bytes below) passes; every ambiguity that lets two readers of the same bytes see two forms is
 * refused.
 */
import { describe, expect, it } from 'vitest';
import { strictBoundary } from '../../src/api/transcriptions/multipart-params.js';
import { multipartSyntaxProblem, parseMultipart } from '../../src/api/transcriptions/multipart-syntax.js';
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

/** A little audio with the bytes a delimiter starts with in it (CR LF - -) and a non-ASCII byte. */
const AUDIO = '\r\n--x\r\nRIFF\u00ff';

/** What real clients send, byte for byte (their boundaries as each generates them). */
const CLIENTS: [string, string, string][] = [
  [
    'curl 7.88 -F file=@a.wav -F model=whisper-1',
    'multipart/form-data; boundary=------------------------a0caf80d84560316',
    '--------------------------a0caf80d84560316\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/x-wav\r\n\r\n' +
      `${AUDIO}\r\n--------------------------a0caf80d84560316\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
      '--------------------------a0caf80d84560316--\r\n',
  ],
  [
    'curl 7.88 --form-escape, a filename with a quote and a backslash',
    'multipart/form-data; boundary=------------------------d74496d66958873e',
    '--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="file"; filename="a\\"b\\\\c.wav"\r\nContent-Type: audio/x-wav\r\n\r\n' +
      `${AUDIO}\r\n--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
      '--------------------------d74496d66958873e--\r\n',
  ],
  [
    'openai-node toFile → undici FormData',
    'multipart/form-data; boundary=----formdata-undici-037619263150',
    '------formdata-undici-037619263150\r\nContent-Disposition: form-data; name="file"; filename="speech.wav"\r\nContent-Type: audio/wav\r\n\r\n' +
      `${AUDIO}\r\n------formdata-undici-037619263150\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n` +
      '------formdata-undici-037619263150--\r\n',
  ],
  [
    'Python requests 2.34 (urllib3 2.7): fields first, no part Content-Type',
    'multipart/form-data; boundary=8d1bd9a5c1fb3b2a52e3a4e0f2c7a6b1',
    '--8d1bd9a5c1fb3b2a52e3a4e0f2c7a6b1\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n' +
      '--8d1bd9a5c1fb3b2a52e3a4e0f2c7a6b1\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n' +
      `${AUDIO}\r\n--8d1bd9a5c1fb3b2a52e3a4e0f2c7a6b1--\r\n`,
  ],
  [
    'Python requests 2.34 (urllib3 2.7): a Windows path, its backslash bare, its quote %22',
    'multipart/form-data; boundary=a2a5c6d1300f57fdf3c958e0eda21ccf',
    '--a2a5c6d1300f57fdf3c958e0eda21ccf\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n' +
      '--a2a5c6d1300f57fdf3c958e0eda21ccf\r\nContent-Disposition: form-data; name="file"; filename="C:\\a%22b.wav"\r\nContent-Type: audio/wav\r\n\r\n' +
      `${AUDIO}\r\n--a2a5c6d1300f57fdf3c958e0eda21ccf--\r\n`,
  ],
  [
    'httpx (the openai Python SDK): a Windows path, its backslash escaped',
    'multipart/form-data; boundary=4f1b5e3a2c9d8e7f6a5b4c3d2e1f0a9b',
    '--4f1b5e3a2c9d8e7f6a5b4c3d2e1f0a9b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n' +
      '--4f1b5e3a2c9d8e7f6a5b4c3d2e1f0a9b\r\nContent-Disposition: form-data; name="file"; filename="C:\\\\a.wav"\r\nContent-Type: audio/x-wav\r\n\r\n' +
      `${AUDIO}\r\n--4f1b5e3a2c9d8e7f6a5b4c3d2e1f0a9b--\r\n`,
  ],
];

/** Latin-1 to bytes: one byte per character, as the fixtures are written. */
const bytesOf = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('parseMultipart', () => {
  it.each(CLIENTS)('takes %s: file, model and the exact audio bytes', (_, type, body) => {
    const bytes = bytesOf(body);
    const parsed = parseMultipart(type, bytes);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const file = parsed.parts.find((p) => p.name === 'file')!;
    const model = parsed.parts.find((p) => p.name === 'model')!;
    expect(bytes.subarray(file.start, file.end)).toEqual(bytesOf(AUDIO));
    expect(new TextDecoder().decode(bytes.subarray(model.start, model.end))).toBe('whisper-1');
    expect(parsed.parts).toHaveLength(2);
  });

  it('unescapes a quoted filename as RFC 7230 and python-multipart both do', () => {
    const [, type, body] = CLIENTS[1]!;
    const parsed = parseMultipart(type, bytesOf(body));
    expect(parsed.ok && parsed.parts[0]!.filename).toBe('a"b\\c.wav');
    // A lone backslash before another character is kept, as python-multipart keeps it (a filename
    // only: readers may differ on its text, not on which part it names).
    const [, bareType, bareBody] = CLIENTS[4]!;
    const bare = parseMultipart(bareType, bytesOf(bareBody));
    expect(bare.ok && bare.parts[1]!.filename).toBe('C:\\a%22b.wav');
    const [, winType, winBody] = CLIENTS[5]!;
    const win = parseMultipart(winType, bytesOf(winBody));
    expect(win.ok && win.parts[1]!.filename).toBe('C:\\a.wav');
  });

  it('takes what RFC 7578 / RFC 2046 allow: a preamble, token names, other headers in any case', async () => {
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
    const taken: [string, string][] = [
      ['a preamble', `a preamble, ignored\r\n${field('model', 'm')}${FILE}${END}`],
      ['a CRLF preamble', `\r\n${field('model', 'm')}${END}`],
      [
        'token names',
        field('model', 'm', 'form-data; name=model') +
          field('file', 'x', 'form-data; name=file; filename=a.wav') +
          END,
      ],
      [
        'lower-case headers',
        `--${B}\r\ncontent-disposition: form-data; name="model"\r\ncontent-type: text/plain\r\n\r\nm\r\n${END}`,
      ],
      [
        'an identity transfer encoding',
        field('model', 'm', 'form-data; name="model"', 'Content-Transfer-Encoding: BINARY\r\n') + END,
      ],
      [
        'another header',
        field('model', 'm', 'form-data; name="model"', 'X-Request-Id: 7\r\nContent-ID: <a@b>\r\n') + END,
      ],
      ['no CRLF after the close delimiter', `${field('model', 'm')}${FILE}--${B}--`],
      ['FORM-DATA in capitals', field('model', 'm', 'FORM-DATA; NAME="model"') + END],
    ];
    const got = taken.map(([what, body]) => [what, problem(body)]);
    expect(got).toEqual(taken.map(([what]) => [what, null]));
  });

  it('refuses every ambiguity two readers could read two ways, and what no client sends', () => {
    const cases: [string, string][] = [
      ['a preamble holding the boundary', `x--${B}\r\n${field('model', 'm')}${END}`],
      ['an epilogue', `${field('model', 'm')}${END}--other\r\n`],
      ['bare LF line breaks', `--${B}\nContent-Disposition: form-data; name="model"\n\nm\n--${B}--\n`],
      ['no close delimiter', field('model', 'm')],
      ['no boundary at all', 'model=m'],
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
        'two transfer encodings',
        field(
          'model',
          'm',
          'form-data; name="model"',
          'Content-Transfer-Encoding: binary\r\ncontent-transfer-encoding: 7bit\r\n',
        ),
      ],
      [
        'base64 transfer encoding',
        field('model', 'bQ==', 'form-data; name="model"', 'Content-Transfer-Encoding: base64\r\n'),
      ],
      ['a part Content-Length', field('model', 'm', 'form-data; name="model"', 'Content-Length: 1\r\n')],
      ['name*', field('model', 'm', "form-data; name*=utf-8''model")],
      ['filename*', field('file', 'x', 'form-data; name="file"; filename*=utf-8\'\'a.wav')],
      // python's email splitter counts `\"` as escaped here, RFC 7230 reads `\\` then a closing quote.
      [
        'an escaped backslash before a quote',
        field('model', 'm', 'form-data; name="model"; filename="a\\\\"; name="x"'),
      ],
      // RFC 7230 readers read "model", python-multipart "mo\del": a name picks the part.
      ['a backslash before another character in a name', field('model', 'm', 'form-data; name="mo\\del"')],
      ['an unterminated quote', field('model', 'm', 'form-data; name="model')],
      ['another disposition type', field('model', 'm', 'attachment; name="model"')],
      ['no disposition', `--${B}\r\nContent-Type: text/plain\r\n\r\nm\r\n${END}`],
      ['no name', field('model', 'm', 'form-data; filename="a"')],
      ['a folded header', field('model', 'm', 'form-data;\r\n name="model"')],
      [
        'a space before the colon',
        `--${B}\r\nContent-Disposition : form-data; name="model"\r\n\r\nm\r\n${END}`,
      ],
      ['a boundary followed by junk', `${field('model', 'm')}--${B}x\r\n${END}`],
      ['transport padding after a delimiter', `${field('model', 'm')}--${B} \r\n${END}`],
      ['no headers', `--${B}\r\n\r\nm\r\n${END}`],
      [
        'headers without end',
        `--${B}\r\nContent-Disposition: form-data; name="model"\r\n${'X-A: b\r\n'.repeat(2000)}\r\nm\r\n${END}`,
      ],
    ];
    const got = cases.map(([what, body]) => [what, problem(body) === null ? 'accepted' : 'refused']);
    expect(got).toEqual(cases.map(([what]) => [what, 'refused']));
    const many = Array.from({ length: 65 }, (_, i) => field(`f${i}`, 'v')).join('');
    expect(problem(many + END)).toMatch(/more than 64 parts/);
    expect(problem(field('model', 'm') + END, 'multipart/form-data; boundary=A; boundary=B')).not.toBe(null);
  });

  it('finds a delimiter split across the 25 MiB of audio without holding the body as a string', () => {
    const audio = new Uint8Array(3 * 1024 * 1024).fill(0x0d); // every byte a delimiter's first
    const head = bytesOf(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n`);
    const tail = bytesOf(`\r\n--${B}--\r\n`);
    const body = new Uint8Array(head.length + audio.length + tail.length);
    body.set(head);
    body.set(audio, head.length);
    body.set(tail, head.length + audio.length);
    const parsed = parseMultipart(TYPE, body);
    expect(parsed.ok && [parsed.parts[0]!.start, parsed.parts[0]!.end]).toEqual([
      head.length,
      head.length + audio.length,
    ]);
  });
});
