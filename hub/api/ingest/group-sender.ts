import type { RawProducer } from '../../../connectors/raw-producer';
import type { RawEnvelope } from '../../../pipelines/raw-envelope';

interface Waiting {
  envelopes: RawEnvelope[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Hands envelopes to Kafka with group commit: what concurrent requests ask to send while a send
 * is in flight goes out together in the next one. kafkajs's idempotent producer keeps one produce
 * request in flight per broker, so request-per-send would queue 50 clients behind each other's
 * round trips; merged, they share them. Merging is safe because a receipt learns its records'
 * raw positions from the raw topic (the tracker), not from the send's answer.
 *
 * @example
 *   const sender = new GroupSender(rawProducer);
 *   await sender.send(envelopes);   // resolves once Kafka acknowledged them (acks=all)
 */
export class GroupSender {
  private queue: Waiting[] = [];
  private sending = false;

  constructor(private readonly producer: RawProducer, private readonly maxMessagesPerSend = 10_000) {}

  send(envelopes: RawEnvelope[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ envelopes, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const group: Waiting[] = [];
        let count = 0;
        while (this.queue.length > 0 && (group.length === 0 || count + this.queue[0].envelopes.length <= this.maxMessagesPerSend)) {
          const next = this.queue.shift()!;
          group.push(next);
          count += next.envelopes.length;
        }
        try {
          await this.producer.send(group.flatMap((w) => w.envelopes));
          for (const w of group) w.resolve();
        } catch (err) {
          // Each request answers for itself; the others of the group fail with it and their clients re-post.
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
