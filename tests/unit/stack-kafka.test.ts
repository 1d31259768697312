import { newClusterId } from '../../hub/stack/service-kafka';

describe('Kafka cluster ids', () => {
  it('never start with a dash, which the storage tool would take for an option', () => {
    const ids = Array.from({ length: 2000 }, () => newClusterId());
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
  });
});
