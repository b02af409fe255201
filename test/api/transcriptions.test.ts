/**
 * Audio transcriptions: the multipart body sealed whole (src/api/transcriptions/form.ts) and the
 * built-in model's deterministic transcript.
 */
import { describe, expect, it } from 'vitest';
import { parseTranscriptionForm, sealedFormBody } from '../../src/api/transcriptions/form.js';
import { utf8 } from '../../src/bytes.js';
import { BUILTIN_MODEL_ID, createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelAnswer } from '../../src/model/types.js';

const model = createBuiltinModel();

async function multipart(fields: Record<string, string>, audio?: Uint8Array) {
  const form = new FormData();
  if (audio) form.append('file', new Blob([new Uint8Array(audio)], { type: 'audio/wav' }), 'a.wav');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const request = new Request('http://x/', { method: 'POST', body: form });
  return {
    contentType: request.headers.get('content-type') ?? '',
    bytes: new Uint8Array(await request.arrayBuffer()),
  };
}

async function transcribe(fields: Record<string, string>, audio?: Uint8Array, plainModel = BUILTIN_MODEL_ID) {
  const body = sealedFormBody(plainModel, await multipart(fields, audio));
  // Awaited, not returned: a refusal now rejects before call's first await, and workerd reports a
  // rejected promise that an async function's return adopts a tick later as unhandled.
  return await model.call('/v1/audio/transcriptions', { body });
}

describe('audio transcriptions', () => {
  it('transcribes deterministically from the audio’s length', async () => {
    const answer = await transcribe({ model: BUILTIN_MODEL_ID }, new Uint8Array(64_000));
    expect((answer as Extract<ModelAnswer, { kind: 'json' }>).body).toEqual({
      text: 'Sealgate heard 64000 bytes of audio, about 2 seconds.',
      usage: { type: 'duration', seconds: 2 },
    });
  });

  it('answers verbose_json', async () => {
    const answer = await transcribe(
      { model: BUILTIN_MODEL_ID, response_format: 'verbose_json' },
      new Uint8Array(16_000),
    );
    expect((answer as Extract<ModelAnswer, { kind: 'json' }>).body).toMatchObject({
      task: 'transcribe',
      duration: 0.5,
      segments: [],
    });
  });

  it.each([
    [{ model: BUILTIN_MODEL_ID }, undefined, BUILTIN_MODEL_ID, /file is required/],
    [
      { model: BUILTIN_MODEL_ID, response_format: 'srt' },
      new Uint8Array(4),
      BUILTIN_MODEL_ID,
      /response_format "srt"/,
    ],
    [{ model: 'other' }, new Uint8Array(4), BUILTIN_MODEL_ID, /form’s model differs/],
  ])('refuses %j', async (fields, audio, plain, message) => {
    const e = await transcribe(fields, audio, plain).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((e as Error).message).toMatch(message);
  });

  it.each([
    ['temperature=abc', { temperature: 'abc' }, 'temperature must be a number between 0 and 1'],
    ['temperature above 1', { temperature: '1.5' }, 'temperature must be a number between 0 and 1'],
    ['a negative temperature', { temperature: '-0.1' }, 'temperature must be a number between 0 and 1'],
    ['a hex temperature', { temperature: '0x1' }, 'temperature must be a number between 0 and 1'],
    ['an empty temperature', { temperature: '' }, 'temperature must be a number between 0 and 1'],
    [
      'an unknown format',
      { response_format: 'xml' },
      'response_format must be one of json, text, srt, verbose_json, vtt',
    ],
    [
      'a language name',
      { language: 'english' },
      'language must be an ISO-639-1 code (two lowercase letters, e.g. "en")',
    ],
    ['stream=yes', { stream: 'yes' }, 'stream must be a boolean'],
    [
      'a chunking strategy',
      { chunking_strategy: '{"type":"server_vad"}' },
      'chunking_strategy is not supported other than "auto"',
    ],
    ['an unknown field', { speed: '2' }, 'speed is not supported'],
  ])('refuses %s with the route’s 400', async (_, fields, message) => {
    const e = await transcribe({ model: BUILTIN_MODEL_ID, ...fields }, new Uint8Array(4)).then(
      () => undefined,
      (e: unknown) => e,
    );
    // invalid_argument: the 400 invalid_request of the route (src/http/errors.ts httpCodeFor).
    expect(e).toMatchObject({ code: 'invalid_argument', message });
  });

  it('refuses word timestamps, logprobs and granularities without verbose_json; gives segments', async () => {
    const audio = new Blob([new Uint8Array(32_000)], { type: 'audio/wav' });
    const call = async (parts: [string, string][]) => {
      const f = new FormData();
      f.append('file', audio, 'a.wav');
      f.append('model', BUILTIN_MODEL_ID);
      for (const [name, value] of parts) f.append(name, value);
      const request = new Request('http://x/', { method: 'POST', body: f });
      const bytes = new Uint8Array(await request.arrayBuffer());
      const body = sealedFormBody(BUILTIN_MODEL_ID, {
        contentType: request.headers.get('content-type')!,
        bytes,
      });
      return await model.call('/v1/audio/transcriptions', { body }).then(
        (a) => (a as Extract<ModelAnswer, { kind: 'json' }>).body,
        (e: Error) => e.message,
      );
    };
    const verbose: [string, string] = ['response_format', 'verbose_json'];
    const segment: [string, string] = ['timestamp_granularities[]', 'segment'];
    const word: [string, string] = ['timestamp_granularities[]', 'word'];
    // A word anywhere in the list: the built-in model times no words.
    expect(await call([verbose, segment, word])).toBe(
      'timestamp_granularities[] "word" is not supported (segment only)',
    );
    expect(await call([verbose, ['timestamp_granularities[]', 'char']])).toBe(
      'timestamp_granularities[] must be "word" or "segment"',
    );
    expect(await call([segment])).toBe('timestamp_granularities[] requires response_format verbose_json');
    expect(await call([['include[]', 'logprobs']])).toBe('include[] is not supported');
    expect(
      await call([verbose, segment, ['temperature', '0.2'], ['language', 'en'], ['stream', 'false']]),
    ).toMatchObject({
      task: 'transcribe',
      language: 'en',
      duration: 1,
      segments: [],
    });
    expect(
      await call([
        ['temperature', '1'],
        ['prompt', 'any text'],
        ['chunking_strategy', 'auto'],
      ]),
    ).toMatchObject({
      text: 'Sealgate heard 32000 bytes of audio, about 1 seconds.',
    });
  });

  it('refuses a form that gives model or file twice; repeats an array field ([]) as OpenAI does', async () => {
    const audio = new Blob([new Uint8Array(8)], { type: 'audio/wav' });
    /** The multipart body of these parts, in order (a Blob part is a file). */
    const body = async (parts: [string, string | Blob][]) => {
      const f = new FormData();
      for (const [name, value] of parts) {
        if (typeof value === 'string') f.append(name, value);
        else f.append(name, value, `${name}.wav`);
      }
      const request = new Request('http://x/', { method: 'POST', body: f });
      return {
        contentType: request.headers.get('content-type') ?? '',
        bytes: new Uint8Array(await request.arrayBuffer()),
      };
    };
    const cases: [string, [string, string | Blob][]][] = [
      // Without the check, the gateway read the first model, a server may take the last.
      [
        'two models',
        [
          ['file', audio],
          ['model', BUILTIN_MODEL_ID],
          ['model', 'other'],
        ],
      ],
      [
        'two files',
        [
          ['file', audio],
          ['file', audio],
          ['model', BUILTIN_MODEL_ID],
        ],
      ],
      [
        'two formats',
        [
          ['file', audio],
          ['model', BUILTIN_MODEL_ID],
          ['response_format', 'json'],
          ['response_format', 'srt'],
        ],
      ],
    ];
    for (const [what, parts] of cases) {
      const e = await parseTranscriptionForm(await body(parts)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((e as Error | undefined)?.message, what).toMatch(/more than once/);
    }
    const arrays = await parseTranscriptionForm(
      await body([
        ['file', audio],
        ['model', BUILTIN_MODEL_ID],
        ['timestamp_granularities[]', 'word'],
        ['timestamp_granularities[]', 'segment'],
      ]),
    );
    expect(arrays.model).toBe(BUILTIN_MODEL_ID);
  });

  it('refuses a form that does not parse', async () => {
    const body = sealedFormBody(BUILTIN_MODEL_ID, {
      contentType: 'multipart/form-data; boundary=zzz',
      bytes: utf8.encode('not a form') as Uint8Array<ArrayBuffer>,
    });
    const e = await model.call('/v1/audio/transcriptions', { body }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((e as Error).message).toMatch(/not valid multipart/);
  });
});
