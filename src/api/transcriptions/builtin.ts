/**
 * The built-in model's transcription: a deterministic function of the audio's size (it has no
 * speech recogniser). Duration is read as 16 kHz, 16-bit mono PCM (32 000 bytes a second).
 * `response_format` json (default) → `{text, usage}`; verbose_json → `{task, language, duration,
 * text, segments: []}`; text, srt and vtt are refused: the sealed channel carries JSON answers.
 *
 * Its fields are checked as OpenAI's "Create transcription" documents them, each a 400
 * `invalid_request` naming the field (`checkFields`): what it cannot give (word timestamps,
 * `include[]` logprobs, a stream) is refused, never answered as if given.
 */
import { type Json, refuse } from '../shape.js';
import type { TranscriptionForm } from './form.js';

const BYTES_PER_SECOND = 32_000;

export function builtinTranscription(form: TranscriptionForm): Json {
  const format = checkFields(form);
  const bytes = form.file.size;
  const duration = Math.round((bytes / BYTES_PER_SECOND) * 100) / 100;
  const text = `Sealgate heard ${bytes} bytes of audio, about ${duration} seconds.`;
  if (format === 'verbose_json') {
    return { task: 'transcribe', language: form.fields.language ?? 'english', duration, text, segments: [] };
  }
  return { text, usage: { type: 'duration', seconds: Math.ceil(duration) } };
}

/** The text fields the built-in model reads; `prompt` (any text) it accepts and ignores. */
const FIELDS = new Set([
  'response_format',
  'temperature',
  'language',
  'prompt',
  'stream',
  'chunking_strategy',
]);
/** The array fields it reads (OpenAI's multipart arrays: the name ends in "[]"). */
const LISTS = new Set(['timestamp_granularities[]']);

/** OpenAI's `response_format` values; of these the sealed channel carries the JSON ones. */
const FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'];

/**
 * Checks every field as OpenAI's API reference ("Create transcription") states it, and what the
 * built-in model can give; returns the response format. A decimal `temperature` in [0, 1]; an
 * ISO-639-1 `language` (two letters); `stream` a boolean, and false (the answer is one JSON body);
 * `chunking_strategy` "auto" (the whole audio is one chunk here); `timestamp_granularities[]` only
 * "segment" (verbose_json's `segments`: there are no words to time), and only with verbose_json,
 * as OpenAI requires. Any other field, `include[]` among them (logprobs), is refused.
 */
function checkFields(form: TranscriptionForm): 'json' | 'verbose_json' {
  for (const name of Object.keys(form.fields)) if (!FIELDS.has(name)) refuse(`${name} is not supported`);
  for (const name of Object.keys(form.lists)) if (!LISTS.has(name)) refuse(`${name} is not supported`);
  const { response_format: format = 'json', temperature, language, stream, chunking_strategy } = form.fields;
  if (!FORMATS.includes(format)) refuse(`response_format must be one of ${FORMATS.join(', ')}`);
  if (format !== 'json' && format !== 'verbose_json') {
    refuse(`response_format "${format}" is not supported (json or verbose_json)`);
  }
  if (temperature !== undefined && !isUnitDecimal(temperature)) {
    refuse('temperature must be a number between 0 and 1');
  }
  if (language !== undefined && !/^[a-z]{2}$/.test(language)) {
    refuse('language must be an ISO-639-1 code (two lowercase letters, e.g. "en")');
  }
  if (stream !== undefined && stream !== 'true' && stream !== 'false') refuse('stream must be a boolean');
  if (stream === 'true') refuse('stream is not supported for transcriptions');
  if (chunking_strategy !== undefined && chunking_strategy !== 'auto') {
    refuse('chunking_strategy is not supported other than "auto"');
  }
  checkGranularities(form.lists['timestamp_granularities[]'] ?? [], format);
  return format;
}

function checkGranularities(granularities: readonly string[], format: string): void {
  for (const g of granularities) {
    if (g === 'word') refuse('timestamp_granularities[] "word" is not supported (segment only)');
    if (g !== 'segment') refuse('timestamp_granularities[] must be "word" or "segment"');
  }
  if (granularities.length > 0 && format !== 'verbose_json') {
    refuse('timestamp_granularities[] requires response_format verbose_json');
  }
}

/** A plain decimal number (digits, an optional fraction; no sign, exponent, hex or spaces) in [0, 1]. */
function isUnitDecimal(text: string): boolean {
  return /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text) && Number(text) <= 1;
}
