import type { Knex } from 'knex';
import { Scheduler } from '../../connectors/scheduler';
import { startEnforcementApi } from '../../connectors/simulators/enforcement-api';
import { createDb } from '../../lib/db';
import { createKafka } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { migrateLatest } from '../../sql/migrate';
import { connectorSource, penaltyPull } from '../support/connectors';
import { eventually } from '../support/helpers';
import { testConfig } from '../support/stack';

describe('the connector scheduler', () => {
  it('runs a source on its cron schedule and never two runs of it at once', async () => {
    const config = testConfig();
    const db: Knex = createDb(config, { poolMax: 4 });
    // Slow answers make each run outlast the one-second schedule, so ticks find it still going.
    const api = await startEnforcementApi({ seed: 41, count: 400, faults: { slowRate: 1, slowMs: 300 } });
    const { source } = connectorSource('jq-amr-penalty', { ...penaltyPull(api.url, { timeout_ms: 5000 }), schedule: '* * * * * *' });
    const kafka = createKafka(config, { clientId: 'it-scheduler' });
    const registry = createRegistry(config);
    await migrateLatest(db);
    await prepareTopicsAndSchemas(config, kafka, registry, [source.id]);
    const scheduler = new Scheduler({ kafka, registry, db, logger: createLogger({}, { level: 'error' }) }, new Map([[source.id, source]]));
    try {
      expect(scheduler.start()).toBe(1);
      await eventually(async () => (await db('ops.connector_runs').where({ source_id: source.id, status: 'succeeded' })).length >= 2, 60_000, 'two scheduled runs');
    } finally {
      await scheduler.stop();
      await api.close();
    }
    const runs = await db('ops.connector_runs').where({ source_id: source.id }).orderBy('started_at');
    expect(runs.every((r: { trigger: string }) => r.trigger === 'schedule')).toBe(true);
    for (let i = 1; i < runs.length; i++) expect(new Date(runs[i].started_at).getTime()).toBeGreaterThanOrEqual(new Date(runs[i - 1].finished_at).getTime());
    expect(runs[0].records_read).toBe('400');
    await db.destroy();
  });
});
