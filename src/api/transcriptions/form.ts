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
import { multipartSyntaxProblem, strictBoundary } from './multipart-syntax.js';

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
}

/** Parses a multipart body (WHATWG `Response.formData`) and checks the fields every request needs. */
export async function parseTranscriptionForm(body: MultipartBody): Promise<TranscriptionForm> {
  // Only the unambiguous core of multipart: every reader of these bytes must see the same form.
  const problem = multipartSyntaxProblem(body.contentType, body.bytes);
  if (problem) refuse(`the body is not valid multipart/form-data: ${problem}`);
  let data: FormData;
  try {
    data = await new Response(body.bytes, { headers: { 'content-type': body.contentType } }).formData();
  } catch {
    return refuse('the body is not valid multipart/form-data');
  }
  // One part per name (names ending in "[]" are OpenAI's arrays: `timestamp_granularities[]`).
  // The form reaches the model server byte for byte, and a server may read the LAST of two
  // `model` (or `file`) parts where we read the first: the envelope and the receipt would name one
  // model and the server run another. Refused, as JSON's duplicate keys are not (those are
  // re-serialized, last value only: docs/gateway.md "Passthrough").
  const names = new Set<string>();
  let repeated = false;
  data.forEach((_, name) => {
    if (!name.endsWith('[]') && names.has(name)) repeated = true;
    names.add(name);
  });
  if (repeated) refuse('the form gives a field more than once');
  const file = data.get('file');
  if (file === null || typeof file === 'string') refuse('file is required (an audio file part)');
  const model = data.get('model');
  if (typeof model !== 'string' || model === '') refuse('model is required');
  const fields: Record<string, string> = {};
  data.forEach((value, name) => {
    if (typeof value === 'string' && name !== 'model') fields[name] = value;
  });
  return { model, file, fields };
}
