import { appMetrics } from '../../hub/api/metrics';
import { createProducer } from '../../lib/kafka-client';
import { ensureTopics } from '../../pipelines/topics';
import { DATASET_TOPICS, rawTopic } from '../../schemas/catalog';
import { startTestHub, TestHub } from '../support/api';
import { uniqueName } from '../support/helpers';
import { isolatedConfig, isolatedSources } from '../support/pipeline';

/** One sample of the Prometheus text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('/metrics', () => {
  let hub: TestHub;
  const sources = isolatedSources();
  const source = sources.ids.hotline;
  const run = uniqueName('metrics');
  const dlqSource = `${run}-dlq-source`;
  const consumer = `${run}-warehouse`;
  let groupId = '';
  /** Partition 0's high watermark before anything was scraped (other tests may write to the topic meanwhile). */
  let caseHighBefore = 0;
  const caseTopic = DATASET_TOPICS['enforcement-case'];

  const highOf = async (topic: string, partition: number) => {
    const admin = hub.rt.kafka.admin();
    await admin.connect();
    try {
      return Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)!.high);
    } finally {
      await admin.disconnect();
    }
  };

  const scrape = async () => {
    const res = await hub.call('GET', '/metrics');
    expect(res.status).toBe(200);
    return { res, samples: parseSamples(res.text) };
  };

  beforeAll(async () => {
    hub = await startTestHub((c) => {
      const config = isolatedConfig(c, sources.dir);
      groupId = config.normaliser.group_id;
      return config;
    });
    // Five raw records of one source, that no normaliser of this run has read.
    const admin = hub.rt.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, hub.rt.config, [source]);
    } finally {
      await admin.disconnect();
    }
    const producer = createProducer(hub.rt.kafka);
    await producer.connect();
    try {
      await producer.send({ topic: rawTopic(source), messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    } finally {
      await producer.disconnect();
    }
    // Two open dead letters and a resolved one; a warehouse consumer at the start of partition 0.
    const letter = (offset: number, status: string) => ({
      raw_topic: rawTopic(dlqSource), raw_partition: 0, raw_offset: offset, source_id: dlqSource, dataset: 'hotline-ticket',
      errors: JSON.stringify([{ field: 'received_at', code: 'DATE_INVALID', message: 'not a date' }]), normaliser_version: 'test',
      first_failed_at: new Date(), failed_at: new Date(), status,
    });
    await hub.rt.db('ops.dlq').insert([letter(0, 'open'), letter(1, 'open'), letter(2, 'resolved')]);
    await hub.rt.db('ops.consumer_offsets').insert({ consumer, topic: caseTopic, partition: 0, next_offset: 0 });
    caseHighBefore = await highOf(caseTopic, 0);
  });

  afterAll(async () => {
    await hub?.rt.db('ops.dlq').where({ source_id: dlqSource }).delete();
    await hub?.rt.db('ops.consumer_offsets').where({ consumer }).delete();
    await hub?.close();
  });

  it('is served without a key, in the Prometheus text format', async () => {
    const { res } = await scrape();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE liandong_http_requests_total counter');
    expect(res.text).toContain('# TYPE liandong_http_request_duration_seconds histogram');
  });

  it('reads records in, records out, open dead letters and consumer lag when scraped', async () => {
    const { samples } = await scrape();
    const highHigh = await highOf(caseTopic, 0);
    expect(valueOf(samples, 'liandong_metrics_backend_up', { backend: 'kafka' })).toBe(1);
    expect(valueOf(samples, 'liandong_metrics_backend_up', { backend: 'postgres' })).toBe(1);
    expect(valueOf(samples, 'liandong_records_in', { source })).toBe(5);
    // The run's other sources exist in its configuration but have no raw topic yet: no figure rather than a made-up 0.
    expect(valueOf(samples, 'liandong_records_in', { source: sources.ids.penalty })).toBeUndefined();
    expect(valueOf(samples, 'liandong_consumer_lag_messages', { pipeline: 'normaliser', consumer: groupId })).toBe(5);
    expect(valueOf(samples, 'liandong_dlq_open', { source: dlqSource })).toBe(2);
    const lag = valueOf(samples, 'liandong_consumer_lag_messages', { pipeline: 'warehouse', consumer })!;
    expect(lag).toBeGreaterThanOrEqual(caseHighBefore);
    expect(lag).toBeLessThanOrEqual(highHigh);
    for (const dataset of Object.keys(DATASET_TOPICS)) expect(valueOf(samples, 'liandong_records_out', { dataset })).toBeGreaterThanOrEqual(0);
  });

  it('counts requests and their durations by method, route template and status', async () => {
    for (let i = 0; i < 3; i++) expect((await hub.call('GET', '/v1/audit')).status).toBe(401);
    const admin = await hub.key(['admin']);
    expect((await hub.call('GET', '/v1/audit?limit=1', { key: admin })).status).toBe(200);
    const { samples } = await scrape();
    expect(valueOf(samples, 'liandong_http_requests_total', { method: 'GET', route: '/v1/audit', status: '401' })).toBe(3);
    expect(valueOf(samples, 'liandong_http_requests_total', { method: 'GET', route: '/v1/audit', status: '200' })).toBe(1);
    expect(valueOf(samples, 'liandong_http_request_duration_seconds_count', { method: 'GET', route: '/v1/audit', status: '401' })).toBe(3);
  });

  it('labels an unmatched path with a fixed marker, never the path (it may hold an ID number)', async () => {
    const idNumber = '11010519491231002X';
    expect((await hub.call('GET', `/v1/no-such-route/${idNumber}`)).status).toBe(404);
    const { res, samples } = await scrape();
    expect(res.text).not.toContain(idNumber);
    expect(valueOf(samples, 'liandong_http_requests_total', { method: 'GET', route: '(no route)', status: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('counts the records ingest calls accept and reject, on the app that answered them', async () => {
    appMetrics(hub.hub.app)!.recordIngest('hotline-ticket', 7, 2);
    appMetrics(hub.hub.app)!.recordIngest('hotline-ticket', 3, 0);
    const { samples } = await scrape();
    expect(valueOf(samples, 'liandong_records_ingested_total', { dataset: 'hotline-ticket', outcome: 'accepted' })).toBe(10);
    expect(valueOf(samples, 'liandong_records_ingested_total', { dataset: 'hotline-ticket', outcome: 'rejected' })).toBe(2);
  });

  it('keeps each app\'s counts to itself', async () => {
    const other = await startTestHub();
    try {
      await other.call('GET', '/v1/audit');
      const text = (await other.call('GET', '/metrics')).text;
      expect(valueOf(parseSamples(text), 'liandong_http_requests_total', { method: 'GET', route: '/v1/audit', status: '401' })).toBe(1);
      expect(valueOf(parseSamples(text), 'liandong_records_ingested_total', { dataset: 'hotline-ticket', outcome: 'accepted' })).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
