import { z } from 'zod';
import { maskPersonName } from '../../../pipelines/normalise/pii';
import { maskPiiInText } from '../../../pipelines/normalise/parsers/mask-text';
import type { Dataset } from '../../../schemas/catalog';
import { hasScope } from '../auth';
import type { ApiModuleFactory } from '../deps';
import { ApiError } from '../http-errors';
import { DATASETS, deliveryOf } from '../query/datasets';
import { readParty360 } from '../query/party-360';
import { resolvePartyKey } from '../query/party-key';
import { presentRecord, visiblePartyKey } from '../query/present-record';
import { recordSchema } from '../query/record-schemas';
import { defineRoute } from '../route';

/**
 * The party 360 (`GET /v1/parties/:key`): a company or a person, by credit code, ID number or
 * party key, with every record the caller may read about it and the links between them.
 *
 * Lookups by ID number (or by an `ID:` party key) need `read:pii`. The masked ID every reader
 * sees keeps the first 6 and last 4 characters, so only the 8-digit birth date is hidden —
 * about 3,300 candidates once the check character is known. A lookup answering "found" or
 * "not found" would let a key without read:pii unmask any ID number by trying them all.
 *
 * The key in the path is never logged: the audit row holds the route template
 * (`/parties/:key`), and error messages name what is wrong with it, not its digits.
 */

const ORGANISATIONS = new Set(['ORGANISATION', 'SOLE_PROPRIETOR']);

const Params = z.object({ key: z.string().min(1).max(300).describe('A credit code, an ID number (needs read:pii), or a party key (USCC:…, ID:… with read:pii, NAME:<region>:<name>).') }).strict();
const Query = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100).describe("At most this many of the party's own records per dataset (newest first).") }).strict();

const RecordItem = (dataset: Dataset) =>
  z.object({
    relation: z.enum(['party', 'linked']).describe("party: the record is about this party; linked: a record linked to one of the party's (e.g. an opinion citing its penalty decision)."),
    record: recordSchema(dataset),
  });

const Party360Body = z.object({
  found_by: z.enum(['credit_code', 'id_number', 'party_key']),
  personal_data: z.enum(['masked', 'with_hashes']),
  party: z.object({
    party_key: z.string().nullable().describe('The warehouse key; null for a person without read:pii (it carries the keyed hash).'),
    kind: z.string(),
    name: z.string().nullable().describe('Organisations in clear, individuals masked.'),
    uscc: z.string().nullable(),
    id_masked: z.string().nullable(),
    id_hash: z.string().nullable().optional().describe('Only with read:pii.'),
    region_code: z.string().nullable(),
    confidence: z.enum(['high', 'low']).describe('low: matched by name and region only, no code or ID.'),
    first_seen: z.string(),
    last_seen: z.string(),
  }),
  record_types: z.array(z.object({ dataset: z.string(), required_scope: z.string(), accessible: z.boolean(), count: z.number().int().nullable().describe('Records returned; null when the key may not read the type.'), truncated: z.boolean() })),
  records: z.object(Object.fromEntries(DATASETS.map((d) => [d, z.array(RecordItem(d)).optional()]))).describe('By dataset; only the datasets this key may read.'),
  links: z.array(z.object({ from: z.object({ dataset: z.string(), id: z.string() }), to: z.object({ dataset: z.string(), id: z.string() }), via: z.string() })),
  sources: z.array(z.object({ id: z.string(), name: z.string().nullable(), owner: z.string().nullable(), delivery: z.enum(['pull', 'push']).nullable() })).describe("The sources the returned records came from (each record's lineage.source_id)."),
});

export const partiesModule: ApiModuleFactory = (deps) => {
  const getParty = defineRoute({
    method: 'get',
    path: '/parties/:key',
    tag: 'parties',
    summary: 'The party 360 view',
    description:
      "A company or person with every record about it the key may read (enforcement cases, hotline tickets, supervision records), records linked to those, and the links. Record types the key may not read are listed, not returned. 404 when the party is unknown, or known only from data the key may not read.",
    auth: 'key',
    params: Params,
    query: Query,
    responses: { 200: { description: 'the party and its records', schema: Party360Body } },
    handler: async ({ params, query, principal, note }) => {
      const caller = principal!;
      const readable = DATASETS.filter((d) => hasScope(caller, `read:${d}`));
      if (readable.length === 0) {
        throw new ApiError(403, 'SCOPE_MISSING', `this key (${caller.keyId}) may read no dataset; a party view needs read:<dataset> for at least one`, { required: DATASETS.map((d) => `read:${d}`), granted: caller.scopes });
      }
      const lookup = resolvePartyKey(params.key, deps.piiSecret);
      const pii = hasScope(caller, 'read:pii');
      if (lookup.partyKey.startsWith('ID:') && !pii) {
        throw new ApiError(403, 'SCOPE_MISSING', `this key (${caller.keyId}) is not granted read:pii, which a lookup by ID number needs`, { required: 'read:pii', granted: caller.scopes });
      }
      const view = await readParty360(deps.db, lookup.partyKey, readable, query.limit);
      if (!view) throw new ApiError(404, 'PARTY_NOT_FOUND', 'no party with this key in the records this key may read', { found_by: lookup.by });

      const p = view.party;
      const records: Record<string, Array<{ relation: 'party' | 'linked'; record: Record<string, unknown> }>> = {};
      const sourceIds = new Set<string>();
      let count = 0;
      for (const dataset of readable) {
        records[dataset] = (view.records[dataset] ?? []).map(({ relation, row }) => {
          const record = presentRecord(dataset, row, { pii });
          sourceIds.add(String((record.lineage as { source_id: string }).source_id));
          return { relation, record };
        });
        count += records[dataset].length;
      }
      note({ records: count });
      const sources = [...sourceIds].sort().map((id) => {
        const s = deps.sources.get(id);
        return { id, name: s?.name ?? null, owner: s?.owner ?? null, delivery: s ? deliveryOf(s) : null };
      });
      return {
        body: {
          found_by: lookup.by,
          personal_data: pii ? 'with_hashes' : 'masked',
          party: {
            party_key: visiblePartyKey(p.party_key, { pii }),
            kind: p.kind,
            name: p.name !== null && !pii && !ORGANISATIONS.has(p.kind) ? maskPersonName(p.name) : p.name,
            uscc: p.uscc,
            id_masked: p.id_masked !== null && !pii ? maskPiiInText(p.id_masked).text : p.id_masked,
            ...(pii ? { id_hash: p.id_hash } : {}),
            region_code: p.region_code,
            confidence: p.confidence as 'high' | 'low',
            first_seen: p.first_seen,
            last_seen: p.last_seen,
          },
          record_types: DATASETS.map((d) => {
            const accessible = readable.includes(d);
            return { dataset: d, required_scope: `read:${d}`, accessible, count: accessible ? records[d].length : null, truncated: view.truncated.includes(d) };
          }),
          records,
          links: view.links,
          sources,
        } satisfies z.infer<typeof Party360Body>,
      };
    },
  });

  return { routes: [getParty] };
};
