/**
 * Orphan keys at the attestation service (docs/protocol.md "Retiring
 * orphan keys"), through the REAL key-rotation Durable Object and the REAL service app.
 *
 * Before: a rotation whose confirmation was lost forgot the key it had uploaded, and the next made
 * another; each left the service an orphan in one of its 16 slots until its notAfter, and the
 * seventeenth upload was refused (429) — rotation stopped. Now the DO stores a key before it
 * uploads it, so a lost confirmation only delays that key's promotion; and the DO retires, by a
 * request signed like an upload, the keys the service's signed list names that it does not hold
 * (what a lost storage or an older gateway left). A forged list never makes it publish or retire.
 */
import { expect, it, vi } from 'vitest';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromBase64Url } from '../../src/bytes.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { readPublishedKeys } from '../../src/gateway/kv/kv-store.js';
import { createKek } from '../../src/keys/kek.js';
import { uploadKek } from '../../src/service-client/keys.js';
import { signKeysHeld } from '../../src/service-client/keys-held.js';
import { rotationState, runRotation, stackPerFile } from './do-helpers.js';
import { advance, emptyRotationDo, env, gatewayDescribe, SERVICE, type Stack } from './stack.js';

interface Held {
  kid: string;
  notBefore: number;
  notAfter: number;
}

let stack: Stack;
let digest: string;
const now = () => Math.floor(Date.now() / 1000);

stackPerFile({}, (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
});

/** What the service holds now (asked past any relay), kids sorted. */
async function heldByService(): Promise<string[]> {
  const relay = stack.serviceRelay;
  stack.serviceRelay = undefined;
  const answer = (await (await fetch(`${SERVICE}/v1/keys`)).json()) as { keys: Held[] };
  stack.serviceRelay = relay;
  return answer.keys.map((k) => k.kid).sort();
}

/** The kids KV publishes for the request path (none: []). */
async function publishedKids(): Promise<string[]> {
  const published = await readPublishedKeys(env.SEALGATE_KV, env.GATEWAY_SECRET!, digest);
  return published.ok ? published.value.keys.map((k) => k.kid).sort() : [];
}

/** A key uploaded by the gateway's own identity but never stored by its DO: an orphan. */
async function uploadOrphan(): Promise<string> {
  const t = now();
  const kek = await createKek({ notBefore: t, notAfter: t + stack.dev.manifest.keyPolicy.lifetimeSeconds });
  await uploadKek({
    baseUrl: SERVICE,
    fetch,
    service: { hpkePublicKey: stack.serviceKeys.hpke.publicKey },
    kek,
    manifestDigest: digest,
    gatewayKey: stack.dev.gatewayKey,
  });
  return kek.kid;
}

const isSignedList = (url: string, init?: RequestInit) =>
  (init?.method ?? 'GET') === 'GET' && new URL(url).pathname === '/v1/keys' && new URL(url).search !== '';
const retireCalls = () => stack.calls.filter((c) => c === `POST ${SERVICE}/v1/keys/retire`);

gatewayDescribe('orphan keys at the attestation service', () => {
  it('a lost upload answer, then 17 lost confirmations in a row, leave one key at the service; the next honest rotation publishes it', async () => {
    let previous = '';
    let lost = 0;
    let uploads = 0;
    stack.serviceRelay = async (url, init, real) => {
      const call = `${init?.method ?? 'GET'} ${new URL(url).pathname}`;
      const first = previous === 'POST /v1/attestation'; // a rotation's first list (what it holds)
      previous = call;
      const answer = await real(url, init);
      if (call === 'POST /v1/keys' && ++uploads === 1) {
        lost++; // the first time, the service takes the upload and its answer is what is lost
        throw new TypeError('connection reset (test: the upload answer is lost)');
      }
      if (!isSignedList(url, init) || first) return answer;
      // The service took the upload and signed its list; the confirmation is lost on the way back.
      lost++;
      throw new TypeError('connection reset (test: the confirmation is lost)');
    };
    for (let i = 0; i < 18; i++) {
      advance(1); // the service's budget for the gateway's signed lists refills (5 a second)
      const state = await runRotation(digest);
      expect(state.lastError?.code).toBe('fetch_failed');
      expect(state.keys.map((k) => k.confirmed)).toEqual([false]);
    }
    expect(lost).toBe(18); // one upload answer, 17 confirmations
    expect(uploads).toBe(1); // the stored key was held from then on: never uploaded again
    const pending = (await rotationState(digest)).keys[0]!.kid;
    expect(await heldByService()).toEqual([pending]);
    expect(await publishedKids()).toEqual([]);

    stack.serviceRelay = undefined;
    const ok = await runRotation(digest);
    expect(ok.lastError).toBeNull();
    expect(ok.keys.map((k) => [k.kid, k.confirmed])).toEqual([[pending, true]]);
    expect(await publishedKids()).toEqual([pending]);
    expect(await heldByService()).toEqual([pending]);

    // Its successor, when due, is made, uploaded and confirmed as usual.
    const policy = stack.dev.manifest.keyPolicy;
    advance(ok.keys[0]!.notBefore + policy.rotationIntervalSeconds - policy.overlapSeconds - now() + 1);
    const next = await runRotation(digest);
    expect(next.lastError).toBeNull();
    expect(next.keys).toHaveLength(2);
    expect(next.keys.every((k) => k.confirmed)).toBe(true);
    expect(await heldByService()).toEqual(next.keys.map((k) => k.kid).sort());
  });

  it('a full service (16 orphans its DO never stored) is emptied of them, and takes the next key', async () => {
    await emptyRotationDo(digest); // the DO's storage lost: every key the service holds is an orphan
    await env.SEALGATE_KV.delete(`keys:${digest}`);
    resetKeyCache();
    while ((await heldByService()).length < 16) await uploadOrphan();
    const orphans = await heldByService();
    stack.calls.length = 0;
    const ok = await runRotation(digest);
    expect(ok.lastError).toBeNull();
    expect(retireCalls()).toHaveLength(1);
    const mine = ok.keys.map((k) => k.kid);
    expect(mine).toHaveLength(1);
    expect(orphans).not.toContain(mine[0]);
    expect(await heldByService()).toEqual(mine);
    expect(await publishedKids()).toEqual(mine);
  });

  it('a forged, altered or replayed list makes the gateway neither publish nor retire; an honest one retires the orphans', async () => {
    const mine = (await rotationState(digest)).keys.map((k) => k.kid);
    const orphans = [await uploadOrphan(), await uploadOrphan()];
    const before = await heldByService();
    expect(before).toEqual([...mine, ...orphans].sort());
    const impostor = await generateServiceKeys();
    let earlier: Record<string, unknown> | undefined;
    type Forge = (honest: { keys: Held[]; sig: string }, nonce: Uint8Array) => Promise<unknown>;
    const forgeries: Record<string, Forge> = {
      'our key hidden, the signature kept': async (h) => ({
        ...h,
        keys: h.keys.filter((k) => !mine.includes(k.kid)),
      }),
      'a made-up key added, the signature kept': async (h) => ({
        ...h,
        keys: [...h.keys, { ...h.keys[0]!, kid: 'A'.repeat(22) }],
      }),
      'signed by another service key': async (h, nonce) => ({
        keys: h.keys,
        sig: await signKeysHeld(impostor.signing.privateKey, digest, nonce, h.keys),
      }),
      'an earlier honest answer replayed': async (h) => earlier ?? h,
      unsigned: async (h) => ({ keys: h.keys }),
    };
    for (const [name, forge] of Object.entries(forgeries)) {
      stack.serviceRelay = async (url, init, real) => {
        const answer = await real(url, init);
        if (!isSignedList(url, init)) return answer;
        const honest = (await answer.json()) as { keys: Held[]; sig: string };
        earlier ??= honest;
        const nonce = fromBase64Url(new URL(url).searchParams.get('nonce')!);
        return Response.json(await forge(honest, nonce));
      };
      stack.calls.length = 0;
      const state = await runRotation(digest);
      expect(state.lastError?.code, name).toBe('fetch_failed');
      expect(retireCalls(), name).toEqual([]);
      expect(
        stack.calls.filter((c) => c === `POST ${SERVICE}/v1/keys`),
        name,
      ).toEqual([]);
      expect(await heldByService(), name).toEqual(before);
      expect(await publishedKids(), name).toEqual(mine);
    }
    stack.serviceRelay = undefined;
    const ok = await runRotation(digest);
    expect(ok.lastError).toBeNull();
    expect(await heldByService()).toEqual(mine);
    expect(await publishedKids()).toEqual(mine);
  });

  it('a retire that fails is logged and does not stop the rotation; the next one retires', async () => {
    const mine = (await rotationState(digest)).keys.map((k) => k.kid);
    const orphan = await uploadOrphan();
    stack.serviceFaults['POST /v1/keys/retire'] = 'down';
    const errors = vi.spyOn(console, 'error');
    try {
      const state = await runRotation(digest);
      expect(state.lastError).toBeNull();
      const failed = errors.mock.calls
        .map((c) => String(c[0]))
        .filter((l) => l.includes('rotation_retire_failed'));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toContain(orphan);
    } finally {
      errors.mockRestore();
      delete stack.serviceFaults['POST /v1/keys/retire'];
    }
    expect(await heldByService()).toEqual([...mine, orphan].sort());
    expect(await publishedKids()).toEqual(mine);
    advance(1);
    expect((await runRotation(digest)).lastError).toBeNull();
    expect(await heldByService()).toEqual(mine);
  });
});
