/**
 * Model endpoints: normalization (WHATWG URL, RFC 3986 §6.2.2–6.2.3), the loopback decision, the
 * allow-list, and the manifest's `roles.worker.model` rules — including that a manifest without
 * them keeps its digest and gets the strict default.
 */
import { describe, expect, it } from 'vitest';
import example from '../../manifests/example.json' with { type: 'json' };
import { isSealgateError } from '../../src/errors.js';
import { manifestDigest } from '../../src/policy/manifest-digest.js';
import {
  BUILTIN_ENDPOINT,
  isLoopbackEndpoint,
  normalizeModelEndpoint,
} from '../../src/policy/model-endpoint.js';
import {
  DEFAULT_MODEL_POLICY,
  effectiveModelPolicy,
  endpointAllowed,
  evaluateModelConfig,
} from '../../src/policy/model-policy.js';
import { parseManifest } from '../../src/policy/parse-manifest.js';

const DEFAULT = DEFAULT_MODEL_POLICY.endpoints;
/** Normalized, then checked against `entries` (default: the default rules). */
const allowed = (url: string, entries: readonly string[] = DEFAULT) =>
  endpointAllowed(entries, normalizeModelEndpoint(url));

describe('normalizeModelEndpoint', () => {
  it.each([
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:11434/v1/', 'http://127.0.0.1:11434'],
    ['HTTPS://API.Example.COM:443/v1', 'https://api.example.com'],
    ['http://127.0.0.1:80/', 'http://127.0.0.1'],
    ['http://[0:0:0:0:0:0:0:1]:8000', 'http://[::1]:8000'],
    ['http://127.1/a/../v1', 'http://127.0.0.1'],
    // IPv4 in its other spellings (WHATWG "IPv4 parser"): one address, written one way.
    ['http://2130706433/', 'http://127.0.0.1'],
    ['http://0x7f.1:8000', 'http://127.0.0.1:8000'],
    ['http://0177.0.0.1/', 'http://127.0.0.1'],
    ['http://127.0.0.1.:9000/', 'http://127.0.0.1:9000'],
    ['http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]'],
    ['https://models.example.com./v1', 'https://models.example.com.'],
  ])('%s → %s', (input, normalized) => {
    expect(normalizeModelEndpoint(input)).toBe(normalized);
  });

  it.each([
    ['http://user:pw@127.0.0.1:8000', 'credentials'],
    ['http://user@127.0.0.1:8000', 'credentials'],
    ['http://@127.0.0.1:8000', 'credentials'],
    ['http://evil.example@127.0.0.1/', 'credentials'],
    ['http://127.0.0.1:8000/?x=1', 'query or fragment'],
    ['http://127.0.0.1:8000/?', 'query or fragment'],
    ['http://127.0.0.1:8000/#f', 'query or fragment'],
    ['unix:/run/model.sock', 'absolute http(s) URL'],
    ['http+unix://%2Frun%2Fmodel.sock/', 'absolute http(s) URL'],
    ['ftp://127.0.0.1/', 'absolute http(s) URL'],
    ['127.0.0.1:8000', 'absolute http(s) URL'],
    ['/v1', 'absolute http(s) URL'],
  ])('refuses %s (%s), naming the setting', (input, why) => {
    let error: unknown;
    try {
      normalizeModelEndpoint(input);
    } catch (e) {
      error = e;
    }
    expect(isSealgateError(error, 'invalid_argument')).toBe(true);
    expect((error as Error).message).toMatch(/^MODEL_URL /);
    expect((error as Error).message).toContain(why);
  });
});

describe('loopback and the default rules (builtin, loopback; no API key)', () => {
  it.each([
    'http://127.0.0.1:8000',
    'http://127.0.0.1',
    'http://127.255.255.254:1',
    'http://[::1]:11434/v1',
    'https://[::1]:8443',
    'http://2130706433:8000/',
    'http://0x7f.1/',
    'http://127.0.0.1.:8000',
  ])('allows %s', (url) => {
    expect(isLoopbackEndpoint(normalizeModelEndpoint(url))).toBe(true);
    expect(allowed(url)).toBe(true);
  });

  it.each([
    // A name: resolved at connect time through what nothing binds (RFC 6761 §6.3 is a request).
    'http://localhost:11434',
    'http://localhost.:11434',
    'http://127.0.0.1.nip.io:8000',
    'http://model.invalid:8000',
    'https://api.openai.com/v1',
    // Not 127.0.0.0/8 or ::1.
    'http://[::ffff:127.0.0.1]:8000',
    'http://[::ffff:7f00:1]:8000',
    'http://0.0.0.0:8000',
    'http://[::]:8000',
    'http://128.0.0.1:8000',
    'http://10.0.0.5:8000',
    'http://[::2]:8000',
  ])('refuses %s', (url) => {
    expect(isLoopbackEndpoint(normalizeModelEndpoint(url))).toBe(false);
    expect(allowed(url)).toBe(false);
  });

  it('allows the built-in model, and no API key with anything', () => {
    expect(endpointAllowed(DEFAULT, BUILTIN_ENDPOINT)).toBe(true);
    const manifest = parseManifest(example);
    expect(effectiveModelPolicy(manifest, 'worker')).toBe(DEFAULT_MODEL_POLICY);
    expect(
      evaluateModelConfig(manifest, 'worker', { endpoint: 'http://127.0.0.1:8000', apiKey: true }).map(
        (v) => v.code,
      ),
    ).toEqual(['model_api_key_not_allowed']);
    expect(
      evaluateModelConfig(manifest, 'worker', { endpoint: 'https://x.example', apiKey: true }).map(
        (v) => v.code,
      ),
    ).toEqual(['model_endpoint_not_allowed', 'model_api_key_not_allowed']);
  });
});

describe('an exact endpoint in the manifest', () => {
  const entries = ['https://models.example.com', 'http://127.0.0.1:8000'];
  it('matches that normalized endpoint only: scheme, host, port and path', () => {
    expect(allowed('https://models.example.com/v1/', entries)).toBe(true);
    expect(allowed('https://MODELS.example.com:443', entries)).toBe(true);
    expect(allowed('http://127.0.0.1:8000/v1', entries)).toBe(true);
    for (const other of [
      'http://models.example.com',
      'https://models.example.com:8443',
      'https://models.example.com./v1',
      'https://models.example.com/other',
      'https://evil-models.example.com',
      'http://127.0.0.1:8001',
      'http://[::1]:8000',
    ]) {
      expect(allowed(other, entries), other).toBe(false);
    }
    expect(endpointAllowed(entries, BUILTIN_ENDPOINT)).toBe(false);
  });
});

type Doc = { roles: { worker: Record<string, unknown>; 'attestation-service': Record<string, unknown> } };
function withModel(model: unknown, role: 'worker' | 'attestation-service' = 'worker'): Doc {
  const doc = structuredClone(example) as unknown as Doc;
  doc.roles[role].model = model;
  return doc;
}
function issues(doc: unknown): { path: string; message: string }[] {
  try {
    parseManifest(doc);
    return [];
  } catch (e) {
    if (!isSealgateError(e, 'invalid_manifest')) throw e;
    return (e.detail as { errors: { path: string; message: string }[] }).errors;
  }
}

describe('manifest: roles.worker.model', () => {
  it('absent keeps the digest (the pinned example) and means the default', async () => {
    expect(await manifestDigest(parseManifest(example))).toBe(
      'e7a260ba7374108c5a45a021cf499f20b0954661504f805e6f6d61c2735a83d9',
    );
  });

  it('accepts builtin, loopback and normalized URLs (https, or http to loopback), and apiKey', () => {
    const doc = withModel({
      endpoints: [
        'builtin',
        'loopback',
        'https://models.example.com',
        'http://127.0.0.1:8000',
        'http://[::1]',
      ],
      apiKey: 'allowed',
    });
    const m = parseManifest(doc);
    expect(m.roles.worker?.model).toEqual(doc.roles.worker.model);
    expect(effectiveModelPolicy(m, 'worker')).toEqual({
      endpoints: (doc.roles.worker.model as { endpoints: string[] }).endpoints,
      apiKey: 'allowed',
      written: true,
    });
    expect(effectiveModelPolicy(parseManifest(withModel({ endpoints: ['builtin'] })), 'worker').apiKey).toBe(
      'forbidden',
    );
  });

  it.each([
    [{ endpoints: ['https://models.example.com/v1'] }, '/endpoints/0', 'write "https://models.example.com"'],
    [{ endpoints: ['https://Models.example.com'] }, '/endpoints/0', 'not in normalized form'],
    [{ endpoints: ['http://2130706433:8000'] }, '/endpoints/0', 'write "http://127.0.0.1:8000"'],
    [
      { endpoints: ['http://models.example.com'] },
      '/endpoints/0',
      'plain http is allowed only to a loopback',
    ],
    [{ endpoints: ['http://localhost:8000'] }, '/endpoints/0', 'plain http is allowed only to a loopback'],
    [{ endpoints: ['https://u@models.example.com'] }, '/endpoints/0', 'credentials'],
    [{ endpoints: ['unix:/run/model.sock'] }, '/endpoints/0', 'absolute http(s) URL'],
    [{ endpoints: ['Builtin'] }, '/endpoints/0', 'absolute http(s) URL'],
    [{ endpoints: [] }, '/endpoints', 'at least one'],
    [{ endpoints: ['builtin', 'builtin'] }, '/endpoints/1', 'duplicate'],
    [{ endpoints: ['builtin'], apiKey: 'yes' }, '/apiKey', 'expected one of'],
    [{ endpoints: ['builtin'], proxy: 'x' }, '/proxy', 'unknown field'],
    [{ apiKey: 'allowed' }, '/endpoints', 'required field missing'],
  ])('refuses %j', (model, path, message) => {
    const found = issues(withModel(model));
    expect(found.map((i) => i.path)).toEqual([`/roles/worker/model${path}`]);
    expect(found[0]!.message).toContain(message);
  });

  it('refuses `model` under the attestation service (it sends no prompts)', () => {
    expect(issues(withModel({ endpoints: ['builtin'] }, 'attestation-service'))).toEqual([
      { path: '/roles/attestation-service/model', message: 'unknown field' },
    ]);
  });
});
