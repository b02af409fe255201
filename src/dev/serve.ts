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

export interface Listening {
  url: string;
  port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  opts: { port: number; host: string },
): Promise<Listening> {
  // overrideGlobalObjects: false — do not replace the process's Request/Response (tests share it).
  return listenNode(getRequestListener(fetch, { overrideGlobalObjects: false }), opts);
}

/** `listen` with a `node:http` request listener (the AI worker's, src/ai-worker/node-listener.ts). */
export async function listenNode(
  listener: RequestListener,
  opts: { port: number; host: string },
): Promise<Listening> {
  const server = createServer(listener);
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
