import type { RawEnvelope } from '../raw-envelope';
import { applyMapping, FieldError } from './apply-mapping';
import { buildRecord, CanonicalRecord } from './build-record';
import { Dataset, DATASETS, RECORD_ID_FIELD } from './canonical-fields';
import type { SourceDefinition } from './mapping';
import { maskPiiInText } from './parsers/mask-text';

/** Bumped when the normaliser's own rules change; a mapping change shows in its hash. */
export const NORMALISER_VERSION = '1.0.0';

export interface RawCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export interface DeadLetter {
  raw: { topic: string; partition: number; offset: number };
  source_id: string;
  dataset: string;
  record_key: string | null;
  errors: FieldError[];
  normaliser_version: string;
  failed_at: string;
}

export type Outcome =
  | { kind: 'canonical'; dataset: Dataset; key: string; record: CanonicalRecord }
  | { kind: 'dead'; key: string; letter: DeadLetter };

export interface NormaliseContext {
  sources: Map<string, SourceDefinition>;
  piiSecret: string;
  replyDeadlines: Record<string, { months: number; days: number }>;
  /**
   * Checks a finished record against its Avro schema; returns the paths that do not fit.
   * The Kafka path leaves it out: encoding checks the record anyway (see outcomes.ts).
   */
  validate?: (dataset: Dataset, record: CanonicalRecord) => string[];
  now?: () => Date;
  /** 'YYYY-MM-DD' in Shanghai, when the caller computed it once for a whole batch. */
  today?: string;
}

/** 'YYYY-MM-DD' in Asia/Shanghai (UTC+8, no daylight saving). */
export function shanghaiDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

export function normaliserVersion(source: SourceDefinition | undefined): string {
  return source ? `${NORMALISER_VERSION}+${source.mappingHash}` : NORMALISER_VERSION;
}

export function schemaViolations(dataset: string, paths: string[]): FieldError[] {
  return paths.map((path) => ({ field: path, code: 'SCHEMA_VIOLATION', message: `${path} does not fit the ${dataset} schema` }));
}

/** The dead letter of the raw message at `at`. */
export function deadOutcome(
  at: RawCoordinates,
  sourceId: string,
  dataset: string,
  recordKey: string | null,
  version: string,
  errors: FieldError[],
  now: Date,
): Outcome {
  return {
    kind: 'dead',
    key: `${at.topic}/${at.partition}/${at.offset}`,
    letter: {
      raw: { topic: at.topic, partition: at.partition, offset: Number(at.offset) },
      source_id: sourceId,
      dataset,
      record_key: recordKey,
      // Messages may quote a source value; if a mapping points at the wrong column, that value
      // could be personal data — masked like free text, it can go to the DLQ and ops.dlq.
      errors: errors.map((e) => ({ ...e, message: maskPiiInText(e.message).text })),
      normaliser_version: version,
      failed_at: now.toISOString(),
    },
  };
}

/** JSON.parse's own messages quote the payload, which may hold personal data: keep only the position. */
function jsonProblem(err: unknown): string {
  const position = /position (\d+)/.exec((err as Error).message);
  return position ? `payload is not valid JSON (error at character ${position[1]})` : 'payload is not valid JSON';
}

/**
 * Normalises one raw record: the envelope's payload through its source's mapping into a
 * canonical record, or — for any reason at all — a dead letter that says why. It never
 * throws for bad input: every record ends in exactly one of the two.
 */
export function normaliseEnvelope(envelope: RawEnvelope, at: RawCoordinates, ctx: NormaliseContext): Outcome {
  const now = ctx.now?.() ?? new Date();
  const source = ctx.sources.get(envelope.source_id);
  const version = normaliserVersion(source);
  const dead = (errors: FieldError[]): Outcome => deadOutcome(at, envelope.source_id, envelope.dataset, envelope.record_key ?? null, version, errors, now);

  if (!source) return dead([{ field: 'source_id', code: 'UNKNOWN_SOURCE', message: `no source definition for ${envelope.source_id}` }]);
  // The topic says which agency sent it; an envelope claiming another source must not borrow its mapping.
  if (at.topic.startsWith('raw.') && at.topic !== `raw.${envelope.source_id}`) {
    return dead([{ field: 'source_id', code: 'SOURCE_MISMATCH', message: `envelope of ${envelope.source_id} on ${at.topic}` }]);
  }
  if (!DATASETS.includes(envelope.dataset) || envelope.dataset !== source.dataset) {
    return dead([{ field: 'dataset', code: 'WRONG_DATASET', message: `source ${source.id} carries ${source.dataset}, envelope says ${envelope.dataset}` }]);
  }
  if (!/json/i.test(envelope.content_type)) {
    return dead([{ field: 'payload', code: 'UNSUPPORTED_CONTENT_TYPE', message: `content type ${envelope.content_type} is not JSON` }]);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(envelope.payload);
  } catch (err) {
    return dead([{ field: 'payload', code: 'MALFORMED_JSON', message: jsonProblem(err) }]);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return dead([{ field: 'payload', code: 'MALFORMED_JSON', message: 'payload must be a JSON object (one record)' }]);
  }

  const mapped = applyMapping(source, payload as Record<string, unknown>, { piiSecret: ctx.piiSecret, today: ctx.today ?? shanghaiDate(now) });
  if (mapped.errors.length > 0) return dead(mapped.errors);

  const record = buildRecord(source.dataset, mapped, {
    lineage: {
      source_id: source.id,
      raw_topic: at.topic,
      raw_partition: at.partition,
      raw_offset: Number(at.offset),
      ingested_at: envelope.received_at,
      normaliser_version: version,
    },
    receivedAt: envelope.received_at,
    replyDeadlines: ctx.replyDeadlines,
  });
  const misfits = ctx.validate?.(source.dataset, record) ?? [];
  if (misfits.length > 0) return dead(schemaViolations(source.dataset, misfits));
  return { kind: 'canonical', dataset: source.dataset, key: String(record[RECORD_ID_FIELD[source.dataset]]), record };
}
