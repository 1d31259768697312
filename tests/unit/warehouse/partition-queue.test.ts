import { DROPPED, PartitionQueue } from '../../../pipelines/warehouse/partition-queue';

/** A batch whose end the test decides. */
function gate() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('PartitionQueue', () => {
  it('applies at most `concurrency` batches at once, and one partition’s batches one after another in order', async () => {
    const queue = new PartitionQueue(2, 8);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const hand = (partition: string, name: string) =>
      queue.add(partition, async () => {
        started.push(name);
        const g = gate();
        gates.set(name, g);
        await g.done;
        return name;
      });
    const outcomes = [hand('a', 'a1'), hand('a', 'a2'), hand('b', 'b1'), hand('c', 'c1')];
    await turn();
    // a2 waits for a1 although a slot is free for it: c1 is not held up behind it.
    expect(started).toEqual(['a1', 'b1']);
    expect(queue.size).toBe(4);
    gates.get('a1')!.open();
    await turn();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    gates.get('b1')!.open();
    await turn();
    expect(started).toEqual(['a1', 'b1', 'a2', 'c1']);
    gates.get('a2')!.open();
    gates.get('c1')!.open();
    await expect(Promise.all(outcomes)).resolves.toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(queue.size).toBe(0);
  });

  it('drops the queued batches of a partition whose batch failed, and only those', async () => {
    const queue = new PartitionQueue(1, 8);
    const ran: string[] = [];
    const first = gate();
    const failing = queue.add('a', async () => {
      ran.push('a1');
      await first.done;
    });
    const later = queue.add('a', async () => void ran.push('a2'));
    const other = queue.add('b', async () => void ran.push('b1'));
    await turn();
    first.fail(new Error('rolled back'));
    await expect(failing).rejects.toThrow('rolled back');
    await expect(later).resolves.toBe(DROPPED);
    await expect(other).resolves.toBeUndefined();
    expect(ran).toEqual(['a1', 'b1']);
  });

  it('holds room() until fewer than `capacity` batches are unsettled, and idle() until none is', async () => {
    const queue = new PartitionQueue(1, 2);
    const a = gate();
    const b = gate();
    void queue.add('a', () => a.done);
    void queue.add('b', () => b.done);
    let roomy = false;
    let idle = false;
    void queue.room().then(() => (roomy = true));
    void queue.idle().then(() => (idle = true));
    await turn();
    expect([roomy, idle]).toEqual([false, false]);
    a.open();
    await turn();
    expect([roomy, idle]).toEqual([true, false]);
    b.open();
    await turn();
    expect(idle).toBe(true);
  });

  it('drop() settles queued batches as DROPPED and lets the running one finish', async () => {
    const queue = new PartitionQueue(1, 4);
    const running = gate();
    const first = queue.add('a', async () => {
      await running.done;
      return 'applied';
    });
    const queued = [queue.add('a', async () => 'never'), queue.add('b', async () => 'never')];
    await turn();
    queue.drop();
    await expect(Promise.all(queued)).resolves.toEqual([DROPPED, DROPPED]);
    expect(queue.size).toBe(1);
    running.open();
    await expect(first).resolves.toBe('applied');
    await queue.idle();
  });

  it('refuses a capacity below its concurrency', () => {
    expect(() => new PartitionQueue(3, 2)).toThrow(RangeError);
  });
});
