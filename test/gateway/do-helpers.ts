/**
 * The key-rotation Durable Object and the gateway Worker as the gateway tests drive them: the DO
 * of a manifest, its `state()`, a rotation run when the test (not the wall clock) says so, one
 * request through the Worker with its `waitUntil` work awaited, and a stack that starts with none.
 * Also a test file's stack hooks (`stackPerFile`), and API keys with limits and their standing.
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { afterAll, beforeAll, beforeEach, expect, vi } from 'vitest';
import type { DurableObjectStub } from '../../src/gateway/cf-types.js';
import type { GatewayEnv } from '../../src/gateway/config.js';
import type { KeyRotation, RotationState } from '../../src/gateway/durable-objects/key-rotation.js';
import { hashApiKey } from '../../src/gateway/kv/api-keys.js';
import { resetKeyCache } from '../../src/gateway/kv/key-cache.js';
import { sealKvEntry } from '../../src/gateway/kv/kv-auth.js';
import worker from '../../src/gateway/worker.js';
import {
  advance,
  emptyRotationDo,
  env,
  HAS_GATEWAY_BINDINGS,
  installClock,
  type Stack,
  startStack,
} from './stack.js';

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

/** What a test file's stack has before its first test, beyond `startFreshStack`'s. */
export interface FileStackOptions {
  /** A first rotation ran and the worker registered: a good request is sealed and served. */
  keyed?: boolean;
  /** With `keyed`: seconds the clock moves between that rotation and the worker's registration. */
  secondsAfterRotation?: number;
  /** The stack's records (`calls`, `wire`, `modelBodies`) are empty at the start of each test. */
  freshRecords?: boolean;
}

/**
 * Registers a test file's hooks around one stack: `startFreshStack` before all its tests (then
 * what `options` asks), the stack handed to `use`; after all of them, the clock and fetch stubs
 * undone and the manifest's key-rotation DO emptied. Without the gateway's bindings nothing starts
 * (and no test runs).
 */
export function stackPerFile(
  options: FileStackOptions,
  use: (stack: Stack) => void | Promise<void> = () => undefined,
): void {
  let stack: Stack | undefined;
  beforeAll(async () => {
    if (!HAS_GATEWAY_BINDINGS) return;
    stack = await startFreshStack();
    if (options.keyed) {
      await runRotation(stack.dev.manifestDigest);
      if (options.secondsAfterRotation) advance(options.secondsAfterRotation);
      await stack.session.keys.refresh(); // the worker registers and receives the KEK
    }
    await use(stack);
  });
  beforeEach(() => {
    if (!stack || !options.freshRecords) return;
    stack.calls.length = 0;
    stack.wire.length = 0;
    stack.modelBodies.length = 0;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    if (stack) await emptyRotationDo(stack.dev.manifestDigest);
  });
}

/** A new API key with `limits`, registered in KV as `sealgate apikey create` writes it. */
export async function putApiKey(label: string, limits: object): Promise<{ key: string; hash: string }> {
  const key = `sk-sealgate-${label}-${crypto.randomUUID()}`;
  await putApiKeyEntry(key, { name: label, limits });
  return { key, hash: await hashApiKey(key) };
}

/**
 * Registers `key` with the entry `value` as `sealgate apikey create` does: `apikey:<sha256>`,
 * authenticated under the test gateway's GATEWAY_SECRET (kv-auth.ts, kind `apiKeyEntry`).
 */
export async function putApiKeyEntry(key: string, value: unknown): Promise<string> {
  const name = `apikey:${await hashApiKey(key)}`;
  await env.SEALGATE_KV.put(name, await sealKvEntry(env.GATEWAY_SECRET!, name, value, 'apiKeyEntry'));
  return name;
}

/** What the KeyUsage DO holds of the key hashed `hash`: its token counts and budget standing. */
export function keyStanding(hash: string) {
  const ns = env.KEY_USAGE!;
  return ns.get(ns.idFromName(hash)).standing();
}

/**
 * One JSON POST through the Worker with the API key `key`. The body is read BEFORE the request's
 * `waitUntil` work is awaited (a stream's usage settles when the client has read it), then that
 * work is awaited.
 */
export async function sendWithKey(
  path: string,
  key: string,
  body: unknown,
  e: GatewayEnv = env,
): Promise<{ res: Response; text: string }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`https://gateway.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    }),
    e,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, text };
}
