/**
 * The gateway's EAR (src/attestation/ear.ts) as a client meets it: `sealgate verify-endpoint`
 * against an endpoint made of the real parts (the attestation service app on the simulator, the
 * real EAR signer and claims from the real appraisal of the served evidence), with the EAR forged
 * one way at a time.
 *
 * Run on SEV-SNP and on Intel TDX evidence. Held: an unsigned EAR (`alg: none`), an EAR MACed with HS256 under the gateway's public key (the
 * JWKS the endpoint serves), an EAR the gateway really signed for another nonce (a replay).
 * Refused since `checkEarClaims` compares every claim: an EAR with the right status that says
 * "genuine hardware" (`sealgate.simulated: false`, hardware 2) for simulated evidence, names a
 * measurement or TD claims the evidence does not give, or adds a GPU submodule nobody attested — each was
 * printed "✔ the gateway's EAR … says "warning" — what we found ourselves", exit 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EarClaims, earClaims } from '../../src/attestation/ear.js';
import { generateServiceKeys } from '../../src/attestation-service/service-keys.js';
import { fromHex, toBase64Url, utf8 } from '../../src/bytes.js';
import { verifyEndpointCommand } from '../../src/cli/verify-endpoint-command.js';
import { createDevelopmentEnvironment, type DevelopmentEnvironment } from '../../src/dev/environment.js';
import {
  createTdxDevelopmentEnvironment,
  type TdxDevelopmentEnvironment,
} from '../../src/dev/environment-tdx.js';
import { earSigner } from '../../src/gateway/verification/ear-signer.js';
import { appendIfNew, entryHash } from '../../src/gateway/verification/manifest-chain.js';
import { appraiseServiceEvidence, devServiceApp } from '../support/dev-service.js';

const URL_ = 'http://gateway.test';
const SECRET = 'ear-forgery-review-secret-0123456789abcdef';
let dev: DevelopmentEnvironment | TdxDevelopmentEnvironment;
let service: ReturnType<typeof devServiceApp>;
let dir: string;
let manifestPath: string;

type Submods = Record<string, Record<string, unknown>>;
/** Makes the EAR's compact form from the honest claims (and the nonce the client asked for). */
type Forge = (claims: EarClaims, nonceHex: string) => Promise<string>;

const sign = async (claims: EarClaims) => (await earSigner(SECRET)).sign(claims);

/** The gateway's answer for `nonceHex`: real evidence, the real appraisal of it, the EAR `forge` makes. */
async function attestation(nonceHex: string, forge: Forge) {
  const res = await service.request('/v1/attestation', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ nonce: toBase64Url(fromHex(nonceHex)) }),
  });
  const evidence = await res.json();
  const claims = earClaims({
    appraisal: await appraiseServiceEvidence(dev, evidence, nonceHex),
    nonceHex,
    manifestDigest: dev.manifestDigest,
    iat: Math.floor(Date.now() / 1000),
  });
  return {
    nonce: nonceHex,
    manifestDigest: dev.manifestDigest,
    manifest: dev.manifestText,
    evidence,
    ear: await forge(claims, nonceHex),
  };
}

function endpoint(forge: Forge) {
  return async (url: string): Promise<Response> => {
    const u = new URL(url);
    if (u.pathname === '/v1/attestation') {
      return Response.json(await attestation(u.searchParams.get('nonce')!, forge));
    }
    if (u.pathname === '/.well-known/jwks.json') {
      return Response.json({ keys: [(await earSigner(SECRET)).publicJwk] });
    }
    if (u.pathname === '/v1/manifest') {
      const log = await appendIfNew([], dev.manifestDigest, 200);
      return Response.json({
        manifestDigest: dev.manifestDigest,
        history: log,
        head: await entryHash(log[0]!),
      });
    }
    return new Response('no', { status: 404 });
  };
}

/** verify-endpoint pinned to the dev manifest, simulated hardware allowed: exit 0 only if all held. */
const run = (forge: Forge) =>
  verifyEndpointCommand(
    [URL_, '--manifest', manifestPath, '--allow-simulated'],
    () => new Date(),
    endpoint(forge),
  );

/** The honest claims with `edit` applied to the service's submodule (or the submodules). */
const edited =
  (edit: (submods: Submods) => void): Forge =>
  async (claims) => {
    edit(claims.submods as unknown as Submods);
    return sign(claims);
  };

const PLATFORMS = [
  ['SEV-SNP', () => createDevelopmentEnvironment({ now: new Date() })],
  ['Intel TDX', () => createTdxDevelopmentEnvironment({ now: new Date() })],
] as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-ear-'));
  manifestPath = join(dir, 'manifest.json');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.each(PLATFORMS)('verify-endpoint and a forged EAR (%s)', (_platform, make) => {
  beforeAll(async () => {
    dev = await make();
    service = devServiceApp(dev, await generateServiceKeys());
    await writeFile(manifestPath, dev.manifestText);
  }, 240_000);

  it('control: the honest EAR is every claim our appraisal makes: exit 0', async () => {
    const out = await run(async (claims) => sign(claims));
    expect(out.stdout).toContain(`says "warning" — what we found ourselves`);
    expect(out.exitCode).toBe(0);
  });

  it('held: an unsigned EAR (alg none)', async () => {
    const out = await run(async (claims) => {
      const part = (v: unknown) => base64url.encode(utf8.encode(JSON.stringify(v)));
      return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
    });
    expect(out.stdout).toContain("the gateway's EAR does not verify against its JWKS");
    expect(out.exitCode).toBe(1);
  });

  it('held: an EAR MACed with HS256 under the public key the JWKS serves', async () => {
    const out = await run(async (claims) => {
      const jwk = (await earSigner(SECRET)).publicJwk;
      return new SignJWT(claims as unknown as Record<string, unknown>)
        .setProtectedHeader({ alg: 'HS256', kid: jwk.kid!, typ: 'JWT' })
        .sign(utf8.encode(JSON.stringify(jwk)));
    });
    expect(out.stdout).toContain("the gateway's EAR does not verify against its JWKS");
    expect(out.exitCode).toBe(1);
  });

  it('held: an EAR the gateway signed for another nonce (replayed)', async () => {
    const recorded = await attestation('ab'.repeat(32), async (claims) => sign(claims));
    const out = await run(async () => recorded.ear);
    expect(out.stdout).toContain("the gateway's EAR: eat_nonce is not our nonce");
    expect(out.exitCode).toBe(1);
  });

  it('refused: "genuine hardware" under the right status (sealgate.simulated false, hardware 2)', async () => {
    const out = await run(
      edited((s) => {
        const sub = s['attestation-service']!;
        sub['sealgate.simulated'] = false;
        sub['ear.trustworthiness-vector'] = {
          'instance-identity': 2,
          configuration: 32,
          executables: 3,
          hardware: 2,
          'runtime-opaque': 2,
        };
      }),
    );
    expect(out.stdout).toContain(
      "the gateway's EAR: submodule attestation-service differs from our own appraisal",
    );
    expect(out.exitCode).toBe(1);
  });

  it('refused: a measurement the evidence does not have', async () => {
    const out = await run(
      edited((s) => {
        s['attestation-service']!['sealgate.measurement'] = 'ab'.repeat(48);
      }),
    );
    expect(out.stdout).toContain('submodule attestation-service differs from our own appraisal');
    expect(out.exitCode).toBe(1);
  });

  it('refused: TD claims the evidence does not give (another TCB status; any on SEV-SNP)', async () => {
    const out = await run(
      edited((s) => {
        const sub = s['attestation-service']!;
        sub['sealgate.tdx'] = { ...(sub['sealgate.tdx'] as object), tcbStatus: 'UpToDate', advisoryIds: [] };
        (sub['sealgate.tdx'] as Record<string, unknown>).fmspc = '00'.repeat(6);
      }),
    );
    expect(out.stdout).toContain('submodule attestation-service differs from our own appraisal');
    expect(out.exitCode).toBe(1);
  });

  it('refused: a GPU submodule nobody attested', async () => {
    const out = await run(
      edited((s) => {
        s['gpu-0'] = {
          'ear.status': 'affirming',
          'ear.trustworthiness-vector': {
            'instance-identity': 2,
            configuration: 2,
            executables: 3,
            hardware: 2,
            'runtime-opaque': 2,
          },
          'ear.appraisal-policy-id': `sha256:${dev.manifestDigest}`,
          'sealgate.simulated': false,
          'sealgate.gpu': {
            architecture: 'hopper',
            driverVersion: '550.90.07',
            vbiosVersion: '96.00.9f.00.01',
            measurementsSha256: 'cd'.repeat(32),
          },
        };
      }),
    );
    expect(out.stdout).toContain("the gateway's EAR: submodule gpu-0 is not one our appraisal has");
    expect(out.exitCode).toBe(1);
  });
});
