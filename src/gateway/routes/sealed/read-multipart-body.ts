/**
 * The body of a transcription (OpenAI API reference: "Create transcription"): multipart/form-data
 * with a boundary (else 415), at most MAX_AUDIO_BODY_BYTES counted as it streams (else 413), that
 * parses as a form with a `file` part and a `model` field (else 400). The body to seal is the
 * WHOLE multipart body, byte for byte, with its Content-Type (src/api/transcriptions/form.ts).
 */

import {
  isMultipartContentType,
  MAX_AUDIO_BODY_BYTES,
  parseTranscriptionForm,
  sealedFormBody,
} from '../../../api/transcriptions/form.js';
import { SealgateError } from '../../../errors.js';
import { errorResponse } from '../../../http/errors.js';
import { OVERSIZE_DRAIN_BYTES, readLimited } from '../../../http/read-limited.js';

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
  const bytes = await readLimited(
    request.body,
    request.headers.get('content-length'),
    MAX_AUDIO_BODY_BYTES,
    OVERSIZE_DRAIN_BYTES,
  );
  if (bytes === null) {
    return {
      ok: false,
      response: errorResponse('payload_too_large', `the body exceeds ${MAX_AUDIO_BODY_BYTES} bytes`),
    };
  }
  const body = { contentType, bytes: new Uint8Array(bytes) };
  try {
    const form = await parseTranscriptionForm(body);
    return { ok: true, value: sealedFormBody(form.model, body) };
  } catch (e) {
    if (!(e instanceof SealgateError)) throw e;
    return { ok: false, response: errorResponse('invalid_request', e.message) };
  }
}
