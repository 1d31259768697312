import { z } from 'zod';
import { DATASETS, type Dataset } from '../../../pipelines/normalise/canonical-fields';
import { MAX_RECORD_BYTES, MAX_RECORD_DEPTH } from './check-records';

/** Request and response shapes of the push API, validated by the routes and documented at /v1/openapi.json. */

export const IngestParams = z.object({
  dataset: z.enum(DATASETS as [Dataset, ...Dataset[]]).describe('The dataset of the data standard the records belong to.'),
});

export function ingestBody(maxRecords: number) {
  return z
    .object({
      records: z
        .array(
          z.unknown().describe(
            `One record as the agency's system holds it: a JSON object carrying the source's record id field, at most ${MAX_RECORD_BYTES} bytes and ${MAX_RECORD_DEPTH} levels deep. ` +
              'Its content is checked by the normaliser: a record that cannot be normalised ends as a dead letter, listed on the receipt with its errors.',
          ),
        )
        .min(1)
        .max(maxRecords)
        .describe(`1 to ${maxRecords} records.`),
    })
    .strict();
}

const DuplicateOf = z.object({
  receipt_id: z.string(),
  index: z.number().int().describe('Index of the original record in that receipt.'),
});

export const IngestReceipt = z.object({
  receipt_id: z.string().describe('Follow it with GET /v1/receipts/{receipt_id}.'),
  source_id: z.string().describe('The push source the records landed in.'),
  dataset: z.string(),
  received_at: z.string().describe('When the hub received the batch (ISO 8601, UTC).'),
  records: z.number().int().describe('Records in the request.'),
  accepted: z.number().int().describe('Records taken in: new versions plus duplicates of versions taken in before.'),
  duplicates: z
    .array(z.object({ index: z.number().int(), duplicate_of: DuplicateOf }))
    .describe('Records identical (same record id, same content) to one already taken in: not sent again; their fate is the original one.'),
  rejected: z
    .array(z.object({ index: z.number().int(), code: z.string().describe('NOT_AN_OBJECT, TOO_DEEP, TOO_LARGE, UNSAFE_NUMBER, MISSING_RECORD_ID or BAD_RECORD_ID.'), message: z.string() }))
    .describe('Records refused at the door, by index in the request; they were not sent anywhere.'),
  receipt_url: z.string(),
});

export const ReceiptParams = z.object({
  receipt_id: z.string().max(100).describe('The receipt id a POST /v1/ingest/{dataset} answered with.'),
});

const DlqError = z.object({ field: z.string(), code: z.string(), message: z.string() });
const Canonical = z.object({ fate: z.literal('canonical'), dataset: z.string(), record_id: z.string().describe('Id of the canonical record (masked where it holds an ID or phone number, unless read:pii).') });
const DeadLetter = z.object({ fate: z.literal('dead_letter'), errors: z.array(DlqError).describe('Why the normaliser refused it (BAD_DATE, BAD_USCC, MISSING_FIELD…).') });
const Pending = z.object({ fate: z.literal('pending') });
const FinalFate = z.discriminatedUnion('fate', [Canonical, DeadLetter, Pending]);
const Base = {
  index: z.number().int().describe('Index of the record in the request.'),
  record_key: z.string().nullable().describe("The record's id field (masked where it holds an ID or phone number, unless read:pii); null when it had none."),
};

export const ReceiptStatus = z.object({
  receipt_id: z.string(),
  source_id: z.string(),
  dataset: z.string(),
  received_at: z.string(),
  complete: z.boolean().describe('True once no record is pending: every record is canonical, a dead letter, or was rejected.'),
  counts: z.object({
    records: z.number().int(),
    rejected: z.number().int(),
    duplicate: z.number().int().describe('Records that were duplicates; they also count under their original fate.'),
    canonical: z.number().int(),
    dead_letter: z.number().int(),
    pending: z.number().int(),
  }),
  records: z.array(
    z.discriminatedUnion('fate', [
      Canonical.extend(Base),
      DeadLetter.extend(Base),
      Pending.extend(Base),
      z.object({ ...Base, fate: z.literal('duplicate'), duplicate_of: DuplicateOf, original: FinalFate }),
      z.object({ ...Base, fate: z.literal('rejected'), code: z.string(), message: z.string() }),
    ]),
  ),
});
