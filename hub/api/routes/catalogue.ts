import { z } from 'zod';
import { subjectFor } from '../../../schemas/catalog';
import { hasScope, type Principal } from '../auth';
import type { ApiDeps, ApiModuleFactory } from '../deps';
import { ApiError } from '../http-errors';
import { DATASETS, deliveryOf, READINGS } from '../query/datasets';
import { datasetDoc, datasetFields } from '../query/fields';
import { presentRecord } from '../query/present-record';
import { recordSchema } from '../query/record-schemas';
import { readRecords, regionPrefix } from '../query/records-query';
import { LatestSchemas } from '../query/registry-latest';
import { DATASET_SHARING, SHARING_LEVELS } from '../query/sharing';
import { creditCode, invalid, symbolList } from '../query/validate';
import { defineRoute } from '../route';

/**
 * The dataset catalogue (`GET /v1/datasets`) and the records of one dataset
 * (`GET /v1/datasets/:dataset/records`): what the hub shares, under which conditions, and
 * the current records themselves, filtered and paged, personal fields protected.
 */

const DatasetName = z.enum(DATASETS as [string, ...string[]]).describe('A canonical dataset: enforcement-case, hotline-ticket or supervision-record.');
const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const FieldInfo = z.object({
  path: z.string().describe('Dotted path in the record; [] marks array items.'),
  type: z.string(),
  nullable: z.boolean(),
  doc: z.string().nullable(),
  symbols: z.array(z.string()).optional(),
  personal: z.boolean().describe('Whether the field holds personal data (PIPL).'),
  protection: z.enum(['keyed_hash', 'masked', 'masked_if_individual', 'masked_free_text']).nullable(),
  requires: z.literal('read:pii').nullable().describe('The scope without which the field is left out of answers.'),
});

const DatasetEntry = z.object({
  dataset: DatasetName,
  topic: z.string(),
  description: z.string().describe("The schema's description of the dataset."),
  owners: z.array(z.string()).describe('Owners of the sources that feed the dataset.'),
  sources: z.array(z.object({ id: z.string(), name: z.string(), owner: z.string().nullable(), description: z.string().nullable(), delivery: z.enum(['pull', 'push']), connector: z.string().nullable() })),
  schema: z.object({ subject: z.string(), version: z.number().int().nullable(), id: z.number().int().nullable() }).describe('The registry subject and its latest version (null when not registered yet).'),
  sharing: z.object({ level: z.enum(SHARING_LEVELS), conditions: z.string(), not_shared: z.array(z.string()), basis: z.string() }),
  access: z.object({
    accessible: z.boolean().describe('Whether this key may read the records.'),
    required_scope: z.string(),
    personal_data: z.enum(['masked', 'with_hashes']).describe('What this key gets of personal fields: masked forms only, or with the keyed hashes too (read:pii).'),
  }),
  record_id_field: z.string(),
  main_date: z.string().describe('The date the from/to filters and the ordering use.'),
  filters: z.object({ status: z.array(z.string()), domain: z.array(z.string()).nullable() }),
  fields: z.array(FieldInfo).optional(),
});

const Catalogue = z.object({
  caller: z.object({ key_id: z.string(), agency_code: z.string(), scopes: z.array(z.string()), read_pii: z.boolean() }),
  datasets: z.array(DatasetEntry),
});

const CatalogueQuery = z
  .object({
    accessible_only: Bool.optional().describe('true: only the datasets this key may read.'),
    fields: Bool.optional().describe('false: leave out the field lists (default true).'),
  })
  .strict();

const RecordsParams = z.object({ dataset: DatasetName }).strict();

const RecordsQuery = z
  .object({
    credit_code: z.string().min(1).max(64).optional().describe("The party's unified social credit code (统一社会信用代码): the case's party, the ticket's subject, the record's party."),
    region_code: z.string().regex(/^\d{2}(\d{2}){0,2}$/, 'a GB/T 2260 code or its prefix: 2, 4 or 6 digits').optional().describe('Where it happened: 620902 (a district), 620900 or 6209 (the city and everything in it).'),
    from: z.iso.date().optional().describe("First day (inclusive) of the record's main date."),
    to: z.iso.date().optional().describe("Last day (inclusive) of the record's main date."),
    status: z.string().max(500).optional().describe("One or more of the dataset's status symbols, comma-separated."),
    domain: z.string().max(500).optional().describe('Enforcement cases: domain symbols; hotline tickets: topic symbols; comma-separated. Supervision records have none.'),
    limit: z.coerce.number().int().min(1).max(500).default(100).describe('Records per page, at most 500.'),
    cursor: z.string().max(2000).optional().describe('next_cursor of the previous page, with the same filters.'),
  })
  .strict();

const RecordsPage = z.object({
  dataset: DatasetName,
  personal_data: z.enum(['masked', 'with_hashes']),
  count: z.number().int(),
  records: z.array(z.union(DATASETS.map(recordSchema) as [z.ZodType, z.ZodType, ...z.ZodType[]])).describe("Records in the data standard's shape, newest main date first."),
  next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last one.'),
});

function sourcesOf(deps: ApiDeps, dataset: string) {
  return [...deps.sources.values()]
    .filter((s) => s.dataset === dataset)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((s) => ({ id: s.id, name: s.name, owner: s.owner ?? null, description: s.description ?? null, delivery: deliveryOf(s), connector: s.connector?.kind ?? null }));
}

async function entry(deps: ApiDeps, latest: LatestSchemas, principal: Principal, dataset: (typeof DATASETS)[number], withFields: boolean): Promise<z.infer<typeof DatasetEntry>> {
  const r = READINGS[dataset];
  const subject = subjectFor(r.topic);
  const registered = await latest.get(subject);
  const sources = sourcesOf(deps, dataset);
  return {
    dataset,
    topic: r.topic,
    description: datasetDoc(dataset),
    owners: [...new Set(sources.map((s) => s.owner).filter((o): o is string => o !== null))],
    sources,
    schema: { subject, version: registered?.version ?? null, id: registered?.id ?? null },
    sharing: DATASET_SHARING[dataset],
    access: { accessible: hasScope(principal, `read:${dataset}`), required_scope: `read:${dataset}`, personal_data: hasScope(principal, 'read:pii') ? 'with_hashes' : 'masked' },
    record_id_field: r.idColumn,
    main_date: r.mainDate,
    filters: { status: [...r.statuses], domain: r.domain ? [...r.domain.symbols] : null },
    ...(withFields ? { fields: datasetFields(dataset).map((f) => ({ ...f, ...(f.symbols ? { symbols: [...f.symbols] } : {}) })) } : {}),
  };
}

export const catalogueModule: ApiModuleFactory = (deps) => {
  const latest = new LatestSchemas(deps.config);

  const listDatasets = defineRoute({
    method: 'get',
    path: '/datasets',
    tag: 'catalogue',
    summary: 'The dataset catalogue',
    description: 'Every canonical dataset: description, owners and sources, registry subject and latest version, sharing level (无条件共享 / 有条件共享 / 不予共享) and conditions, and every field with its personal-data flag. Each says whether this key may read it. Needs a key granted at least one dataset (ingest:<dataset>, read:<dataset> or admin).',
    auth: 'key',
    query: CatalogueQuery,
    responses: { 200: { description: 'the catalogue', schema: Catalogue } },
    handler: async ({ query, principal }) => {
      const caller = principal!;
      // read:pii qualifies a dataset grant and grants nothing by itself: a key without any
      // dataset (ingest, read or admin) is under no sharing agreement the catalogue could describe.
      if (!DATASETS.some((d) => hasScope(caller, `read:${d}`) || hasScope(caller, `ingest:${d}`))) {
        throw new ApiError(403, 'SCOPE_MISSING', `this key (${caller.keyId}) is granted no dataset`, { required: 'ingest:<dataset> or read:<dataset>', granted: caller.scopes });
      }
      const wanted = DATASETS.filter((d) => !query.accessible_only || hasScope(caller, `read:${d}`));
      const datasets = await Promise.all(wanted.map((d) => entry(deps, latest, caller, d, query.fields ?? true)));
      return {
        body: { caller: { key_id: caller.keyId, agency_code: caller.agencyCode, scopes: [...caller.scopes], read_pii: hasScope(caller, 'read:pii') }, datasets } satisfies z.infer<typeof Catalogue>,
      };
    },
  });

  const listRecords = defineRoute({
    method: 'get',
    path: '/datasets/:dataset/records',
    tag: 'catalogue',
    summary: "A dataset's current records",
    description:
      "The warehouse's current version of each record, newest main date first, in pages of at most 500 with a keyset cursor. Without read:pii, keyed hashes are left out and names of individuals and free text are masked; with it, the stored values including the keyed hashes (the hub never holds clear ID or phone numbers, or individuals' clear names).",
    auth: { scope: (p) => `read:${p.dataset}`, describe: 'read:<dataset>' },
    params: RecordsParams,
    query: RecordsQuery,
    responses: { 200: { description: 'a page of records', schema: RecordsPage } },
    handler: async ({ params, query, principal, note }) => {
      const dataset = params.dataset as (typeof DATASETS)[number];
      const r = READINGS[dataset];
      if (query.from && query.to && query.from > query.to) throw invalid('query', 'to', 'the last day is before the first');
      if (query.domain !== undefined && !r.domain) throw invalid('query', 'domain', `${dataset} has no domain`);
      const filters = {
        creditCode: query.credit_code === undefined ? undefined : creditCode('query', 'credit_code', query.credit_code),
        regionPrefix: query.region_code === undefined ? undefined : regionPrefix(query.region_code),
        from: query.from,
        to: query.to,
        statuses: symbolList('status', query.status, r.statuses),
        domains: r.domain ? symbolList('domain', query.domain, r.domain.symbols) : undefined,
      };
      const pii = hasScope(principal!, 'read:pii');
      const page = await readRecords(deps.db, dataset, filters, query.limit, query.cursor ?? null);
      note({ dataset, records: page.rows.length });
      return {
        body: {
          dataset,
          personal_data: pii ? 'with_hashes' : 'masked',
          count: page.rows.length,
          records: page.rows.map((row) => presentRecord(dataset, row, { pii })),
          next_cursor: page.nextCursor,
        } satisfies z.infer<typeof RecordsPage>,
      };
    },
  });

  return { routes: [listDatasets, listRecords] };
};
