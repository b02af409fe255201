/**
 * Ties a detached process group's life to this process's (Node only). `npm start` runs the gateway
 * (`wrangler dev` and its workerd) in a process group of its own so that it can be stopped as one;
 * the group would then outlive a parent that dies without running its handlers (SIGKILL, a crash).
 * A watchdog process holds the read end of a pipe whose write end only this process holds: the
 * kernel closes it however this process ends, the watchdog reads EOF and stops the group (SIGTERM,
 * SIGKILL 5 s later). No `prctl`, no polling.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

// Ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole foreground group; the parent handles it
// and stops the watchdog itself): only EOF on its pipe makes it act.
const WATCHDOG = `
const pgid = Number(process.argv[1]);
const kill = (sig) => { try { process.kill(-pgid, sig); return true; } catch { return false; } };
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.stdin.on('data', () => {});
process.stdin.on('close', () => {
  kill('SIGTERM');
  setInterval(() => { if (!kill(0)) process.exit(0); }, 100);
  setTimeout(() => { kill('SIGKILL'); process.exit(0); }, 5000);
});
process.stdin.resume();
`;

export interface ParentWatch {
  /** Stops the watchdog without touching the group (the group was stopped another way). */
  stop(): void;
}

export function stopGroupWithParent(pgid: number): ParentWatch {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(pgid)], {
    // In this process's group (not detached): a service manager that stops the group sees it.
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the watchdog nor its pipe keeps this process's event loop alive.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    stop: () => {
      try {
        watchdog.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
}

/** Resolves if `port` can be bound on `host`; rejects with an error naming the port if it is taken. */
export function checkPortFree(port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `${what}: port ${port} on ${host} is already in use (is another npm start running?)`
            : `${what}: cannot listen on ${host}:${port} (${e.code ?? e.message})`,
        ),
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
