/**
 * The few Cloudflare runtime shapes the gateway uses, written out instead of depending on
 * @cloudflare/workers-types (not installed here): KV, Durable Object state and namespaces, and the
 * execution context. Each is the subset of the real binding's API that the code calls, so the real
 * bindings (and miniflare's) fit them structurally.
 */

export interface KvNamespace {
  get(key: string, type: 'text'): Promise<string | null>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  put(
    key: string,
    value: string | ArrayBuffer | Uint8Array,
    options?: { expirationTtl?: number; expiration?: number },
  ): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface DurableObjectStorageLike {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  deleteAll(): Promise<void>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
}

export interface DurableObjectStateLike {
  storage: DurableObjectStorageLike;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

/** A Durable Object's id (`idFromName`); opaque to the gateway. */
export type DurableObjectId = unknown;

/**
 * The Workers RPC stub of a Durable Object class `T`: each public method of `T`, called across the
 * object boundary, answers a Promise of its (structured-cloned) result.
 */
export type DurableObjectStub<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/** A Durable Object binding of class `T` (wrangler.toml `durable_objects.bindings`). */
export interface DurableObjectNamespace<T> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<T>;
}

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A Workers Rate Limiting binding (wrangler.toml `[[ratelimits]]`): `limit({key})` counts one
 * request of `key` against the binding's fixed limit and period and says whether it is within them.
 */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}
