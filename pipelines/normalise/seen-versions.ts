import type { Kafka, Message } from 'kafkajs';
import type { Config } from '../../lib/config';
import { partitionRanges, readRanges } from '../raw-reader';
import { waitForTopics } from '../topics';
import type { RawEnvelope } from '../raw-envelope';

/**
 * The last version the normaliser turned into a canonical record, per source record: a
 * compacted topic written in the same transaction as the canonical records, read back at start.
 * A connector that resumes after a crash re-sends what it read after its last checkpoint; those
 * re-sends are byte for byte what was already normalised, and are recognised here and skipped.
 */
export class SeenVersions {
  private readonly latest = new Map<string, string>();
  duplicates = 0;

  constructor(readonly topic: string) {}

  static topicFor(config: Config): string {
    return `liandong.normaliser-seen.${config.normaliser.group_id}`;
  }

  private static key(envelope: RawEnvelope): string {
    return `${envelope.source_id}\u0000${envelope.record_key}`;
  }

  /** Creates the topic when missing and loads what it holds. */
  async load(kafka: Kafka, config: Config): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) {
        await admin
          .createTopics({
            topics: [{ topic: this.topic, numPartitions: config.topics.partitions, replicationFactor: config.topics.replication_factor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
            waitForLeaders: true,
          })
          .catch((err) => waitForTopics(admin, [this.topic], err));
      }
    } finally {
      await admin.disconnect();
    }
    await readRanges(kafka, this.topic, await partitionRanges(kafka, this.topic, 'earliest'), async (_p, messages) => {
      for (const m of messages) if (m.key && m.value) this.latest.set(m.key.toString('utf8'), m.value.toString('utf8'));
    }, { idleMs: 1000 });
  }

  get size(): number {
    return this.latest.size;
  }

  /** Whether this exact version was normalised before (in a committed batch, or earlier in this one). */
  isRepeat(envelope: RawEnvelope, batch?: ReadonlyMap<string, string>): boolean {
    const key = SeenVersions.key(envelope);
    const repeat = (batch?.get(key) ?? this.latest.get(key)) === envelope.payload_sha256;
    if (repeat) this.duplicates++;
    return repeat;
  }

  /**
   * The message that records a normalised version, to go into the same transaction as its
   * record. Memory follows only once that transaction committed (`commit`): a batch that is
   * aborted and read again must not find its own records already "seen".
   */
  remember(envelope: RawEnvelope): { topic: string; message: Message } {
    const key = SeenVersions.key(envelope);
    return { topic: this.topic, message: { key, value: envelope.payload_sha256 } };
  }

  /** Takes the versions of a committed batch into memory. */
  commit(messages: ReadonlyArray<{ message: Message }>): void {
    for (const { message } of messages) this.latest.set(String(message.key), String(message.value));
  }
}
