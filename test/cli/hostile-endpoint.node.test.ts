/**
 * `sealgate verify-endpoint` and `verify-receipt ID --url` against a hostile HTTP server written
 * here (node:http): an answer that never ends, one that is just past the cap, one whose
 * content-length announces a flood. Each is refused with exit 1 and a reason that names the size,
 * within the request's timeout and without reading the flood (the CLI used to read answers with
 * an unbounded `res.text()`, and died out of memory on the endless one).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/cli/answer-text.js';
import { runCli } from '../../src/cli/main.js';

type Mode = 'endless' | 'just-over' | 'announced' | 'just-under';
let mode: Mode = 'endless';
/** Bytes the server managed to write for the last request: how much of a flood the CLI took. */
let written = 0;
let server: Server;
let url: string;

/** A JSON text `{"a":"…"}` of exactly `size` bytes. */
function jsonOf(size: number): Buffer {
  return Buffer.from(`{"a":"${'a'.repeat(size - 8)}"}`);
}

/** Endless: 64 KiB chunks until the client goes away (capped at 256 MiB so a regression ends). */
function flood(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"a":"');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const pump = () => {
    while (written < 256 * 1024 * 1024) {
      written += chunk.length;
      if (!res.write(chunk)) return;
    }
    res.end('"}');
  };
  res.on('drain', pump);
  res.on('error', () => undefined);
  pump();
}

beforeAll(async () => {
  server = createServer((_req, res) => {
    written = 0;
    if (mode === 'endless') return flood(res);
    if (mode === 'announced') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1 << 30) });
      res.write('{');
      return;
    }
    const body = jsonOf(mode === 'just-over' ? MAX_ANSWER_BYTES + 1 : MAX_ANSWER_BYTES);
    written = body.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const over = `answered more than ${MAX_ANSWER_BYTES} bytes`;

describe('verify-endpoint against a hostile endpoint', () => {
  it.each(['endless', 'just-over', 'announced'] as const)('%s answer: exit 1, refused by size', async (m) => {
    mode = m;
    const out = await runCli(['verify-endpoint', url, '--allow-simulated']);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain(`could not complete: fetch_failed: ${url}/v1/attestation?nonce=`);
    expect(out.stdout).toContain(over);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('an answer of exactly the cap is read (and refused for what it says, not its size)', async () => {
    mode = 'just-under';
    const out = await runCli(['verify-endpoint', url, '--allow-simulated']);
    expect(out.exitCode).toBe(1);
    expect(out.stdout).not.toContain(over);
    // `{"a": …}` names no manifest: said so (it was "invalid_manifest: … unexpected end of text").
    expect(out.stdout).toContain('✘ the endpoint names no manifest');
  });
});

describe('verify-receipt ID --url against a hostile gateway', () => {
  it.each(['endless', 'just-over', 'announced'] as const)('%s answer: exit 1, refused by size', async (m) => {
    mode = m;
    const out = await runCli(['verify-receipt', 'gw-0123', '--url', url]);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `cannot fetch ${url}/v1/receipts/gw-0123: ${url}/v1/receipts/gw-0123 ${over}`,
    );
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});
