/**
 * `npm start` leaves no orphan: a detached process group tied to its parent with
 * `stopGroupWithParent` (src/dev/parent-watch.ts) is stopped when the parent is SIGKILLed — its
 * handlers never run — and the port it held is free again. A port in use is refused, named.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPortFree } from '../../src/dev/parent-watch.js';
import { freePort, groupAlive } from '../e2e/support.js';

const groups: number[] = [];
afterAll(() => {
  for (const pgid of groups) if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
});

async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const portFree = (port: number) =>
  checkPortFree(port, '127.0.0.1', 'test').then(
    () => true,
    () => false,
  );

describe('stopGroupWithParent', () => {
  it('stops the group and frees its port when the parent is SIGKILLed', async () => {
    const port = await freePort();
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'group-parent.ts'), String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pgid = await new Promise<number>((done, fail) => {
      parent.stdout!.setEncoding('utf8').on('data', (d: string) => {
        const m = /ready (\d+)/.exec(d);
        if (m) done(Number(m[1]));
      });
      parent.once('exit', (code) => fail(new Error(`parent exited (${code})`)));
    });
    groups.push(pgid);
    expect(await portFree(port)).toBe(false);
    parent.kill('SIGKILL');
    expect(await waitFor(() => !groupAlive(pgid), 10_000)).toBe(true);
    expect(await waitFor(() => portFree(port), 5_000)).toBe(true);
  }, 30_000);
});

describe('checkPortFree', () => {
  it('names the port in use', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await expect(checkPortFree(port, '127.0.0.1', 'the gateway')).rejects.toThrow(
      `the gateway: port ${port} on 127.0.0.1 is already in use`,
    );
    await new Promise((r) => server.close(r));
  });
});
