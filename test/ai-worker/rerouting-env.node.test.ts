/**
 * Node settings that would reroute or unauthenticate the model call are refused at start
 * (src/ai-worker/rerouting-env.ts); the TLS ones only when the model call is TLS.
 */
import { describe, expect, it } from 'vitest';
import { refuseReroutingEnvironment } from '../../src/ai-worker/rerouting-env.js';

const refused = (env: Record<string, string>, argv: string[] = []): string | null => {
  try {
    refuseReroutingEnvironment(env, argv);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('refuseReroutingEnvironment', () => {
  it('refuses the environment proxy whatever the endpoint (node:http honours it only then)', () => {
    expect(refused({ NODE_USE_ENV_PROXY: '1' })).toContain('NODE_USE_ENV_PROXY');
    expect(refused({ NODE_OPTIONS: '--max-old-space-size=512 --use-env-proxy' })).toContain(
      '--use-env-proxy',
    );
    expect(refused({}, ['--use-env-proxy'])).toContain('--use-env-proxy');
    // HTTP_PROXY alone: node:http ignores it (the model client is node:http, node-http-fetch.ts).
    expect(
      refused({ HTTP_PROXY: 'http://proxy.invalid:3128', MODEL_URL: 'http://127.0.0.1:8000' }),
    ).toBeNull();
  });

  it('refuses TLS settings when MODEL_URL is https (or does not parse), not for http or builtin', () => {
    const https = { MODEL_URL: 'https://models.example.com' };
    expect(refused({ ...https, NODE_TLS_REJECT_UNAUTHORIZED: '0' })).toContain(
      'NODE_TLS_REJECT_UNAUTHORIZED',
    );
    expect(refused({ ...https, NODE_EXTRA_CA_CERTS: '/tmp/ca.pem' })).toContain('NODE_EXTRA_CA_CERTS');
    expect(refused({ ...https, NODE_OPTIONS: '--use-openssl-ca' })).toContain('--use-openssl-ca');
    expect(refused({ ...https }, ['--use-system-ca'])).toContain('--use-system-ca');
    expect(refused({ MODEL_URL: 'not a url', NODE_EXTRA_CA_CERTS: '/tmp/ca.pem' })).toContain(
      'NODE_EXTRA_CA_CERTS',
    );
    expect(refused({ ...https, NODE_TLS_REJECT_UNAUTHORIZED: '1' })).toBeNull();
    expect(refused({ MODEL_URL: 'http://127.0.0.1:8000', NODE_EXTRA_CA_CERTS: '/tmp/ca.pem' })).toBeNull();
    expect(refused({ NODE_EXTRA_CA_CERTS: '/tmp/ca.pem', NODE_TLS_REJECT_UNAUTHORIZED: '0' })).toBeNull();
  });
});
