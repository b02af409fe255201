/**
 * File input for the CLI. Unreadable input is a usage-class failure (exit 2) with the path in the
 * message; what the bytes mean is left to the domain parsers.
 *
 * Every input is read with a byte cap counted as the bytes arrive, not from the file's stated size:
 * a path may be a pipe, a device or a process substitution (`--manifest <(curl …)`) with no size
 * and no end, and reading it whole would take the process's memory instead of refusing it. The
 * default cap is far above any evidence, certificate, manifest, RIM, collateral or event log the
 * commands read; the image files of `measure` (OVMF, kernel, initrd) are given their own.
 */
import { open } from 'node:fs/promises';
import { concatBytes } from '../bytes.js';
import { UsageError } from './args.js';

/** The default cap of one input file (bytes). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** The cap of one image file of `measure` (OVMF, kernel, initrd). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;

export async function readInput(flag: string, path: string, maxBytes = MAX_INPUT_BYTES): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    for (;;) {
      const chunk = new Uint8Array(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new UsageError(`--${flag}: ${path} is larger than ${maxBytes} bytes`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(`--${flag}: cannot read ${path} (${why})`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return concatBytes(...chunks);
}

export async function readTextInput(flag: string, path: string): Promise<string> {
  const bytes = await readInput(flag, path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--${flag}: ${path} is not UTF-8 text`);
  }
}
