/**
 * The built-in model's transcription: a deterministic function of the audio's size (it has no
 * speech recogniser). Duration is read as 16 kHz, 16-bit mono PCM (32 000 bytes a second).
 * `response_format` json (default) → `{text, usage}`; verbose_json → `{task, language, duration,
 * text, segments: []}`; text, srt and vtt are refused: the sealed channel carries JSON answers.
 */
import { type Json, refuse } from '../shape.js';
import type { TranscriptionForm } from './form.js';

const BYTES_PER_SECOND = 32_000;

export function builtinTranscription(form: TranscriptionForm): Json {
  const format = form.fields.response_format ?? 'json';
  if (format !== 'json' && format !== 'verbose_json') {
    refuse(`response_format "${format}" is not supported (json or verbose_json)`);
  }
  if (form.fields.stream === 'true') refuse('stream is not supported for transcriptions');
  const bytes = form.file.size;
  const duration = Math.round((bytes / BYTES_PER_SECOND) * 100) / 100;
  const text = `Sealgate heard ${bytes} bytes of audio, about ${duration} seconds.`;
  if (format === 'verbose_json') {
    return { task: 'transcribe', language: form.fields.language ?? 'english', duration, text, segments: [] };
  }
  return { text, usage: { type: 'duration', seconds: Math.ceil(duration) } };
}
