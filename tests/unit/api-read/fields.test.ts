import { datasetFields, normaliserKind, protectionOf } from '../../../hub/api/query/fields';
import { loadSchema } from '../../../schemas/catalog';

describe('personal-data flags', () => {
  it.each([
    ['a field named *_hash, whatever its doc', 'subject.employer_hash', null, 'Employer.', 'keyed_hash'],
    ['a field whose doc says HMAC', 'party.id_digest', null, 'HMAC-SHA256 (hex) of the ID number.', 'keyed_hash'],
    ['a field named *_masked', 'witness_phone_masked', null, null, 'masked'],
    ["a masked form of the normaliser's id_number kind", 'party.id_masked', 'id_number', null, 'masked'],
    ['a name masked for individuals only', 'party.name', null, 'Name: organisations in clear, individuals masked.', 'masked_if_individual'],
    ["the normaliser's free text, with no word of it in the doc", 'title', 'text', 'Title of the ticket.', 'masked_free_text'],
    ['free text whose doc says personal data is masked', 'remarks', null, 'Remarks, personal data masked.', 'masked_free_text'],
    ['a plain field', 'agency_name', 'string', 'Name of the enforcing agency.', null],
  ] as const)('flags %s', (_what, path, kind, doc, expected) => {
    expect(protectionOf(path, kind, doc)).toBe(expected);
  });

  it("follows the normaliser's derived fields back to their kind", () => {
    expect(normaliserKind('hotline-ticket', 'caller_phone_hash')).toBe('phone');
    expect(normaliserKind('hotline-ticket', 'caller_name_masked')).toBe('person_name');
    expect(normaliserKind('hotline-ticket', 'caller_name_hash')).toBeNull();
    expect(normaliserKind('enforcement-case', 'party.id_hash')).toBe('id_number');
    expect(normaliserKind('enforcement-case', 'violation_facts')).toBe('text');
  });

  it('lists every field of the schema, nested ones after their record, with nullability and enum symbols', () => {
    const fields = datasetFields('supervision-record');
    expect(fields.filter((f) => !f.path.includes('.')).map((f) => f.path)).toEqual(loadSchema('supervision-record').fields.map((f) => f.name));
    expect(fields.map((f) => f.path)).toEqual(expect.arrayContaining(['party.kind', 'party.id_hash', 'lineage.raw_offset']));
    expect(fields.find((f) => f.path === 'party')).toMatchObject({ type: 'record Party', nullable: true, personal: false });
    expect(fields.find((f) => f.path === 'issued_on')).toMatchObject({ type: 'date', nullable: true });
    expect(fields.find((f) => f.path === 'related_case_ids')).toMatchObject({ type: 'array<string>', nullable: false });
    expect(datasetFields('enforcement-case').find((f) => f.path === 'fine_amount')).toMatchObject({ type: 'decimal(18,2)', nullable: true });
    expect(datasetFields('enforcement-case').find((f) => f.path === 'penalty_kinds')?.symbols).toContain('FINE');
    expect(datasetFields('enforcement-case').find((f) => f.path === 'measures[].unit')).toMatchObject({ type: 'string' });
  });

  it('asks read:pii for keyed hashes only', () => {
    for (const dataset of ['enforcement-case', 'hotline-ticket', 'supervision-record'] as const) {
      for (const f of datasetFields(dataset)) expect(f.requires).toBe(f.protection === 'keyed_hash' ? 'read:pii' : null);
    }
  });
});
