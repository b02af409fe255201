/**
 * The gateway's configuration checks (src/gateway/config.ts) on the test Worker's own env, one
 * variable changed at a time: a value that is not what the docs allow refuses to serve, with the
 * variable named, rather than running without what was asked for.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/gateway/config.js';
import { env } from './stack.js';

const withVars = (vars: Record<string, string | undefined>) => loadConfig({ ...env, ...vars });

describe('gateway configuration: the TDX collateral sources', () => {
  it("defaults to Intel's PCS and Intel's Root CA CRL", async () => {
    const r = await withVars({ TDX_PCS_URL: undefined, TDX_PCS_ROOT_CA_CRL_URL: undefined });
    expect(r.ok && r.config.pcsBaseUrl).toBe('https://api.trustedservices.intel.com');
    expect(r.ok && r.config.pcsRootCaCrlUrl).toBeUndefined();
  });

  it('takes a PCCS and its Root CA CRL URL', async () => {
    const r = await withVars({
      TDX_PCS_URL: 'https://pccs.internal.example/',
      TDX_PCS_ROOT_CA_CRL_URL: ' https://pccs.internal.example/sgx/certification/v4/rootcacrl ',
    });
    expect(r.ok && r.config.pcsBaseUrl).toBe('https://pccs.internal.example');
    expect(r.ok && r.config.pcsRootCaCrlUrl).toBe(
      'https://pccs.internal.example/sgx/certification/v4/rootcacrl',
    );
  });

  it('refuses a value that is not an http(s) URL, naming the variable', async () => {
    for (const [name, value] of [
      ['TDX_PCS_URL', 'ftp://pccs.example'],
      ['TDX_PCS_ROOT_CA_CRL_URL', 'file:///etc/crl.der'],
      ['TDX_PCS_ROOT_CA_CRL_URL', 'not a url'],
    ] as const) {
      const r = await withVars({ [name]: value });
      expect(r.ok, `${name}=${value}`).toBe(false);
      expect(r.ok ? '' : r.reason).toContain(name);
    }
  });
});

describe('gateway configuration: the workers', () => {
  it('reads each worker URL as its base URL: one spelling per worker, no trailing slash', async () => {
    const r = await withVars({
      WORKER_URLS:
        ' HTTPS://Worker-1.Example:443/ , http://worker-2.example:8789//, https://w3.example/base/,https://worker-1.example',
    });
    expect(r.ok && r.config.workerUrls).toEqual([
      'https://worker-1.example',
      'http://worker-2.example:8789',
      'https://w3.example/base',
      'https://worker-1.example',
    ]);
  });

  it('refuses a worker URL that is not an http(s) URL, or carries a query or fragment', async () => {
    for (const value of ['ftp://w.example', 'w.example', 'https://w.example/?x=1', 'https://w.example/#f']) {
      const r = await withVars({ WORKER_URLS: value });
      expect(r.ok, value).toBe(false);
      expect(r.ok ? '' : r.reason).toContain('WORKER_URLS');
    }
  });
});
