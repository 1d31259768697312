import { Type } from 'avsc';
import { avroType, loadSchema, SchemaName } from '../../../schemas/catalog';
import { LOGICAL_TYPES } from '../../../schemas/logical-types';
import { ENFORCEMENT_CASE, HOTLINE_TICKET, SAMPLES, SUPERVISION_RECORD } from './samples';

const NAMES = Object.keys(SAMPLES) as SchemaName[];
// A fresh options object per call: avsc keeps its registry of named types in the options it is given.
const opts = () => ({ logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });

/** A mutable copy of a schema file with `edit` applied to the schema of `field` (or to the record). */
function variant(name: SchemaName, edit: (schema: any) => void): Type {
  const schema = structuredClone(loadSchema(name)) as any;
  edit(schema);
  return Type.forSchema(schema, opts());
}
const fieldOf = (schema: any, field: string) => schema.fields.find((f: { name: string }) => f.name === field);

describe('a full sample record of each schema', () => {
  it.each(NAMES)('%s is valid and round-trips through Avro unchanged', (name) => {
    const type = avroType(name);
    const errors: string[] = [];
    type.isValid(SAMPLES[name], { errorHook: (p) => errors.push(p.join('.')) });
    expect(errors).toEqual([]);
    expect(type.fromBuffer(type.toBuffer(SAMPLES[name]))).toEqual(SAMPLES[name]);
  });

  it('keeps money, dates and timestamps of an enforcement case equal', () => {
    const type = avroType('enforcement-case');
    const back = type.fromBuffer(type.toBuffer(ENFORCEMENT_CASE));
    expect(back.fine_amount).toBe('50000.00');
    expect(back.confiscated_amount).toBe('1234.56');
    expect(back.decided_on).toBe('2025-06-04');
    expect(back.occurred_on).toBe('2025-03-12');
    expect(back.source_updated_at).toBe('2025-06-04T06:30:00.000Z');
    expect(back.lineage.ingested_at).toBe('2025-06-05T01:00:00.123Z');
    expect(back.measures).toEqual([
      { name: 'ILLEGAL_GAIN', value: 1234.56, unit: 'CNY' },
      { name: 'GOODS_VALUE', value: 8800, unit: 'CNY' },
    ]);
  });

  it('stores the fine as the unscaled integer 5000000 (what Java readers see as BigDecimal 50000.00)', () => {
    const plain = Type.forSchema(structuredClone(loadSchema('enforcement-case')) as never); // no logical types
    const raw = plain.fromBuffer(avroType('enforcement-case').toBuffer(ENFORCEMENT_CASE));
    expect(raw.fine_amount).toEqual(Buffer.from('4c4b40', 'hex'));
    expect(raw.decided_on).toBe(20_243);
    expect(raw.source_updated_at).toBe(1_749_018_600_000);
  });

  it('accepts inputs in the convenience forms and reads them back canonical', () => {
    const type = avroType('enforcement-case');
    const input = { ...ENFORCEMENT_CASE, fine_amount: '50000', decided_on: 20_243, source_updated_at: '2025-06-04T14:30:00+08:00' };
    const back = type.fromBuffer(type.toBuffer(input));
    expect([back.fine_amount, back.decided_on, back.source_updated_at]).toEqual(['50000.00', '2025-06-04', '2025-06-04T06:30:00.000Z']);
  });

  it('fills optional fields and arrays from their defaults when they are left out', () => {
    const type = avroType('supervision-record');
    const minimal = {
      record_id: 'R1',
      procuratorate_code: '620902',
      kind: 'OTHER',
      status: 'UNKNOWN',
      source_updated_at: '2025-06-10T03:00:00.000Z',
      lineage: SUPERVISION_RECORD.lineage,
    };
    expect(type.fromBuffer(type.toBuffer(minimal))).toEqual({
      ...minimal,
      doc_no: null,
      target_agency_code: null,
      related_decision_nos: [],
      related_case_ids: [],
      related_ticket_ids: [],
      party: null,
      region_code: null,
      summary: null,
      issued_on: null,
      reply_due_on: null,
      replied_on: null,
      warnings: [],
    });
  });

  it('refuses a record with a symbol the enum does not have', () => {
    const type = avroType('hotline-ticket');
    expect(type.isValid({ ...HOTLINE_TICKET, channel: 'FAX' })).toBe(false);
    expect(() => type.toBuffer({ ...HOTLINE_TICKET, channel: 'FAX' })).toThrow(/FAX/);
  });
});

describe('schema resolution with enum defaults (avsc 5.7)', () => {
  const reader = avroType('enforcement-case');

  it('reads a symbol the reader does not know as the enum default', () => {
    const writer = variant('enforcement-case', (s) => fieldOf(s, 'domain').type.symbols.push('TAXATION'));
    const written = writer.toBuffer({ ...ENFORCEMENT_CASE, domain: 'TAXATION' });
    expect(reader.fromBuffer(written, reader.createResolver(writer)).domain).toBe('OTHER');
  });

  it('maps symbols by name, not by position, when the writer inserted one at the front', () => {
    const writer = variant('enforcement-case', (s) => fieldOf(s, 'domain').type.symbols.unshift('TAXATION'));
    const resolver = reader.createResolver(writer);
    expect(reader.fromBuffer(writer.toBuffer({ ...ENFORCEMENT_CASE, domain: 'MARKET' }), resolver).domain).toBe('MARKET');
    expect(reader.fromBuffer(writer.toBuffer({ ...ENFORCEMENT_CASE, domain: 'TAXATION' }), resolver).domain).toBe('OTHER');
  });

  it('reads unknown symbols inside an array of enums as the default', () => {
    const writer = variant('enforcement-case', (s) => fieldOf(s, 'penalty_kinds').type.items.symbols.push('PROBATION'));
    const written = writer.toBuffer({ ...ENFORCEMENT_CASE, penalty_kinds: ['FINE', 'PROBATION'] });
    expect(reader.fromBuffer(written, reader.createResolver(writer)).penalty_kinds).toEqual(['FINE', 'OTHER']);
  });

  it('reads an unknown satisfaction rating as NOT_RATED', () => {
    const ticketReader = avroType('hotline-ticket');
    const writer = variant('hotline-ticket', (s) => fieldOf(s, 'satisfaction').type.symbols.push('VERY_SATISFIED'));
    const written = writer.toBuffer({ ...HOTLINE_TICKET, satisfaction: 'VERY_SATISFIED' });
    expect(ticketReader.fromBuffer(written, ticketReader.createResolver(writer)).satisfaction).toBe('NOT_RATED');
  });

  it('lets a newer reader with an extra symbol read old data unchanged', () => {
    const newer = variant('enforcement-case', (s) => fieldOf(s, 'status').type.symbols.push('SUSPENDED'));
    const back = newer.fromBuffer(reader.toBuffer(ENFORCEMENT_CASE), newer.createResolver(reader));
    expect(back).toEqual(ENFORCEMENT_CASE);
  });

  it('lets a newer reader with an extra optional field read old data, filling the default', () => {
    const newer = variant('enforcement-case', (s) => s.fields.push({ name: 'case_url', type: ['null', 'string'], default: null, doc: 'test' }));
    const back = newer.fromBuffer(reader.toBuffer(ENFORCEMENT_CASE), newer.createResolver(reader));
    expect(back).toEqual({ ...ENFORCEMENT_CASE, case_url: null });
  });

  it('cannot resolve an unknown symbol when the reader enum has no default (why every enum has one)', () => {
    const strictReader = variant('enforcement-case', (s) => delete fieldOf(s, 'domain').type.default);
    const writer = variant('enforcement-case', (s) => fieldOf(s, 'domain').type.symbols.push('TAXATION'));
    expect(() => strictReader.createResolver(writer)).toThrow(/cannot read/);
  });
});
