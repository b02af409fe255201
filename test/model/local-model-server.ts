/**
 * A real OpenAI-compatible model server on loopback for tests (node:http), answering the way vLLM
 * does: JSON for plain requests, and for `stream: true` an SSE body of `data: {json}\n\n` events
 * ending with `data: [DONE]\n\n`. Each test gives the handler; helpers write the common answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLoopback } from '../support/loopback.js';
import type { Json } from './json.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body (undefined for none). */
  body: Json;
}

export type Handler = (
  req: RecordedRequest,
  res: ServerResponse,
  raw: IncomingMessage,
) => void | Promise<void>;

export interface LocalModelServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startLocalModelServer(handler: Handler): Promise<LocalModelServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (raw, res) => {
    const chunks: Buffer[] = [];
    for await (const c of raw) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const req: RecordedRequest = {
      method: raw.method ?? '',
      path: raw.url ?? '',
      headers: raw.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(req);
    try {
      await handler(req, res, raw);
    } catch {
      res.destroy();
    }
  });
  return { ...(await listenLoopback(server)), requests };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** Writes one `data:` event (vLLM's framing) and resolves once it is handed to the socket. */
export function writeData(res: ServerResponse, payload: string): Promise<void> {
  return new Promise((resolve, reject) =>
    res.write(`data: ${payload}\n\n`, (e) => (e ? reject(e) : resolve())),
  );
}

/** An OpenAI chat.completion.chunk with one content delta. */
export function chatChunk(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-local',
    object: 'chat.completion.chunk',
    created: 1_767_225_600,
    model: 'local-model',
    choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
    ...extra,
  });
}

/** A promise with its resolver: the test's signal to the server ("now send the rest"). */
export function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}
