/**
 * File input for the CLI. Unreadable input is a usage-class failure (exit 2) with the path in the
 * message; what the bytes mean is left to the domain parsers.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.js';

export async function readInput(flag: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(`--${flag}: cannot read ${path} (${why})`);
  }
}

export async function readTextInput(flag: string, path: string): Promise<string> {
  const bytes = await readInput(flag, path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--${flag}: ${path} is not UTF-8 text`);
  }
}
