/**
 * A model server on loopback (node:http) that RECORDS every request it receives — method, path,
 * content type and the raw body bytes — and answers as the built-in model would, plus a field no
 * API has (`x_recorded_future_field`) on every JSON answer, to see that answers reach the client
 * unchanged too. What it answered is recorded beside what it received.
 */
import { createServer, type ServerResponse } from 'node:http';
import { sealedFormBody } from '../../src/api/transcriptions/form.js';
import { createBuiltinModel } from '../../src/model/builtin.js';
import type { ModelRoute } from '../../src/model/types.js';
import { listenLoopback } from '../support/loopback.js';

export interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  raw: Buffer;
  /** The JSON body it answered (non-streamed answers). */
  answered?: Record<string, unknown>;
}

export interface RecordingModel {
  url: string;
  requests: Recorded[];
  /**
   * Streams started from now on write their first event, then wait until the returned function is
   * called: a client sees its first chunk alone and can act mid-stream, whatever the timing.
   */
  holdAfterFirstEvent(): () => void;
  close(): Promise<void>;
}

/** Fields the built-in model refuses that a real server accepts: dropped from what it answers. */
const BUILTIN_REFUSES = ['logprobs', 'top_logprobs', 'response_format', 'tool_choice'];

export async function startRecordingModel(): Promise<RecordingModel> {
  const model = createBuiltinModel();
  const requests: Recorded[] = [];
  let hold: Promise<void> | undefined;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const recorded: Recorded = {
      method: req.method ?? '',
      path: req.url ?? '',
      contentType: req.headers['content-type'],
      raw: Buffer.concat(chunks),
    };
    requests.push(recorded);
    try {
      if (req.method === 'GET') return json(res, await model.listModels());
      const route = recorded.path as ModelRoute;
      const body =
        route === '/v1/audio/transcriptions'
          ? sealedFormBody('sealgate-builtin', {
              contentType: recorded.contentType ?? '',
              bytes: new Uint8Array(recorded.raw),
            })
          : (JSON.parse(recorded.raw.toString('utf8')) as Record<string, unknown>);
      for (const field of BUILTIN_REFUSES) delete body[field];
      const named = route === '/v1/audio/transcriptions' ? formModel(recorded.raw) : body.model;
      if (typeof named === 'string' && model.servesModel(named) === false) {
        // As OpenAI (and vLLM, Ollama) answer a model they do not serve.
        const error = { message: `The model \`${named}\` does not exist`, type: 'invalid_request_error' };
        return json(res, { error: { ...error, param: null, code: 'model_not_found' } }, 404);
      }
      const answer = await model.call(route, { body });
      if (answer.kind === 'json') {
        recorded.answered = { ...answer.body, x_recorded_future_field: { kept: [1, 'two', null] } };
        return json(res, recorded.answered);
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const held = hold;
      let first = true;
      for await (const data of answer.events) {
        res.write(`data: ${data}\n\n`);
        if (first && held) await held;
        first = false;
      }
      res.end();
    } catch (e) {
      json(res, { error: { message: (e as Error).message, type: 'invalid_request_error' } }, 400);
    }
  });
  const holdAfterFirstEvent = () => {
    let release: () => void = () => undefined;
    hold = new Promise<void>((resolve) => {
      release = () => {
        hold = undefined;
        resolve();
      };
    });
    return release;
  };
  return { ...(await listenLoopback(server)), requests, holdAfterFirstEvent };
}

/** The `model` field of a multipart transcription body. */
function formModel(raw: Buffer): string | undefined {
  return /name="model"\r\n\r\n([^\r]*)\r\n/.exec(raw.toString('latin1'))?.[1];
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
