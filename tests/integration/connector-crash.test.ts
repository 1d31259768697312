import { spawn } from 'node:child_process';
import type { Knex } from 'knex';
import { startEnforcementApi } from '../../connectors/simulators/enforcement-api';
import { createDb } from '../../lib/db';
import { createKafka } from '../../lib/kafka-client';
import { createRegistry } from '../../lib/registry-client';
import type { RawEnvelope } from '../../pipelines/raw-envelope';
import { rawTopic } from '../../schemas/catalog';
import { CLI, runCli } from '../support/cli';
import { connectorSource, penaltyPull } from '../support/connectors';
import { eventually } from '../support/helpers';
import { consumeAll, isolatedConfig } from '../support/pipeline';
import { Normaliser } from '../../pipelines/normalise/normaliser';
import { createLogger } from '../../lib/log';
import { testConfig } from '../support/stack';

const RECORDS = 60_000;

describe('a large pull killed with SIGKILL', () => {
  it('has every source record in the raw topic after a rerun; duplicates are identical re-sends', async () => {
    const config = testConfig();
    const db: Knex = createDb(config, { poolMax: 2 });
    const api = await startEnforcementApi({ seed: 31, count: RECORDS });
    try {
      const { source, dir } = connectorSource('jq-amr-penalty', penaltyPull(api.url, { page_size: 500 }));
      const env = { LIANDONG__SOURCES_DIR: dir, LIANDONG_LOG_LEVEL: 'error' };
      const saved = async () => (await db('ops.connector_state').where({ source_id: source.id }).first())?.state ?? null;

      for (let kill = 0; kill < 2; kill++) {
        const before = JSON.stringify(await saved());
        const child = spawn(process.execPath, [CLI, 'connector', 'run', source.id], { env: { ...process.env, ...env }, stdio: 'ignore' });
        // Let it checkpoint at least once more, then kill it mid-page.
        await eventually(async () => JSON.stringify(await saved()) !== before, 120_000, 'the pull to checkpoint');
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      const final = await runCli(['connector', 'run', source.id], env);
      expect(final.stdout).toMatch(new RegExp(`${source.id} succeeded`));
      const list = await runCli(['connector', 'list'], env);
      expect(list.stdout).toMatch(new RegExp(`${source.id}\\s+http-pull\\s+-\\s+\\{"watermark":\\{[^}]*"id":"JSJ-[^"]+"[^}]*\\}\\}\\s+\\S+ succeeded\\s+\\d+`));

      const landed = await consumeAll(kafka(), registry(), rawTopic(source.id));
      const byKey = new Map<string, Set<string>>();
      for (const m of landed) {
        const envelope = m.value as unknown as RawEnvelope;
        const item = JSON.parse(envelope.payload);
        const key = `${item.id}@${item.updated_at}`;
        byKey.set(key, (byKey.get(key) ?? new Set()).add(envelope.payload_sha256));
      }
      const expected = [...api.groundTruth()];
      expect(expected).toHaveLength(RECORDS);
      for (const r of expected) expect(byKey.has(`${r.id}@${r.updated_at}`)).toBe(true);
      // A record read twice (before and after a kill) was sent twice byte for byte.
      expect([...byKey.values()].every((digests) => digests.size === 1)).toBe(true);
      // The normaliser recognises the re-sends and normalises each version once.
      const sources = new Map([[source.id, source]]);
      const config2 = isolatedConfig(config, dir);
      const normaliser = new Normaliser({ config: config2, kafka: kafka(), registry: registry(), sources, piiSecret: 'test-secret', logger: createLogger({}, { level: 'error' }) });
      await normaliser.start();
      try {
        await eventually(() => normaliser.stats.read >= landed.length, 120_000, 'the normaliser to read the raw topic');
      } finally {
        await normaliser.stop();
      }
      expect(normaliser.stats.duplicates).toBe(landed.length - byKey.size);
      expect(normaliser.stats.canonical + normaliser.stats.dead).toBe(byKey.size);

      const runs = await db('ops.connector_runs').where({ source_id: source.id }).orderBy('started_at');
      expect(runs.map((r: { status: string; error: string | null }) => [r.status, r.error])).toEqual([
        ['failed', 'interrupted: the process running it stopped'],
        ['failed', 'interrupted: the process running it stopped'],
        ['succeeded', null],
      ]);
    } finally {
      await api.close();
      await db.destroy();
    }
  });
});

function kafka() {
  return createKafka(testConfig(), { clientId: 'it-connector-crash' });
}
function registry() {
  return createRegistry(testConfig());
}
