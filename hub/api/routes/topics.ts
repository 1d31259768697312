import type { Admin } from 'kafkajs';
import { z } from 'zod';
import { subjectFor, type Dataset } from '../../../schemas/catalog';
import { hasScope } from '../auth';
import type { ApiModuleFactory } from '../deps';
import { ApiError } from '../http-errors';
import { consumerConfig, suggestedGroupId } from '../query/consumer-config';
import { DATASETS, READINGS } from '../query/datasets';
import { datasetDoc, personalFields } from '../query/fields';
import { LatestSchemas } from '../query/registry-latest';
import { defineRoute } from '../route';

/**
 * What downstream systems can subscribe to (`GET /v1/topics`): the canonical topics, with
 * their key, value subject and latest schema, partition count and a consumer configuration.
 *
 * Which topics a key sees: those of the datasets it may read (`read:<dataset>`). A
 * subscription is a full copy of the dataset, so it follows the same agreement as reading the
 * records. The topics carry the keyed hashes of ID and phone numbers (the warehouse is built
 * from them), so each topic says which fields those are: granting a subscription — a Kafka ACL,
 * which this API does not control — is granting read:pii in effect.
 *
 * Not listed: `raw.<source>` (personal data as received, restricted, bounded retention) and
 * `dlq.normalise` (the hub's operations), which are not for downstream systems.
 */

const DatasetName = z.enum(DATASETS as [string, ...string[]]);

const Query = z
  .object({
    dataset: DatasetName.optional().describe('Only this dataset\'s topic.'),
    include_schema: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('false: leave out the schema text (default true).'),
  })
  .strict();

const TopicEntry = z.object({
  topic: z.string(),
  dataset: DatasetName,
  description: z.string(),
  key: z.object({ field: z.string(), format: z.string(), deserializer: z.string() }),
  value: z.object({
    subject: z.string(),
    format: z.string(),
    compatibility: z.string().describe('How the subject may evolve: every new version can read the previous ones.'),
    schema_id: z.number().int().nullable(),
    version: z.number().int().nullable(),
    schema: z.unknown().optional().describe('The latest registered Avro schema (parsed JSON).'),
  }),
  partitions: z.number().int().nullable().describe('null when the topic does not exist yet.'),
  personal_data: z.object({ keyed_hash_fields: z.array(z.string()), note: z.string() }),
  consumer: z.object({
    group_id: z.string().describe('A suggestion: one group per agency and dataset.'),
    kafkajs: z.object({
      client: z.object({ clientId: z.string(), brokers: z.array(z.string()) }),
      consumer: z.object({ groupId: z.string(), readUncommitted: z.literal(false) }),
      subscribe: z.object({ topics: z.array(z.string()), fromBeginning: z.literal(true) }),
      registry: z.object({ host: z.string() }),
    }),
    kafkajs_snippet: z.string(),
    java_properties: z.string(),
  }),
});

const TopicList = z.object({ topics: z.array(TopicEntry) });

export const topicsModule: ApiModuleFactory = (deps) => {
  const latest = new LatestSchemas(deps.config);
  let admin: Admin | null = null;

  /** Partition counts of the topics that exist; one admin connection for the module's life. */
  async function partitions(topics: string[]): Promise<Map<string, number>> {
    try {
      if (!admin) {
        const a = deps.kafka.admin();
        await a.connect();
        admin = a;
      }
      const existing = new Set(await admin.listTopics());
      const wanted = topics.filter((t) => existing.has(t));
      if (wanted.length === 0) return new Map();
      const meta = await admin.fetchTopicMetadata({ topics: wanted });
      return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    } catch (err) {
      const broken = admin;
      admin = null;
      await broken?.disconnect().catch(() => undefined);
      throw new ApiError(503, 'KAFKA_UNAVAILABLE', `Kafka could not list the topics (${(err as Error).message}); retry shortly`, {});
    }
  }

  const listTopics = defineRoute({
    method: 'get',
    path: '/topics',
    tag: 'topics',
    summary: 'Topics downstream systems can subscribe to',
    description:
      'The canonical topic of each dataset this key may read: key field, value subject and latest schema, partitions, and a consumer configuration ready to paste (kafkajs and Java properties, read_committed). Topics carry the keyed hashes of ID and phone numbers.',
    auth: 'key',
    query: Query,
    responses: { 200: { description: 'the topics', schema: TopicList } },
    handler: async ({ query, principal }) => {
      const caller = principal!;
      if (query.dataset && !hasScope(caller, `read:${query.dataset}`)) {
        throw new ApiError(403, 'SCOPE_MISSING', `this key (${caller.keyId}) is not granted read:${query.dataset}`, { required: `read:${query.dataset}`, granted: caller.scopes });
      }
      const visible = DATASETS.filter((d) => hasScope(caller, `read:${d}`) && (!query.dataset || d === query.dataset));
      if (visible.length === 0) {
        throw new ApiError(403, 'SCOPE_MISSING', `this key (${caller.keyId}) may read no dataset, so no topic`, { required: DATASETS.map((d) => `read:${d}`), granted: caller.scopes });
      }
      const counts = await partitions(visible.map((d) => READINGS[d].topic));
      const topics = await Promise.all(
        visible.map(async (dataset: Dataset) => {
          const r = READINGS[dataset];
          const subject = subjectFor(r.topic);
          const registered = await latest.get(subject);
          const hashes = personalFields(dataset).filter((f) => f.protection === 'keyed_hash').map((f) => f.path);
          return {
            topic: r.topic,
            dataset,
            description: datasetDoc(dataset),
            key: { field: r.idColumn, format: 'UTF-8 string', deserializer: 'org.apache.kafka.common.serialization.StringDeserializer' },
            value: {
              subject,
              format: 'Avro, Confluent wire format (magic byte 0, 4-byte schema id, Avro binary)',
              compatibility: deps.config.registry.compatibility,
              schema_id: registered?.id ?? null,
              version: registered?.version ?? null,
              ...(query.include_schema === false ? {} : { schema: registered ? (JSON.parse(registered.schema) as unknown) : null }),
            },
            partitions: counts.get(r.topic) ?? null,
            personal_data: {
              keyed_hash_fields: hashes,
              note: `Messages carry ${hashes.join(', ')} (HMAC of ID and phone numbers): a subscription is granted only under an agreement that includes read:pii. Names of individuals and free text are masked; clear ID and phone numbers never reach the topic.`,
            },
            consumer: consumerConfig(deps.config, r.topic, suggestedGroupId(caller.agencyCode, dataset), r.idColumn),
          };
        }),
      );
      return { body: { topics } satisfies z.infer<typeof TopicList> };
    },
  });

  return {
    routes: [listTopics],
    stop: async () => {
      const a = admin;
      admin = null;
      await a?.disconnect();
    },
  };
};
