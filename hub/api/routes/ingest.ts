import { RawProducer } from '../../../connectors/raw-producer';
import { buildEnvelope } from '../../../pipelines/raw-envelope';
import { prepareTopicsAndSchemas } from '../../../pipelines/topics';
import { hasScope } from '../auth';
import type { ApiModuleFactory } from '../deps';
import { recordIngest } from '../metrics';
import { ApiError } from '../http-errors';
import { IngestParams, IngestReceipt, ingestBody, ReceiptParams, ReceiptStatus } from '../ingest/api-schemas';
import { checkRecords } from '../ingest/check-records';
import { FateTracker } from '../ingest/fate-tracker';
import { GroupSender } from '../ingest/group-sender';
import { PushSources } from '../ingest/push-sources';
import { isReceiptId, newReceiptId, recordReceipt, releaseLeases } from '../ingest/receipt-store';
import { describeReceipt, loadReceipt } from '../ingest/receipt-view';
import { defineRoute } from '../route';

/** A send that takes longer is answered 503 (re-post: it is idempotent); Kafka may still take it, and the receipt then shows it. */
const SEND_TIMEOUT_MS = 30_000;
const RETRY_AFTER_S = 5;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement from Kafka within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The push API. `POST /v1/ingest/:dataset` lands a batch of an agency's records in the raw topic
 * of its push source (the same envelope connectors produce, run id = receipt id) and answers with
 * a receipt; `GET /v1/receipts/:id` shows every record's final fate as the receipt tracker and
 * ops.dlq learn it. Each request is one PostgreSQL transaction (the receipt and each record's
 * place), then one Kafka send with no pool connection held (shared with concurrent requests:
 * group-sender.ts); re-posting a version already taken in sends nothing and points at the original.
 */
export const ingestModule: ApiModuleFactory = (deps) => {
  const { config, db, kafka, registry } = deps;
  const logger = deps.logger.child({ component: 'ingest' });
  const pushSources = PushSources.from(deps.sources);
  const producer = new RawProducer(kafka, registry);
  const sender = new GroupSender(producer);
  const tracker = new FateTracker({
    kafka,
    registry,
    db,
    logger,
    pushTopics: pushSources.topics,
    groupPrefix: config.normaliser.group_id,
    rawRetentionMs: config.topics.raw_retention_days * 86_400_000,
  });
  let started = false;

  const ingest = defineRoute({
    method: 'post',
    path: '/ingest/:dataset',
    tag: 'ingest',
    summary: "Push a batch of records into the agency's push source and get a receipt",
    description:
      'The key\'s agency must be named by a push source of this dataset (config/sources, `connector: {kind: push}`). ' +
      'Each record is checked for shape only; the receipt lists what was refused and why, and `GET /v1/receipts/{receipt_id}` ' +
      'shows each accepted record\'s final fate once normalised. Posting the same record (same id, same content) again is idempotent.',
    auth: { scope: (p) => `ingest:${p.dataset}`, describe: 'ingest:<dataset>' },
    params: IngestParams,
    body: ingestBody(config.hub.max_batch_records),
    responses: { 202: { description: 'the receipt: the batch is taken in and on its way to the normaliser', schema: IngestReceipt } },
    handler: async ({ params, body, principal, note, res }) => {
      const { dataset } = params;
      note({ dataset, records: body.records.length });
      const agency = principal!.agencyCode;
      const target = pushSources.find(agency, dataset);
      if (!target) {
        throw new ApiError(403, 'NO_PUSH_SOURCE', `agency ${agency} has no push source for ${dataset}: a source definition with connector kind push must name it`, { agency_code: agency, dataset });
      }
      const batch = checkRecords(body.records, target.config.id_field);
      const receiptId = newReceiptId();
      const receivedAt = new Date();
      const placement = await recordReceipt(db, {
        receiptId, keyId: principal!.keyId, agencyCode: agency, sourceId: target.source.id, dataset, topic: target.topic, recordCount: body.records.length, receivedAt, batch,
      });
      const envelope = (runId: string, c: { payload: string; recordKey: string }) =>
        buildEnvelope({ sourceId: target.source.id, dataset, payload: c.payload, recordKey: c.recordKey, runId, receivedAt });
      const envelopes = [...placement.accepted.map((c) => envelope(receiptId, c)), ...placement.resend.map((r) => envelope(r.receiptId, r.candidate))];
      if (envelopes.length > 0) {
        try {
          if (!started) throw new Error('the ingest producer is not started');
          await withTimeout(sender.send(envelopes), SEND_TIMEOUT_MS);
        } catch (err) {
          logger.error('batch not handed to Kafka', { receipt_id: receiptId, source: target.source.id, records: envelopes.length, error: err });
          await releaseLeases(db, [receiptId, ...placement.resend.map((r) => r.receiptId)]).catch(() => undefined);
          throw new ApiError(503, 'INGEST_UNAVAILABLE', 'the records could not be handed to Kafka; post the same batch again (re-posting is idempotent)', {
            receipt_id: receiptId,
            retry_after_s: RETRY_AFTER_S,
          });
        }
      }
      const accepted = body.records.length - batch.rejected.length;
      recordIngest(res, dataset, accepted, batch.rejected.length);
      logger.debug('batch taken in', { receipt_id: receiptId, source: target.source.id, sent: envelopes.length, rejected: batch.rejected.length, resent: placement.resend.length });
      return {
        status: 202,
        body: {
          receipt_id: receiptId,
          source_id: target.source.id,
          dataset,
          received_at: receivedAt.toISOString(),
          records: body.records.length,
          accepted,
          duplicates: placement.duplicates.map((d) => ({ index: d.index, duplicate_of: { receipt_id: d.receiptId, index: d.originalIndex } })),
          rejected: batch.rejected.map((r) => ({ index: r.index, code: r.code, message: r.message })),
          receipt_url: `/v1/receipts/${receiptId}`,
        },
      };
    },
  });

  const receipt = defineRoute({
    method: 'get',
    path: '/receipts/:receipt_id',
    tag: 'ingest',
    summary: 'The final fate of every record of a pushed batch',
    description: 'Only the agency that pushed the batch (any of its keys) or an admin key sees a receipt; to anyone else it does not exist.',
    auth: 'key',
    params: ReceiptParams,
    responses: {
      200: { description: 'every record with its fate; `complete` once none is pending', schema: ReceiptStatus },
      404: { description: 'no such receipt for this key' },
    },
    handler: async ({ params, principal, note }) => {
      const missing = () => new ApiError(404, 'RECEIPT_NOT_FOUND', 'no receipt with this id for this agency', {});
      if (!isReceiptId(params.receipt_id)) throw missing();
      const found = await loadReceipt(db, params.receipt_id);
      if (!found || (found.receipt.agency_code !== principal!.agencyCode && !hasScope(principal!, 'admin'))) throw missing();
      note({ dataset: found.receipt.dataset, records: found.records.length });
      return { body: describeReceipt(found.receipt, found.records, { pii: hasScope(principal!, 'read:pii') }) };
    },
  });

  return {
    routes: [ingest, receipt],
    start: async () => {
      if (pushSources.all.length === 0) return;
      await prepareTopicsAndSchemas(config, kafka, registry, pushSources.all.map((p) => p.source.id));
      await producer.connect();
      started = true;
      tracker.start();
    },
    stop: async () => {
      await tracker.stop();
      if (started) await producer.disconnect().catch(() => undefined);
      started = false;
    },
  };
};
