/**
 * The attestation service's port (src/dev/serve.ts, Node's llhttp, the Hono app)
 * sent the framings the worker refuses (test/review/http-shapes.node.test.ts), and an absolute-form
 * target. Held: each malformed framing is a 4xx from Node before any route; the well-framed
 * control is served; an absolute-form or percent-encoded target is the same route with the same
 * middleware (the service has no second path that could skip a check, unlike the worker's listener).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/attestation-service/server.js';
import { createDevelopmentEnvironment } from '../../src/dev/environment.js';
import { rawConnection, statusCodes } from '../support/raw-http.js';
import { malformedFramings, postHead } from './support.js';

const CHALLENGE = '/v1/workers/challenge';
let service: RunningService;

beforeAll(async () => {
  const env = await createDevelopmentEnvironment({ now: new Date() });
  service = await startService({
    manifestBytes: env.manifestBytes,
    platform: env.servicePlatform,
    port: 0,
    log: () => undefined,
  });
}, 240_000);
afterAll(async () => {
  await service?.close();
});

const send = (bytes: string) =>
  rawConnection(Number(new URL(service.url).port), bytes, { idleMs: 3_000 }).received;

describe('the service: malformed framings (held)', () => {
  it('the control: a well-framed challenge request is served', async () => {
    const answer = await send(
      `${postHead(CHALLENGE, ['content-type: application/json', 'content-length: 2'])}{}`,
    );
    expect(statusCodes(answer)).toEqual([200]);
    expect(answer).toContain('"nonce"');
  });

  it.each(malformedFramings(CHALLENGE))('%s: a 4xx from Node, no challenge issued', async (_label, shape) => {
    const answer = await send(shape('{}'));
    const codes = statusCodes(answer);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toBeGreaterThanOrEqual(400);
    expect(codes[0]).toBeLessThan(500);
    expect(answer).not.toContain('"nonce"');
  });

  it('absolute-form and percent-encoded targets reach the same route', async () => {
    for (const target of [`http://elsewhere.invalid${CHALLENGE}`, '/v1/workers/challeng%65']) {
      const answer = await send(
        `${postHead(target, ['content-type: application/json', 'content-length: 2'])}{}`,
      );
      expect(statusCodes(answer), target).toEqual([200]);
    }
  });
});
