/**
 * A test-only fault proxy (node:http) between the gateway and an upstream (AI worker or attestation
 * service): what the network or a broken/malicious upstream can do, at the byte level, without a
 * single test hook in product code. It records every byte it carries in both directions, so a test
 * can assert that the prompt's and the answer's plaintext never crossed the wire.
 *
 * Faults (one at a time, switched by the test; `pass` forwards untouched):
 *   drop      the connection is reset before any answer (upstream down)
 *   delay     the answer is held `delayMs`, then forwarded (upstream slow)
 *   tamper    one character of a JSON answer's `"ct"`, or one bit of a stream's second record
 *   truncate  a stream loses its end record (and trailer); a JSON answer is cut in half
 *   reorder   stream records 1 and 2 swapped (each authentic on its own)
 *   swap-kid  the sealed REQUEST's key id replaced by another well-formed one
 *   split-end a stream's body whole, but its chunked terminator sent SPLIT_END_MS later, apart
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { STREAM_CONTENT_TYPE } from '../../src/envelope/stream.js';
import { listenLoopback } from '../support/loopback.js';

export type Fault = 'pass' | 'drop' | 'delay' | 'tamper' | 'truncate' | 'reorder' | 'swap-kid' | 'split-end';

/** How long `split-end` holds a stream's chunked terminator after its last bytes. */
export const SPLIT_END_MS = 50;

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
  /** How many connections the proxy accepted (the gateway's to this upstream). */
  connections: number;
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

/** A sealed stream body (format 3) split into its 36-byte header and its records. */
function streamRecords(body: Buffer): { header: Buffer; records: Buffer[] } {
  const records: Buffer[] = [];
  for (let at = 36; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    records.push(body.subarray(at, at + 5 + length));
    at += 5 + length;
  }
  return { header: body.subarray(0, 36), records };
}

/** The stream with a fault: one ciphertext bit of record 1, the end and trailer cut, 1 and 2 swapped. */
function faultStream(body: Buffer, fault: string): Buffer {
  const { header, records } = streamRecords(body);
  if (fault === 'tamper') {
    const second = Buffer.from(records[1]!);
    second[5]! ^= 1;
    records[1] = second;
  }
  // A stream loses its end record and the receipt trailer after it (docs/protocol.md "Receipts").
  if (fault === 'truncate') return Buffer.concat([header, ...records.slice(0, -2)]);
  if (fault === 'reorder') [records[1], records[2]] = [records[2]!, records[1]!];
  return Buffer.concat([header, ...records]);
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const proxy: FaultProxy = {
    url: '',
    fault: 'pass',
    delayMs: 0,
    match: /.*/,
    wire: [],
    faulted: 0,
    connections: 0,
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
    const stream = (upstream.headers.get('content-type') ?? '') === STREAM_CONTENT_TYPE;
    let bytes: Buffer = Buffer.from(await upstream.arrayBuffer());
    // Latin-1: every byte one character, so a stream's binary records are searchable as text too.
    proxy.wire.push(bytes.toString(stream ? 'latin1' : 'utf8'));
    if (fault === 'delay') await new Promise((r) => setTimeout(r, proxy.delayMs));
    if (upstream.ok && stream && ['tamper', 'truncate', 'reorder'].includes(fault)) {
      bytes = faultStream(bytes, fault);
    } else if (upstream.ok && fault === 'tamper') {
      bytes = Buffer.from(flipCt(bytes.toString('utf8'), 0));
    } else if (upstream.ok && fault === 'truncate') bytes = bytes.subarray(0, bytes.length >> 1);
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
    if (upstream.ok && stream && fault === 'split-end') {
      res.write(bytes); // the body, then its terminator (`0\r\n\r\n`) in a later packet
      await new Promise((r) => setTimeout(r, SPLIT_END_MS));
      res.end();
    } else res.end(bytes);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.on('connection', () => proxy.connections++);
  const listening = await listenLoopback(server);
  proxy.url = listening.url;
  proxy.close = listening.close;
  return proxy;
}
