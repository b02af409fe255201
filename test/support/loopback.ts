/**
 * A test's node:http server on 127.0.0.1 at a port the OS picks. `close` ends it at once: open
 * connections (keep-alive ones and answers still streaming) are closed, not waited for, so a test
 * never hangs on a client that keeps its socket.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
