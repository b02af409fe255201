/**
 * The worker process's replay guard (src/ai-worker/restart-replay-guard.ts) at its edges: a request
 * sealed in the second the process started or later goes to the inner guard; one sealed before is
 * refused whatever the inner guard remembers.
 */
import { describe, expect, it } from 'vitest';
import { RestartReplayGuard } from '../../src/ai-worker/restart-replay-guard.js';
import { MemoryReplayGuard } from '../../src/envelope/replay-guard.js';

const STARTED = 1_767_225_600;
const MAX_AGE = 300;
/** What openRequest claims for a request sealed at `ts` (src/envelope/request.ts). */
const until = (ts: number) => ts + MAX_AGE + 1;

describe('RestartReplayGuard', () => {
  it('refuses a request sealed before the process started, inside the window', async () => {
    const guard = new RestartReplayGuard(new MemoryReplayGuard(), {
      startedAt: STARTED,
      maxAgeSeconds: MAX_AGE,
    });
    expect(await guard.claim('a', until(STARTED - 1), STARTED + 5)).toBe(false);
    expect(await guard.claim('b', until(STARTED - MAX_AGE), STARTED)).toBe(false);
  });

  it('takes a request sealed from the start second on, once', async () => {
    const guard = new RestartReplayGuard(new MemoryReplayGuard(), {
      startedAt: STARTED,
      maxAgeSeconds: MAX_AGE,
    });
    expect(await guard.claim('a', until(STARTED), STARTED)).toBe(true);
    expect(await guard.claim('a', until(STARTED), STARTED + 1)).toBe(false);
    expect(await guard.claim('b', until(STARTED + 10), STARTED + 10)).toBe(true);
  });
});
