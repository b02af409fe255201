/**
 * The body of a transcription (OpenAI API reference: "Create transcription"): multipart/form-data
 * with a boundary (else 415), at most MAX_AUDIO_BODY_BYTES counted as it streams (else 413; 400 if
 * it breaks off: http/read-limited.ts readRequestBody), that
 * parses as a form with a `file` part and a `model` field (else 400; src/api/transcriptions/
 * multipart-syntax.ts, on the bytes, the audio not copied). The body to seal is the WHOLE
 * multipart body, byte for byte, with its Content-Type (src/api/transcriptions/form.ts).
 */

import {
  checkTranscriptionForm,
  isMultipartContentType,
  MAX_AUDIO_BODY_BYTES,
  sealedFormBody,
} from '../../../api/transcriptions/form.js';
import { SealgateError } from '../../../errors.js';
import { errorResponse } from '../../../http/errors.js';
import { readRequestBody } from '../../../http/read-limited.js';

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

export async function readMultipartBody(request: Request): Promise<BodyResult> {
  const contentType = request.headers.get('content-type');
  if (contentType === null || !isMultipartContentType(contentType)) {
    return {
      ok: false,
      response: errorResponse(
        'unsupported_media_type',
        'the body must be multipart/form-data with a boundary',
      ),
    };
  }
  const read = await readRequestBody(request, MAX_AUDIO_BODY_BYTES);
  if (!read.ok) return read;
  const body = { contentType, bytes: new Uint8Array(read.bytes) };
  try {
    const form = checkTranscriptionForm(body);
    return { ok: true, value: sealedFormBody(form.model, body) };
  } catch (e) {
    if (!(e instanceof SealgateError)) throw e;
    return { ok: false, response: errorResponse('invalid_request', e.message) };
  }
}
