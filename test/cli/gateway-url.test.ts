import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { gatewayBaseUrl } from '../../src/cli/gateway-url.js';

describe('gatewayBaseUrl', () => {
  it('takes the gateway URL, a mount prefix, or the SDKs’ baseURL ending in /v1', () => {
    expect(gatewayBaseUrl('http://127.0.0.1:8787')).toBe('http://127.0.0.1:8787');
    expect(gatewayBaseUrl('http://127.0.0.1:8787/')).toBe('http://127.0.0.1:8787');
    expect(gatewayBaseUrl('http://127.0.0.1:8787/v1')).toBe('http://127.0.0.1:8787');
    expect(gatewayBaseUrl('https://gw.example/v1/')).toBe('https://gw.example');
    expect(gatewayBaseUrl('https://example.com/sealgate//')).toBe('https://example.com/sealgate');
    expect(gatewayBaseUrl('https://example.com/sealgate/v1')).toBe('https://example.com/sealgate');
    // Only a whole final `/v1` segment is the SDK's.
    expect(gatewayBaseUrl('https://example.com/api/v10')).toBe('https://example.com/api/v10');
    expect(gatewayBaseUrl('https://example.com/xv1')).toBe('https://example.com/xv1');
  });

  it('refuses what is no http(s) base URL, naming the flag', () => {
    for (const bad of [
      'localhost:8787',
      'ftp://gw.example',
      'https://gw.example/?a=1',
      'https://gw.example/#x',
      '',
    ]) {
      expect(() => gatewayBaseUrl(bad, '--url')).toThrow(UsageError);
    }
    expect(() => gatewayBaseUrl('nope', '--url')).toThrow(/^--url: "nope" is not an absolute URL$/);
  });
});
