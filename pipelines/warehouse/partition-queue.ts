/** What a batch settles with when it was dropped before its turn came. */
export const DROPPED = Symbol('dropped');

interface Queued {
  partition: string;
  apply: () => Promise<unknown>;
  settle: (outcome: { value: unknown } | { error: unknown }) => void;
}

/**
 * The batches the consumer has handed over: at most `concurrency` applied at once, each
 * partition's one after another in the order handed over, at most `capacity` handed over and
 * not yet settled.
 *
 * Why the sink hands its batches over instead of applying them in kafkajs's `eachBatch`:
 * kafkajs fetches again only once every batch of its last fetch is processed, so the cores
 * idle while a fetch's slowest batch finishes and while the next fetch is read. Here a fetch's
 * batches are taken at once, the next fetch is read while they are applied, and `room()`
 * bounds how far fetching runs ahead.
 *
 * A batch that fails drops its partition's queued batches (they settle as `DROPPED`):
 * applied before it, they would move the partition's stored offset past its records.
 */
export class PartitionQueue {
  private readonly queued: Queued[] = [];
  /** Partitions with a batch being applied. */
  private readonly busy = new Set<string>();
  private waiters: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
  ) {
    if (!(concurrency >= 1 && capacity >= concurrency)) throw new RangeError(`a queue of ${capacity} for ${concurrency} at once`);
  }

  /** Batches handed over and not settled: queued or being applied. */
  get size(): number {
    return this.queued.length + this.busy.size;
  }

  /** Resolves once fewer than `capacity` batches are handed over and not settled. */
  async room(): Promise<void> {
    while (this.size >= this.capacity) await this.changed();
  }

  /** Resolves once every batch handed over so far has settled. */
  async idle(): Promise<void> {
    while (this.size > 0) await this.changed();
  }

  /**
   * Hands over `apply` for `partition`. It starts after the partition's earlier batches have
   * settled and while fewer than `concurrency` are being applied. The promise settles with its
   * outcome, or with `DROPPED` when it never started (`drop`, or an earlier batch of its partition failed).
   */
  add<T>(partition: string, apply: () => Promise<T>): Promise<T | typeof DROPPED> {
    return new Promise<T | typeof DROPPED>((resolve, reject) => {
      const settle = (outcome: { value: unknown } | { error: unknown }) => ('error' in outcome ? reject(outcome.error) : resolve(outcome.value as T | typeof DROPPED));
      this.queued.push({ partition, apply, settle });
      this.pump();
    });
  }

  /** Drops the queued batches of `partition` (of every partition when omitted); those being applied go on. */
  drop(partition?: string): void {
    for (let i = this.queued.length - 1; i >= 0; i--) {
      if (partition === undefined || this.queued[i].partition === partition) this.queued.splice(i, 1)[0].settle({ value: DROPPED });
    }
    this.notify();
  }

  private pump(): void {
    for (let i = 0; i < this.queued.length && this.busy.size < this.concurrency; ) {
      const next = this.queued[i];
      if (this.busy.has(next.partition)) {
        i++;
        continue;
      }
      this.queued.splice(i, 1);
      this.busy.add(next.partition);
      void this.run(next);
    }
  }

  private async run({ partition, apply, settle }: Queued): Promise<void> {
    let outcome: { value: unknown } | { error: unknown };
    try {
      outcome = { value: await apply() };
    } catch (error) {
      outcome = { error };
    }
    this.busy.delete(partition);
    if ('error' in outcome) this.drop(partition);
    settle(outcome);
    this.pump();
    this.notify();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
