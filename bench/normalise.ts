import { AgencySimulator } from '../connectors/simulators/agency-records';
import { RawProducer } from '../connectors/raw-producer';
import type { Config } from '../lib/config';
import { createKafka } from '../lib/kafka-client';
import { createLogger } from '../lib/log';
import { createRegistry } from '../lib/registry-client';
import { loadSources } from '../pipelines/normalise/mapping';
import { Normaliser, normaliseContext } from '../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../pipelines/normalise/normalise-record';
import { encodeOutcome, outputCodec } from '../pipelines/normalise/outcomes';
import { prepareTopicsAndSchemas } from '../pipelines/topics';
import { buildEnvelope, RawEnvelope } from '../pipelines/raw-envelope';
import { rawTopic } from '../schemas/catalog';
import { BenchResult, rssMb, sourcesCopy } from './support';

/**
 * Normaliser throughput on this machine:
 * - `normalise (in process)`: envelope decode → mapping → canonical record → Avro encode,
 *   the CPU work per record without Kafka;
 * - `normaliser (Kafka, exactly once)`: the real service over pre-loaded raw topics,
 *   transactions and all, from start until every record is read.
 */
export async function benchNormalise(config: Config, records: number): Promise<BenchResult[]> {
  const { dir, ids } = sourcesCopy();
  const sources = loadSources(dir);
  const kafka = createKafka(config, { clientId: 'bench-normalise' });
  const registry = createRegistry(config);
  const schemas = await prepareTopicsAndSchemas(config, kafka, registry, [...sources.keys()]);
  const simulator = new AgencySimulator({ seed: 99, count: records, defectRate: 0.05, sources: ids });
  const envelopes: RawEnvelope[] = [...simulator.records()].map((r) =>
    buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'bench' }),
  );

  // In process: the raw envelopes encoded as they sit on Kafka, then the normaliser's per-record work.
  const rawIds = new Map<string, number>();
  for (const id of sources.keys()) rawIds.set(id, await registry.getLatestSchemaId(`${rawTopic(id)}-value`));
  const rawBuffers = await Promise.all(envelopes.map((e) => registry.encode(rawIds.get(e.source_id)!, e)));
  const ctx = { ...normaliseContext({ config, sources, piiSecret: 'bench-secret' }), validate: undefined, today: new Date().toISOString().slice(0, 10) };
  const codec = await outputCodec(registry, schemas);
  await codec.load(...rawIds.values());
  const t0 = process.hrtime.bigint();
  let offset = 0;
  for (const buffer of rawBuffers) {
    const envelope = codec.decode(buffer) as RawEnvelope;
    const outcome = normaliseEnvelope(envelope, { topic: rawTopic(envelope.source_id), partition: 0, offset: String(offset++) }, ctx);
    encodeOutcome(codec, schemas, outcome);
  }
  const inProcessS = Number(process.hrtime.bigint() - t0) / 1e9;
  const results: BenchResult[] = [
    { name: 'normalise (in process)', value: Math.round(records / inProcessS), unit: 'records/s', note: `${records} records in ${inProcessS.toFixed(2)} s, RSS ${rssMb()} MB` },
  ];

  // Through Kafka: load the raw topics first, then time the service alone.
  const raw = new RawProducer(kafka, registry);
  await raw.connect();
  for (let i = 0; i < envelopes.length; i += 5000) await raw.send(envelopes.slice(i, i + 5000));
  await raw.disconnect();
  const runConfig: Config = { ...config, sources_dir: dir, normaliser: { ...config.normaliser, group_id: `bench-${Date.now()}`, transactional_id: `bench-tx-${Date.now()}`, dlq_group_id: `bench-dlq-${Date.now()}` } };
  const normaliser = new Normaliser({ config: runConfig, kafka, registry, sources, piiSecret: 'bench-secret', logger: createLogger({ bench: 'normalise' }, { level: 'error' }) });
  const t1 = Date.now();
  await normaliser.start();
  let peakRss = rssMb();
  let firstAt = 0;
  const giveUp = Date.now() + 10 * 60_000;
  while (normaliser.stats.read < records) {
    if (Date.now() > giveUp) throw new Error(`normaliser read ${normaliser.stats.read} of ${records} records in 10 minutes`);
    await new Promise((r) => setTimeout(r, 20));
    if (!firstAt && normaliser.stats.read > 0) firstAt = Date.now();
    peakRss = Math.max(peakRss, rssMb());
  }
  const kafkaS = (Date.now() - t1) / 1000;
  const steadyS = (Date.now() - firstAt) / 1000;
  await normaliser.stop();
  results.push({
    name: 'normaliser (Kafka, exactly once)',
    value: Math.round(records / steadyS),
    unit: 'records/s',
    note: `from the first committed batch; ${kafkaS.toFixed(2)} s in all incl. start-up and group join (${Math.round(records / kafkaS)}/s); ${normaliser.stats.batches} transactions; ${normaliser.stats.dead} dead letters; peak RSS ${peakRss} MB`,
  });
  return results;
}
