import type { Knex } from 'knex';
import { AgencySimulator, Defect, SimulatedRecord } from '../../connectors/simulators/agency-records';
import { RawProducer } from '../../connectors/raw-producer';
import { createDb } from '../../lib/db';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { piiSecret } from '../../lib/secrets';
import { DATASET_TOPICS, DLQ_TOPIC, rawTopic } from '../../schemas/catalog';
import { listDeadLetters } from '../../pipelines/normalise/dlq-table';
import { DlqTableSink } from '../../pipelines/normalise/dlq-sink';
import { loadSources } from '../../pipelines/normalise/mapping';
import { Normaliser, NormaliserDeps } from '../../pipelines/normalise/normaliser';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { retryDeadLetters } from '../../pipelines/normalise/reprocess';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { migrateLatest } from '../../sql/migrate';
import { runCli } from '../support/cli';
import { eventually } from '../support/helpers';
import { consumeAll, ConsumedMessage, isolatedConfig, isolatedSources, testStart } from '../support/pipeline';
import { testConfig } from '../support/stack';

const TOTAL = 10_000;
const GARBAGE = 25; // raw messages that are not even Avro envelopes

/** The dead-letter code each simulated defect must produce. */
const EXPECTED_CODE: Record<Defect, string> = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  BAD_DATE: 'BAD_DATE',
  BAD_AMOUNT: 'BAD_AMOUNT',
  BAD_ID_NUMBER: 'BAD_ID_NUMBER',
  BAD_USCC: 'BAD_USCC',
  MISSING_TICKET_ID: 'MISSING_FIELD',
  UNKNOWN_REGION: 'UNKNOWN_REGION',
  OLD_CASE_NUMBER_FIELD: 'MISSING_FIELD',
};

const ID_NUMBER = /(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])/;
const MOBILE = /(?<!\d)1[3-9]\d{9}(?!\d)/;
const CODE_FIELDS = new Set(['uscc', 'agency_code', 'target_agency_code', 'procuratorate_code']);

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

describe('normalise: 10,000 mixed raw records, about 5% malformed', () => {
  const base = testConfig();
  // The mapping as first deployed: it does not know the older export's 案件编码 column.
  const sourcesSetup = isolatedSources((_id, doc) => {
    if (doc.dataset === 'enforcement-case') doc.mapping.fields.case_id = { template: '{@agency_code}:{案件编号}' };
  });
  const config = isolatedConfig(base, sourcesSetup.dir);
  const kafka = createKafka(config, { clientId: 'it-normalise' });
  const registry = createRegistry(config);
  const logger = createLogger({ test: 'normalise' }, { level: 'warn' });
  const ours = new Set(Object.values(sourcesSetup.ids));
  const since = testStart();
  let db: Knex;
  let deps: NormaliserDeps;
  let simulated: SimulatedRecord[];
  let canonical: ConsumedMessage[];
  let dead: ConsumedMessage[];

  const readCanonical = async () =>
    (
      await Promise.all(Object.values(DATASET_TOPICS).map((topic) => consumeAll(kafka, registry, topic, (v) => ours.has(v.lineage.source_id), since)))
    ).flat();

  beforeAll(async () => {
    db = createDb(config, { poolMax: 4 });
    await migrateLatest(db);
    deps = { config, kafka, registry, sources: loadSources(config.sources_dir), piiSecret: piiSecret(config), logger };
    await prepareTopicsAndSchemas(config, kafka, registry, [...ours]);

    const simulator = new AgencySimulator({ seed: 20251127, count: TOTAL - GARBAGE, defectRate: 0.05, sources: sourcesSetup.ids });
    simulated = [...simulator.records()];
    const raw = new RawProducer(kafka, registry);
    await raw.connect();
    for (let i = 0; i < simulated.length; i += 1000) {
      await raw.send(
        simulated.slice(i, i + 1000).map((r) => buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'it-normalise' })),
      );
    }
    await raw.disconnect();
    const plain = createProducer(kafka);
    await plain.connect();
    await plain.send({
      topic: rawTopic(sourcesSetup.ids.hotline),
      messages: Array.from({ length: GARBAGE }, (_, i) => ({ key: `garbage-${i}`, value: Buffer.from(`not avro ${i}`) })),
    });
    await plain.disconnect();

    const normaliser = new Normaliser(deps);
    const sink = new DlqTableSink({ config, kafka, registry, db, logger });
    await normaliser.start();
    await sink.start();
    try {
      await eventually(() => normaliser.stats.read >= TOTAL, 120_000, 'the normaliser to read every raw record');
      await eventually(async () => (await db('ops.dlq').whereIn('source_id', [...ours]).count<{ count: string }[]>('* as count'))[0].count === String(normaliser.stats.dead), 60_000, 'ops.dlq to hold every dead letter');
    } finally {
      await normaliser.stop();
      await sink.stop();
    }
    canonical = await readCanonical();
    dead = await consumeAll(kafka, registry, DLQ_TOPIC, (v) => ours.has(v.source_id), since);
  });

  afterAll(async () => {
    await db.destroy();
  });

  it('puts every record in exactly one place: a canonical topic or the dead-letter topic', () => {
    expect(canonical.length + dead.length).toBe(TOTAL);
    const positions = [
      ...canonical.map((m) => `${m.value.lineage.raw_topic}/${m.value.lineage.raw_partition}/${m.value.lineage.raw_offset}`),
      ...dead.map((m) => `${m.value.raw.topic}/${m.value.raw.partition}/${m.value.raw.offset}`),
    ];
    expect(new Set(positions).size).toBe(TOTAL);
  });

  it('sends each defect to the dead-letter topic with the code that names it, and nothing else', () => {
    const expected = countBy(simulated.filter((r) => r.defect), (r) => EXPECTED_CODE[r.defect!]);
    expected.MALFORMED_ENVELOPE = GARBAGE;
    expect(countBy(dead, (m) => m.value.errors[0].code)).toEqual(expected);
    expect(canonical.length).toBe(simulated.filter((r) => !r.defect).length);
    for (const m of dead) expect(m.value.errors[0].message).not.toMatch(ID_NUMBER);
  });

  it('records every dead letter in ops.dlq with its errors', async () => {
    const rows = await listDeadLetters(db, { status: 'all' });
    const mine = rows.filter((r) => ours.has(r.source_id));
    expect(mine).toHaveLength(dead.length);
    expect(mine.every((r) => r.errors.length > 0 && r.errors.every((e) => e.field && e.code && e.message))).toBe(true);
  });

  it('lets no clear ID or phone number reach a canonical topic', () => {
    const secrets = new Set(simulated.flatMap((r) => r.pii));
    expect(secrets.size).toBeGreaterThan(100);
    for (const m of canonical) {
      const whole = JSON.stringify(m.value);
      for (const secret of secrets) if (whole.includes(secret)) throw new Error(`clear personal data in ${m.key}`);
      // Hashes are hex and credit codes can be all digits: neither is personal data, both could match the patterns.
      const text = JSON.stringify(m.value, (key, value) => (key.endsWith('_hash') || CODE_FIELDS.has(key) ? undefined : value));
      expect(text).not.toMatch(ID_NUMBER);
      expect(text).not.toMatch(MOBILE);
    }
  });

  it('turns the fixable dead letters into canonical records after a mapping fix, with no duplicates', async () => {
    const fixable = simulated.filter((r) => r.defect === 'OLD_CASE_NUMBER_FIELD').length;
    expect(fixable).toBeGreaterThan(0);
    sourcesSetup.write(() => undefined); // the shipped mapping, which knows 案件编码
    const fixed = { ...deps, sources: loadSources(config.sources_dir) };

    const report = await retryDeadLetters(fixed, db, { source: sourcesSetup.ids.penalty });
    expect(report.resolved).toBe(fixable);
    expect(report.canonical).toBe(fixable);

    const after = await readCanonical();
    expect(after.length).toBe(canonical.length + fixable);
    const positions = after.map((m) => `${m.value.lineage.raw_topic}/${m.value.lineage.raw_partition}/${m.value.lineage.raw_offset}`);
    expect(new Set(positions).size).toBe(after.length);

    // Retrying again changes nothing: the resolved ones are no longer open.
    const again = await retryDeadLetters(fixed, db, { source: sourcesSetup.ids.penalty });
    expect(again.resolved).toBe(0);
    expect(again.canonical).toBe(0);
    const open = await listDeadLetters(db, { source: sourcesSetup.ids.penalty, status: 'open' });
    expect(open.every((r) => r.errors[0].code !== 'MISSING_FIELD')).toBe(true);
  });

  it('shows dead letters to an operator through the CLI: list, show and retry', async () => {
    const env = { LIANDONG__SOURCES_DIR: config.sources_dir };
    const list = await runCli(['dlq', 'list', '--source', sourcesSetup.ids.supervision, '--limit', '1000'], env);
    expect(list.status).toBe(0);
    const supervisionDead = dead.filter((m) => m.value.source_id === sourcesSetup.ids.supervision);
    expect(list.stdout.trim().split('\n')).toHaveLength(supervisionDead.length + 1); // + header
    expect(list.stdout).toMatch(/ID\s+SOURCE\s+RAW\s+STATUS\s+ATTEMPTS\s+ERRORS/);

    const id = list.stdout.trim().split('\n')[1].split(/\s+/)[0];
    const show = await runCli(['dlq', 'show', id], env);
    const row = JSON.parse(show.stdout);
    expect(row).toMatchObject({ id, source_id: sourcesSetup.ids.supervision, status: 'open' });
    expect(row.errors[0]).toEqual({ field: expect.any(String), code: expect.any(String), message: expect.any(String) });

    // Nothing is fixable there: a retry re-runs them and they stay open, each attempt counted.
    const retry = await runCli(['dlq', 'retry', '--source', sourcesSetup.ids.supervision], env);
    expect(retry.status).toBe(0);
    expect(retry.stdout).toContain(`retried ${supervisionDead.length} open dead letter(s)`);
    expect(retry.stdout).toContain(`read ${supervisionDead.length}: 0 canonical, ${supervisionDead.length} dead letter(s); 0 open dead letter(s) resolved`);
  });

  it('replays a source from its raw topic with the current mapping', async () => {
    const env = { LIANDONG__SOURCES_DIR: config.sources_dir };
    const penaltyRaw = simulated.filter((r) => r.sourceId === sourcesSetup.ids.penalty);
    const stillBad = penaltyRaw.filter((r) => r.defect && r.defect !== 'OLD_CASE_NUMBER_FIELD').length;
    const replay = await runCli(['replay', 'normalise', '--source', sourcesSetup.ids.penalty, '--from', 'earliest'], env);
    expect(replay.stderr).not.toMatch(/error/i);
    expect(replay.stdout).toContain(`read ${penaltyRaw.length}: ${penaltyRaw.length - stillBad} canonical, ${stillBad} dead letter(s)`);
    const future = await runCli(['replay', 'normalise', '--source', sourcesSetup.ids.penalty, '--from', '2999-01-01T00:00:00Z'], env);
    expect(future.stdout).toContain('read 0: 0 canonical, 0 dead letter(s)');
  });
});
