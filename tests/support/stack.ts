import path from 'node:path';
import { loadConfig, Config } from '../../lib/config';
import { kafkaLibsDir } from '../../hub/stack/downloads';
import { spawnSync } from 'node:child_process';
import { findJava } from '../../hub/stack/system';

/** The configuration of the stack the test suite runs against (brought up by global setup). */
export function testConfig(): Config {
  return loadConfig({ file: path.resolve(__dirname, '../../liandong.yaml') });
}

/**
 * Kafka's own console consumer, from the same jars as the broker: an independent client
 * that prints each message's value as raw bytes, one message per line.
 */
export function consoleConsume(config: Config, topic: string, maxMessages: number): { status: number | null; stdout: Buffer; stderr: string } {
  const java = findJava('kafka');
  const result = spawnSync(
    java,
    [
      '-cp', path.join(kafkaLibsDir(config.stack.cache_dir), '*'),
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server', config.kafka.brokers[0],
      '--topic', topic,
      '--from-beginning',
      '--max-messages', String(maxMessages),
      '--timeout-ms', '60000',
    ],
    { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}
