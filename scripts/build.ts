/**
 * `npm run build`: writes `dist/attestation-service.mjs`, `dist/ai-worker.mjs` and
 * `dist/sealgate.mjs` (scripts/bundles.ts says why and what they hold) and `dist/SHA256SUMS`
 * (`sha256sum -c` format), and prints the digests: what a confidential VM's image carries and
 * what a reviewer rebuilds to compare (docs/deployment.md).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundles, REPO_ROOT } from './bundles.js';

const outdir = join(REPO_ROOT, 'dist');
const bundles = await buildBundles();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
let sums = '';
for (const b of bundles) {
  await writeFile(join(outdir, b.file), b.bytes);
  sums += `${createHash('sha256').update(b.bytes).digest('hex')}  ${b.file}\n`;
}
await writeFile(join(outdir, 'SHA256SUMS'), sums);
process.stdout.write(sums);
