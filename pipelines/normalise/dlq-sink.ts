import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Consumer, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/log';
import { DLQ_TOPIC } from '../../schemas/catalog';
import { upsertDeadLetters } from './dlq-table';
import type { DeadLetter } from './normalise-record';
import { watchCrash } from './normaliser';

/** Consumes `dlq.normalise` into ops.dlq; offsets are committed only after the rows are written. */
export class DlqTableSink {
  private consumer: Consumer | null = null;
  written = 0;

  constructor(private readonly deps: { config: Config; kafka: Kafka; registry: SchemaRegistry; db: Knex; logger: Logger; onFatal?: (err: Error) => void }) {}

  async start(): Promise<void> {
    const { config, kafka, registry, db } = this.deps;
    this.consumer = kafka.consumer({ groupId: config.normaliser.dlq_group_id, readUncommitted: false });
    watchCrash(this.consumer, this.deps.logger, 'dead-letter table', this.deps.onFatal);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: DLQ_TOPIC, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const letters: DeadLetter[] = [];
        for (const m of batch.messages) letters.push((await registry.decode(m.value!)) as DeadLetter);
        await upsertDeadLetters(db, letters);
        this.written += letters.length;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
