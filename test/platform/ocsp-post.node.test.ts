/**
 * The Node processes' OCSP POST (src/platform/ocsp-post.ts) as the attestation service (via
 * src/dev/gpu-ocsp.ts) and the CLI use it: it reaches the responder, and it never follows a
 * redirect to another address.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cliOcsp } from '../../src/cli/ocsp-fetch.js';
import { nodeGpuOcsp } from '../../src/dev/gpu-ocsp.js';
import { listenLoopback } from '../support/loopback.js';

const REQUEST = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function server(handle: Parameters<typeof createServer>[1]) {
  const s = await listenLoopback(createServer(handle));
  closers.push(s.close);
  return s;
}

describe('OCSP POST of the Node processes', () => {
  const posters = [
    ['attestation service', nodeGpuOcsp().post],
    ['CLI', cliOcsp().post],
  ] as const;

  it.each(posters)('%s: POSTs the OCSPRequest with its content type', async (_, post) => {
    const seen: { method?: string; type?: string; body?: number[] } = {};
    const responder = await server((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        Object.assign(seen, {
          method: req.method,
          type: req.headers['content-type'],
          body: [...Buffer.concat(chunks)],
        });
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end('ok');
      });
    });
    const answer = (await post(responder.url, REQUEST)) as Response;
    expect(answer.status).toBe(200);
    expect(seen).toEqual({ method: 'POST', type: 'application/ocsp-request', body: [...REQUEST] });
  });

  it.each(posters)('%s: refuses a redirect and never reaches its target', async (_, post) => {
    let reached = 0;
    const target = await server((_req, res) => {
      reached += 1;
      res.writeHead(200).end();
    });
    for (const status of [301, 302, 303, 307, 308]) {
      const responder = await server((_req, res) => res.writeHead(status, { location: target.url }).end());
      await expect(post(responder.url, REQUEST), String(status)).rejects.toThrow();
    }
    expect(reached).toBe(0);
  });
});
