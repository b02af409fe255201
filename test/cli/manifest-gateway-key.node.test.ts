/**
 * `sealgate manifest gateway-key` and `manifest pin --gateway-key`: how the gateway key the
 * attestation service accepts uploads from is made and pinned (docs/manifest.md "gateway").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { runCli } from '../../src/cli/main.js';
import { withGatewayKey } from '../../src/cli/manifest-gateway-key.js';
import { deriveGatewayKey } from '../../src/keys/gateway-key.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';

const tmp = mkdtempSync(join(tmpdir(), 'sealgate-gwkey-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SECRET = 'a-gateway-secret-of-at-least-32-characters';

describe('sealgate manifest gateway-key', () => {
  it('prints the public key GATEWAY_SECRET derives (the file’s trailing newline ignored)', async () => {
    const file = join(tmp, 'secret');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    const r = await runCli(['manifest', 'gateway-key', '--secret-file', file]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${toHex((await deriveGatewayKey(SECRET)).publicKey)}\n`);
    expect(r.stdout + (r.stderr ?? '')).not.toContain(SECRET);
  });

  it('refuses a short secret and a missing flag (exit 2)', async () => {
    const file = join(tmp, 'short');
    writeFileSync(file, 'short\n');
    expect((await runCli(['manifest', 'gateway-key', '--secret-file', file])).exitCode).toBe(2);
    expect((await runCli(['manifest', 'gateway-key'])).exitCode).toBe(2);
  });

  it('--gateway-key sets gateway.uploadKey, which the parser accepts; bad hex is a usage error', async () => {
    const example = parseManifest(
      new TextDecoder().decode(
        await import('node:fs').then((fs) => fs.readFileSync('manifests/example.json')),
      ),
    );
    const hex = toHex((await deriveGatewayKey(SECRET)).publicKey);
    expect(parseManifest(JSON.stringify(withGatewayKey(example, hex))).gateway).toEqual({ uploadKey: hex });
    expect(() => withGatewayKey(example, 'AB'.repeat(32))).toThrow(/64 lower-case hex/);
    expect(() =>
      parseManifest(JSON.stringify({ ...example, gateway: { uploadKey: '00'.repeat(32) } })),
    ).toThrow();
  });
});
