import { decodeCursor, encodeCursor, regionPrefix } from '../../../hub/api/query/records-query';
import { consumerConfig, suggestedGroupId } from '../../../hub/api/query/consumer-config';
import { loadConfig } from '../../../lib/config';

describe('record cursors', () => {
  const filters = { creditCode: '91620902MA5726159J', statuses: ['DECIDED', 'CLOSED'] };

  it('round-trips the position, whatever the order of the status list', () => {
    const token = encodeCursor('enforcement-case', filters, '2025-04-01', 'A:1');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('enforcement-case', { ...filters, statuses: ['CLOSED', 'DECIDED'] }, token)).toEqual({ sortKey: '2025-04-01', id: 'A:1' });
  });

  it.each([
    ['other filters', () => decodeCursor('enforcement-case', { creditCode: filters.creditCode }, encodeCursor('enforcement-case', filters, '2025-04-01', 'A:1'))],
    ['another dataset', () => decodeCursor('supervision-record', filters, encodeCursor('enforcement-case', filters, '2025-04-01', 'A:1'))],
    ['text that is not a cursor', () => decodeCursor('enforcement-case', filters, 'bm9wZQ')],
    ['a sort key that is not a date', () => decodeCursor('enforcement-case', filters, encodeCursor('enforcement-case', filters, "2025-04-01'; drop", 'A:1'))],
    ['a date where a ticket needs a timestamp', () => decodeCursor('hotline-ticket', {}, encodeCursor('hotline-ticket', {}, '2025-04-01', 'T1'))],
  ])('refuses a cursor with %s', (_what, decode) => {
    expect(decode).toThrow(expect.objectContaining({ status: 400, code: 'BAD_CURSOR' }));
  });

  it('accepts a timestamp sort key as PostgreSQL writes it', () => {
    const token = encodeCursor('hotline-ticket', {}, '2025-03-31 16:30:00.123456+00', 'T1');
    expect(decodeCursor('hotline-ticket', {}, token).sortKey).toBe('2025-03-31 16:30:00.123456+00');
  });

  it('reads a GB/T 2260 code as the prefix of everything in it', () => {
    expect(regionPrefix('620902')).toBe('620902');
    expect(regionPrefix('620900')).toBe('6209');
    expect(regionPrefix('620000')).toBe('62');
    expect(regionPrefix('6209')).toBe('6209');
  });
});

describe('consumer configuration', () => {
  const config = loadConfig({ env: {} });

  it('reads committed messages from the beginning, with the configured brokers and registry', () => {
    const c = consumerConfig(config, 'canonical.hotline-ticket', suggestedGroupId('11620900MB19512346', 'hotline-ticket'), 'ticket_id');
    expect(c.group_id).toBe('liandong.11620900MB19512346.hotline-ticket');
    expect(c.kafkajs).toEqual({
      client: { clientId: c.group_id, brokers: config.kafka.brokers },
      consumer: { groupId: c.group_id, readUncommitted: false },
      subscribe: { topics: ['canonical.hotline-ticket'], fromBeginning: true },
      registry: { host: config.registry.url },
    });
    const props = Object.fromEntries(c.java_properties.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    expect(props).toMatchObject({ 'isolation.level': 'read_committed', 'auto.offset.reset': 'earliest', 'enable.auto.commit': 'false', 'group.id': c.group_id, 'bootstrap.servers': config.kafka.brokers.join(','), 'schema.registry.url': config.registry.url });
    expect(c.kafkajs_snippet).toContain(JSON.stringify(c.kafkajs.consumer));
  });

  it('keeps a group id to characters tools read', () => {
    expect(suggestedGroupId('酒泉 市监', 'enforcement-case')).toMatch(/^liandong\.[A-Za-z0-9_-]+\.enforcement-case$/);
  });
});
