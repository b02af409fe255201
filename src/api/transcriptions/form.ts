/**
 * Audio transcriptions (API reference: "Create transcription", `POST /v1/audio/transcriptions`) are
 * multipart/form-data, not JSON. The gateway seals the WHOLE multipart body, byte for byte, inside
 * the JSON envelope: `{"model": <the form's model>, "form": {"content_type": <the request's
 * Content-Type, boundary included>, "data": <base64url of the body>}}` — `model` plain (routing),
 * `form` sealed. The worker forwards exactly those bytes, under that content type, to a model
 * server, so nothing of the form is re-encoded.
 */
import { fromBase64Url, toBase64Url } from '../../bytes.js';
import { type Json, objectAt, refuse, stringAt } from '../shape.js';
import { strictBoundary } from './multipart-params.js';
import { type MultipartPart, parseMultipart } from './multipart-syntax.js';

/** The largest multipart body accepted (OpenAI's own limit for an audio file is 25 MB). */
export const MAX_AUDIO_BODY_BYTES = 25 * 1024 * 1024;
/** The largest sealed transcription request a worker reads: base64url of the body, plus the envelope. */
export const MAX_SEALED_FORM_BYTES = Math.ceil((MAX_AUDIO_BODY_BYTES * 4) / 3) + 64 * 1024;

export interface MultipartBody {
  contentType: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** `multipart/form-data` with exactly one valid boundary and no parameter twice (multipart-syntax.ts). */
export function isMultipartContentType(type: string | null): boolean {
  return type !== null && strictBoundary(type) !== null;
}

export function sealedFormBody(model: string, body: MultipartBody): Json {
  return { model, form: { content_type: body.contentType, data: toBase64Url(body.bytes) } };
}

export function readSealedForm(body: Json): MultipartBody {
  const form = objectAt(body.form, 'form');
  const contentType = stringAt(form.content_type, 'form.content_type');
  if (!isMultipartContentType(contentType)) refuse('form.content_type must be multipart/form-data');
  try {
    return { contentType, bytes: new Uint8Array(fromBase64Url(stringAt(form.data, 'form.data'))) };
  } catch {
    return refuse('form.data must be base64url');
  }
}

export interface TranscriptionForm {
  model: string;
  file: Blob & { name?: string };
  fields: Record<string, string>;
  lists: Record<string, string[]>;
}

/**
 * A checked form: its model, its file part (not copied out of the body), its text fields given once
 * (`fields`) and its array fields, every value in order (`lists`: names ending in "[]").
 */
export interface CheckedTranscriptionForm {
  model: string;
  file: MultipartPart & { filename: string };
  fields: Record<string, string>;
  lists: Record<string, string[]>;
}

/**
 * Parses a multipart body (multipart-syntax.ts, on its bytes: the gateway and the worker read the
 * same form whatever their runtime's `formData` would) and checks the fields every request needs.
 * The audio stays in `body.bytes` (the gateway needs only the model: no 25 MiB copy).
 */
export function checkTranscriptionForm(body: MultipartBody): CheckedTranscriptionForm {
  const parsed = parseMultipart(body.contentType, body.bytes);
  if (!parsed.ok) refuse(`the body is not valid multipart/form-data: ${parsed.problem}`);
  // One part per name (names ending in "[]" are OpenAI's arrays: `timestamp_granularities[]`).
  // The form reaches the model server byte for byte, and a server may read the LAST of two
  // `model` (or `file`) parts where we read the first: the envelope and the receipt would name one
  // model and the server run another. Refused, as JSON's duplicate keys are not (those are
  // re-serialized, last value only: docs/gateway.md "Passthrough").
  const names = new Set<string>();
  for (const { name } of parsed.parts) {
    if (!name.endsWith('[]') && names.has(name)) refuse('the form gives a field more than once');
    names.add(name);
  }
  const file = parsed.parts.find((p) => p.name === 'file');
  if (file?.filename === undefined) refuse('file is required (an audio file part)');
  const model = parsed.parts.find((p) => p.name === 'model');
  if (model === undefined || model.filename !== undefined) refuse('model is required');
  const fields: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  for (const part of parsed.parts) {
    if (part.filename !== undefined || part === model) continue;
    const value = textOf(body.bytes, part);
    if (!part.name.endsWith('[]')) {
      fields[part.name] = value;
      continue;
    }
    const list = lists[part.name] ?? [];
    list.push(value);
    lists[part.name] = list;
  }
  const modelName = textOf(body.bytes, model, true);
  if (modelName === '') refuse('model is required');
  return { model: modelName, file: file as MultipartPart & { filename: string }, fields, lists };
}

/** `checkTranscriptionForm`, with the audio as a File (the built-in model reads it). */
export async function parseTranscriptionForm(body: MultipartBody): Promise<TranscriptionForm> {
  const { model, file, fields, lists } = checkTranscriptionForm(body);
  const audio = body.bytes.subarray(file.start, file.end);
  const type = file.contentType ?? 'application/octet-stream';
  return { model, file: new File([audio], file.filename, { type }), fields, lists };
}

/** A field's value as UTF-8 text (RFC 7578 §5.1.2); fatal for the model, whose name must be exact. */
function textOf(bytes: Uint8Array, part: MultipartPart, fatal = false): string {
  try {
    return new TextDecoder('utf-8', { fatal }).decode(bytes.subarray(part.start, part.end));
  } catch {
    return refuse(`${part.name} is not UTF-8`);
  }
}
