// A stand-in for NVIDIA's attestation tooling (src/platform/nvidia-command.ts contract): writes
// the real vectors of $SEALGATE_TESTDATA/nvidia/$STANDIN_SET as GPU 0 — and GPU 1 when
// STANDIN_GPUS=2 — and records the nonce it was given in $STANDIN_NONCE_FILE. STANDIN_FAIL=1 exits 3.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const arg = (name) => argv[argv.indexOf(name) + 1];
const nonce = arg('--nonce');
const out = arg('--out');
if (!/^[0-9a-f]{64}$/.test(nonce ?? '') || !out) process.exit(2);
if (process.env.STANDIN_FAIL === '1') {
  process.stderr.write('no GPU in CC mode\n');
  process.exit(3);
}
writeFileSync(process.env.STANDIN_NONCE_FILE, nonce);
const set = join(process.env.SEALGATE_TESTDATA, 'nvidia', process.env.STANDIN_SET);
for (let i = 0; i < Number(process.env.STANDIN_GPUS ?? '1'); i++) {
  const dir = join(out, `gpu${i}`);
  mkdirSync(dir);
  copyFileSync(join(set, 'report.hex'), join(dir, 'evidence'));
  copyFileSync(join(set, 'cert_chain.pem'), join(dir, 'chain.pem'));
  if (process.env.STANDIN_SET === 'hopper-545-with-rims-nvtrust') {
    copyFileSync(join(set, 'driver_rim_test_no_gpu.swidtag'), join(dir, 'rim-driver.xml'));
    copyFileSync(
      join(set, 'vbios_rim_1010_0200_882_96005E0001_test_no_gpu.swidtag'),
      join(dir, 'rim-vbios.xml'),
    );
  }
  if (process.env.STANDIN_EXTRA === '1') writeFileSync(join(dir, 'notes.txt'), 'x');
}
