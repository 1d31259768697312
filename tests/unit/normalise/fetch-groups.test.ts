import { FetchGroups } from '../../../pipelines/normalise/normaliser';

describe('FetchGroups', () => {
  it('applies the items added in one turn of the event loop as one group, and later ones as the next, in order', async () => {
    const applied: string[][] = [];
    let release: () => void = () => undefined;
    const groups = new FetchGroups<string>(async (items) => {
      applied.push(items);
      if (applied.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = [groups.add('p0'), groups.add('p1'), groups.add('p2')];
    await new Promise((resolve) => setImmediate(resolve));
    const second = groups.add('p0-next');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(applied).toEqual([['p0', 'p1', 'p2']]); // the second group waits for the first
    release();
    await Promise.all([...first, second]);
    expect(applied).toEqual([['p0', 'p1', 'p2'], ['p0-next']]);
  });

  it("rejects every item of a group with the group's error, and goes on with the next group", async () => {
    const groups = new FetchGroups<number>(async (items) => {
      if (items.includes(13)) throw new Error('transaction aborted');
    });
    const bad = [groups.add(12), groups.add(13)];
    await expect(bad[0]).rejects.toThrow('transaction aborted');
    await expect(bad[1]).rejects.toThrow('transaction aborted');
    await expect(groups.add(14)).resolves.toBeUndefined();
  });

  it('applies a group that was queued behind a failing one', async () => {
    const applied: number[][] = [];
    let fail: (err: Error) => void = () => undefined;
    const groups = new FetchGroups<number>(async (items) => {
      applied.push(items);
      if (items[0] === 1) await new Promise<void>((_, reject) => (fail = reject));
    });
    const first = groups.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = groups.add(2); // queued while the first group is still being applied
    await new Promise((resolve) => setImmediate(resolve));
    fail(new Error('transaction aborted'));
    await expect(first).rejects.toThrow('transaction aborted');
    await expect(second).resolves.toBeUndefined();
    expect(applied).toEqual([[1], [2]]);
  });
});
