import crypto from 'node:crypto';
import type { Knex } from 'knex';
import knex from 'knex';
import type { Message } from 'kafkajs';
import { escapeLiteral } from 'pg';
import { createDb } from '../../lib/db';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createLogger } from '../../lib/log';
import { createRegistry } from '../../lib/registry-client';
import { RECORD_ID_FIELD } from '../../pipelines/normalise/canonical-fields';
import { outputCodec } from '../../pipelines/normalise/outcomes';
import { OutputSchemas, prepareTopicsAndSchemas } from '../../pipelines/topics';
import { partitionKey, readOffsets } from '../../pipelines/warehouse/consumer-offsets';
import { rebuildWarehouse, RebuildSummary } from '../../pipelines/warehouse/rebuild';
import { WarehouseSink } from '../../pipelines/warehouse/sink-warehouse';
import type { AvroCodec } from '../../lib/avro-codec';
import { Dataset, DATASET_TOPICS } from '../../schemas/catalog';
import { migrateLatest } from '../../sql/migrate';
import { ANALYST_ROLE, HUB_ROLE } from '../../sql/migrations/20261127000500-party-link-mart';
import { eventually, uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';
import { expectedWarehouse, Ledger, readStructure, readWarehouse, Send } from './warehouse-rebuild-model';

/**
 * The rebuild runs against a database of its own and canonical topics of its own: the shared
 * canonical topics hold every other run's records (over a million, whose shared simulated
 * parties link to each other by the hundred thousand), and a database of its own lets the test
 * compare the whole warehouse, not a slice of it.
 */
const config = testConfig();
const kafka = createKafka(config, { clientId: 'it-warehouse-rebuild' });
const registry = createRegistry(config);
const logger = createLogger({ test: 'warehouse-rebuild' }, { level: 'warn' });
const LIVE = 'warehouse';
const DATASETS = Object.keys(DATASET_TOPICS) as Dataset[];

const run = uniqueName('it-rebuild');
const database = `it_rebuild_${crypto.randomBytes(5).toString('hex')}`;
const topics = Object.fromEntries(DATASETS.map((d) => [d, `${run}.${d}`])) as Record<Dataset, string>;
const admin = createDb(config, { poolMax: 1 });
const topicSettings = { numPartitions: 3, replicationFactor: config.topics.replication_factor };
const KEEP_FOREVER = [{ name: 'retention.ms', value: '-1' }];
let db: Knex;
let schemas: OutputSchemas;
let codec: AvroCodec;
const ledger = new Ledger(run);

beforeAll(async () => {
  await admin.raw(`create database ${database}`);
  db = createDb(config, { database, poolMax: 8 });
  await migrateLatest(db);
  schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
  codec = await outputCodec(registry, schemas);
  const kadmin = kafka.admin();
  await kadmin.connect();
  try {
    // Kept forever, as the canonical topics are: the messages are dated 2025, and a default
    // retention of 7 days would delete them from under the rebuild (which refuses such topics).
    await kadmin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, ...topicSettings, configEntries: KEEP_FOREVER })), waitForLeaders: true });
  } finally {
    await kadmin.disconnect();
  }
});

afterAll(async () => {
  await db?.destroy();
  await admin.raw(`drop database if exists ${database} with (force)`);
  await admin.destroy();
  const kadmin = kafka.admin();
  await kadmin.connect();
  await kadmin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await kadmin.disconnect();
});

const producer = createProducer(kafka);

/** Sends in log order; each message's timestamp (when "the normaliser produced it") is the ledger's clock. */
async function send(sends: Send[]): Promise<void> {
  const byTopic = new Map<string, Message[]>();
  for (const { dataset, record, timestamp } of sends) {
    const topic = topics[dataset];
    if (!byTopic.has(topic)) byTopic.set(topic, []);
    byTopic.get(topic)!.push({ key: record[RECORD_ID_FIELD[dataset]], value: codec.encode(schemas.canonical[dataset], record), timestamp: String(timestamp) });
  }
  await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

/** Until the live consumer's stored offsets reach the end of every partition of the run's topics. */
async function liveAppliedEverything(): Promise<void> {
  const kadmin = kafka.admin();
  await kadmin.connect();
  try {
    await eventually(async () => {
      const stored = await readOffsets(db, LIVE);
      for (const topic of Object.values(topics)) {
        for (const p of await kadmin.fetchTopicOffsets(topic)) if ((stored.get(partitionKey(topic, p.partition)) ?? 0n) < BigInt(p.high)) return false;
      }
      return true;
    }, 120_000, 'the live sink to apply everything sent');
  } finally {
    await kadmin.disconnect();
  }
}

function liveSink(): WarehouseSink {
  return new WarehouseSink({ config, kafka, registry, db, logger, consumer: LIVE, groupId: `${run}-live`, topics });
}

describe('liandong warehouse rebuild', () => {
  it('replays into fresh tables while the live sink runs and records keep arriving, switches over, and the live sink goes on', async () => {
    await producer.connect();
    const sink = liveSink();
    await sink.start();
    let summary: RebuildSummary;
    let sentDuringRebuild = 0;
    try {
      // Phase 1: every version of 24 groups (case, ticket, supervision record about one party), shuffled, plus re-sends.
      await send(ledger.stamp(ledger.groups(0, 24, [0, 1, 2]), { resends: 40 }));
      await liveAppliedEverything();
      expect(await readWarehouse(db)).toEqual(expectedWarehouse(ledger));
      const structure = await readStructure(db);

      // The model "changed": rows lost, columns and recorded times wrong, a link and a party damaged.
      const [c0, , s1] = ledger.ids(0);
      const [, t2] = ledger.ids(2);
      await db('core.enforcement_case').where({ case_id: c0 }).delete();
      await db('core.hotline_ticket').update({ title: 'corrupted', recorded_at: db.fn.now() });
      await db('core.supervision_record_history').where({ record_id: s1 }).delete();
      await db('link.ticket_case').where({ ticket_id: t2 }).delete();
      await db('core.party').where({ party_key: ledger.partyKey(3) }).update({ name: 'corrupted', region_code: '620000' });
      expect(await readWarehouse(db)).not.toEqual(expectedWarehouse(ledger));

      // Phase 2, during the rebuild: new groups and newer versions of old ones, a chunk at a time,
      // each sent once the live sink applied the previous one, so the live sink keeps moving ahead.
      const phase2 = ledger.stamp([...ledger.groups(24, 36, [0, 1, 2]), ...ledger.groups(0, 12, [3])], { resends: 10 });
      // Sent on the first switch attempt, while the rebuild's sink is paused: the live sink is then
      // certainly ahead, and the attempt must be refused. Its records share no version with phase 2.
      const gap = ledger.stamp(ledger.groups(36, 38, [0, 1, 2]), { resends: 2 });
      let sending = Promise.resolve();
      const inOrder = (chunk: Send[]) => (sending = sending.then(() => send(chunk)));
      let replaying = false;
      let rebuilding = true;
      const rebuild = rebuildWarehouse(
        { config, kafka, registry, db, logger },
        {
          consumer: LIVE,
          topics,
          onProgress: (p) => (replaying ||= p.phase === 'replay'),
          beforeSwitchAttempt: async (attempt) => {
            if (attempt !== 1) return;
            await inOrder(gap);
            await liveAppliedEverything();
          },
        },
      ).finally(() => {
        rebuilding = false;
      });
      const feed = (async () => {
        await eventually(() => replaying || !rebuilding, 120_000, 'the rebuild to start replaying');
        for (let i = 0; i < phase2.length && rebuilding; i += 8) {
          sentDuringRebuild += Math.min(8, phase2.length - i);
          await inOrder(phase2.slice(i, i + 8));
          await liveAppliedEverything();
        }
      })();
      summary = await rebuild;
      await feed;
      await inOrder(phase2.slice(sentDuringRebuild));

      // Phase 3, after the switch: new groups, newer versions, and versions the rebuild already applied sent again.
      await send(ledger.stamp([...ledger.groups(38, 42, [0, 1, 2]), ...ledger.groups(6, 18, [4]), ...ledger.groups(0, 6, [1])], { resends: 20 }));
      await liveAppliedEverything();
      expect(await readStructure(db)).toEqual(structure);
    } finally {
      await sink.stop();
      await producer.disconnect();
    }

    expect(sentDuringRebuild).toBeGreaterThan(0);
    // The first attempt found the live sink ahead (the gap) and was refused.
    expect(summary.attempts).toBeGreaterThanOrEqual(2);
    expect(summary.keptOld).toBeNull();
    expect(summary.views.sort()).toEqual(['mart.case_timeline', 'mart.daily_counts', 'mart.party_360', 'mart.suggestion_tracking']);
    // Exactly the state the model says, every version once, recorded times those of the messages.
    expect(await readWarehouse(db)).toEqual(expectedWarehouse(ledger));

    // Replaced schemas dropped; the rebuild's offsets gone; the views read the new tables.
    const { rows: leftover } = await db.raw(`select nspname from pg_namespace where nspname ~ '^(core|link)_' order by 1`);
    expect(leftover).toEqual([]);
    expect(await db('ops.consumer_offsets').where({ consumer: `${LIVE}-rebuild` })).toEqual([]);
    const { rows: read } = await db.raw(`
      select distinct v.relname as view, tn.nspname as schema from pg_depend d
        join pg_rewrite w on w.oid = d.objid and d.classid = 'pg_rewrite'::regclass join pg_class v on v.oid = w.ev_class
        join pg_class t on t.oid = d.refobjid and d.refclassid = 'pg_class'::regclass join pg_namespace tn on tn.oid = t.relnamespace
       where v.relnamespace = 'mart'::regnamespace and t.oid <> v.oid order by 1, 2`);
    expect(read).toEqual(expect.arrayContaining([{ view: 'party_360', schema: 'core' }, { view: 'case_timeline', schema: 'link' }]));
    expect(read.every((r: { schema: string }) => r.schema === 'core' || r.schema === 'link')).toBe(true);
    const [c0] = ledger.ids(0);
    expect((await db('mart.case_timeline').where({ case_id: c0 })).map((e: { event: string }) => e.event).sort()).toEqual(['OFFENCE', 'PENALTY', 'SUPERVISION:TRANSFER_OPINION']);

    // Privileges as the migrations grant them: the hub's role writes, the analyst reads mart only.
    const privileges = (await db.raw(`select
        has_schema_privilege(:hub, 'core', 'usage') as hub_core, has_table_privilege(:hub, 'core.enforcement_case', 'insert') as hub_insert,
        has_table_privilege(:hub, 'link.ticket_case', 'select') as hub_link, has_schema_privilege(:analyst, 'core', 'usage') as analyst_core,
        has_table_privilege(:analyst, 'core.party', 'select') as analyst_party, has_table_privilege(:analyst, 'mart.party_360', 'select') as analyst_mart`,
      { hub: HUB_ROLE, analyst: ANALYST_ROLE })).rows[0];
    expect(privileges).toEqual({ hub_core: true, hub_insert: true, hub_link: true, analyst_core: false, analyst_party: false, analyst_mart: true });
    const analyst = knex({ client: 'pg', connection: { host: config.database.host, port: config.database.port, database, user: ANALYST_ROLE }, pool: { min: 0, max: 1 } });
    try {
      const [{ n }] = (await analyst.raw(`select count(*)::int as n from mart.party_360 where party_key = ?`, [ledger.partyKey(0)])).rows;
      expect(n).toBe(3);
      await expect(analyst.raw('select * from core.enforcement_case limit 1')).rejects.toThrow(/permission denied/);
      await expect(analyst.raw('select * from link.ticket_case limit 1')).rejects.toThrow(/permission denied/);
    } finally {
      await analyst.destroy();
    }

    // Settings the migrations gave the live tables carried over: index options, columns without statistics.
    const { rows: settings } = await db.raw(`select
        (select reloptions from pg_class where oid = 'core.supervision_record_decision_nos_idx'::regclass) as gin,
        (select attstattarget from pg_attribute where attrelid = 'core.hotline_ticket_history'::regclass and attname = 'record') as record_statistics`);
    expect(settings[0]).toEqual({ gin: ['fastupdate=off'], record_statistics: 0 });

    // The summary names every table it rebuilt, with what it held at the switch (phase 3 came after).
    expect(summary.tables.map((t) => t.table)).toEqual([
      'core.enforcement_case', 'core.enforcement_case_history', 'core.hotline_ticket', 'core.hotline_ticket_history',
      'core.supervision_record', 'core.supervision_record_history', 'core.party', 'link.case_supervision', 'link.ticket_case', 'link.ticket_supervision',
    ]);
    for (const { table, rows } of summary.tables) {
      const [{ n }] = (await db.raw(`select count(*)::int as n from ${table}`)).rows;
      expect({ table, rows: rows >= 24 && rows <= n }).toEqual({ table, rows: true });
    }
  });

  it('refuses to rebuild a warehouse with a table the sink does not fill, and leaves it as it was', async () => {
    const before = await readWarehouse(db);
    await db.raw('create table core.hand_made (x int)');
    try {
      await expect(rebuildWarehouse({ config, kafka, registry, db, logger }, { consumer: LIVE, topics })).rejects.toMatchObject({ code: 'REBUILD_UNSUPPORTED', message: expect.stringContaining('core.hand_made') });
    } finally {
      await db.raw('drop table core.hand_made');
    }
    expect(await readWarehouse(db)).toEqual(before);
    const { rows } = await db.raw(`select nspname from pg_namespace where nspname ~ '^(core|link)_'`);
    expect(rows).toEqual([]);
  });

  it('refuses to replay topics that do not keep every record, and leaves the warehouse as it was', async () => {
    const before = await readWarehouse(db);
    const forgetful = Object.fromEntries(DATASETS.map((d) => [d, `${run}.forgetful.${d}`])) as Record<Dataset, string>;
    const kadmin = kafka.admin();
    await kadmin.connect();
    try {
      await kadmin.createTopics({ topics: Object.values(forgetful).map((topic) => ({ topic, ...topicSettings })), waitForLeaders: true });
      await expect(rebuildWarehouse({ config, kafka, registry, db, logger }, { consumer: LIVE, topics: forgetful })).rejects.toMatchObject({
        code: 'REBUILD_UNSUPPORTED',
        message: expect.stringContaining(`${forgetful['enforcement-case']} does not keep everything`),
      });
    } finally {
      await kadmin.deleteTopics({ topics: Object.values(forgetful) }).catch(() => undefined);
      await kadmin.disconnect();
    }
    expect(await readWarehouse(db)).toEqual(before);
  });

  it('keeps the replaced tables when asked, and the views read the new ones', async () => {
    const before = await readWarehouse(db);
    // A comment with what SQL text and knex's placeholders give a meaning to is copied as it is.
    const comment = `现行处罚案件; it's a \\ back?slash $1 :ids`;
    // knex reads an unescaped `?` as a placeholder, so the test escapes it for knex; the rebuild must need no such help.
    await db.raw(`comment on table core.enforcement_case is ${escapeLiteral(comment).replace(/\?/g, '\\?')}`);
    // And a view whose definition holds one, recreated over the new tables at the switch.
    await db.raw(`create view mart.rebuild_q_test as select case_id, '\\?'::text as q from core.enforcement_case`);
    const summary = await rebuildWarehouse({ config, kafka, registry, db, logger }, { consumer: LIVE, topics, keepOld: true });
    expect(summary.keptOld).not.toBeNull();
    expect(await readWarehouse(db)).toEqual(before);
    const [{ text }] = (await db.raw(`select obj_description('core.enforcement_case'::regclass, 'pg_class') as text`)).rows;
    expect(text).toBe(comment);
    expect(summary.views).toContain('mart.rebuild_q_test');
    const [{ n: viewed }] = (await db.raw(`select count(*)::int as n from mart.rebuild_q_test where q = '\\?'`)).rows;
    expect(viewed).toBe(before.current['enforcement-case'].length);
    await db.raw('drop view mart.rebuild_q_test');
    const old = summary.keptOld!;
    for (const table of ['enforcement_case', 'enforcement_case_history', 'party']) {
      const [live, kept] = await Promise.all([db(`core.${table}`).count<{ n: string }[]>('* as n'), db(`${old.core}.${table}`).count<{ n: string }[]>('* as n')]);
      expect({ table, kept: kept[0].n }).toEqual({ table, kept: live[0].n });
    }
    const { rows } = await db.raw(
      `select count(*)::int as n from pg_depend d join pg_class t on t.oid = d.refobjid and d.refclassid = 'pg_class'::regclass
        where t.relnamespace in (?::regnamespace, ?::regnamespace) and d.classid = 'pg_rewrite'::regclass`,
      [old.core, old.link],
    );
    expect(rows[0].n).toBe(0);
    await db.raw(`drop schema "${old.core}", "${old.link}" cascade`);
  });
});
