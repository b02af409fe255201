/**
 * A model backend that serves every route of MODEL_ROUTES. `/v1/messages` and `/v1/responses` go
 * to the backend as they are when it speaks them natively (`native`), else they are translated to
 * a chat completion and its answer back (src/api/anthropic, src/api/responses) — inside the worker,
 * so the plaintext never leaves it. A transcription's sealed form must name the model the envelope
 * bound; the form then goes to the backend unchanged.
 */

import { messagesToChat } from '../api/anthropic/request.js';
import { chatToMessage, requestedStops } from '../api/anthropic/response.js';
import { chatStreamToMessages } from '../api/anthropic/stream.js';
import { responsesToChat } from '../api/responses/request.js';
import { chatToResponse } from '../api/responses/response.js';
import { chatStreamToResponses } from '../api/responses/stream.js';
import { refuse } from '../api/shape.js';
import { checkTranscriptionForm, readSealedForm } from '../api/transcriptions/form.js';
import type { ModelAnswer, ModelBackend, ModelCall, ModelRoute, TranslatableRoute } from './types.js';

export function withApiRoutes(
  backend: ModelBackend,
  native: ReadonlySet<TranslatableRoute> = new Set(),
): ModelBackend {
  return {
    description: backend.description,
    listModels: (signal) => backend.listModels(signal),
    servesModel: (model) => backend.servesModel(model),
    async call(route: ModelRoute, call: ModelCall): Promise<ModelAnswer> {
      switch (route) {
        case '/v1/messages':
        case '/v1/responses':
          return await (native.has(route) ? backend.call(route, call) : translated(backend, route, call));
        case '/v1/audio/transcriptions': {
          const form = checkTranscriptionForm(readSealedForm(call.body)); // the audio not copied
          if (form.model !== call.body.model) refuse('the form’s model differs from the sealed request’s');
          return await backend.call(route, call);
        }
        default:
          return await backend.call(route, call);
      }
    },
  };
}

async function translated(
  backend: ModelBackend,
  route: TranslatableRoute,
  call: ModelCall,
): Promise<ModelAnswer> {
  const messages = route === '/v1/messages';
  const chat = messages ? messagesToChat(call.body) : responsesToChat(call.body);
  const answer = await backend.call('/v1/chat/completions', { ...call, body: chat });
  const model = String(call.body.model);
  if (answer.kind === 'json') {
    return {
      kind: 'json',
      body: messages
        ? chatToMessage(answer.body, model, requestedStops(call.body))
        : chatToResponse(answer.body, call.body),
    };
  }
  return {
    kind: 'stream',
    events: messages
      ? chatStreamToMessages(answer.events, model, requestedStops(call.body))
      : chatStreamToResponses(answer.events, call.body),
  };
}
