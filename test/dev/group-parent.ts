/**
 * Fixture for parent-watch.node.test.ts: starts a detached process group that listens on the port
 * given as argv[2] (as `wrangler dev` holds the gateway's), ties it to this process with
 * `stopGroupWithParent`, prints `ready <pgid>`, and waits to be killed.
 */
import { spawn } from 'node:child_process';
import { stopGroupWithParent } from '../../src/dev/parent-watch.js';

const port = Number(process.argv[2]);
const child = spawn(
  process.execPath,
  ['-e', `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`],
  { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
);
stopGroupWithParent(child.pid!);
child.stdout!.once('data', () => process.stdout.write(`ready ${child.pid}\n`));
setInterval(() => undefined, 60_000);
