/**
 * Test-side access to the real vectors provided by vitest.config.ts. Runs in Node and in workerd.
 * Usage: `const v = vectors(); describe.skipIf(!v.present)(...)` and log `v.skipReason`.
 */
import { inject } from 'vitest';
import { fromBase64, utf8 } from '../../src/bytes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    vectors: import('./load-vectors.js').ProvidedVectors;
  }
}

export interface Vectors {
  present: boolean;
  skipReason: string;
  has(path: string): boolean;
  bytes(path: string): Uint8Array;
  text(path: string): string;
  json<T = unknown>(path: string): T;
  list(prefix: string): string[];
}

export function vectors(): Vectors {
  const provided = inject('vectors');
  const get = (path: string): string => {
    const b64 = provided.files[path];
    if (b64 === undefined) throw new Error(`test vector not found: ${path}`);
    return b64;
  };
  return {
    present: provided.missing === null,
    skipReason: provided.missing ?? '',
    has: (path) => path in provided.files,
    bytes: (path) => fromBase64(get(path)),
    text: (path) => utf8.decode(fromBase64(get(path))),
    json: (path) => JSON.parse(utf8.decode(fromBase64(get(path)))),
    list: (prefix) =>
      Object.keys(provided.files)
        .filter((p) => p.startsWith(prefix))
        .sort(),
  };
}

/** The SNP report sets that have a report (turin-vcek-only-virtee has a certificate only). */
export const SNP_SETS = [
  'milan-v2-gosevguest',
  'milan-v2-virtee',
  'milan-v2-idblock-trustee',
  'milan-v3-vlek-aws-trustee',
  'genoa-v3-azure-trustee',
  'turin-v5-oak',
] as const;

/** The NVIDIA Hopper evidence sets (report.bin/report.hex + cert_chain.pem + expected.json). */
export const GPU_SETS = [
  'hopper-545-with-rims-nvtrust',
  'hopper-test-no-gpu-nvtrust',
  'hopper-coco-ci-trustee',
] as const;
