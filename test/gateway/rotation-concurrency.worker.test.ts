/**
 * One rotation at a time (src/gateway/durable-objects/key-rotation.ts `#running`). While `alarm()` runs, `getAlarm()`
 * reads null, so `ensureAlarm` and `recheckSoon` from the request path would schedule another alarm, and
 * workerd may start it while the first still awaits the service. Found under `npm start`: 20+ keys
 * created in 25 ms until the service refused more. Here the first rotation is parked in its key
 * upload while everything that could start a second one arrives; exactly one key must result.
 * And a recheck asked while rotations fail moves the alarm at most once per 15 s (`lastRecheck`).
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { rotationDo, rotationState, rotationStub, scheduleRotation, stackPerFile } from './do-helpers.js';
import { advance, emptyRotationDo, env, gatewayDescribe, type Stack } from './stack.js';

let stack: Stack;
let digest: string;
const stub = () => rotationStub(digest);
const rotation = () => rotationDo(digest);
const doState = () => rotationState(digest);

stackPerFile({}, (s) => {
  stack = s;
  digest = s.dev.manifestDigest;
});

gatewayDescribe('key rotation: one at a time', () => {
  it('ensureAlarm, recheckSoon, publishedKeys and a second alarm during the first rotation start no other', async () => {
    expect((await doState()).keys).toEqual([]);
    stack.serviceFaults['POST /v1/keys'] = 'hold';
    const parked = stack.held();
    await scheduleRotation(digest);
    const first = runDurableObjectAlarm(stub());
    await parked; // the first key is made and on its way to the service
    await rotation().ensureAlarm();
    await rotation().recheckSoon();
    expect(await rotation().publishedKeys()).toBeNull();
    const second = runInDurableObject(stub(), (instance: { alarm(): Promise<void> }) => instance.alarm());
    delete stack.serviceFaults['POST /v1/keys'];
    stack.releaseHeld();
    expect(await first).toBe(true);
    await second;

    const after = await doState();
    expect(after.lastError).toBeNull();
    expect(after.keys).toHaveLength(1);
    expect(after.keys[0]!.confirmed).toBe(true);
    // The service got exactly that one key.
    const held = (await (await fetch('http://attestation-service.test/v1/keys')).json()) as {
      keys: { kid: string }[];
    };
    expect(held.keys.map((k) => k.kid)).toEqual([after.keys[0]!.kid]);
  });

  it('the object of a manifest no longer served retires at its alarm: no key, no upload, no next alarm', async () => {
    const heldBefore = (await (await fetch('http://attestation-service.test/v1/keys')).json()) as {
      keys: unknown[];
    };
    const old = env.KEY_ROTATION.get(env.KEY_ROTATION.idFromName('ab'.repeat(32)));
    await runInDurableObject(
      old as never,
      async (
        _i,
        state: { storage: { put(k: string, v: unknown): Promise<void>; setAlarm(t: number): Promise<void> } },
      ) => {
        await state.storage.put('manifestDigest', 'ab'.repeat(32)); // it served that manifest once
        await state.storage.setAlarm(Date.now() + 3600_000);
      },
    );
    expect(await runDurableObjectAlarm(old as never)).toBe(true);
    const s = await old.state();
    expect([s.keys, s.alarm, s.lastAttestation, s.manifestDigest]).toEqual([[], null, null, 'ab'.repeat(32)]);
    const heldAfter = (await (await fetch('http://attestation-service.test/v1/keys')).json()) as {
      keys: unknown[];
    };
    expect(heldAfter.keys).toHaveLength(heldBefore.keys.length);
  });

  it('recheckSoon pulls a failing rotation forward at most once per 15 s (its backoff holds between)', async () => {
    await emptyRotationDo(digest);
    // Alarms "now" on the test clock are an hour ahead of workerd's: only runDurableObjectAlarm runs them.
    advance(3600);
    stack.serviceDown = true; // every attestation fails: no lastAttestation is ever recorded
    try {
      await rotation().recheckSoon();
      expect((await doState()).alarm).toBeLessThanOrEqual(Date.now());
      // The rotation fails for the 10th time in a row: its next try is RETRY_MAX_SECONDS (300 s) away.
      await runInDurableObject(
        stub(),
        (_i, state: { storage: { put(k: string, v: number): Promise<void> } }) =>
          state.storage.put('failures', 9),
      );
      expect(await runDurableObjectAlarm(stub())).toBe(true);
      const failed = await doState();
      expect([failed.failures, failed.lastAttestation]).toEqual([10, null]);
      expect(failed.alarm).toBeGreaterThan(Date.now() + 250_000);
      // A `/readyz` round or a sealed request asks again within 15 s: the backoff stands.
      await rotation().recheckSoon();
      await rotation().recheckSoon();
      expect((await doState()).alarm).toBe(failed.alarm);
      advance(16);
      await rotation().recheckSoon();
      expect((await doState()).alarm).toBeLessThanOrEqual(Date.now());
    } finally {
      stack.serviceDown = false;
      await emptyRotationDo(digest);
    }
  });
});
