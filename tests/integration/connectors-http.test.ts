import type { Knex } from 'knex';
import { runSource, RunnerDeps } from '../../connectors/runner';
import { startEnforcementApi } from '../../connectors/simulators/enforcement-api';
import { startHotlineApi } from '../../connectors/simulators/hotline-api';
import { SimulatedApi } from '../../connectors/simulators/api-server';
import type { RawEnvelope } from '../../pipelines/raw-envelope';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { rawTopic } from '../../schemas/catalog';
import { connectorSource, penaltyPull, ticketPull, useRunnerDeps } from '../support/connectors';
import { eventually } from '../support/helpers';
import { consumeAll } from '../support/pipeline';

const clients = useRunnerDeps('it-connectors');
const { config, kafka, registry } = clients;
let db: Knex;
let deps: RunnerDeps;
beforeAll(() => {
  db = clients.db();
  deps = clients.deps();
});

/** (id, updated_at) of every envelope in a source's raw topic, with how often each landed. */
async function landed(sourceId: string, idField: string, updatedField: string): Promise<Map<string, number>> {
  const envelopes = await consumeAll(kafka, registry, rawTopic(sourceId));
  const counts = new Map<string, number>();
  for (const { value } of envelopes) {
    const payload = JSON.parse((value as unknown as RawEnvelope).payload);
    const key = `${payload[idField]}@${payload[updatedField]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function truth(api: SimulatedApi): string[] {
  return [...api.groundTruth()].map((r) => `${r.id}@${r.updated_at}`);
}

async function prepare(sourceId: string): Promise<void> {
  await prepareTopicsAndSchemas(config, kafka, registry, [sourceId]);
}

describe('http-pull connector', () => {
  it('pulls every penalty once, across page boundaries inside bursts of equal updated_at, then only what is new', async () => {
    const api = await startEnforcementApi({ seed: 11, count: 3000 });
    try {
      const { source } = connectorSource('jq-amr-penalty', penaltyPull(api.url, { page_size: 97 }));
      await prepare(source.id);
      const first = await runSource(deps, source);
      expect(first).toMatchObject({ status: 'succeeded', read: 3000, produced: 3000, failed: 0 });

      api.grow(1500); // new cases and corrections of earlier ones, all later than the first run
      const second = await runSource(deps, source);
      expect(second.status).toBe('succeeded');
      const counts = await landed(source.id, 'id', 'updated_at');
      // Every version the API now holds arrived, and nothing arrived twice.
      for (const key of truth(api)) expect(counts.get(key)).toBe(1);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect(second.read).toBe([...counts.values()].length - 3000);

      const run = await db('ops.connector_runs').where({ run_id: second.runId }).first();
      expect(run).toMatchObject({ status: 'succeeded', records_read: String(second.read), records_produced: String(second.read) });
    } finally {
      await api.close();
    }
  });

  it('loses nothing when corrections move records in the list while a run is paging through it', async () => {
    const api = await startEnforcementApi({ seed: 11, count: 6000, faults: { slowRate: 1, slowMs: 60 } });
    try {
      // Pages larger than the largest burst (300): offsets are then walked only from a new timestamp.
      const { source } = connectorSource('jq-amr-penalty', penaltyPull(api.url, { page_size: 400 }));
      await prepare(source.id);
      const running = runSource(deps, source);
      await eventually(() => api.stats.requests >= 5, 60_000, 'the run to be five pages in');
      api.grow(600); // new cases, and corrections that move earlier cases to the end of the list
      expect((await running).status).toBe('succeeded');
      expect((await runSource(deps, source)).status).toBe('succeeded');
      const counts = await landed(source.id, 'id', 'updated_at');
      const missing = truth(api).filter((key) => !counts.has(key));
      expect(missing).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('walks the 12345 cursor feed, every ticket version once, and resumes from its cursor', async () => {
    const api = await startHotlineApi({ seed: 12, count: 1200 });
    try {
      const { source } = connectorSource('jq-12345', ticketPull(api.url));
      await prepare(source.id);
      expect((await runSource(deps, source)).status).toBe('succeeded');
      api.grow(400);
      expect((await runSource(deps, source)).status).toBe('succeeded');
      const counts = await landed(source.id, '工单编号', '更新时间');
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      for (const key of truth(api)) expect(counts.get(key)).toBe(1);
    } finally {
      await api.close();
    }
  });

  it('completes despite 500s, 429s with Retry-After and timeouts', async () => {
    const api = await startEnforcementApi({ seed: 13, count: 2000, faults: { errorRate: 0.15, throttleRate: 0.1, retryAfterSeconds: 1, slowRate: 0.05, slowMs: 3000 } });
    try {
      const { source } = connectorSource('jq-amr-penalty', penaltyPull(api.url, { timeout_ms: 1000 }));
      await prepare(source.id);
      const summary = await runSource(deps, source, { maxAttempts: 10 });
      expect(summary.status).toBe('succeeded');
      expect(summary.attempts).toBeGreaterThan(1);
      expect(api.stats.byKind.error + api.stats.byKind.throttle + api.stats.byKind.slow).toBeGreaterThan(0);
      const counts = await landed(source.id, 'id', 'updated_at');
      for (const key of truth(api)) expect(counts.get(key)).toBeGreaterThanOrEqual(1);
    } finally {
      await api.close();
    }
  });

  it('fails a run on a permanent error, with the reason, and leaves the cursor where it was', async () => {
    const api = await startEnforcementApi({ seed: 14, count: 300, token: 'agency-token' });
    process.env.IT_AGENCY_TOKEN = 'agency-token';
    try {
      const { source } = connectorSource('jq-amr-penalty', penaltyPull(api.url, { token_env: 'IT_AGENCY_TOKEN' }));
      await prepare(source.id);
      expect((await runSource(deps, source)).status).toBe('succeeded');
      const before = await db('ops.connector_state').where({ source_id: source.id }).first();

      api.grow(100);
      api.setFaults({ permanent: 'unauthorized' });
      const failed = await runSource(deps, source);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(/HTTP 401/);
      expect(failed.attempts).toBe(1); // not worth retrying
      const after = await db('ops.connector_state').where({ source_id: source.id }).first();
      expect(after.state).toEqual(before.state);
      const run = await db('ops.connector_runs').where({ run_id: failed.runId }).first();
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/HTTP 401/);
    } finally {
      delete process.env.IT_AGENCY_TOKEN;
      await api.close();
    }
  });

  it('refuses a second run of a source while one is going', async () => {
    const api = await startEnforcementApi({ seed: 15, count: 3000, faults: { slowRate: 1, slowMs: 200 } });
    try {
      const { source } = connectorSource('jq-amr-penalty', penaltyPull(api.url));
      await prepare(source.id);
      const first = runSource(deps, source);
      await new Promise((r) => setTimeout(r, 300));
      await expect(runSource(deps, source)).rejects.toThrow(/already being pulled/);
      api.setFaults({});
      expect((await first).status).toBe('succeeded');
    } finally {
      await api.close();
    }
  });
});
