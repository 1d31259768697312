import crypto from 'node:crypto';
import type { Dataset } from './normalise/canonical-fields';

/**
 * The landing envelope of `raw.<source_id>` (DATA-STANDARD.md): the payload exactly as
 * received, decoded to UTF-8, with its digest, so a canonical record can always be traced
 * back to the bytes an agency sent and re-normalised after a mapping fix.
 */
export interface RawEnvelope {
  source_id: string;
  dataset: Dataset;
  record_key: string;
  /** ISO-8601 UTC (timestamp-millis in Avro). */
  received_at: string;
  content_type: string;
  payload: string;
  payload_sha256: string;
  /** The connector run or push receipt that brought the record. */
  run_id: string;
}

export interface EnvelopeInput {
  sourceId: string;
  dataset: Dataset;
  /** A record object (serialised as JSON) or the text exactly as received. */
  payload: string | Record<string, unknown>;
  runId: string;
  /** The source's own identity of the record; the payload digest when it has none. */
  recordKey?: string;
  contentType?: string;
  receivedAt?: Date;
}

export function buildEnvelope(input: EnvelopeInput): RawEnvelope {
  const payload = typeof input.payload === 'string' ? input.payload : JSON.stringify(input.payload);
  const digest = crypto.createHash('sha256').update(payload, 'utf8').digest('hex');
  return {
    source_id: input.sourceId,
    dataset: input.dataset,
    record_key: input.recordKey ?? digest,
    received_at: (input.receivedAt ?? new Date()).toISOString(),
    content_type: input.contentType ?? 'application/json',
    payload,
    payload_sha256: digest,
    run_id: input.runId,
  };
}
