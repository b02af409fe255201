/**
 * Serving a Hono app (or a `node:http` listener) over HTTP in Node, shared by the attestation service and the AI worker:
 * listen (port 0 = ephemeral), and a close that lets requests in flight (streams too) finish while
 * idle keep-alive connections — which would hold `close()` open — are dropped at once, and anything
 * still open after a grace period is cut.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';

export const CLOSE_GRACE_MS = 5_000;

/**
 * How long a peer may take to send its request (the service and the worker listen on the
 * confidential cloud's network, where anyone may connect and trickle bytes): the head within
 * 10 s, the whole request within 60 s, checked every second; then Node answers 408 and closes.
 * Node's defaults were 60 s and 300 s, checked every 30 s — a connection that never finished its
 * head was held for up to 90 s. Routes may ask less of a body (the service's register: 10 s).
 */
export interface ServeTimeouts {
  headersMs: number;
  requestMs: number;
  checkEveryMs: number;
}

export const SERVE_TIMEOUTS: Readonly<ServeTimeouts> = Object.freeze({
  headersMs: 10_000,
  requestMs: 60_000,
  checkEveryMs: 1_000,
});

export interface Listening {
  url: string;
  port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  opts: { port: number; host: string; timeouts?: ServeTimeouts },
): Promise<Listening> {
  // overrideGlobalObjects: false — do not replace the process's Request/Response (tests share it).
  return listenNode(getRequestListener(fetch, { overrideGlobalObjects: false }), opts);
}

/** `listen` with a `node:http` request listener (the AI worker's, src/ai-worker/node-listener.ts). */
export async function listenNode(
  listener: RequestListener,
  opts: { port: number; host: string; timeouts?: ServeTimeouts },
): Promise<Listening> {
  const timeouts = opts.timeouts ?? SERVE_TIMEOUTS;
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
    listener,
  );
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(`port ${opts.port} on ${opts.host} is already in use`, { cause: e })
          : e,
      );
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => {
      server.off('error', fail);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close((e) => {
          clearTimeout(force);
          if (e) reject(e);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
