/**
 * A test-only fault proxy (node:http) between the gateway and an upstream (AI worker or attestation
 * service): what the network or a broken/malicious upstream can do, at the byte level, without a
 * single test hook in product code. It records every byte it carries in both directions, so a test
 * can assert that the prompt's and the answer's plaintext never crossed the wire.
 *
 * Faults (one at a time, switched by the test; `pass` forwards untouched):
 *   drop      the connection is reset before any answer (upstream down)
 *   delay     the answer is held `delayMs`, then forwarded (upstream slow)
 *   tamper    one character of the answer's first `"ct"` value after the start is changed
 *   truncate  an SSE answer loses its last event (the sealed end frame); a JSON answer is cut in half
 *   reorder   SSE events 1 and 2 swapped (each authentic on its own)
 *   swap-kid  the sealed REQUEST's key id replaced by another well-formed one
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLoopback } from '../support/loopback.js';

export type Fault = 'pass' | 'drop' | 'delay' | 'tamper' | 'truncate' | 'reorder' | 'swap-kid';

export interface FaultProxy {
  url: string;
  fault: Fault;
  delayMs: number;
  /** Only requests whose `METHOD path` matches are faulted (default: every request). */
  match: RegExp;
  /** Every request and answer body carried, as text. */
  wire: string[];
  /** How many requests a fault was applied to. */
  faulted: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Changes one character inside the n-th `"ct":"…"` value (still base64url, no longer authentic). */
function flipCt(text: string, nth: number): string {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf('"ct":"', at + 1);
    if (at < 0) return text;
  }
  const i = at + 6 + 10;
  return `${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`;
}

function sseEvents(text: string): string[] {
  return text.split('\n\n').filter((e) => e.length > 0);
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const proxy: FaultProxy = {
    url: '',
    fault: 'pass',
    delayMs: 0,
    match: /.*/,
    wire: [],
    faulted: 0,
    close: async () => undefined,
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let body = (await readBody(req)).toString('utf8');
    const faulted = proxy.fault !== 'pass' && proxy.match.test(`${req.method} ${req.url}`);
    const fault: Fault = faulted ? proxy.fault : 'pass';
    if (faulted) proxy.faulted++;
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'swap-kid')
      body = body.replace(/"kid":"[A-Za-z0-9_-]{22}"/, '"kid":"AAAAAAAAAAAAAAAAAAAAAA"');
    proxy.wire.push(body);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    }
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    });
    let text = await upstream.text();
    proxy.wire.push(text);
    if (fault === 'delay') await new Promise((r) => setTimeout(r, proxy.delayMs));
    const sse = (upstream.headers.get('content-type') ?? '').startsWith('text/event-stream');
    if (upstream.ok && fault === 'tamper') text = flipCt(text, sse ? 1 : 0);
    if (upstream.ok && fault === 'truncate') {
      // A stream loses its end frame and the receipt trailer after it (docs/protocol.md "Receipts").
      text = sse ? `${sseEvents(text).slice(0, -2).join('\n\n')}\n\n` : text.slice(0, text.length >> 1);
    }
    if (upstream.ok && fault === 'reorder' && sse) {
      const events = sseEvents(text);
      [events[1], events[2]] = [events[2]!, events[1]!];
      text = `${events.join('\n\n')}\n\n`;
    }
    // Every end-to-end header passes (the worker certificate and receipt among them); the body is
    // re-framed here, so its length and transfer headers do not.
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (
        !['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)
      )
        out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(text);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  const listening = await listenLoopback(server);
  proxy.url = listening.url;
  proxy.close = listening.close;
  return proxy;
}
