import { deliveryOf } from '../../../hub/api/query/datasets';

describe('how a source delivers its records', () => {
  it.each([
    [{ connector: { kind: 'http-pull' } }, 'pull'],
    [{ connector: { kind: 'db-pull' } }, 'pull'],
    [{ connector: { kind: 'file-drop' } }, 'pull'],
    [{ connector: { kind: 'push' } }, 'push'],
    [{}, 'push'],
  ])('%j delivers by %s', (source, expected) => {
    expect(deliveryOf(source)).toBe(expected);
  });
});
