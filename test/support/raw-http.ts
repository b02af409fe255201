/**
 * HTTP/1.1 by hand on a TCP socket, for the review's network attacks (slow bodies, smuggling
 * shapes, pipelining): what no well-behaved client library would send.
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent, once it closed the connection (or `idleMs` passed in silence). */
  received: Promise<string>;
}

/** Opens a connection from `localAddress` (a loopback alias: another caller) and writes `bytes`. */
export function rawConnection(
  port: number,
  bytes: string,
  opts: { localAddress?: string; idleMs?: number } = {},
): RawConnection {
  const socket = connect({
    port,
    host: '127.0.0.1',
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  let text = '';
  const received = new Promise<string>((resolve) => {
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (opts.idleMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), opts.idleMs);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      arm();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(idle);
      resolve(text);
    });
    arm();
  });
  socket.write(bytes);
  return { socket, received };
}

/** The status codes of every HTTP response in `text`, in order. */
export function statusCodes(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

/** A request head with `content-type: application/json` and the given extra header lines. */
export function requestHead(method: string, path: string, lines: readonly string[]): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'host: 127.0.0.1',
    'content-type: application/json',
    ...lines,
    '',
    '',
  ].join('\r\n');
}
