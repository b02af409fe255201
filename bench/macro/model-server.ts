/**
 * The benchmark's model server (its own process, as a model server beside the AI worker would be):
 * a plain Node HTTP server around the built-in model (`createBuiltinModel()`), OpenAI-compatible,
 * plus one extra model, `bench-long`, whose streamed answer is `BENCH_LONG_BYTES` (default 100 MB)
 * of content in `BENCH_LONG_CHUNK` (default 16 KiB) chunks — the long stream of the memory measurement.
 *
 * Both the sealed stack (AI worker with MODEL_URL) and the plaintext baseline (passthrough Worker)
 * talk to this same server. Prints `{"url": …}` on stdout once listening.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSealgateError } from '../../src/errors.js';
import { createBuiltinModel } from '../../src/model/builtin.js';
import { isModelRoute, SSE_DONE } from '../../src/model/types.js';

export const LONG_MODEL = 'bench-long';
const LONG_BYTES = Number(process.env.BENCH_LONG_BYTES ?? 100 * 1024 * 1024);
const CHUNK = Number(process.env.BENCH_LONG_CHUNK ?? 16 * 1024);

const model = createBuiltinModel({ models: ['sealgate-builtin', LONG_MODEL] });

function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.write(data)) resolve();
    else res.once('drain', resolve);
  });
}

async function longStream(res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const content = 'abcdefghij'.repeat(CHUNK / 10 + 1).slice(0, CHUNK);
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    JSON.stringify({
      id: 'chatcmpl-bench-long',
      object: 'chat.completion.chunk',
      created,
      model: LONG_MODEL,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  await write(res, `data: ${chunk({ role: 'assistant', content: '' }, null)}\n\n`);
  const data = `data: ${chunk({ content }, null)}\n\n`;
  for (let sent = 0; sent < LONG_BYTES; sent += CHUNK) {
    if (res.destroyed) return;
    await write(res, data);
  }
  await write(res, `data: ${chunk({}, 'stop')}\n\n`);
  await write(res, `data: ${SSE_DONE}\n\n`);
  res.end();
}

const server = createServer(async (req, res) => {
  try {
    const route = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && route === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(await model.listModels()));
      return;
    }
    if (req.method !== 'POST' || !isModelRoute(route)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}');
      return;
    }
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
    if (body.model === LONG_MODEL && body.stream === true) {
      await longStream(res);
      return;
    }
    const answer = await model.call(route, { body });
    if (answer.kind === 'json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for await (const event of answer.events) await write(res, `data: ${event}\n\n`);
    res.end();
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = isSealgateError(e, 'invalid_argument') ? 400 : 500;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: {
          message: e instanceof Error ? e.message : String(e),
          type: 'invalid_request_error',
          code: null,
        },
      }),
    );
  }
});

server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
