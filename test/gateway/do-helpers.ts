/**
 * The key-rotation Durable Object and the gateway Worker as the gateway tests drive them: the DO
 * of a manifest, its `state()`, a rotation run when the test (not the wall clock) says so, one
 * request through the Worker with its `waitUntil` work awaited, and a stack that starts with none.
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { expect } from 'vitest';
import type { DurableObjectStub } from '../../src/gateway/cf-types.js';
import type { GatewayEnv } from '../../src/gateway/config.js';
import type { KeyRotation, RotationState } from '../../src/gateway/durable-objects/key-rotation.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import worker from '../../src/gateway/worker.js';
import { emptyRotationDo, env, installClock, type Stack, startStack } from './stack.js';

/**
 * The stack started on the test clock, with its manifest's key-rotation DO empty and without a
 * pending alarm (whatever ran before in this miniflare), its published keys gone from KV and the
 * isolate's key cache reset: no key until the test runs a rotation.
 */
export async function startFreshStack(): Promise<Stack> {
  installClock();
  const stack = await startStack();
  const digest = stack.dev.manifestDigest;
  resetKeyCache();
  await emptyRotationDo(digest);
  await env.SEALGATE_KV.delete(`keys:${digest}`);
  return stack;
}

/** The key-rotation DO of the manifest `digest`, for its RPC methods (`state`, `ensureAlarm`, …). */
export function rotationDo(digest: string): DurableObjectStub<KeyRotation> {
  return env.KEY_ROTATION.get(env.KEY_ROTATION.idFromName(digest));
}

/**
 * The same DO for cloudflare:test's runInDurableObject / runDurableObjectAlarm: the binding is typed
 * by the gateway's own structural interfaces, not @cloudflare/workers-types, hence the cast.
 */
export function rotationStub(digest: string): never {
  return rotationDo(digest) as never;
}

export async function rotationState(digest: string): Promise<RotationState> {
  return await rotationDo(digest).state();
}

/** Sets the DO's alarm (an hour ahead: it only runs when `runDurableObjectAlarm` says so). */
export async function scheduleRotation(digest: string): Promise<void> {
  await runInDurableObject(
    rotationStub(digest),
    (_i, state: { storage: { setAlarm(t: number): Promise<void> } }) =>
      state.storage.setAlarm(Date.now() + 3600_000),
  );
}

/** Schedules the alarm, then runs it, and returns the state after it. */
export async function runRotation(digest: string): Promise<RotationState> {
  await scheduleRotation(digest);
  expect(await runDurableObjectAlarm(rotationStub(digest))).toBe(true);
  return await rotationState(digest);
}

/** One request through the gateway Worker, its `waitUntil` work finished before it returns. */
export async function callGateway(
  path: string,
  init: RequestInit = {},
  e: GatewayEnv = env,
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://gateway.test${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
