import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { AvroCodec } from '../../lib/avro-codec';
import { chunkTopicMessages, createProducer, groupByTopic } from '../../lib/kafka-client';
import { avroType, DATASET_TOPICS, DLQ_TOPIC } from '../../schemas/catalog';
import type { OutputSchemas } from '../topics';
import type { RawEnvelope } from '../raw-envelope';
import type { CanonicalRecord } from './build-record';
import type { Dataset } from './canonical-fields';
import { SeenVersions } from './seen-versions';
import { deadOutcome, normaliseEnvelope, NormaliseContext, normaliserVersion, Outcome, schemaViolations, shanghaiDate } from './normalise-record';

/** Checks a record against its dataset's Avro schema; returns the paths that do not fit. */
export function validateRecord(dataset: Dataset, record: CanonicalRecord): string[] {
  const misfits: string[] = [];
  avroType(dataset).isValid(record, { errorHook: (path) => misfits.push(path.join('.') || '(record)') });
  return misfits;
}

export interface EncodedOutcome {
  outcome: Outcome;
  topic: string;
  message: Message;
}

/**
 * Decodes raw messages, normalises them and encodes what comes out. A message that is not
 * even a raw envelope becomes a dead letter too: nothing read is ever dropped.
 */
export interface NormalisedBatch {
  outcomes: EncodedOutcome[];
  /** Messages that must commit with the outcomes (the versions seen). */
  bookkeeping: Array<{ topic: string; message: Message }>;
  /** Raw records skipped as identical re-sends of a version already normalised. */
  duplicates: number;
}

export async function normaliseMessages(
  codec: AvroCodec,
  schemas: OutputSchemas,
  ctx: NormaliseContext,
  topic: string,
  partition: number,
  messages: KafkaMessage[],
  seen?: SeenVersions,
  /**
   * Versions seen earlier in the same transaction but not yet committed to `seen`: the
   * batches that share a transaction share this map, so a version in two of them is
   * normalised once.
   */
  inBatch: Map<string, string> = new Map(),
): Promise<NormalisedBatch> {
  const out: EncodedOutcome[] = [];
  const bookkeeping: NormalisedBatch['bookkeeping'] = [];
  let duplicates = 0;
  const now = ctx.now?.() ?? new Date();
  // Records are checked against their schema by encoding them; the slower path-by-path
  // validation runs only for a record that failed to encode, to name what did not fit.
  const batchCtx: NormaliseContext = { ...ctx, validate: undefined, today: shanghaiDate(now) };
  const sourceId = topic.replace(/^raw\./, '');
  const source = ctx.sources.get(sourceId);
  for (const message of messages) {
    const at = { topic, partition, offset: message.offset };
    let outcome: Outcome;
    try {
      let decoded = codec.decode(message.value!);
      if (decoded instanceof Promise) decoded = await decoded;
      const envelope = decoded as RawEnvelope;
      if (seen?.isRepeat(envelope, inBatch)) {
        duplicates++;
        continue;
      }
      outcome = normaliseEnvelope(envelope, at, batchCtx);
      if (seen && outcome.kind === 'canonical') {
        const note = seen.remember(envelope);
        inBatch.set(String(note.message.key), String(note.message.value));
        bookkeeping.push(note);
      }
    } catch (err) {
      const errors = [{ field: 'envelope', code: 'MALFORMED_ENVELOPE', message: `not a registered raw envelope: ${(err as Error).message}` }];
      outcome = deadOutcome(at, sourceId, source?.dataset ?? 'unknown', message.key?.toString('utf8') ?? null, normaliserVersion(source), errors, now);
    }
    try {
      out.push(encodeOutcome(codec, schemas, outcome));
    } catch (err) {
      if (outcome.kind !== 'canonical') throw err;
      const paths = validateRecord(outcome.dataset, outcome.record);
      const errors = schemaViolations(outcome.dataset, paths.length > 0 ? paths : ['(record)']);
      const letter = deadOutcome(at, sourceId, outcome.dataset, outcome.key, String((outcome.record.lineage as { normaliser_version: string }).normaliser_version), errors, now);
      out.push(encodeOutcome(codec, schemas, letter));
    }
  }
  return { outcomes: out, bookkeeping, duplicates };
}

/** Encodes an outcome for its topic; the codec must have loaded the output schemas. */
export function encodeOutcome(codec: AvroCodec, schemas: OutputSchemas, outcome: Outcome): EncodedOutcome {
  if (outcome.kind === 'canonical') {
    return {
      outcome,
      topic: DATASET_TOPICS[outcome.dataset],
      message: { key: outcome.key, value: codec.encode(schemas.canonical[outcome.dataset], outcome.record) },
    };
  }
  return { outcome, topic: DLQ_TOPIC, message: { key: outcome.key, value: codec.encode(schemas.dlq, outcome.letter as unknown as object) } };
}

/** A codec with the output schemas loaded. */
export async function outputCodec(registry: SchemaRegistry, schemas: OutputSchemas): Promise<AvroCodec> {
  const codec = new AvroCodec(registry);
  await codec.load(...Object.values(schemas.canonical), schemas.dlq);
  return codec;
}

/** The consumed positions a transaction commits with its output: the next offset of each raw partition. */
export interface ConsumedOffsets {
  consumerGroupId: string;
  partitions: Array<{ topic: string; partition: number; offset: string }>;
}

/**
 * Produces outcomes in one Kafka transaction, optionally with the consumer offsets that
 * produced them: either all of it becomes visible to read_committed consumers, or none.
 */
export async function produceInTransaction(producer: Producer, encoded: Array<{ topic: string; message: Message }>, offsets?: ConsumedOffsets): Promise<void> {
  const transaction = await producer.transaction();
  try {
    for (const chunk of chunkTopicMessages(groupByTopic<Message>(encoded))) await transaction.sendBatch({ topicMessages: chunk, acks: -1 });
    if (offsets && offsets.partitions.length > 0) {
      const byTopic = groupByTopic(offsets.partitions.map(({ topic, partition, offset }) => ({ topic, message: { partition, offset } })));
      await transaction.sendOffsets({ consumerGroupId: offsets.consumerGroupId, topics: byTopic.map(({ topic, messages }) => ({ topic, partitions: messages })) });
    }
    await transaction.commit();
  } catch (err) {
    await transaction.abort().catch(() => undefined);
    throw err;
  }
}

export function transactionalProducer(kafka: Kafka, transactionalId: string): Producer {
  return createProducer(kafka, { transactionalId, transactionTimeout: 60_000 });
}

