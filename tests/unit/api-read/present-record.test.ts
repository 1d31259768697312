import { presentRecord, protectRecord, toCanonical, visiblePartyKey } from '../../../hub/api/query/present-record';
import { recordSchema } from '../../../hub/api/query/record-schemas';
import { CORE_TABLES, coreRow } from '../../../pipelines/warehouse/core-rows';
import { ENFORCEMENT_CASE, HOTLINE_TICKET, SUPERVISION_RECORD } from '../schemas/samples';

const HASH = 'a'.repeat(64);
const person = { kind: 'INDIVIDUAL', name: '张**', uscc: null, id_hash: HASH, id_masked: '620921********1234', region_code: '620921' };

describe('records as the API answers them', () => {
  it.each([
    ['enforcement-case', ENFORCEMENT_CASE],
    ['hotline-ticket', HOTLINE_TICKET],
    ['supervision-record', SUPERVISION_RECORD],
  ] as const)("turns a %s row back into the canonical record it was made from", (dataset, record) => {
    const row = coreRow(CORE_TABLES[dataset], record);
    expect(toCanonical(dataset, row)).toEqual(record);
  });

  it('gives a ticket without a subject a null subject, not an object of nulls', () => {
    const row = coreRow(CORE_TABLES['hotline-ticket'], { ...HOTLINE_TICKET, subject: null });
    expect(toCanonical('hotline-ticket', row).subject).toBeNull();
  });

  it('leaves out keyed hashes and masks again what should be masked, without read:pii', () => {
    const record = { ...ENFORCEMENT_CASE, party: { ...person, name: '张三丰' }, violation_facts: '当事人身份证11010519491231002X，电话13812345678' };
    const out = protectRecord('enforcement-case', record, { pii: false }) as any;
    expect(out.party).not.toHaveProperty('id_hash');
    expect(out.party.name).toBe('张**');
    expect(out.violation_facts).toBe('当事人身份证110105********002X，电话138****5678');
    // The input is not changed.
    expect((record.party as any).id_hash).toBe(HASH);
  });

  it("keeps an organisation's name and a ticket's masked caller as they are", () => {
    const out = protectRecord('hotline-ticket', { ...HOTLINE_TICKET, caller_phone_hash: HASH }, { pii: false }) as any;
    expect(out).not.toHaveProperty('caller_phone_hash');
    expect(out.subject).not.toHaveProperty('id_hash');
    expect(out.subject.name).toBe(HOTLINE_TICKET.subject!.name);
    expect(out.caller_name_masked).toBe(HOTLINE_TICKET.caller_name_masked);
    expect(out.caller_phone_masked).toBe(HOTLINE_TICKET.caller_phone_masked);
  });

  it('answers the stored record, hashes included, with read:pii', () => {
    const record = { ...SUPERVISION_RECORD, party: person };
    expect(protectRecord('supervision-record', record, { pii: true })).toEqual(record);
    const row = coreRow(CORE_TABLES['supervision-record'], record);
    expect(presentRecord('supervision-record', row, { pii: true })).toEqual(record);
  });

  it('fits the documented response schema, with or without the hashes', () => {
    const row = coreRow(CORE_TABLES['enforcement-case'], { ...ENFORCEMENT_CASE, party: person });
    expect(recordSchema('enforcement-case').safeParse(presentRecord('enforcement-case', row, { pii: true })).success).toBe(true);
    expect(recordSchema('enforcement-case').safeParse(presentRecord('enforcement-case', row, { pii: false })).success).toBe(true);
    expect(recordSchema('enforcement-case').safeParse({ ...ENFORCEMENT_CASE, status: 'LOST' }).success).toBe(false);
  });

  it('hides an ID party key, which carries the hash, without read:pii', () => {
    expect(visiblePartyKey(`ID:${HASH}`, { pii: false })).toBeNull();
    expect(visiblePartyKey(`ID:${HASH}`, { pii: true })).toBe(`ID:${HASH}`);
    expect(visiblePartyKey('USCC:91620902MA71234567', { pii: false })).toBe('USCC:91620902MA71234567');
  });
});
