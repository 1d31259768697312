import crypto from 'node:crypto';
import express, { Express } from 'express';
import helmet from 'helmet';
import { ApiKeyStore } from '../api/auth';
import type { ApiDeps, ApiModule, ApiModuleFactory } from '../api/deps';
import { errorHandler, notFound } from '../api/http-errors';
import { defineRoute, mountRoutes, openApiDocument, type ApiRoute } from '../api/route';
import { auditModule } from '../api/audit';
import { metricsModule } from '../api/metrics';
import { RateLimiter } from '../api/rate-limit';
import { docsModule } from '../api/routes/docs';
import { ingestModule } from '../api/routes/ingest';
import { catalogueModule } from '../api/routes/catalogue';
import { partiesModule } from '../api/routes/parties';
import { topicsModule } from '../api/routes/topics';
import { checkReadiness } from '../readiness';

/** The API's parts, in mounting order: audit and metrics first, so they see every request. */
const MODULES: readonly ApiModuleFactory[] = [auditModule, metricsModule, docsModule, ingestModule, catalogueModule, partiesModule, topicsModule];

export interface HubApp {
  app: Express;
  /** Every /v1 route, as documented at /v1/openapi.json. */
  routes: readonly ApiRoute[];
  /** Starts what the modules run in the background (producer, receipt tracker, audit writer). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const API_INFO = {
  title: 'Liandong exchange API (联动数据共享交换接口)',
  version: '1',
  description: 'Push records, follow their receipts, read what your sharing agreement allows, discover the topics to subscribe to. Every call is audited.',
};

/**
 * The hub's HTTP server: liveness and readiness, `/metrics`, and the exchange API under `/v1`.
 *
 * @example
 *   const hub = createHubApp(runtime);
 *   await hub.start();
 *   hub.app.listen(18080);
 */
export function createHubApp(deps: ApiDeps): HubApp {
  const { config, logger } = deps;
  const modules: ApiModule[] = MODULES.map((make) => make(deps));
  const keys = new ApiKeyStore(deps.db, config.hub.key_cache_ms);
  const limiter = new RateLimiter(config.hub.rate_limit);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    res.locals.requestId = req.get('x-request-id')?.slice(0, 64) || crypto.randomUUID();
    res.set('X-Request-Id', res.locals.requestId);
    next();
  });
  // The docs page loads its own script and styles; nothing is loaded from elsewhere. No
  // upgrade-insecure-requests (a helmet default): on a hub reached over plain HTTP (an intranet
  // address, TLS ended elsewhere or not at all) it would send the page's own assets to https and break it.
  app.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], upgradeInsecureRequests: null } } }));
  for (const m of modules) for (const mw of m.middleware ?? []) app.use(mw);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await checkReadiness(config);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  for (const m of modules) m.outside?.(app);

  const routes: ApiRoute[] = modules.flatMap((m) => m.routes ?? []);
  // The document describes itself too: one list serves both the router and the document.
  const mounted = [openApiRoute(() => document), ...routes];
  const document = openApiDocument(mounted, API_INFO);
  const v1 = express.Router();
  v1.use(express.json({ limit: config.hub.body_limit_bytes, strict: true }));
  mountRoutes(v1, mounted, {
    authenticate: (req) => keys.authenticate(req),
    limit: (principal) => limiter.take(principal.keyId),
  });
  app.use('/v1', v1);
  app.use(notFound);
  app.use(errorHandler(logger));

  return {
    app,
    routes,
    start: async () => {
      for (const m of modules) await m.start?.();
    },
    stop: async () => {
      for (const m of [...modules].reverse()) await m.stop?.();
    },
  };
}

function openApiRoute(document: () => Record<string, unknown>): ApiRoute {
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    tag: 'docs',
    summary: 'This API as an OpenAPI 3.1 document',
    auth: 'public',
    responses: { 200: { description: 'the OpenAPI document, generated from the schemas the handlers validate with' } },
    handler: async () => ({ body: document() }),
  });
}
