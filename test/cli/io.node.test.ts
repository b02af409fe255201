/**
 * The CLI's file input (src/cli/io.ts): read with a byte cap counted as the bytes arrive, so a pipe
 * or device without end is refused as a usage error (exit 2) instead of taking the memory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { readInput } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readInput', () => {
  it('reads a file up to its cap whole, and refuses one byte more as a usage error', async () => {
    // Over three read chunks; a pattern, not random (getRandomValues fills at most 64 KiB).
    const bytes = new Uint8Array(3 * 1024 * 1024 + 7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
    const path = join(dir, 'input.bin');
    await writeFile(path, bytes);
    const read = await readInput('report', path, bytes.length);
    expect(read.length).toBe(bytes.length);
    expect(Buffer.from(read).equals(bytes)).toBe(true); // toEqual walks 3 MiB element by element
    const refused = readInput('report', path, bytes.length - 1);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(`--report: ${path} is larger than ${bytes.length - 1} bytes`);
  });

  it('a directory is a usage error that names the reason', async () => {
    await expect(readInput('manifest', dir)).rejects.toThrow(`--manifest: cannot read ${dir} (EISDIR)`);
  });

  it.skipIf(!existsSync('/dev/zero'))(
    'a device without end is refused (exit 2), not read into memory',
    async () => {
      const out = await runCli([
        'verify',
        '--report',
        '/dev/zero',
        '--cert',
        '/dev/null',
        '--manifest',
        '/dev/null',
        '--role',
        'worker',
        '--any-report-data',
      ]);
      expect(out.exitCode).toBe(2);
      expect(out.stderr).toContain('--report: /dev/zero is larger than');
    },
  );
});
