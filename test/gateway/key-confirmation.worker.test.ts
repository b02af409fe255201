/**
 * The key-rotation Durable Object publishes only keys the attested service confirmed. A man in
 * the middle on the gateway ↔ service hop drops each key upload, answers it with the kid and
 * window the gateway expects, and adds the key to the service's list: confirmed from that plain
 * list, a key no service held would be published and every request sealed under a key no worker
 * could get. The list must be signed by the attested service for the rotation's nonce (src/service-client/keys-held.ts): nothing is published, the rotation
 * fails closed (`fetch_failed`), and once the hop is honest the next rotation publishes a key the
 * service holds.
 */

import { runDurableObjectAlarm } from 'cloudflare:test';
import { expect, it } from 'vitest';
import {
  rotationDo,
  rotationState,
  rotationStub,
  runRotation,
  scheduleRotation,
  stackPerFile,
} from './do-helpers.js';
import { gatewayDescribe, type Stack } from './stack.js';

let stack: Stack;
let digest: string;

stackPerFile({}, (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
});

interface Held {
  kid: string;
  notBefore: number;
  notAfter: number;
}

async function heldByService(real: typeof fetch): Promise<Held[]> {
  return ((await (await real('http://attestation-service.test/v1/keys')).json()) as { keys: Held[] }).keys;
}

gatewayDescribe('key rotation: only keys the attested service confirmed', () => {
  it('a relay that answers uploads and lists the keys itself gets nothing published', async () => {
    const lifetime = stack.dev.manifest.keyPolicy.lifetimeSeconds;
    const answered: Held[] = [];
    let real: typeof fetch | undefined;
    stack.serviceRelay = async (url, init, service) => {
      real = service;
      const path = new URL(url).pathname;
      if (init?.method === 'POST' && path === '/v1/keys') {
        // The first key's window starts now (key-rotation.ts): the relay needs no secret to guess it.
        const { kid } = JSON.parse(String(init.body)) as { kid: string };
        const now = Math.floor(Date.now() / 1000);
        answered.push({ kid, notBefore: now, notAfter: now + lifetime });
        return Response.json(answered.at(-1));
      }
      if ((init?.method ?? 'GET') === 'GET' && path === '/v1/keys') {
        const honest = (await (await service(url, init)).json()) as Record<string, unknown>;
        return Response.json({ ...honest, keys: [...(honest.keys as Held[]), ...answered] });
      }
      return await service(url, init);
    };
    // A few rotations (a guess made across a second boundary fails on its own, and is retried).
    for (let i = 0; i < 4; i++) {
      await scheduleRotation(digest);
      await runDurableObjectAlarm(rotationStub(digest));
    }
    stack.serviceRelay = undefined;
    expect(answered.length).toBeGreaterThan(0);
    expect(await heldByService(real!)).toEqual([]);
    expect(await rotationDo(digest).publishedKeys()).toBeNull();
    const state = await rotationState(digest);
    expect(state.keys.filter((k) => k.confirmed)).toEqual([]);
    expect(state.lastError?.code).toBe('fetch_failed');

    // The hop is honest again: the next rotation publishes a key the service holds.
    const after = await runRotation(digest);
    expect(after.lastError).toBeNull();
    const published = (await rotationDo(digest).publishedKeys())!.keys.map((k) => k.kid);
    expect(published).toHaveLength(1);
    expect((await heldByService(real!)).map((k) => k.kid)).toEqual(published);
  });
});
