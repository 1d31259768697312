import path from 'node:path';
import { Type } from 'avsc';
import { AgencySimulator } from '../../../connectors/simulators/agency-records';
import { loadConfig } from '../../../lib/config';
import { loadSources } from '../../../pipelines/normalise/mapping';
import { normaliseContext } from '../../../pipelines/normalise/normaliser';
import { normaliseEnvelope } from '../../../pipelines/normalise/normalise-record';
import { buildEnvelope } from '../../../pipelines/raw-envelope';
import { jsonTranscoder, NotTranscodable, TranscodedVersion } from '../../../pipelines/warehouse/avro-json';
import { CORE_TABLES } from '../../../pipelines/warehouse/core-rows';
import { stagedVersion } from '../../../pipelines/warehouse/upsert-batch';
import { avroType, Dataset, rawTopic } from '../../../schemas/catalog';
import { LOGICAL_TYPES } from '../../../schemas/logical-types';
import { ENFORCEMENT_CASE, HOTLINE_TICKET, SUPERVISION_RECORD } from '../schemas/samples';

type Rec = Record<string, unknown>;

/** Text JSON and COPY both give a meaning to, and characters outside the basic plane. */
const AWKWARD = 'tab\there, line\nbreak\r, nul\u0000 bell\u0007 esc\u001b del\u007f, "quoted" back\\slash \\N / ? $1 , 中文 😀 \u2028\u2029 é';

const DATASETS: Array<[Dataset, Rec]> = [
  ['enforcement-case', ENFORCEMENT_CASE],
  ['hotline-ticket', HOTLINE_TICKET],
  ['supervision-record', SUPERVISION_RECORD],
];

/** The transcoder's version of a record against the one decoding and serialising gives. */
function both(dataset: Dataset, record: Rec) {
  const type = avroType(dataset);
  const body = type.toBuffer(record);
  const transcode = jsonTranscoder(type, CORE_TABLES[dataset].idColumn)!;
  const fast = transcode(body);
  const slow = stagedVersion(CORE_TABLES[dataset], type.fromBuffer(body) as Rec);
  return { fast: { ...fast, json: fast.json.toString('utf8') }, slow };
}

describe('Avro straight to the warehouse JSON', () => {
  it.each(DATASETS)('gives a %s the text, content hash, id and version that decoding and serialising give', (dataset, sample) => {
    const { fast, slow } = both(dataset, sample);
    expect(fast).toEqual(slow);
  });

  it('gives the same for every simulated record of every dataset, one transcoder per dataset, earlier records intact as later ones fill its blocks', () => {
    const config = loadConfig({ env: {} });
    const ctx = normaliseContext({ config, sources: loadSources(path.resolve(__dirname, '../../../config/sources')), piiSecret: 'test-secret' });
    const transcoders = new Map(DATASETS.map(([dataset]) => [dataset, jsonTranscoder(avroType(dataset), CORE_TABLES[dataset].idColumn)!]));
    const results: Array<{ fast: TranscodedVersion; slow: unknown }> = [];
    const compare = (dataset: Dataset, record: Rec) => {
      const body = avroType(dataset).toBuffer(record);
      results.push({ fast: transcoders.get(dataset)!(body), slow: stagedVersion(CORE_TABLES[dataset], avroType(dataset).fromBuffer(body) as Rec) });
    };
    let offset = 0;
    for (const r of new AgencySimulator({ seed: 11, count: 3000, defectRate: 0, sources: { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' } }).records()) {
      const envelope = buildEnvelope({ sourceId: r.sourceId, dataset: r.dataset, payload: r.payload, recordKey: r.recordKey, runId: 'unit' });
      const outcome = normaliseEnvelope(envelope, { topic: rawTopic(r.sourceId), partition: 0, offset: String(offset++) }, ctx);
      if (outcome.kind !== 'canonical') continue;
      compare(outcome.dataset, outcome.record as Rec);
      if (offset === 500) {
        // A record larger than a block, and one refused halfway through (a title that is not UTF-8): the next ones are unharmed.
        compare('hotline-ticket', { ...HOTLINE_TICKET, ticket_id: 'LARGE', content: '投诉内容'.repeat(8000) });
        const bad = avroType('hotline-ticket').toBuffer({ ...HOTLINE_TICKET, title: 'wxyz' });
        bad[bad.indexOf(Buffer.from('wxyz'))] = 0xc3;
        expect(() => transcoders.get('hotline-ticket')!(bad)).toThrow(NotTranscodable);
      }
    }
    expect(results.length).toBeGreaterThan(2000);
    for (const { fast, slow } of results) expect({ ...fast, json: fast.json.toString('utf8') }).toEqual(slow);
  });

  it('escapes awkward text as JSON.stringify does, in top-level, nested and array strings', () => {
    const record = {
      ...ENFORCEMENT_CASE,
      violation_facts: AWKWARD,
      warnings: [AWKWARD, ''],
      party: { ...ENFORCEMENT_CASE.party, name: AWKWARD },
      lineage: { ...ENFORCEMENT_CASE.lineage, source_id: AWKWARD },
      fine_amount: '-0.05',
    };
    const { fast, slow } = both('enforcement-case', record);
    expect(fast).toEqual(slow);
    expect(JSON.parse(fast.json).violation_facts).toBe(AWKWARD);
  });

  it('writes null nested records and the lineage first, as the serialiser does', () => {
    const { fast, slow } = both('supervision-record', { ...SUPERVISION_RECORD, party: null, related_ticket_ids: [] });
    expect(fast).toEqual(slow);
    expect(fast.json.startsWith('{"lineage":{')).toBe(true);
  });

  it('writes times and dates as the logical types do, before 1970, on leap days and at the ends of four-digit years and beyond', () => {
    const times = ['1969-12-31T23:59:59.999Z', '1900-02-28T12:00:00.001Z', '2024-02-29T23:59:59.000Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'].map(Date.parse);
    // Years ISO writes with six digits and a sign, which the logical type writes by way of Date.
    times.push(Date.UTC(10000, 0, 1), Date.UTC(-1, 11, 31, 23, 59, 59, 999));
    const days = ['1969-12-31', '1900-03-01', '2000-02-29', '0000-01-01', '9999-12-31'];
    for (const ms of times) {
      const { fast, slow } = both('hotline-ticket', { ...HOTLINE_TICKET, received_at: ms, due_at: ms });
      expect(fast).toEqual(slow);
      expect(JSON.parse(fast.json).received_at).toBe(new Date(ms).toISOString());
    }
    for (const day of days) {
      const { fast, slow } = both('enforcement-case', { ...ENFORCEMENT_CASE, occurred_on: day, decided_on: day });
      expect(fast).toEqual(slow);
      expect(JSON.parse(fast.json).decided_on).toBe(day);
    }
  });

  it('refuses a body cut short or a union branch out of range, rather than writing something else', () => {
    const type = avroType('supervision-record');
    const transcode = jsonTranscoder(type, 'record_id')!;
    const body = type.toBuffer(SUPERVISION_RECORD);
    for (let cut = 0; cut < body.length; cut++) expect(() => transcode(body.subarray(0, cut))).toThrow(NotTranscodable);
    // `party` is a union of null and a record: its branch index is the first byte after the fields before it.
    const record = { ...(type.fromBuffer(body) as Rec), party: null };
    const fields = (type.schema({ exportAttrs: true }) as { fields: Array<{ name: string }> }).fields;
    const before = Type.forSchema({ type: 'record', name: 'Before', fields: fields.slice(0, fields.findIndex((f) => f.name === 'party')) } as never, { logicalTypes: LOGICAL_TYPES });
    const partyBranch = before.toBuffer(record).length;
    const good = type.toBuffer(record);
    expect(good[partyBranch]).toBe(0);
    expect(JSON.parse(transcode(good).json.toString()).party).toBeNull();
    const bad = Buffer.from(good);
    bad[partyBranch] = 4; // branch 2, in zig-zag
    expect(() => transcode(bad)).toThrow(NotTranscodable);
  });

  it('refuses a string that is not valid UTF-8, which decoding would have altered', () => {
    const type = avroType('hotline-ticket');
    const body = type.toBuffer({ ...HOTLINE_TICKET, title: 'ab' });
    const at = body.indexOf(Buffer.from('ab'));
    body[at] = 0xc3; // a lead byte followed by an ASCII byte
    const transcode = jsonTranscoder(type, 'ticket_id')!;
    expect(() => transcode(body)).toThrow(NotTranscodable);
    // Overlong, a surrogate, beyond U+10FFFF, a lone continuation byte, a sequence cut short: each decodes to U+FFFD.
    for (const bad of [[0xc0, 0x80, 0x41, 0x41], [0xed, 0xa0, 0x80, 0x41], [0xf4, 0x90, 0x80, 0x80], [0x41, 0x80, 0x41, 0x41], [0x41, 0x41, 0xe6, 0x96]]) {
      const text = type.toBuffer({ ...HOTLINE_TICKET, title: 'wxyz' });
      text.set(bad, text.indexOf(Buffer.from('wxyz')));
      expect(() => transcode(text)).toThrow(NotTranscodable);
    }
  });

  it('makes no transcoder for a schema with a type it does not reproduce', () => {
    const withMap = Type.forSchema(
      { type: 'record', name: 'X', fields: [{ name: 'id', type: 'string' }, { name: 'source_updated_at', type: 'string' }, { name: 'm', type: { type: 'map', values: 'string' } }] } as never,
      { logicalTypes: LOGICAL_TYPES },
    );
    expect(jsonTranscoder(withMap, 'id')).toBeNull();
    const recursive = Type.forSchema({
      type: 'record',
      name: 'Node',
      fields: [{ name: 'id', type: 'string' }, { name: 'source_updated_at', type: 'string' }, { name: 'next', type: ['null', 'Node'] }],
    } as never);
    expect(jsonTranscoder(recursive, 'id')).toBeNull();
  });
});
