import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { createDb } from '../../lib/db';
import { CLI, runCli } from '../support/cli';
import { eventually, freePort, uniqueName } from '../support/helpers';
import { consumeAll, testStart } from '../support/pipeline';
import { testConfig } from '../support/stack';

/**
 * The hub as its three kinds of users meet it, against `liandong demo` (what `npm start` runs)
 * in a process of its own: simulated agency systems pulled on a schedule, the normaliser, the
 * warehouse sink and the API. The run has a database, ports, groups and source ids of its own.
 *
 * - The environment bureau creates a key, pushes a batch with bad records in it, and follows its
 *   receipt until every record has its final fate.
 * - An analyst reads the party 360 of a company the market regulator's pulled penalties name
 *   and the bureau's pushed case names too: both sources in one answer.
 * - A downstream system subscribes to the canonical topic with the consumer configuration
 *   GET /v1/topics gives, in a new group, and decodes the pushed case through the registry.
 * Then the ID number and phone pushed are searched for, in clear, in every API answer, in the
 * hub's output and on the canonical topic.
 */
const ENV_BUREAU = '11620900MB1952208N';
const config = testConfig();
const run = uniqueName('e2e').toLowerCase().replace(/[^a-z0-9-]/g, '');
const database = `liandong_e2e_${crypto.randomBytes(4).toString('hex')}`;

/** A valid mainland ID number (GB 11643 check character) that no simulator makes. */
function idNumber(): string {
  const body = `620902198${Math.floor(Math.random() * 10)}0${1 + Math.floor(Math.random() * 9)}1${Math.floor(Math.random() * 10)}${String(100 + Math.floor(Math.random() * 900))}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = body.split('').reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

const ID = idNumber();
const since = testStart();
const PHONE = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

let hub: ChildProcess;
let output = '';
let base = '';
const answers: string[] = [];

async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, body: JSON.parse(text) };
}

const env = (port: number): NodeJS.ProcessEnv => ({
  LIANDONG__DATABASE__DATABASE: database,
  LIANDONG__HUB__PORT: String(port),
  LIANDONG__DEMO__RUN_ID: run,
  LIANDONG__DEMO__SCHEDULE: '*/5 * * * * *',
  LIANDONG__DEMO__GROW_EVERY_S: '5',
  LIANDONG__WAREHOUSE__INITIAL_POSITION: 'latest',
  LIANDONG__NORMALISER__GROUP_ID: `${run}-normaliser`,
  LIANDONG__NORMALISER__TRANSACTIONAL_ID: `${run}-tx`,
  LIANDONG__NORMALISER__DLQ_GROUP_ID: `${run}-dlq`,
});
let childEnv: NodeJS.ProcessEnv;

async function agencyKey(code: string, name: string, scopes: string): Promise<string> {
  const added = await runCli(['agency', 'add', code, '--name', name, '--scopes', scopes], childEnv);
  const key = /ld_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}/.exec(added.stdout)?.[0];
  if (!key) throw new Error(`agency add printed no key: ${added.stdout}${added.stderr}`);
  return key;
}

beforeAll(async () => {
  const admin = createDb(config, { poolMax: 1 });
  await admin.raw(`create database ${database}`);
  await admin.destroy();
  const [port, penalties, tickets] = [await freePort(), await freePort(), await freePort()];
  childEnv = { ...env(port), LIANDONG__DEMO__ENFORCEMENT_API_PORT: String(penalties), LIANDONG__DEMO__HOTLINE_API_PORT: String(tickets) };
  base = `http://127.0.0.1:${port}`;
  hub = spawn(process.execPath, [CLI, 'demo'], { env: { ...process.env, ...childEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  hub.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  hub.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  await eventually(() => output.includes('hub listening on'), 240_000, `the demo to listen (output so far:\n${output})`);
});

afterAll(async () => {
  if (hub && hub.exitCode === null && hub.signalCode === null) hub.kill('SIGKILL');
  const admin = createDb(config, { poolMax: 1 });
  await admin.raw(`drop database if exists ${database} with (force)`);
  await admin.destroy();
});

describe('the exchange, as agencies, analysts and downstream systems use it', () => {
  let analyst: string;
  let bureau: string;
  let uscc: string;
  let receipt: any;

  it('lets an agency push a batch with bad records in it and follow every record to its final fate', async () => {
    analyst = await agencyKey(`ANALYST-${run}`.toUpperCase(), '酒泉市人民检察院 数据分析', 'read:*');
    bureau = await agencyKey(ENV_BUREAU, '酒泉市生态环境局', 'ingest:enforcement-case,read:enforcement-case');

    // A company the market regulator's pulled penalties name, once the warehouse has them.
    uscc = await eventually(async () => {
      const page = await call('GET', '/v1/datasets/enforcement-case/records?limit=100', analyst);
      return page.body.records?.find((r: any) => r.party?.uscc && r.lineage.source_id === `jq-amr-penalty-${run}`)?.party.uscc;
    }, 120_000, 'pulled penalties in the warehouse');

    const good = (n: number, party: Record<string, unknown>, facts: string) => ({
      case_no: `${run}-${n}`,
      action_type: 'PENALTY',
      decision_no: `酒环罚〔2026〕${run}-${n}号`,
      party,
      region_code: '620902',
      violation_type: '超标排放水污染物',
      violation_facts: facts,
      penalty_kinds: ['FINE'],
      fine_amount: '150000',
      occurred_on: '2026-10-01',
      decided_on: '2026-11-01',
      status: 'DECIDED',
      transferred_to_police: false,
      updated_at: '2026-11-02T10:00:00+08:00',
    });
    const records = [
      good(1, { kind: 'ORGANISATION', name: '酒泉某化工有限公司', uscc }, `在线监测超标；举报人电话${PHONE}`),
      good(2, { kind: 'INDIVIDUAL', name: '张某某', id_number: ID }, "私设暗管 <script>alert('x')</script>'); drop table core.enforcement_case; --"),
      { ...good(3, { kind: 'ORGANISATION', name: '酒泉某建材有限公司', uscc }, '扬尘'), occurred_on: '2026-13-45' },
      { ...good(4, { kind: 'ORGANISATION', name: '酒泉某矿业有限公司', uscc: '9162090212' }, '无证排污') },
      { action_type: 'PENALTY', party: { kind: 'ORGANISATION', name: '无编号' } },
    ];
    const posted = await call('POST', '/v1/ingest/enforcement-case', bureau, { records });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ records: 5, accepted: 4 });
    expect(posted.body.rejected).toEqual([expect.objectContaining({ index: 4, code: 'MISSING_RECORD_ID' })]);

    receipt = await eventually(async () => {
      const r = await call('GET', `/v1/receipts/${posted.body.receipt_id}`, bureau);
      return r.body.complete ? r.body : undefined;
    }, 120_000, 'every record of the receipt to have its fate');
    const fates = receipt.records.map((r: any) => r.fate);
    expect(fates).toEqual(['canonical', 'canonical', 'dead_letter', 'dead_letter', 'rejected']);
    expect(receipt.records[2].errors.map((e: any) => e.code)).toContain('BAD_DATE');
    expect(receipt.records[3].errors.map((e: any) => e.code)).toContain('BAD_USCC');
    expect(receipt.counts).toMatchObject({ records: 5, canonical: 2, dead_letter: 2, rejected: 1, pending: 0 });

    // Posting the same batch again sends nothing new: the records point at their originals.
    const again = await call('POST', '/v1/ingest/enforcement-case', bureau, { records });
    expect(again.body.duplicates).toHaveLength(4);
  });

  it('shows an analyst one party across pulled and pushed sources, with injected text kept inert', async () => {
    const party = await eventually(async () => {
      const r = await call('GET', `/v1/parties/${uscc}`, analyst);
      const cases = r.body.records?.['enforcement-case'] ?? [];
      const sources = new Set(cases.map((c: any) => c.record.lineage.source_id));
      return sources.has(`jq-amr-penalty-${run}`) && sources.has(`jq-sthj-cases-${run}`) ? r.body : undefined;
    }, 120_000, 'the party 360 to hold pulled and pushed cases');
    expect(party.found_by).toBe('credit_code');
    expect(party.sources.map((s: any) => s.delivery).sort()).toEqual(expect.arrayContaining(['pull', 'push']));

    const injected = await eventually(async () => {
      const page = await call('GET', `/v1/datasets/enforcement-case/records?region_code=620902&from=2026-11-01&to=2026-11-01`, analyst);
      return page.body.records?.find((r: any) => r.case_id === `${ENV_BUREAU}:${run}-2`);
    }, 60_000, 'the case with injected text');
    expect(injected.violation_facts).toBe("私设暗管 <script>alert('x')</script>'); drop table core.enforcement_case; --");
    expect(injected.party.name).not.toBe('张某某');
  });

  it('gives a downstream system a consumer configuration that reads and decodes the canonical topic', async () => {
    const topics = await call('GET', '/v1/topics', analyst);
    const entry = topics.body.topics.find((t: any) => t.dataset === 'enforcement-case');
    const { client, consumer: consumerConfig, subscribe, registry: registryConfig } = entry.consumer.kafkajs;
    const kafka = new Kafka({ ...client, logLevel: logLevel.NOTHING });
    const registry = new SchemaRegistry(registryConfig);
    const consumer = kafka.consumer({ ...consumerConfig, groupId: `${run}-downstream` });
    const wanted = `${ENV_BUREAU}:${run}-1`;
    let found: any;
    await consumer.connect();
    try {
      await consumer.subscribe(subscribe);
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (found || message.key?.toString() !== wanted) return;
          found = await registry.decode(message.value!);
        },
      });
      await eventually(() => found, 180_000, 'the pushed case on the canonical topic');
    } finally {
      await consumer.disconnect();
    }
    expect(found).toMatchObject({ case_id: wanted, party: { uscc }, lineage: { source_id: `jq-sthj-cases-${run}` } });
  });

  it('lets no clear ID or phone number out: not in API answers, the hub output or the canonical topic', async () => {
    const kafka = new Kafka({ clientId: `${run}-scan`, brokers: [`127.0.0.1:${config.stack.kafka.port}`], logLevel: logLevel.NOTHING });
    const registry = new SchemaRegistry({ host: `http://127.0.0.1:${config.stack.registry.port}/apis/ccompat/v7` });
    const ours = (await consumeAll(kafka, registry, 'canonical.enforcement-case', (v) => String(v.case_id).includes(run), since)).map((m) => JSON.stringify(m.value));
    expect(ours.length).toBeGreaterThanOrEqual(2);
    const places: Array<[string, string[]]> = [['API answers', answers], ['hub output', [output]], ['canonical topic', ours]];
    for (const [place, texts] of places) {
      for (const text of texts) {
        expect({ place, hasId: text.includes(ID), hasPhone: text.includes(PHONE) }).toEqual({ place, hasId: false, hasPhone: false });
      }
    }
    expect(answers.length).toBeGreaterThan(5);
  });

  it('answers liveness and readiness, prints its summary, and stops cleanly on Ctrl-C', async () => {
    expect(output).toMatch(/migrations (applied|up to date)/);
    expect(output).toContain('warehouse sink running');
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).checks.map((c: any) => [c.name, c.ok])).toEqual([
      ['kafka', true],
      ['registry', true],
      ['postgres', true],
    ]);
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    await eventually(() => /SOURCE\s+KIND\s+LANDED/.test(output), 60_000, 'the live summary');
    expect(output).toContain(`jq-amr-penalty-${run}`);

    const exited = new Promise<number | null>((resolve) => hub.once('close', resolve));
    hub.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopping the hub');
  });
});
