/**
 * The part of workerd's `cloudflare:workers` module the gateway uses, written out (as cf-types.ts
 * does for the bindings) because @cloudflare/workers-types is not installed. A class that extends
 * `DurableObject` exposes its public methods over Workers RPC
 * (https://developers.cloudflare.com/durable-objects/best-practices/create-durable-object-stubs-and-send-requests/);
 * callers reach them through `DurableObjectNamespace<T>` stubs (cf-types.ts).
 */
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: import('./cf-types.js').DurableObjectStateLike;
    protected env: Env;
    constructor(ctx: import('./cf-types.js').DurableObjectStateLike, env: Env);
  }
}
