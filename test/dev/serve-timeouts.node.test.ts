/**
 * The attestation service and the AI worker listen where anyone on the confidential
 * cloud's network can connect (src/dev/serve.ts serves both). A peer that never finishes its request
 * head, or trickles its body, is answered 408 and cut — with the defaults both services use, within
 * seconds (Node's own held such a connection for up to 90 s, or 330 s for a body).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Listening, listen } from '../../src/dev/serve.js';
import { rawConnection, requestHead, statusCodes } from '../support/raw-http.js';

const servers: Listening[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function serve(timeouts?: { headersMs: number; requestMs: number; checkEveryMs: number }) {
  const s = await listen(async (req) => new Response(await req.text()), {
    port: 0,
    host: '127.0.0.1',
    ...(timeouts ? { timeouts } : {}),
  });
  servers.push(s);
  return s;
}

describe('slow peers are cut', () => {
  it('with the services’ defaults, a head that never ends: 408 and closed', async () => {
    const s = await serve();
    const slow = rawConnection(s.port, 'POST /v1/workers/challenge HTTP/1.1\r\nhost: x\r\n');
    expect(statusCodes(await slow.received)).toEqual([408]);
  }, 30_000);

  it('a body that trickles past the request deadline: 408 and closed; a prompt request is answered', async () => {
    const s = await serve({ headersMs: 300, requestMs: 800, checkEveryMs: 100 });
    const slow = rawConnection(s.port, `${requestHead('POST', '/x', ['content-length: 100'])}{"a":`);
    const drip = setInterval(() => slow.socket.write(' '), 100);
    const answer = await slow.received;
    clearInterval(drip);
    expect(statusCodes(answer)).toEqual([408]);
    const ok = await rawConnection(
      s.port,
      `${requestHead('POST', '/x', ['content-length: 2', 'connection: close'])}{}`,
    ).received;
    expect(statusCodes(ok)).toEqual([200]);
  });
});
