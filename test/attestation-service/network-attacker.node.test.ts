/**
 * The attestation service as a network attacker in the confidential cloud reaches
 * it — over real sockets (the service's app on node:http, REAL simulator), from several loopback
 * addresses standing for several callers.
 *
 *   - registrations in flight are bounded, per caller and in all, before a body is read, and a body
 *     must arrive within a deadline (found: slow uploads of up to 2 MiB each were held without
 *     bound); an honest worker registers once the slow ones are cut;
 *   - a body that breaks off is the client's `400 invalid_request`, not our `500` (found);
 *   - request smuggling shapes and pipelining meet Node's parser (held).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url } from '../../src/bytes.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import { type Listening, listen } from '../../src/dev/serve.js';
import { rawConnection, requestHead, statusCodes } from '../support/raw-http.js';
import {
  ENV_TIMEOUT_MS,
  errorCode,
  makeService,
  makeWorkerIdentity,
  T0,
  type TestService,
  workerBundle,
} from './support.js';

const LIMITS = { total: 3, perCaller: 2, bodyDeadlineMs: 3_000 };
let env: DevelopmentEnvironment;
let svc: TestService;
let server: Listening;

beforeAll(async () => {
  env = await createDevelopmentEnvironment({ now: T0 });
  svc = await makeService(env, { registrationLimits: LIMITS });
  server = await listen(svc.app.fetch, { port: 0, host: '127.0.0.1' });
}, ENV_TIMEOUT_MS);
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A registration whose body starts and then trickles no further. */
function slowRegistration(from: string) {
  const head = requestHead('POST', '/v1/workers/register', ['content-length: 100000']);
  return rawConnection(server.port, `${head}{"bundle":`, { localAddress: from });
}

/** A whole (junk) registration from `from`: its status. */
async function junkRegistration(from: string): Promise<number> {
  const body = '{"bundle":{}}';
  const head = requestHead('POST', '/v1/workers/register', [
    `content-length: ${body.length}`,
    'connection: close',
  ]);
  const [status] = statusCodes(
    await rawConnection(server.port, head + body, { localAddress: from }).received,
  );
  return status ?? 0;
}

/** Polls until `from` is refused with 429 (the slow ones before it have been admitted). */
async function until429(from: string): Promise<void> {
  const seen: number[] = [];
  for (let i = 0; i < 40; i++) {
    const status = await junkRegistration(from);
    if (status === 429) return;
    seen.push(status);
    await sleep(50);
  }
  throw new Error(`never refused: ${seen.join(' ')}`);
}

describe('registrations in flight are bounded', () => {
  it('per caller and in all, refused before the body; slow bodies cut at the deadline; then a worker registers', async () => {
    const a = [slowRegistration('127.0.0.1'), slowRegistration('127.0.0.1')];
    // The caller's third registration is refused while its two slow ones hold their slots...
    await until429('127.0.0.1');
    // ...while another caller still gets in (400: the junk bundle is read and refused)...
    expect(await junkRegistration('127.0.0.2')).toBe(400);
    const b = slowRegistration('127.0.0.2');
    // ...until all three slots are held: then any caller is refused.
    await until429('127.0.0.3');
    const refusals = svc.logs.filter((l) => l.event === 'registration_busy');
    expect(refusals.length).toBeGreaterThanOrEqual(2);

    // The deadline cuts each slow body: 400 invalid_request, never a 500.
    for (const slow of [...a, b]) {
      const answer = await slow.received;
      expect(statusCodes(answer)).toEqual([400]);
      expect(answer).toContain('"code":"invalid_request"');
      expect(answer).toContain('did not arrive within');
    }
    // The slots are free again: an honest worker registers from the caller that was refused.
    const challenge = (await (
      await fetch(`${server.url}/v1/workers/challenge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { nonce: string };
    const bundle = await workerBundle(env, await makeWorkerIdentity(), fromBase64Url(challenge.nonce));
    const res = await fetch(`${server.url}/v1/workers/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bundle }),
    });
    expect(res.status).toBe(200);
    expect(svc.logs.filter((l) => l.event === 'request_failed')).toEqual([]);
  }, 30_000);
});

describe('a body that breaks off', () => {
  it('is 400 invalid_request, not 500 internal_error, and nothing is logged as our fault', async () => {
    const s = await makeService(env);
    for (const path of ['/v1/workers/register', '/v1/keys', '/v1/attestation']) {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode('{"bundle":'));
          controller.error(new Error('connection reset by the client'));
        },
      });
      const res = await s.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect({ path, status: res.status, code: await errorCode(res) }).toEqual({
        path,
        status: 400,
        code: 'invalid_request',
      });
    }
    expect(s.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('smuggling shapes and pipelining (held: Node refuses them before any route)', () => {
  const challengeHead = (lines: string[]) => requestHead('POST', '/v1/workers/challenge', lines);

  it('content-length with transfer-encoding, and two different content-lengths: one 400, connection closed', async () => {
    const shapes = [
      // A front end reading the length sees `{}` and a second request; the service must not.
      `${challengeHead(['content-length: 2', 'transfer-encoding: chunked'])}0\r\n\r\nGET /v1/keys HTTP/1.1\r\nhost: x\r\n\r\n`,
      `${challengeHead(['content-length: 2', 'content-length: 40'])}{}GET /v1/keys HTTP/1.1\r\nhost: x\r\n\r\n`,
      `${challengeHead(['transfer-encoding: chunked, identity'])}2\r\n{}\r\n0\r\n\r\n`,
    ];
    for (const shape of shapes) {
      const answer = await rawConnection(server.port, shape, { idleMs: 5_000 }).received;
      expect(statusCodes(answer)).toEqual([400]);
      expect(answer).not.toContain('"nonce"');
    }
  });

  it('a body in a transfer or content coding is 415 (found: read as if the label were not there)', async () => {
    const shapes = [
      `${challengeHead(['transfer-encoding: gzip, chunked', 'connection: close'])}2\r\n{}\r\n0\r\n\r\n`,
      `${challengeHead(['content-encoding: gzip', 'content-length: 2', 'connection: close'])}{}`,
      `${challengeHead(['content-encoding: br', 'content-length: 2', 'connection: close'])}{}`,
    ];
    for (const shape of shapes) {
      const answer = await rawConnection(server.port, shape, { idleMs: 5_000 }).received;
      expect(statusCodes(answer)).toEqual([415]);
      expect(answer).toContain('"code":"unsupported_media_type"');
    }
    // Chunked alone, and an explicit identity coding, are read as ever.
    for (const lines of [
      ['transfer-encoding: chunked'],
      ['content-encoding: identity', 'content-length: 2'],
    ]) {
      const body = lines[0] === 'transfer-encoding: chunked' ? '2\r\n{}\r\n0\r\n\r\n' : '{}';
      const answer = await rawConnection(server.port, challengeHead([...lines, 'connection: close']) + body)
        .received;
      expect(statusCodes(answer)).toEqual([200]);
    }
  });

  it('two pipelined challenges are answered in order, each once; Expect: 100-continue is honoured', async () => {
    const one = `${challengeHead(['content-length: 2'])}{}`;
    const last = `${challengeHead(['content-length: 2', 'connection: close'])}{}`;
    const answer = await rawConnection(server.port, one + last).received;
    expect(statusCodes(answer)).toEqual([200, 200]);
    expect(answer.match(/"nonce"/g)).toHaveLength(2);

    const expecting = rawConnection(
      server.port,
      challengeHead(['content-length: 2', 'expect: 100-continue', 'connection: close']),
    );
    await new Promise<void>((resolve) => expecting.socket.once('data', () => resolve()));
    expecting.socket.write('{}');
    expect(statusCodes(await expecting.received)).toEqual([100, 200]);
  });
});
