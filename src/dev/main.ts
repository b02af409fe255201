/**
 * `tsx src/dev/main.ts [--tee tdx] [DIR]` (default `.sealgate-dev`): writes a SIMULATED development
 * setup — `DIR/dev-chain.json` (SEV-SNP; with `--tee tdx`, `DIR/tdx-dev-chain.json`), made once, then
 * kept, and `DIR/manifest.dev.json` (`manifest.dev-tdx.json`) trusting only that chain's root — and
 * prints how to start the attestation service on it.
 */

import { readFile } from 'node:fs/promises';
import { manifestDigest } from '../policy/manifest-digest.js';
import { writeDevelopmentFiles, writeTdxDevelopmentFiles } from './files.js';

const args = process.argv.slice(2);
const tdx = args[0] === '--tee' && args[1] === 'tdx';
if (args[0] === '--tee' && !tdx) {
  process.stderr.write(`--tee must be "tdx" (SEV-SNP is the default), got ${JSON.stringify(args[1])}\n`);
  process.exit(2);
}
const dir = (tdx ? args[2] : args[0]) ?? '.sealgate-dev';
const files = tdx
  ? await writeTdxDevelopmentFiles(dir, { now: new Date() })
  : await writeDevelopmentFiles(dir, { now: new Date() });
const root = 'rootSha256' in files.chain ? files.chain.rootSha256 : files.chain.arkSha256;
const digest = await manifestDigest(await readFile(files.manifestPath));
process.stdout.write(
  [
    `SIMULATED HARDWARE development setup (${tdx ? 'Intel TDX' : 'AMD SEV-SNP'})`,
    `  dev chain  ${files.chainPath} (${files.created ? 'created' : 'kept'}; root ${root})`,
    `  manifest   ${files.manifestPath} (digest ${digest})`,
    '',
    'Start the attestation service on the simulator:',
    `  SEALGATE_PLATFORM=simulator${tdx ? ' SEALGATE_TEE=tdx' : ''} SEALGATE_DEV_CHAIN=${files.chainPath} SEALGATE_MANIFEST=${files.manifestPath} npx tsx src/attestation-service/main.ts`,
    '',
  ].join('\n'),
);
