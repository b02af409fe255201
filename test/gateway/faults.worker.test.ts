/**
 * Faults inside workerd (issue #6 part 2, the fast half): the gateway Worker with its real KV and
 * key-rotation Durable Object, the REAL attestation service and AI worker apps behind the stubbed
 * network of `stack.ts`. For each fault: nothing of the prompt or the answer leaves in the clear,
 * the client gets a typed error, and service resumes once the fault clears.
 *
 *   - the attestation service down at start, and failing during a rotation (key upload refused);
 *   - the key-rotation DO restarted (instances aborted) in the middle of a rotation;
 *   - KV entries altered, swapped between names, written without GATEWAY_SECRET, or stale;
 *   - a worker answering with reordered stream frames, or with an earlier request's answer;
 *   - clock skew between gateway and worker, beyond and within the request window.
 *
 * The slow faults on the real stack (wrangler dev, a byte-level fault proxy) are in test/faults/.
 */
import { abortAllDurableObjects, runDurableObjectAlarm } from 'cloudflare:test';
import { expect, it, vi } from 'vitest';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { openKvEntry, sealKvEntry } from '../../src/gateway/kv/kv-auth.js';
import {
  type AttestationPointer,
  type PublishedKeys,
  readAttestation,
  readPublishedKeys,
} from '../../src/gateway/kv/kv-store.js';
import {
  callGateway as call,
  rotationState,
  rotationStub,
  runRotation,
  scheduleRotation,
  stackPerFile,
} from './do-helpers.js';
import {
  advance,
  env,
  gatewayDescribe,
  KEY,
  type Stack,
  sseData,
  WORKER_A,
  WORKER_B,
  workerPosts,
} from './stack.js';

const SECRET_WORDS = 'the fault-injection secret prompt';
const PROMPT = [{ role: 'user', content: SECRET_WORDS }];
/** What the built-in model answers to PROMPT (deterministic: it quotes the message). */
const ANSWER = `You said: "${SECRET_WORDS}"`;
let stack: Stack;
let digest: string;
let secret: string;

const stub = () => rotationStub(digest);
const doState = () => rotationState(digest);
const rotate = () => runRotation(digest);
const now = () => Math.floor(Date.now() / 1000);
const chat = (stream = false) =>
  call('/v1/chat/completions', {
    method: 'POST',
    headers: KEY,
    body: JSON.stringify({ model: 'sealgate-builtin', messages: PROMPT, ...(stream ? { stream } : {}) }),
  });

/** A typed OpenAI error with nothing of the prompt or the answer in it. */
async function expectTypedError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const text = await res.text();
  expect(text).not.toContain(SECRET_WORDS);
  const body = JSON.parse(text) as { error: { code: string; type: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

/** A complete, correct answer (the fault has cleared). */
async function expectServed(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  expect(body.choices[0]!.message.content.startsWith(ANSWER)).toBe(true);
  return res.headers.get('x-sealgate-key-id')!;
}

/** The prompt never crossed the gateway → worker wire in the clear. */
function expectNoPlaintextOnWire(): void {
  expect(stack.wire.length).toBeGreaterThan(0);
  for (const body of stack.wire) expect(body).not.toContain(SECRET_WORDS);
}

/** Console lines (the gateway logs JSON) with this event. */
function logged(spy: { mock: { calls: unknown[][] } }, event: string): Record<string, unknown>[] {
  return spy.mock.calls
    .map((c) => String(c[0]))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === event);
}

/**
 * Awaits `settled` while waking this test's I/O context every 10 ms. A promise the Durable Object
 * resolves (a `hold` fault parks the DO's upload and resolves `stack.held()` from the DO's I/O
 * context) is seen here only once this context runs again: with the successor stored before its
 * upload, nothing else wakes it and a plain `await` hangs.
 */
async function wakeUntil(settled: Promise<void>): Promise<void> {
  let done = false;
  void settled.then(() => {
    done = true;
  });
  while (!done) await new Promise((resolve) => setTimeout(resolve, 10));
}

const kvText = async (name: string) => (await env.SEALGATE_KV.get(name, 'text'))!;

stackPerFile({}, async (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
  secret = env.GATEWAY_SECRET!;
  await env.SEALGATE_KV.delete(`att:${digest}:current`);
});

gatewayDescribe('the attestation service faults', () => {
  it('down at start: typed 503 and nothing sent to a worker; serves once it is back', async () => {
    stack.serviceDown = true;
    stack.calls.length = 0;
    const failed = await rotate();
    expect(failed.lastError?.code).toBe('fetch_failed');
    expect(failed.keys).toEqual([]);
    await expectTypedError(await chat(), 503, 'no_attested_service');
    expect(workerPosts(stack)).toEqual([]);

    stack.serviceDown = false;
    const ok = await rotate();
    expect(ok.lastError).toBeNull();
    expect(ok.keys.every((k) => k.confirmed)).toBe(true);
    await stack.session.keys.refresh();
    resetKeyCache();
    expect(await expectServed(await chat())).toBe(ok.keys[0]!.kid);
    expectNoPlaintextOnWire();
  });

  it('refusing the key upload during a rotation: the new key is not published, the current one keeps serving', async () => {
    const policy = stack.dev.manifest.keyPolicy;
    const before = await doState();
    const current = before.keys[0]!;
    advance(current.notBefore + policy.rotationIntervalSeconds - policy.overlapSeconds - now() + 1);
    stack.serviceFaults['POST /v1/keys'] = 'down';
    const failed = await rotate();
    expect(failed.lastError?.code).toBe('fetch_failed');
    // The successor was stored (unconfirmed) before its upload left: the next alarm uploads that
    // key rather than making another, so a refused or lost upload leaves no orphan at the service.
    expect(failed.keys.map((k) => [k.kid, k.confirmed])).toEqual([
      [current.kid, true],
      [expect.any(String), false],
    ]);
    const pending = failed.keys[1]!;
    const published = await readPublishedKeys(env.SEALGATE_KV, secret, digest);
    expect(published.ok && published.value.keys.map((k) => k.kid)).toEqual([current.kid]);
    resetKeyCache();
    expect(await expectServed(await chat())).toBe(current.kid);

    delete stack.serviceFaults['POST /v1/keys'];
    const ok = await rotate();
    expect(ok.lastError).toBeNull();
    expect(ok.keys).toHaveLength(2);
    expect(ok.keys.every((k) => k.confirmed)).toBe(true);
    const next = ok.keys.find((k) => k.kid !== current.kid)!;
    expect(next.kid).toBe(pending.kid);
    expect(next.notBefore).toBe(current.notBefore + policy.rotationIntervalSeconds);
    // Once the successor's window opens, it seals.
    advance(next.notBefore - now());
    await stack.session.keys.refresh();
    resetKeyCache();
    expect(await expectServed(await chat())).toBe(next.kid);
  });
});

gatewayDescribe('KV entries are authenticated (HMAC bound to the key name)', () => {
  it('every entry the gateway trusts carries a MAC that verifies under its own name only', async () => {
    const name = `keys:${digest}`;
    const published = await openKvEntry<PublishedKeys>(secret, name, await kvText(name));
    expect(published.manifestDigest).toBe(digest);
    await expect(openKvEntry(secret, `keys:${'0'.repeat(64)}`, await kvText(name))).rejects.toMatchObject({
      code: 'decryption_failed',
    });
    await expect(
      openKvEntry('another-gateway-secret-0123456789abcdef', name, await kvText(name)),
    ).rejects.toMatchObject({
      code: 'decryption_failed',
    });
    const att = await readAttestation(env.SEALGATE_KV, secret, digest, now());
    expect(att.ok).toBe(true);
  });

  it('an altered keys: entry is refused (typed, logged), the DO copy serves, and the DO publishes again', async () => {
    const name = `keys:${digest}`;
    const good = await kvText(name);
    const entry = JSON.parse(good) as { data: string };
    const data = JSON.parse(entry.data) as PublishedKeys;
    // Drop all but the oldest key, keep the MAC: what a KV writer without the secret can do.
    data.keys = data.keys.slice(0, 1);
    data.updatedAt += 1;
    await env.SEALGATE_KV.put(name, JSON.stringify({ ...entry, data: JSON.stringify(data) }));
    expect(await readPublishedKeys(env.SEALGATE_KV, secret, digest)).toEqual({
      ok: false,
      reason: 'rejected',
    });

    advance(16); // past the DO's recheck rate limit
    const errors = vi.spyOn(console, 'error');
    resetKeyCache();
    stack.calls.length = 0;
    const state = await doState();
    const kid = await expectServed(await chat());
    expect(state.keys.map((k) => k.kid)).toContain(kid);
    const rejected = logged(errors, 'kv_entry_rejected');
    expect(rejected.map((l) => l.name)).toContain(name);
    errors.mockRestore();
    // The bad entry made the isolate ask the DO for a recheck: an alarm is due now.
    expect((await doState()).alarm).toBeLessThanOrEqual(Date.now());

    await rotate();
    const again = await readPublishedKeys(env.SEALGATE_KV, secret, digest);
    expect(again.ok).toBe(true);
    expect(await kvText(name)).not.toBe(JSON.stringify({ ...entry, data: JSON.stringify(data) }));
  });

  it('an entry without a MAC (the old format) or MAC-ed under another secret is refused', async () => {
    const name = `keys:${digest}`;
    const published = await openKvEntry<PublishedKeys>(secret, name, await kvText(name));
    for (const text of [
      JSON.stringify(published),
      await sealKvEntry('another-gateway-secret-0123456789abcdef', name, published),
    ]) {
      await env.SEALGATE_KV.put(name, text);
      expect(await readPublishedKeys(env.SEALGATE_KV, secret, digest)).toEqual({
        ok: false,
        reason: 'rejected',
      });
      resetKeyCache();
      await expectServed(await chat());
    }
    await env.SEALGATE_KV.put(name, await sealKvEntry(secret, name, published));
  });

  it('an authentic entry moved under another name is refused (att: record as the pointer, another manifest)', async () => {
    const pointerName = `att:${digest}:current`;
    const pointerText = await kvText(pointerName);
    const pointer = await openKvEntry<AttestationPointer>(secret, pointerName, pointerText);
    const recordName = `att:${digest}:${pointer.nonce}`;
    const recordText = await kvText(recordName);
    // The record copied over the pointer: both authentic, under the wrong name.
    await env.SEALGATE_KV.put(pointerName, recordText);
    expect(await readAttestation(env.SEALGATE_KV, secret, digest, now())).toEqual({
      ok: false,
      reason: 'rejected',
    });
    await env.SEALGATE_KV.put(pointerName, pointerText);
    // Another manifest's keys entry (authentic under ITS name) put under ours.
    const other = 'f'.repeat(64);
    const keysName = `keys:${digest}`;
    const ours = await kvText(keysName);
    const theirs = await sealKvEntry(secret, `keys:${other}`, {
      ...(await openKvEntry<PublishedKeys>(secret, keysName, ours)),
      manifestDigest: other,
    });
    await env.SEALGATE_KV.put(keysName, theirs);
    expect(await readPublishedKeys(env.SEALGATE_KV, secret, digest)).toEqual({
      ok: false,
      reason: 'rejected',
    });
    // Even MAC-ed under our name, a body naming another manifest is refused.
    await env.SEALGATE_KV.put(
      keysName,
      await sealKvEntry(secret, keysName, {
        ...(await openKvEntry<PublishedKeys>(secret, keysName, ours)),
        manifestDigest: other,
      }),
    );
    expect(await readPublishedKeys(env.SEALGATE_KV, secret, digest)).toEqual({
      ok: false,
      reason: 'rejected',
    });
    resetKeyCache();
    await expectServed(await chat());
    await env.SEALGATE_KV.put(keysName, ours);
  });

  it('a stale attestation entry (past its expiresAt, e.g. written back later) is refused', async () => {
    const att = await readAttestation(env.SEALGATE_KV, secret, digest, now());
    expect(att.ok).toBe(true);
    const expiresAt = att.ok ? att.value.expiresAt : 0;
    expect(await readAttestation(env.SEALGATE_KV, secret, digest, expiresAt)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect((await readAttestation(env.SEALGATE_KV, secret, digest, expiresAt - 1)).ok).toBe(true);
  });
});

gatewayDescribe('a worker that answers wrongly', () => {
  it('reordered stream frames: the stream ends with a typed error event, never [DONE]', async () => {
    stack.modes[WORKER_A] = 'reorder-stream';
    stack.modes[WORKER_B] = 'reorder-stream';
    const res = await chat(true);
    expect(res.status).toBe(200);
    const data = await sseData(res);
    expect(data).not.toContain('[DONE]');
    // Frame 0 verified (its events, a burst, go out); frame 2 arriving at position 1 does not.
    expect(data.length).toBeGreaterThanOrEqual(2);
    for (const d of data.slice(0, -1)) {
      expect((JSON.parse(d) as { object: string }).object).toBe('chat.completion.chunk');
    }
    expect(['upstream_tampered', 'stream_truncated']).toContain(
      (JSON.parse(data.at(-1)!) as { error: { code: string } }).error.code,
    );
    expect(data.join('')).not.toContain(SECRET_WORDS);
  });

  it("an earlier request's authentic answer (another DEK and request id) is a 502 upstream_tampered", async () => {
    stack.modes[WORKER_A] = 'replay-answer';
    stack.modes[WORKER_B] = 'replay-answer';
    await expectServed(await chat()); // the first answer is its own (nothing earlier to replay)
    await expectTypedError(await chat(), 502, 'upstream_tampered');
    stack.modes[WORKER_A] = 'ok';
    stack.modes[WORKER_B] = 'ok';
    await expectServed(await chat());
    expectNoPlaintextOnWire();
  });
});

gatewayDescribe('clock skew between gateway and worker', () => {
  it('beyond the request window either way: a typed replay_detected; within it: served', async () => {
    const worker = stack.session; // the worker's keys were fetched on its own (unskewed) schedule
    await worker.keys.refresh();
    resetKeyCache();
    // Worker ahead by more than maxAgeSeconds (300): the request looks too old.
    stack.workerSkewMs = 400_000;
    await expectTypedError(await chat(), 409, 'replay_detected');
    // Worker behind by more than maxFutureSkewSeconds (60): the request looks from the future.
    stack.workerSkewMs = -120_000;
    await expectTypedError(await chat(), 409, 'replay_detected');
    // Small skew, both ways: served.
    for (const skew of [30_000, -30_000]) {
      stack.workerSkewMs = skew;
      await expectServed(await chat());
    }
    stack.workerSkewMs = 0;
    await expectServed(await chat());
    expectNoPlaintextOnWire();
  });
});

// Last: aborting the DO leaves the harness's in-isolate service bound to a dead I/O context.
gatewayDescribe('the key-rotation Durable Object restarted mid-rotation', () => {
  it('aborted while its upload is in flight: nothing half-done is published; the next alarm completes', async () => {
    const policy = stack.dev.manifest.keyPolicy;
    const before = await doState();
    const newest = before.keys.reduce((a, k) => (k.notBefore > a.notBefore ? k : a));
    advance(newest.notBefore + policy.rotationIntervalSeconds - policy.overlapSeconds - now() + 1);
    const publishedBefore = await readPublishedKeys(env.SEALGATE_KV, secret, digest);
    expect(publishedBefore.ok).toBe(true);

    stack.serviceFaults['POST /v1/keys'] = 'hold';
    const parked = stack.held();
    await scheduleRotation(digest);
    // The aborted instance's alarm call never settles (its instance is gone): not awaited.
    void runDurableObjectAlarm(stub()).catch(() => undefined);
    await wakeUntil(parked); // the DO created a successor and is uploading it
    await abortAllDurableObjects(); // the restart: instances gone, storage kept
    // The aborted instance's upload stays parked for good: its code never resumes, as in a restart.
    delete stack.serviceFaults['POST /v1/keys'];
    // In this test harness the service app ran inside the aborted DO's I/O context (workerd forbids
    // touching its I/O objects from another DO), so it restarts too: a new service without KEKs.
    await stack.restartService();

    // Storage holds what it held before the rotation began plus the successor, stored unconfirmed
    // before its upload left; KV still publishes only keys the service confirmed.
    const after = await doState();
    const beforeKids = new Set(before.keys.map((k) => k.kid));
    expect(after.keys.filter((k) => beforeKids.has(k.kid))).toEqual(before.keys);
    const pending = after.keys.filter((k) => !beforeKids.has(k.kid));
    expect(pending.map((k) => k.confirmed)).toEqual([false]);
    const published = await readPublishedKeys(env.SEALGATE_KV, secret, digest);
    expect(published.ok && published.value.keys.map((k) => k.kid).sort()).toEqual(
      publishedBefore.ok && publishedBefore.value.keys.map((k) => k.kid).sort(),
    );
    // The worker still holds the keys it fetched: the current key keeps serving meanwhile.
    resetKeyCache();
    await expectServed(await chat());

    // The next alarm (a new instance) re-uploads the live keys and finishes the rotation.
    const done = await rotate();
    expect(done.lastError).toBeNull();
    expect(done.keys.every((k) => k.confirmed)).toBe(true);
    const successor = done.keys.find(
      (k) => k.notBefore === newest.notBefore + policy.rotationIntervalSeconds,
    );
    expect(successor?.kid).toBe(pending[0]!.kid);
    // The restarted service holds every live key again, the successor included.
    const held = (await (await fetch('http://attestation-service.test/v1/keys')).json()) as {
      keys: { kid: string }[];
    };
    expect(held.keys.map((k) => k.kid).sort()).toEqual(done.keys.map((k) => k.kid).sort());
    const republished = await readPublishedKeys(env.SEALGATE_KV, secret, digest);
    expect(republished.ok && republished.value.keys.map((k) => k.kid).sort()).toEqual(
      done.keys.map((k) => k.kid).sort(),
    );
    resetKeyCache();
    await expectServed(await chat());
    // (The switch to a successor once its window opens is shown above, after the refused upload;
    // the harness's worker session cannot be refreshed here: it is bound to the aborted context.)
  });
});
