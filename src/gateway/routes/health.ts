/** `GET /healthz`: {status, manifestDigest, simulated}; no API key (docs/gateway.md "Routes"). */
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';

export function healthRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => {
    const config = c.get('config');
    return c.json({ status: 'ok', manifestDigest: config.manifestDigest, simulated: config.simulated });
  });
  return app;
}
