import crypto from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import pg from 'pg';
import { isProgrammingError, LiandongError, SourceError } from '../lib/errors';
import type { Logger } from '../lib/log';
import type { SourceDefinition } from '../pipelines/normalise/mapping';
import { buildEnvelope, RawEnvelope } from '../pipelines/raw-envelope';
import type { ConnectorContext, ConnectorState } from './contract';
import { CONNECTOR_KINDS } from './kinds';
import { RawProducer } from './raw-producer';

export interface RunnerDeps {
  kafka: Kafka;
  registry: SchemaRegistry;
  db: Knex;
  logger: Logger;
}

export interface RunOptions {
  fullRefresh?: boolean;
  trigger?: 'manual' | 'schedule' | 'test';
  /** Called as records are produced (for a progress line). */
  onProgress?: (progress: { read: number; produced: number }) => void;
  /** Retriable failures in a row, without progress in between, before the run is failed. */
  maxAttempts?: number;
  signal?: AbortSignal;
}

export interface RunSummary {
  runId: string;
  sourceId: string;
  status: 'succeeded' | 'failed';
  read: number;
  produced: number;
  failed: number;
  attempts: number;
  durationMs: number;
  error?: string;
}

const FLUSH_EVERY = 1000;

/** Exponential backoff with full jitter, never shorter than what the source asked for. */
export function backoffMs(attempt: number, retryAfterMs?: number): number {
  const ceiling = Math.min(30_000, 500 * 2 ** (attempt - 1));
  return Math.max(retryAfterMs ?? 0, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2));
}

/**
 * Runs that cannot overlap: one per source across every process, by a PostgreSQL advisory lock
 * held on a connection of its own (not one of the pool's), released whatever happens.
 */
async function lockSource(db: Knex, sourceId: string): Promise<(() => Promise<void>) | null> {
  const settings = db.client.config.connection as pg.ClientConfig;
  const client = new pg.Client({ ...settings, application_name: `liandong-lock-${sourceId}`.slice(0, 63) });
  client.on('error', () => undefined);
  const key = `liandong:connector:${sourceId}`;
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [key]);
    if (rows[0].ok) return () => client.end().catch(() => undefined); // ending the session releases the lock
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  await client.end().catch(() => undefined);
  return null;
}

/**
 * Runs a source's connector once. The runner, not the connector, produces to Kafka (idempotent,
 * acks=all) and persists the connector's state only after Kafka acknowledged every record read
 * before it; a retriable failure restarts the read from the last persisted state after a backoff
 * (honouring Retry-After); a permanent one fails the run and leaves the state where it was.
 */
export async function runSource(deps: RunnerDeps, source: SourceDefinition, options: RunOptions = {}): Promise<RunSummary> {
  if (!source.connector) throw new LiandongError('NO_CONNECTOR', `source ${source.id} has no connector: its records arrive through the push API`);
  const kind = CONNECTOR_KINDS[source.connector.kind];
  const config = kind.config.parse(source.connector.config);
  const runId = `run-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${crypto.randomBytes(3).toString('hex')}`;
  const logger = deps.logger.child({ source: source.id, run: runId });
  const unlock = await lockSource(deps.db, source.id);
  if (!unlock) throw new LiandongError('RUN_IN_PROGRESS', `source ${source.id} is already being pulled by another run`);
  try {
    return await runLocked(deps, source, kind, config, runId, logger, options);
  } finally {
    await unlock();
  }
}

async function runLocked(
  deps: RunnerDeps,
  source: SourceDefinition,
  kind: (typeof CONNECTOR_KINDS)[string],
  config: unknown,
  runId: string,
  logger: Logger,
  options: RunOptions,
): Promise<RunSummary> {
  // Holding the lock, any run of this source still marked running died with its process.
  await deps.db('ops.connector_runs')
    .where({ source_id: source.id, status: 'running' })
    .update({ status: 'failed', finished_at: new Date(), error: 'interrupted: the process running it stopped' });
  const started = Date.now();
  const summary: RunSummary = { runId, sourceId: source.id, status: 'succeeded', read: 0, produced: 0, failed: 0, attempts: 0, durationMs: 0 };
  await deps.db('ops.connector_runs').insert({
    run_id: runId,
    source_id: source.id,
    trigger: options.trigger ?? 'manual',
    full_refresh: options.fullRefresh ?? false,
    started_at: new Date(started),
    status: 'running',
  });
  const producer = new RawProducer(deps.kafka, deps.registry);
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort());
  const ctx = connectorContext(source.id, logger, abort.signal);
  try {
    await producer.connect();
    const maxAttempts = options.maxAttempts ?? 6;
    let state = options.fullRefresh ? null : await loadState(deps.db, source.id);
    // Failures in a row without progress: a run that keeps moving forward is not given up on.
    let failuresInARow = 0;
    while (true) {
      summary.attempts++;
      let pending: RawEnvelope[] = [];
      const flush = async () => {
        if (pending.length === 0) return;
        await producer.send(pending);
        summary.produced += pending.length;
        pending = [];
        options.onProgress?.({ read: summary.read, produced: summary.produced });
      };
      try {
        for await (const item of kind.read(config, state, ctx)) {
          if (item.type === 'record') {
            summary.read++;
            pending.push(buildEnvelope({ sourceId: source.id, dataset: source.dataset, payload: item.payload, recordKey: item.key, runId, contentType: item.contentType }));
            if (pending.length >= FLUSH_EVERY) await flush();
          } else if (item.type === 'state') {
            await flush();
            await saveState(deps.db, source.id, item.state, runId);
            state = item.state;
            failuresInARow = 0;
          } else {
            summary.failed++;
            logger.warn('source item rejected', { what: item.what, reason: item.reason });
          }
        }
        await flush();
        break;
      } catch (err) {
        // Records read after the last saved state are read again on the next attempt.
        const retriable = isProgrammingError(err) ? false : err instanceof LiandongError ? err.retriable : (err as { retriable?: boolean }).retriable === true;
        failuresInARow++;
        if (!retriable || failuresInARow >= maxAttempts || abort.signal.aborted) throw err;
        const wait = backoffMs(failuresInARow, err instanceof SourceError ? err.retryAfterMs : undefined);
        logger.warn('retriable failure, retrying from the last saved state', { error: err, attempt: summary.attempts, waitMs: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  } catch (err) {
    summary.status = 'failed';
    summary.error = (err as Error).message;
    logger.error('run failed', { error: err });
  } finally {
    summary.durationMs = Date.now() - started;
    await producer.disconnect().catch(() => undefined);
    await deps.db('ops.connector_runs').where({ run_id: runId }).update({
      finished_at: new Date(),
      status: summary.status,
      records_read: summary.read,
      records_produced: summary.produced,
      records_failed: summary.failed,
      attempts: summary.attempts,
      duration_ms: summary.durationMs,
      error: summary.error ?? null,
    });
  }
  return summary;
}

/** What a connector kind gets to talk to its source: a logger, a cancel signal and its secrets. */
export function connectorContext(sourceId: string, logger: Logger, signal: AbortSignal): ConnectorContext {
  return {
    logger,
    signal,
    secret: (name) => {
      const value = process.env[name];
      if (!value) throw new SourceError(`environment variable ${name} (a secret of source ${sourceId}) is not set`, undefined, { retriable: false });
      return value;
    },
  };
}

export async function loadState(db: Knex, sourceId: string): Promise<ConnectorState | null> {
  const row = await db('ops.connector_state').where({ source_id: sourceId }).first<{ state: ConnectorState } | undefined>();
  return row?.state ?? null;
}

async function saveState(db: Knex, sourceId: string, state: ConnectorState, runId: string): Promise<void> {
  await db('ops.connector_state')
    .insert({ source_id: sourceId, state: JSON.stringify(state), run_id: runId, updated_at: new Date() })
    .onConflict('source_id')
    .merge();
}
