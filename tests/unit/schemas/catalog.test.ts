import path from 'node:path';
import {
  avroType,
  catalogEntries,
  DATASET_TOPICS,
  DLQ_TOPIC,
  loadSchema,
  rawTopic,
  schemaNameFor,
  schemasDir,
  subjectFor,
} from '../../../schemas/catalog';

describe('the schema catalog', () => {
  it.each([
    ['canonical.enforcement-case', 'enforcement-case', 'canonical.enforcement-case-value'],
    ['canonical.hotline-ticket', 'hotline-ticket', 'canonical.hotline-ticket-value'],
    ['canonical.supervision-record', 'supervision-record', 'canonical.supervision-record-value'],
    ['dlq.normalise', 'dlq-record', 'dlq.normalise-value'],
    ['raw.smr-jq', 'raw-envelope', 'raw.smr-jq-value'],
    ['raw.hotline_12345.v2', 'raw-envelope', 'raw.hotline_12345.v2-value'],
  ])('maps topic %s to schema %s and subject %s', (topic, schema, subject) => {
    expect(schemaNameFor(topic)).toBe(schema);
    expect(subjectFor(topic)).toBe(subject);
  });

  it.each(['canonical.unknown', 'raw.', 'raw.bad/name', 'raw.空格', 'enforcement-case', 'dlq.other', 'toString', '__proto__'])(
    'refuses the unknown topic %p',
    (topic) => {
      expect(() => subjectFor(topic)).toThrow(/no schema for topic/);
    },
  );

  it('names the canonical topic of each dataset', () => {
    expect(DATASET_TOPICS).toEqual({
      'enforcement-case': 'canonical.enforcement-case',
      'hotline-ticket': 'canonical.hotline-ticket',
      'supervision-record': 'canonical.supervision-record',
    });
    expect(DLQ_TOPIC).toBe('dlq.normalise');
  });

  it('refuses a source id that cannot name a Kafka topic', () => {
    expect(rawTopic('smr-jq')).toBe('raw.smr-jq');
    expect(() => rawTopic('smr jq')).toThrow(/cannot name a Kafka topic/);
    expect(() => rawTopic('')).toThrow(/cannot name a Kafka topic/);
  });

  it('lists the fixed subjects first, then one raw subject per distinct source', () => {
    expect(catalogEntries(['smr-jq', 'hotline-12345', 'smr-jq'])).toEqual([
      { topic: 'canonical.enforcement-case', subject: 'canonical.enforcement-case-value', schema: 'enforcement-case' },
      { topic: 'canonical.hotline-ticket', subject: 'canonical.hotline-ticket-value', schema: 'hotline-ticket' },
      { topic: 'canonical.supervision-record', subject: 'canonical.supervision-record-value', schema: 'supervision-record' },
      { topic: 'dlq.normalise', subject: 'dlq.normalise-value', schema: 'dlq-record' },
      { topic: 'raw.smr-jq', subject: 'raw.smr-jq-value', schema: 'raw-envelope' },
      { topic: 'raw.hotline-12345', subject: 'raw.hotline-12345-value', schema: 'raw-envelope' },
    ]);
  });

  it('reads the schema files from the project, not from the working directory', () => {
    expect(schemasDir()).toBe(path.resolve(__dirname, '../../../schemas'));
  });

  it('parses each file once and hands out a frozen schema', () => {
    const schema = loadSchema('hotline-ticket');
    expect(loadSchema('hotline-ticket')).toBe(schema);
    expect(Object.isFrozen(schema)).toBe(true);
    expect(Object.isFrozen(schema.fields[0])).toBe(true);
    expect(() => (schema.fields as unknown[]).push({})).toThrow(TypeError);
  });

  it('builds each avsc type once, with the logical types', () => {
    const type = avroType('raw-envelope');
    expect(avroType('raw-envelope')).toBe(type);
    expect(type.typeName).toBe('record');
    expect((type as unknown as { fields: Array<{ name: string; type: { typeName: string } }> }).fields.find((f) => f.name === 'received_at')?.type.typeName).toBe(
      'logical:timestamp-millis',
    );
  });

  it('refuses an unknown schema name', () => {
    expect(() => loadSchema('nope' as never)).toThrow(/unknown schema/);
  });
});
