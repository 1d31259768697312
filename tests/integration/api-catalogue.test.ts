import { datasetFields } from '../../hub/api/query/fields';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { loadSchema, subjectFor } from '../../schemas/catalog';
import type { TestHub } from '../support/api';
import { startReadHub, type ReadHub } from './api-read-fixtures';

let read: ReadHub;
let hub: TestHub;

beforeAll(async () => {
  read = await startReadHub();
  hub = read.hub;
  // The catalogue reports the registry's latest versions: make sure the subjects exist.
  await prepareTopicsAndSchemas(hub.rt.config, hub.rt.kafka, hub.rt.registry, []);
});
afterAll(() => read?.close());

describe('GET /v1/datasets', () => {
  it('answers 401 without a key, with a malformed one and with an unknown one', async () => {
    expect((await hub.call('GET', '/v1/datasets')).status).toBe(401);
    expect((await hub.call('GET', '/v1/datasets', { headers: { authorization: 'Bearer nonsense' } })).body.code).toBe('UNAUTHENTICATED');
    const unknown = `ld_${'0'.repeat(16)}.${'A'.repeat(43)}`;
    expect((await hub.call('GET', '/v1/datasets', { key: unknown })).status).toBe(401);
  });

  it('answers 403 to a key granted no dataset (read:pii alone grants none)', async () => {
    const res = await hub.call('GET', '/v1/datasets', { key: await hub.key(['read:pii']) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'SCOPE_MISSING', details: { granted: ['read:pii'] } });
  });

  it('answers 400 to an unknown query parameter and to a flag that is not true or false', async () => {
    const key = await hub.key(['read:enforcement-case']);
    const unknown = await hub.call('GET', '/v1/datasets?acessible_only=true', { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'VALIDATION_FAILED', details: { in: 'query' } });
    expect((await hub.call('GET', '/v1/datasets?fields=yes', { key })).status).toBe(400);
  });

  it('lists the three datasets with owners, registry versions, sharing levels and access for the key', async () => {
    const key = await hub.key(['read:enforcement-case', 'ingest:hotline-ticket']);
    const res = await hub.call('GET', '/v1/datasets', { key });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.datasets.map((d: any) => [d.dataset, d]));
    expect(Object.keys(byName).sort()).toEqual(['enforcement-case', 'hotline-ticket', 'supervision-record']);
    expect(res.body.caller).toMatchObject({ read_pii: false, scopes: ['read:enforcement-case', 'ingest:hotline-ticket'] });

    const cases = byName['enforcement-case'];
    expect(cases.description).toBe(loadSchema('enforcement-case').doc);
    expect(cases.owners).toEqual(['酒泉市市场监督管理局']);
    expect(cases.sources).toEqual([expect.objectContaining({ id: read.sources.penalty, delivery: 'pull', connector: 'http-pull' })]);
    expect(byName['hotline-ticket'].sources).toEqual([expect.objectContaining({ id: read.sources.hotline, delivery: 'push', connector: null })]);
    expect(byName['supervision-record'].owners).toEqual(['酒泉市人民检察院']);

    for (const d of res.body.datasets) {
      const latest = await hub.rt.registry.getLatestSchemaId(subjectFor(d.topic));
      expect(d.schema).toMatchObject({ subject: `${d.topic}-value`, id: latest });
      expect(d.schema.version).toBeGreaterThanOrEqual(1);
      expect(d.sharing.level).toBe('有条件共享');
      expect(d.sharing.conditions).toContain(`read:${d.dataset}`);
    }
    expect(cases.access).toEqual({ accessible: true, required_scope: 'read:enforcement-case', personal_data: 'masked' });
    // An ingest grant is not a read grant.
    expect(byName['hotline-ticket'].access.accessible).toBe(false);
    expect(byName['supervision-record'].access.accessible).toBe(false);
  });

  it("lists every field of every schema with a personal-data flag, and flags exactly the data standard's personal fields", async () => {
    const res = await hub.call('GET', '/v1/datasets', { key: await hub.key(['read:*', 'read:pii']) });
    const byName = Object.fromEntries(res.body.datasets.map((d: any) => [d.dataset, d]));
    for (const dataset of ['enforcement-case', 'hotline-ticket', 'supervision-record'] as const) {
      const fields = byName[dataset].fields;
      expect(fields.map((f: any) => f.path)).toEqual(datasetFields(dataset).map((f) => f.path));
      for (const top of loadSchema(dataset).fields) expect(fields.find((f: any) => f.path === top.name)?.doc).toBe(top.doc);
    }
    const personal = (d: string) => byName[d].fields.filter((f: any) => f.personal).map((f: any) => `${f.path}:${f.protection}`);
    expect(personal('enforcement-case')).toEqual(['party.name:masked_if_individual', 'party.id_hash:keyed_hash', 'party.id_masked:masked', 'violation_facts:masked_free_text']);
    expect(personal('hotline-ticket')).toEqual([
      'title:masked_free_text',
      'content:masked_free_text',
      'caller_name_masked:masked',
      'caller_phone_hash:keyed_hash',
      'caller_phone_masked:masked',
      'address:masked_free_text',
      'subject.name:masked_if_individual',
      'subject.id_hash:keyed_hash',
      'subject.id_masked:masked',
    ]);
    expect(personal('supervision-record')).toEqual(['party.name:masked_if_individual', 'party.id_hash:keyed_hash', 'party.id_masked:masked', 'summary:masked_free_text']);
    const hashes = res.body.datasets.flatMap((d: any) => d.fields.filter((f: any) => f.protection === 'keyed_hash'));
    expect(hashes.every((f: any) => f.requires === 'read:pii')).toBe(true);
    expect(byName['enforcement-case'].fields.find((f: any) => f.path === 'status')).toMatchObject({ type: 'enum EnforcementStatus', symbols: expect.arrayContaining(['DECIDED', 'UNKNOWN']) });
    expect(byName['enforcement-case'].access.personal_data).toBe('with_hashes');
  });

  it('lists only the datasets the key may read with accessible_only=true, and leaves out fields with fields=false', async () => {
    const key = await hub.key(['read:supervision-record']);
    const res = await hub.call('GET', '/v1/datasets?accessible_only=true&fields=false', { key });
    expect(res.status).toBe(200);
    expect(res.body.datasets.map((d: any) => d.dataset)).toEqual(['supervision-record']);
    expect(res.body.datasets[0].fields).toBeUndefined();
  });

  it('documents both routes in the OpenAPI document', async () => {
    const doc = (await hub.call('GET', '/v1/openapi.json')).body;
    expect(doc.paths['/v1/datasets'].get.responses['200']).toBeDefined();
    const records = doc.paths['/v1/datasets/{dataset}/records'].get;
    expect(records.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['dataset', 'credit_code', 'region_code', 'from', 'to', 'status', 'domain', 'limit', 'cursor']));
    expect(records.description).toContain('read:<dataset>');
  });
});
