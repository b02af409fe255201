/**
 * node-http-fetch.ts against real loopback servers: what upstream.ts relies on beyond the cases
 * test/model/upstream.node.test.ts runs over both transports — a body cut short is an error, never
 * a shorter body; abort and cancel close the connection; a finished answer leaves its connection
 * for the next call; encoded bodies are decoded; redirects are answers, not followed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeHttpFetch } from '../../src/model/node-http-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function serve(handler: Handler) {
  const ports: number[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer(async (req, res) => {
    ports.push(req.socket.remotePort ?? 0);
    closed.push(new Promise((r) => req.socket.once('close', () => r())));
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    handler(req, res, Buffer.concat(parts).toString('utf8'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fetchImpl = createNodeHttpFetch();
  open.push({
    close: () =>
      new Promise<void>((r) => {
        fetchImpl.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return { url, ports, closed, fetch: fetchImpl };
}

async function readAll(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

const post = (body: string, signal?: AbortSignal) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body,
  ...(signal ? { signal } : {}),
});

describe('node-http-fetch', () => {
  it('sends method, headers and body with a Content-Length; answers status, headers and body', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const s = await serve((req, res, body) => {
      seen = { method: req.method ?? '', headers: req.headers, body };
      res.writeHead(201, { 'content-type': 'application/json', 'x-a': 'b' });
      res.end('{"ok":true}');
    });
    const r = await s.fetch(`${s.url}/v1/chat/completions`, post('{"é":1}'));
    expect({
      ok: r.ok,
      status: r.status,
      type: r.headers.get('Content-Type'),
      x: r.headers.get('x-a'),
    }).toEqual({
      ok: true,
      status: 201,
      type: 'application/json',
      x: 'b',
    });
    expect(r.headers.get('x-missing')).toBeNull();
    expect(await readAll(r.body)).toBe('{"ok":true}');
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('{"é":1}');
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('{"é":1}')));
    expect(seen.headers?.['accept-encoding']).toBeUndefined();
  });

  it('reuses the connection of a finished answer (keep-alive)', async () => {
    const s = await serve((_req, res) => res.end('x'));
    for (let i = 0; i < 3; i++) {
      const r = await s.fetch(`${s.url}/`, { method: 'GET', headers: {} });
      expect(await readAll(r.body)).toBe('x');
    }
    expect(new Set(s.ports).size).toBe(1);
  });

  it('a body cut short of its Content-Length errors the stream (never a shorter body)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.destroy(), 20);
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    await expect(readAll(r.body)).rejects.toThrow();
  });

  it('a chunked body cut before its last chunk errors the stream', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\n');
      setTimeout(() => res.destroy(), 20);
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    await expect(readAll(r.body)).rejects.toThrow();
  });

  it('refuses at once with an aborted signal; abort before the head rejects and closes the connection', async () => {
    const s = await serve(() => undefined); // never answers
    await expect(s.fetch(`${s.url}/`, post('{}', AbortSignal.abort()))).rejects.toBeDefined();
    const c = new AbortController();
    const pending = s.fetch(`${s.url}/`, post('{}', c.signal));
    await new Promise((r) => setTimeout(r, 30));
    c.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await s.closed[0];
  });

  it('abort while the body streams errors it and closes the connection', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\n');
    });
    const c = new AbortController();
    const r = await s.fetch(`${s.url}/`, post('{}', c.signal));
    const reader = r.body!.getReader();
    expect(Buffer.from((await reader.read()).value!).toString()).toBe('data: a\n\n');
    c.abort(new Error('gone'));
    await expect(reader.read()).rejects.toThrow('gone');
    await s.closed[0];
  });

  it('cancelling the body closes the connection', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\n');
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    await r.body!.cancel();
    await s.closed[0];
  });

  it('pauses the socket while nobody reads (backpressure), and delivers everything after', async () => {
    const chunk = 'y'.repeat(64 * 1024);
    let writes = 0;
    let blocked = false;
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const more = () => {
        while (writes < 200) {
          writes++;
          if (!res.write(chunk)) {
            blocked = true;
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    await new Promise((res) => setTimeout(res, 100));
    // 12.5 MiB offered; an unread body must have pushed back on the server long before the end.
    expect(blocked).toBe(true);
    expect(writes).toBeLessThan(200);
    expect((await readAll(r.body)).length).toBe(200 * chunk.length);
  });

  it('decodes gzip; refuses an unknown content-encoding through the body', async () => {
    let coding = 'gzip';
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
      res.end(coding === 'gzip' ? gzipSync('{"zipped":true}') : 'xx');
    });
    expect(await readAll((await s.fetch(`${s.url}/`, post('{}'))).body)).toBe('{"zipped":true}');
    coding = 'compress';
    await expect(readAll((await s.fetch(`${s.url}/`, post('{}'))).body)).rejects.toThrow(
      'unsupported content-encoding',
    );
  });

  it('does not follow redirects: a 3xx is an answer that is not ok', async () => {
    let hits = 0;
    const s = await serve((_req, res) => {
      hits++;
      res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    expect({ ok: r.ok, status: r.status, hits }).toEqual({ ok: false, status: 307, hits: 1 });
  });

  it('a 204 has no body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const r = await s.fetch(`${s.url}/`, post('{}'));
    expect({ status: r.status, body: r.body }).toEqual({ status: 204, body: null });
  });

  describe('readAll (the whole body without a WHATWG stream)', () => {
    const text = async (r: Awaited<ReturnType<ReturnType<typeof createNodeHttpFetch>>>, max = 1 << 20) => {
      const all = await r.readAll!(max);
      return all === null ? null : Buffer.from(all).toString('utf8');
    };

    it('reads the body whole, decodes gzip, and leaves the connection for the next call', async () => {
      const s = await serve((req, res) => {
        const zip = req.url === '/zip';
        res.writeHead(200, {
          'content-type': 'application/json',
          ...(zip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(zip ? gzipSync('{"zipped":true}') : '{"a":1}');
      });
      expect(await text(await s.fetch(`${s.url}/`, post('{}')))).toBe('{"a":1}');
      expect(await text(await s.fetch(`${s.url}/zip`, post('{}')))).toBe('{"zipped":true}');
      expect(await text(await s.fetch(`${s.url}/`, post('{}')))).toBe('{"a":1}');
      expect(new Set(s.ports).size).toBe(1);
    });

    it('a body over the limit is null as counted, and its connection is closed', async () => {
      const s = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to refuse early
        res.write('x'.repeat(600));
        setTimeout(() => res.end('y'.repeat(600)), 10);
      });
      expect(await text(await s.fetch(`${s.url}/`, post('{}')), 1000)).toBeNull();
      await s.closed[0];
    });

    it('a body cut short (Content-Length or chunked) rejects, never a shorter body', async () => {
      let chunked = false;
      const s = await serve((_req, res) => {
        res.writeHead(200, chunked ? {} : { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.destroy(), 20);
      });
      await expect(text(await s.fetch(`${s.url}/`, post('{}')))).rejects.toThrow();
      chunked = true;
      await expect(text(await s.fetch(`${s.url}/`, post('{}')))).rejects.toThrow();
    });

    it('abort while reading rejects and closes the connection; an unknown coding rejects', async () => {
      let coding = 'identity';
      const s = await serve((_req, res) => {
        res.writeHead(200, { 'content-encoding': coding });
        res.write('{"a":');
        if (coding !== 'identity') res.end('1}');
      });
      const c = new AbortController();
      const r = await s.fetch(`${s.url}/`, post('{}', c.signal));
      const reading = text(r);
      setTimeout(() => c.abort(new Error('gone')), 20);
      await expect(reading).rejects.toThrow('gone');
      await s.closed[0];
      coding = 'compress';
      await expect(text(await s.fetch(`${s.url}/`, post('{}')))).rejects.toThrow(
        'unsupported content-encoding',
      );
    });

    it('one reader per body: readAll after body (or body after readAll) throws', async () => {
      const s = await serve((_req, res) => res.end('x'));
      const r1 = await s.fetch(`${s.url}/`, post('{}'));
      expect(await readAll(r1.body)).toBe('x');
      expect(() => r1.readAll!(10)).toThrow('already read');
      const r2 = await s.fetch(`${s.url}/`, post('{}'));
      expect(await text(r2)).toBe('x');
      expect(() => r2.body).toThrow('already read');
    });
  });

  it('rejects when nothing listens', async () => {
    const s = await serve(() => undefined);
    const url = s.url;
    await open.splice(0)[0]!.close();
    await expect(createNodeHttpFetch()(`${url}/`, post('{}'))).rejects.toBeDefined();
  });
});
