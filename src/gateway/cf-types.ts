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
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
}

export interface DurableObjectStateLike {
  storage: DurableObjectStorageLike;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

export interface DurableObjectStubLike {
  fetch(input: string | Request, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStubLike;
}

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}
