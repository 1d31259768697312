import type { Application, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { onResponseDone, routeTemplate } from './audit';
import type { ApiModuleFactory } from './deps';
import { PipelineReader } from './metrics-pipeline';

/**
 * Prometheus metrics at `/metrics`: HTTP requests (count and duration by method, route template
 * and status), records accepted and rejected by the ingest API, and the pipeline's figures read
 * when scraped (records in and out, open dead letters, consumer lag; metrics-pipeline.ts).
 *
 * Each app has a Registry of its own, not prom-client's global one: tests run several apps in
 * one process, and each must count only its own requests.
 *
 * `/metrics` is served without a key: it carries no personal data — labels are route templates
 * (never raw paths, which may hold an ID number), dataset names, source ids, consumer names and
 * status codes. Restrict it at the network level like any operations endpoint.
 */
export interface HubMetrics {
  registry: Registry;
  /** Counts records an ingest call accepted and rejected for a dataset. */
  recordIngest(dataset: string, accepted: number, rejected: number): void;
}

const LOCALS_KEY = 'liandongMetrics';

/** The metrics of an app (undefined if the metrics module is not mounted on it). */
export function appMetrics(app: Application): HubMetrics | undefined {
  return app.locals[LOCALS_KEY] as HubMetrics | undefined;
}

/**
 * For the ingest handler: count what one call accepted and rejected, on the metrics of the app
 * that answered it (`liandong_records_ingested_total{dataset, outcome}`).
 *
 * @example
 *   handler: async ({ res, params, body }) => {
 *     …
 *     recordIngest(res, params.dataset, accepted.length, rejected.length);
 *   }
 */
export function recordIngest(res: Response, dataset: string, accepted: number, rejected: number): void {
  appMetrics(res.app)?.recordIngest(dataset, accepted, rejected);
}

export const metricsModule: ApiModuleFactory = ({ kafka, db, logger, config, sources }) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'liandong_http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'liandong_http_request_duration_seconds',
    help: 'Time from a request arriving to its response finishing, by method, route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ingested = new Counter({ name: 'liandong_records_ingested_total', help: 'Records pushed through the ingest API, by dataset and outcome (accepted | rejected)', labelNames: ['dataset', 'outcome'], registers: [registry] });

  const pipeline = new PipelineReader({ kafka, db, logger: logger.child({ part: 'metrics' }), sourceIds: [...sources.keys()], normaliserGroup: config.normaliser.group_id });
  // Each gauge refills itself from the shared (cached) snapshot when scraped; reset first so a
  // source or consumer that disappeared does not linger with its last value.
  const scraped = <L extends string>(name: string, help: string, labels: L[], fill: (g: Gauge<L>, s: Awaited<ReturnType<PipelineReader['snapshot']>>) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      async collect() {
        const snapshot = await pipeline.snapshot();
        this.reset();
        fill(this, snapshot);
      },
    });
  scraped('liandong_records_in', 'Records landed in raw.<source> (sum of its partitions\' high watermarks)', ['source'], (g, s) => {
    for (const [source, n] of s.recordsIn) g.set({ source }, n);
  });
  scraped('liandong_records_out', 'Records on the canonical topic of a dataset (sum of high watermarks; transaction markers count too)', ['dataset'], (g, s) => {
    for (const [dataset, n] of s.recordsOut) g.set({ dataset }, n);
  });
  scraped('liandong_dlq_open', 'Dead letters not yet resolved, by source (ops.dlq)', ['source'], (g, s) => {
    for (const [source, n] of s.dlqOpen) g.set({ source }, n);
  });
  scraped('liandong_consumer_lag_messages', 'Messages a consumer is behind: the normaliser over the raw topics, each warehouse consumer over the canonical topics', ['pipeline', 'consumer'], (g, s) => {
    for (const l of s.lag) g.set({ pipeline: l.pipeline, consumer: l.consumer }, l.messages);
  });
  scraped('liandong_metrics_backend_up', 'Whether Kafka / PostgreSQL answered the last scrape-time read (0: their figures are missing)', ['backend'], (g, s) => {
    g.set({ backend: 'kafka' }, s.up.kafka ? 1 : 0);
    g.set({ backend: 'postgres' }, s.up.postgres ? 1 : 0);
  });

  const metrics: HubMetrics = {
    registry,
    recordIngest: (dataset, accepted, rejected) => {
      if (accepted > 0) ingested.inc({ dataset, outcome: 'accepted' }, accepted);
      if (rejected > 0) ingested.inc({ dataset, outcome: 'rejected' }, rejected);
    },
  };

  const measure: RequestHandler = (req, res, next) => {
    const stop = duration.startTimer();
    onResponseDone(res, (finished) => {
      const labels = { method: req.method, route: routeTemplate(req, res), status: String(finished ? res.statusCode : 499) };
      requests.inc(labels);
      stop(labels);
    });
    next();
  };

  return {
    middleware: [measure],
    outside: (app) => {
      app.locals[LOCALS_KEY] = metrics;
      app.get('/metrics', async (_req, res) => {
        res.set('Content-Type', registry.contentType);
        res.send(await registry.metrics());
      });
    },
    stop: () => pipeline.stop(),
  };
};
