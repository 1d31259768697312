import express, { Express } from 'express';
import type { Config } from '../../lib/config';
import { checkReadiness } from '../readiness';

/**
 * The hub's HTTP server. For now it serves liveness and readiness; the exchange API
 * (`/v1`) mounts here.
 */
export function createApp(config: Config): Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const checks = await checkReadiness(config);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.use((_req, res) => {
    res.status(404).json({ code: 'NOT_FOUND', message: 'no such route', details: {} });
  });
  return app;
}
