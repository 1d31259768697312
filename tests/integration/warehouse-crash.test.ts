import { ChildProcess, spawn } from 'node:child_process';
import { Random } from '../../connectors/simulators/random';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Message } from 'kafkajs';
import type { Knex } from 'knex';
import { AgencySimulator } from '../../connectors/simulators/agency-records';
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
import { CLI } from '../support/cli';
import { eventually, uniqueName } from '../support/helpers';
import { SHIPPED_SOURCES } from '../support/pipeline';
import { testConfig } from '../support/stack';
import { FreshDatabase, freshDatabase } from '../support/warehouse';

const IDS = 40_000;
const VERSIONS = 5;
const RESENDS = 10_000; // versions sent a second time
const MESSAGES = IDS * VERSIONS + RESENDS;
const KILLS = 5;
const CHUNK = 2500; // messages per produce call
/**
 * Companies the records are about. The simulator's default city of 120 puts some 300 records
 * on each company, and every version of every ticket is then linked to dozens of cases and
 * supervision records of its company: the run would measure link statements, not crash safety.
 */
const COMPANIES = 3000;
/**
 * How long the sink may go without committing anything before the test gives up on it. Other
 * runs' messages on the shared canonical topics are applied too and the machine is shared, so
 * the test bounds a stall, not the whole run.
 */
const STALL_MS = 300_000;

type Rec = Record<string, any>;

/** A seeded PRNG (the simulators' mulberry32): the test's draws are reproducible from the seed. */
function random(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.next();
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Canonical records through the real normaliser, one per id. Ids (and references to ids) are
 * made unique to the run: the sink applies whatever other runs put on the shared canonical
 * topics meanwhile, so their records may reach this test's database too.
 */
function baseRecords(run: string): Array<{ dataset: Dataset; record: Rec }> {
  const config = testConfig();
  const sources = loadSources(SHIPPED_SOURCES);
  const ctx = normaliseContext({ config, sources, piiSecret: 'test-secret' });
  const ids = { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };
  const byId = new Map<string, { dataset: Dataset; record: Rec }>();
  const scoped = (values: unknown) => (Array.isArray(values) ? values.map((v) => `${run}:${v}`) : values);
  let offset = 0;
  for (const r of new AgencySimulator({ seed: 8080, count: IDS * 2, defectRate: 0, sources: ids, companies: COMPANIES }).records()) {
    if (byId.size === IDS) break;
    const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: run });
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
    if (outcome.kind !== 'canonical') continue;
    const field = RECORD_ID_FIELD[outcome.dataset];
    const id = `${run}:${outcome.record[field]}`;
    if (byId.has(id)) continue;
    const record: Rec = { ...outcome.record, [field]: id };
    for (const ref of ['related_case_ids', 'related_ticket_ids']) if (ref in record) record[ref] = scoped(record[ref]);
    byId.set(id, { dataset: outcome.dataset, record });
  }
  return [...byId.values()];
}

/** Version k of a record: k hours after the base version, with content that says which. */
function version(record: Rec, k: number): Rec {
  const at = new Date(Date.parse(record.source_updated_at) + k * 3_600_000).toISOString();
  return { ...record, source_updated_at: at, warnings: [...record.warnings, `VERSION:${k}`] };
}

/**
 * The message numbered n carrying version k: as if normalised from the n-th raw message, so
 * a version sent twice differs only in its lineage, which is not part of its content.
 */
function message(record: Rec, k: number, n: number): Rec {
  const v = version(record, k);
  return { ...v, lineage: { ...v.lineage, raw_offset: n } };
}

/**
 * A ledger of every history row a committed sink transaction offered to insert, with the
 * number of the message it came from. The sink's writes are idempotent — a history version
 * already there is skipped, a current row only moves forward — so a batch applied twice leaves
 * current and history exactly as they were: only this ledger sees it, as a message number
 * offered twice. Rows offered by a transaction that a kill cut short vanish with it.
 */
async function installLedger(db: Knex): Promise<void> {
  await db.raw('create table public.sink_ledger (id text not null, message bigint not null)');
  for (const { table, idColumn } of Object.values(CORE_TABLES)) {
    // BEFORE ROW triggers fire for every row an INSERT … ON CONFLICT DO NOTHING proposes, conflicting or not.
    await db.raw(`create function public.ledger_${table}() returns trigger language plpgsql as $$
      begin
        insert into public.sink_ledger values (new.${idColumn}, (new.record->'lineage'->>'raw_offset')::bigint);
        return new;
      end $$`);
    await db.raw(`create trigger ledger before insert on core.${table}_history for each row execute function public.ledger_${table}()`);
  }
}

describe('the warehouse sink killed with SIGKILL mid-stream', () => {
  const config = testConfig();
  let fresh: FreshDatabase;

  beforeAll(async () => {
    fresh = await freshDatabase(config, 'whcrash');
    await installLedger(fresh.db);
  });
  afterAll(() => fresh?.drop());

  it(`ends with exactly the newest version of every record current, every version once in history and no message applied twice, over ${MESSAGES.toLocaleString('en')} messages`, async () => {
    const db = fresh.db;
    const run = uniqueName('it-whcrash');
    const consumer = `${run}-sink`;
    const kafka = createKafka(config, { clientId: 'it-warehouse-crash' });
    const registry = createRegistry(config);
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-whcrash-'));
    const log = fs.openSync(path.join(runDir, 'sink.log'), 'a');
    const children: ChildProcess[] = [];
    try {
      const schemas = await prepareTopicsAndSchemas(config, kafka, registry, []);
      const codec = await outputCodec(registry, schemas);
      // Only what this test sends from now on: the canonical topics hold every other run's records too.
      await positionAtEnd(db, kafka, consumer, CANONICAL_TOPICS);

      // Every version of every id, plus versions sent twice, in a random order: older versions often arrive late.
      const rand = random(20261127);
      const base = baseRecords(run);
      expect(base.length).toBe(IDS);
      const sends: Array<{ i: number; k: number }> = [];
      for (let i = 0; i < IDS; i++) for (let k = 0; k < VERSIONS; k++) sends.push({ i, k });
      for (let r = 0; r < RESENDS; r++) sends.push({ ...sends[Math.floor(rand() * IDS * VERSIONS)] });
      shuffle(sends, rand);

      const producer = createProducer(kafka);
      await producer.connect();
      const produce = (async () => {
        for (let from = 0; from < sends.length; from += CHUNK) {
          const byTopic = new Map<string, Message[]>();
          sends.slice(from, from + CHUNK).forEach(({ i, k }, j) => {
            const { dataset, record } = base[i];
            const topic = DATASET_TOPICS[dataset];
            if (!byTopic.has(topic)) byTopic.set(topic, []);
            byTopic.get(topic)!.push({ key: record[RECORD_ID_FIELD[dataset]], value: codec.encode(schemas.canonical[dataset], message(record, k, from + j)) });
          });
          await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        }
      })();
      produce.catch(() => undefined); // awaited below; a failure must not surface as an unhandled rejection meanwhile

      const start = (i: number) => {
        const child = spawn(process.execPath, [CLI, 'warehouse', 'sink', '--consumer', consumer, '--group', `${run}-${i}`], {
          env: { ...process.env, ...fresh.env, LIANDONG_LOG_LEVEL: 'error' },
          stdio: ['ignore', log, log],
        });
        children.push(child);
        return child;
      };
      const progress = async () => Number((await db('ops.consumer_offsets').where({ consumer }).sum<{ sum: string }[]>('next_offset as sum'))[0].sum);

      let seen = await progress();
      for (let kill = 0; kill < KILLS; kill++) {
        const child = start(kill);
        // Kill it at a random moment once it has committed something new: often inside a transaction.
        await eventually(async () => (await progress()) > seen, STALL_MS, `sink ${kill} to commit progress (log: ${runDir}/sink.log)`);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1000)));
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
      const ids = new Map<Dataset, Rec[]>(Object.keys(DATASET_TOPICS).map((d) => [d as Dataset, []]));
      for (const { dataset, record } of base) ids.get(dataset)!.push(record);
      const versionsExpected = (dataset: Dataset) => ids.get(dataset)!.length * VERSIONS;
      // Counting history scans some 200,000 rows: every few seconds is plenty, and leaves the database to the sink.
      let counted = 0;
      const complete = async () => {
        if (Date.now() - counted < 3000) return false;
        counted = Date.now();
        for (const dataset of ids.keys()) if ((await historyCount(dataset)) < versionsExpected(dataset)) return false;
        return true;
      };
      await whileProgressing(complete, progress, STALL_MS, `the restarted sink to apply every version (log: ${runDir}/sink.log)`);
      last.kill('SIGTERM');
      await exited(last);

      const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
      for (const [dataset, records] of ids) {
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
        const byId = [...records].sort((a, b) => (a[idColumn] < b[idColumn] ? -1 : a[idColumn] > b[idColumn] ? 1 : 0));
        const want = byId
          .map((r) => version(r, VERSIONS - 1))
          .map((v) => `${v[idColumn]}|${contentHash(v)}|${Date.parse(v.source_updated_at)}`)
          .join('\n');
        expect({ dataset, count: current.count }).toEqual({ dataset, count: records.length });
        expect({ dataset, checksum: sha(current.lines) }).toEqual({ dataset, checksum: sha(want) });

        // Every version exactly once in history, with the content it was sent with.
        const history = (
          await db.raw(
            `select count(*)::int as count, count(distinct (${idColumn}, source_updated_at))::int as versions,
                    md5(string_agg(${idColumn} || '|' || content_hash, E'\\n' order by ${idColumn} collate "C", source_updated_at)) as checksum
               from core.${table}_history where starts_with(${idColumn}, ?)`,
            [`${run}:`],
          )
        ).rows[0];
        const allVersions = byId.flatMap((r) => Array.from({ length: VERSIONS }, (_, k) => `${r[idColumn]}|${contentHash(version(r, k))}`)).join('\n');
        expect({ dataset, count: history.count, versions: history.versions }).toEqual({ dataset, count: versionsExpected(dataset), versions: versionsExpected(dataset) });
        expect({ dataset, checksum: history.checksum }).toEqual({ dataset, checksum: crypto.createHash('md5').update(allVersions).digest('hex') });
      }

      // No message applied by two committed transactions, and none from outside what was sent.
      const ledger = (
        await db.raw(
          `select count(*)::int as offered, count(distinct message)::int as messages, min(message)::int as first, max(message)::int as last,
                  (select array_agg(message) from (select message from public.sink_ledger where starts_with(id, ?) group by message having count(*) > 1 order by message limit 10) twice) as twice
             from public.sink_ledger where starts_with(id, ?)`,
          [`${run}:`, `${run}:`],
        )
      ).rows[0];
      expect(ledger.twice).toBeNull();
      expect(ledger.offered).toBe(ledger.messages);
      expect(ledger.first).toBeGreaterThanOrEqual(0);
      expect(ledger.last).toBeLessThan(MESSAGES);
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(children.map(exited));
      fs.closeSync(log);
    }
  }, 3_600_000);
});

/** Waits until `done`, failing only once `progress` has stood still for `stallMs`. */
async function whileProgressing(done: () => Promise<boolean>, progress: () => Promise<number>, stallMs: number, what: string): Promise<void> {
  let last = await progress();
  for (;;) {
    const state = await eventually(
      async () => ((await done()) ? 'done' : (await progress()) > last ? 'moved' : false),
      stallMs,
      `${what}, with no progress for ${stallMs / 1000} s`,
    );
    if (state === 'done') return;
    last = await progress();
  }
}

function exited(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
}
