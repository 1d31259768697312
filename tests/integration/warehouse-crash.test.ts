import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
import { createDb } from '../../lib/db';
import { createKafka, createProducer } from '../../lib/kafka-client';
import { createRegistry } from '../../lib/registry-client';
import { RECORD_ID_FIELD } from '../../pipelines/normalise/canonical-fields';
import { loadSources } from '../../pipelines/normalise/mapping';
import { normaliseContext } from '../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../pipelines/normalise/normalise-record';
import { outputCodec } from '../../pipelines/normalise/outcomes';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { buildEnvelope } from '../../pipelines/raw-envelope';
import { positionAtEnd } from '../../pipelines/warehouse/consumer-offsets';
import { contentHash, CORE_TABLES } from '../../pipelines/warehouse/core-rows';
import { CANONICAL_TOPICS } from '../../pipelines/warehouse/sink-warehouse';
import { Dataset, DATASET_TOPICS, rawTopic } from '../../schemas/catalog';
import { migrateLatest } from '../../sql/migrate';
import { CLI } from '../support/cli';
import { scopeToRun } from '../support/warehouse';
import { eventually, uniqueName } from '../support/helpers';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';

const IDS = 10_000;
const VERSIONS = 5;
const RESENDS = 5_000; // exact re-sends of versions already sent
const KILLS = 5;

type Rec = Record<string, any>;

/** A small deterministic PRNG (mulberry32): the test's shuffles are reproducible from the seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Canonical records through the real normaliser, their ids made unique to this run, one per id. */
function baseRecords(run: string): Array<{ dataset: Dataset; record: Rec }> {
  const config = testConfig();
  const sources = loadSources(SHIPPED_SOURCES);
  const ctx = normaliseContext({ config, sources, piiSecret: 'test-secret' });
  const ids = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };
  const byId = new Map<string, { dataset: Dataset; record: Rec }>();
  let offset = 0;
  for (const r of new AgencySimulator({ seed: 8080, count: IDS * 2, defectRate: 0, sources: ids }).records()) {
    const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: run });
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
    if (outcome.kind !== 'canonical') continue;
    const field = RECORD_ID_FIELD[outcome.dataset];
    const id = `${run}:${outcome.record[field]}`;
    if (!byId.has(id) && byId.size < IDS) byId.set(id, { dataset: outcome.dataset, record: { ...scopeToRun(outcome.record, run), [field]: id } });
  }
  return [...byId.values()];
}

/** Version k of a record: k hours after the base version, with content that says which. */
function version(record: Rec, k: number): Rec {
  const at = new Date(Date.parse(record.source_updated_at) + k * 3_600_000).toISOString();
  return { ...record, source_updated_at: at, warnings: [...record.warnings, `VERSION:${k}`] };
}

describe('the warehouse sink killed with SIGKILL mid-stream', () => {
  it('ends with exactly the newest version of every record current and every version once in history', async () => {
    const config = testConfig();
    const run = uniqueName('it-whcrash');
    const consumer = `${run}-sink`;
    const kafka = createKafka(config, { clientId: 'it-warehouse-crash' });
    const registry = createRegistry(config);
    const db = createDb(config, { poolMax: 4 });
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-whcrash-'));
    const log = fs.openSync(path.join(runDir, 'sink.log'), 'a');
    const children: ChildProcess[] = [];
    try {
      await migrateLatest(db);
      const schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
      const codec = await outputCodec(registry, schemas);
      // Only what this test sends from now on: the canonical topics hold every other run's records too.
      await positionAtEnd(db, kafka, consumer, CANONICAL_TOPICS);

      // Every version of every id, in a random order (older versions often arrive late), plus exact re-sends.
      const rand = random(20261127);
      const base = baseRecords(run);
      expect(base.length).toBe(IDS);
      const sends: Array<{ dataset: Dataset; record: Rec }> = [];
      for (const { dataset, record } of base) for (let k = 0; k < VERSIONS; k++) sends.push({ dataset, record: version(record, k) });
      shuffle(sends, rand);
      for (let i = 0; i < RESENDS; i++) {
        const copy = sends[Math.floor(rand() * sends.length)];
        sends.splice(Math.floor(rand() * sends.length), 0, copy);
      }
      const expected = new Map<Dataset, Map<string, Rec>>(Object.keys(DATASET_TOPICS).map((d) => [d as Dataset, new Map()]));
      for (const { dataset, record } of base) expected.get(dataset)!.set(record[RECORD_ID_FIELD[dataset]], version(record, VERSIONS - 1));

      const producer = createProducer(kafka);
      await producer.connect();
      const produce = (async () => {
        for (let i = 0; i < sends.length; i += 2500) {
          const byTopic = new Map<string, Message[]>();
          for (const { dataset, record } of sends.slice(i, i + 2500)) {
            const topic = DATASET_TOPICS[dataset];
            if (!byTopic.has(topic)) byTopic.set(topic, []);
            byTopic.get(topic)!.push({ key: record[RECORD_ID_FIELD[dataset]], value: codec.encode(schemas.canonical[dataset], record) });
          }
          await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        }
      })();

      const start = (i: number) => {
        const child = spawn(process.execPath, [CLI, 'warehouse', 'sink', '--consumer', consumer, '--group', `${run}-${i}`], {
          env: { ...process.env, LIANDONG_LOG_LEVEL: 'error' },
          stdio: ['ignore', log, log],
        });
        children.push(child);
        return child;
      };
      const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
      const progress = async () => Number((await db('ops.consumer_offsets').where({ consumer }).sum<{ sum: string }[]>('next_offset as sum'))[0].sum);

      let seen = await progress();
      for (let kill = 0; kill < KILLS; kill++) {
        const child = start(kill);
        // Kill it at a random moment once it has committed something new: often inside a transaction.
        await eventually(async () => (await progress()) > seen, 120_000, 'the sink to commit progress');
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 500)));
        child.kill('SIGKILL');
        await exited(child);
        seen = await progress();
      }
      await produce;
      await producer.disconnect();

      const last = start(KILLS);
      const historyCount = async (dataset: Dataset) => {
        const { table, idColumn } = CORE_TABLES[dataset];
        const [{ count }] = (await db.raw(`select count(*)::int as count from core.${table}_history where starts_with(${idColumn}, ?)`, [`${run}:`])).rows;
        return count as number;
      };
      const versionsExpected = (dataset: Dataset) => expected.get(dataset)!.size * VERSIONS;
      await eventually(
        async () => {
          for (const dataset of expected.keys()) if ((await historyCount(dataset)) < versionsExpected(dataset)) return false;
          return true;
        },
        300_000,
        'the restarted sink to apply every version',
      );
      last.kill('SIGTERM');
      await exited(last);

      for (const [dataset, rows] of expected) {
        const { table, idColumn } = CORE_TABLES[dataset];
        // Exact row counts, and a checksum of (id, content, source version) over the current table.
        const current = (
          await db.raw(
            `select count(*)::int as count,
                    string_agg(${idColumn} || '|' || content_hash || '|' || (extract(epoch from source_updated_at) * 1000)::bigint, E'\\n' order by ${idColumn} collate "C") as lines
               from core.${table} where starts_with(${idColumn}, ?)`,
            [`${run}:`],
          )
        ).rows[0];
        const want = [...rows]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([id, record]) => `${id}|${contentHash(record)}|${Date.parse(record.source_updated_at)}`)
          .join('\n');
        const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
        expect({ dataset, count: current.count }).toEqual({ dataset, count: rows.size });
        expect({ dataset, checksum: sha(current.lines) }).toEqual({ dataset, checksum: sha(want) });

        // Every version exactly once in history.
        const history = (
          await db.raw(
            `select count(*)::int as count, count(distinct (${idColumn}, source_updated_at))::int as versions
               from core.${table}_history where starts_with(${idColumn}, ?)`,
            [`${run}:`],
          )
        ).rows[0];
        expect({ dataset, ...history }).toEqual({ dataset, count: versionsExpected(dataset), versions: versionsExpected(dataset) });
      }
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fs.closeSync(log);
      await db.destroy();
    }
  });
});
