/**
 * A plaintext Node hop for the "what does sealing itself cost" baseline: a node:http server that
 * forwards each request to the model server over node:http and streams the answer back — the same
 * I/O as the AI worker (node:http in, node:http out through a keep-alive agent, in the runner's
 * process like the stack's AI worker: src/ai-worker/node-listener.ts, src/model/node-http-fetch.ts),
 * without attestation or cryptography. The passthrough Worker reaches it under `/hop/…`. (Until
 * issue #18 it called the model with `fetch`, heavier per request than the AI worker's node:http,
 * which flattered the worker in the CPU comparison.)
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startNodeHop(upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const out = request(
      `${upstream}${req.url ?? '/'}`,
      {
        agent,
        method: req.method ?? 'GET',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          ...(req.headers['content-length'] ? { 'content-length': req.headers['content-length'] } : {}),
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, {
          'content-type': answer.headers['content-type'] ?? 'application/json',
        });
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
