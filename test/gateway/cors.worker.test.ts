/**
 * The gateway's CORS middleware (src/gateway/middleware/cors.ts) sets its headers once on the final
 * response instead of through hono/cors's early `c.res`; it must answer exactly as hono/cors with
 * the same options does — for every origin, configuration and method — and still decorate a
 * response whose headers are immutable.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/gateway/app-env.js';
import {
  ALLOW_HEADERS,
  allowedOrigin,
  corsMiddleware,
  EXPOSE_HEADERS,
} from '../../src/gateway/middleware/cors.js';

/** hono/cors with the options the gateway used before (the reference behaviour). */
function reference() {
  return cors({
    origin: (origin, c) => allowedOrigin(origin, c.env.CORS_ORIGINS),
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: [...ALLOW_HEADERS],
    exposeHeaders: [...EXPOSE_HEADERS],
    maxAge: 600,
  });
}

function appWith(middleware: ReturnType<typeof corsMiddleware>) {
  const app = new Hono<AppEnv>();
  app.use('*', middleware);
  app.use('/limited', async (c, next) => {
    c.header('x-ratelimit-remaining-requests', '9');
    await next();
  });
  // A middleware that answers itself (an auth failure, a rate limit), without the handler.
  app.use('/auth', async (c) => c.json({ error: { code: 'unauthorized' } }, 401));
  app.use('/limit', async () => new Response('slow down', { status: 429, headers: { 'retry-after': '1' } }));
  app.get('/auth', (c) => c.text('never'));
  app.get('/limit', (c) => c.text('never'));
  // A handler that sets CORS headers of its own: the middleware's win, as with hono/cors.
  app.get(
    '/own-cors',
    () =>
      new Response('x', {
        headers: { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x' },
      }),
  );
  app.post('/plain', (c) => c.text('posted', 502));
  app.get('/plain', () => new Response('ok', { headers: { vary: 'accept', 'x-sealgate-key-id': 'k' } }));
  app.get('/limited', (c) => c.json({ ok: true }));
  app.get('/immutable', () => Response.redirect('https://example.com/next', 302));
  app.get('/throws', () => {
    throw new Error('boom');
  });
  app.onError(() => new Response('err', { status: 500 }));
  return app;
}

function headersOf(res: Response): [string, string][] {
  const all: [string, string][] = [];
  res.headers.forEach((value, name) => {
    all.push([name, value]);
  });
  return all.sort(([a], [b]) => a.localeCompare(b));
}

describe('CORS middleware', () => {
  const ours = appWith(corsMiddleware());
  const theirs = appWith(reference() as ReturnType<typeof corsMiddleware>);
  const configs = ['', 'https://app.example', 'https://a.example, https://app.example', '*', 'null'];
  const origins = [
    undefined,
    '',
    'null',
    'https://app.example',
    'https://evil.example',
    'https://APP.example',
  ];
  const paths = ['/plain', '/limited', '/immutable', '/throws', '/missing', '/auth', '/limit', '/own-cors'];

  it('answers every request exactly as hono/cors with the same options', async () => {
    let compared = 0;
    for (const CORS_ORIGINS of configs) {
      for (const origin of origins) {
        for (const path of paths) {
          for (const method of ['GET', 'POST', 'OPTIONS']) {
            const init = {
              method,
              headers: {
                ...(origin !== undefined ? { origin } : {}),
                ...(method === 'OPTIONS' ? { 'access-control-request-method': 'POST' } : {}),
              },
            };
            const env = { CORS_ORIGINS } as AppEnv['Bindings'];
            const a = await ours.request(path, init, env);
            const b = await theirs.request(path, init, env);
            const where = `${method} ${path} origin=${origin} CORS_ORIGINS=${CORS_ORIGINS}`;
            expect(a.status, where).toBe(b.status);
            expect(headersOf(a), where).toEqual(headersOf(b));
            expect(await a.text(), where).toBe(await b.text());
            compared++;
          }
        }
      }
    }
    expect(compared).toBe(configs.length * origins.length * paths.length * 3);
  });

  it('decorates a response whose headers are immutable (copies it)', async () => {
    const res = await ours.request('/immutable', { headers: { origin: 'https://app.example' } }, {
      CORS_ORIGINS: 'https://app.example',
    } as AppEnv['Bindings']);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://example.com/next');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('keeps a handler’s Vary and adds Origin; a foreign origin gets no allow-origin', async () => {
    const res = await ours.request('/plain', { headers: { origin: 'https://evil.example' } }, {
      CORS_ORIGINS: 'https://app.example',
    } as AppEnv['Bindings']);
    expect(res.headers.get('vary')).toBe('accept, Origin');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toContain('x-sealgate-receipt');
  });
});
