import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../lib/config';
import { StackError } from '../../lib/errors';
import { ensureKafkaLibs } from './downloads';
import { canConnect, run, spawnDetached } from './process';
import type { Service, StackPaths } from './service';
import { findJava } from './system';
import { STACK_VERSIONS } from './versions';

/**
 * Apache Kafka in KRaft mode, one combined broker+controller, from Maven Central jars.
 * Storage is formatted once; `server.properties` is rewritten on every start so that a
 * changed port in the configuration takes effect.
 */
export class KafkaService implements Service {
  readonly name = 'kafka' as const;
  readonly port: number;
  readonly ports: number[];
  readonly logFile: string;
  readonly startTimeoutMs: number;
  readonly stopSignal = 'SIGTERM' as const;
  readonly stopTimeoutMs = 60_000;
  readonly portKey = 'stack.kafka.port';
  private readonly home: string;
  private libs: string | null = null;
  private java: string | null = null;

  constructor(private readonly config: Config, private readonly paths: StackPaths) {
    this.port = config.stack.kafka.port;
    this.ports = [this.port, config.stack.kafka.controller_port];
    this.logFile = path.join(paths.logDir, 'kafka.log');
    this.startTimeoutMs = config.stack.kafka.start_timeout_s * 1000;
    this.home = path.join(paths.dir, 'kafka');
  }

  get marker(): string {
    return path.join(this.home, 'server.properties');
  }

  /** Jars of the broker and its tools, e.g. for Kafka's own console consumer. */
  classpath(): string {
    if (!this.libs) throw new Error('prepare() must run first');
    return path.join(this.libs, '*');
  }

  async prepare(): Promise<void> {
    this.java = findJava('kafka');
    this.libs = await ensureKafkaLibs({ cacheDir: this.paths.cacheDir, logFile: path.join(this.paths.logDir, 'downloads.log') });
    fs.mkdirSync(path.join(this.home, 'data'), { recursive: true });
    fs.writeFileSync(this.marker, this.serverProperties());
    fs.writeFileSync(path.join(this.home, 'log4j2.properties'), LOG4J2_PROPERTIES);
    if (fs.existsSync(path.join(this.home, 'data', 'meta.properties'))) return;
    // Storage is not formatted yet, so an id kept from an earlier failed attempt may be replaced.
    const clusterIdFile = path.join(this.home, 'cluster.id');
    const kept = fs.existsSync(clusterIdFile) ? fs.readFileSync(clusterIdFile, 'utf8').trim() : '';
    const clusterId = kept && !kept.startsWith('-') ? kept : newClusterId();
    fs.writeFileSync(clusterIdFile, clusterId);
    const format = run(this.java, [
      `-Dlog4j2.configurationFile=${path.join(this.home, 'log4j2.properties')}`,
      '-cp', this.classpath(),
      'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', this.marker, '-g',
    ]);
    fs.appendFileSync(this.logFile, format.stdout + format.stderr);
    if (format.status !== 0) {
      throw new StackError('kafka', 'FORMAT_FAILED', `StorageTool format failed (exit ${format.status})`, (format.stderr || format.stdout).trim().slice(-3000));
    }
  }

  launch(): number {
    if (!this.java) throw new Error('prepare() must run before launch()');
    const heap = this.config.stack.kafka.heap_mb;
    return spawnDetached({
      command: this.java,
      args: [
        `-Xms${Math.min(256, heap)}m`, `-Xmx${heap}m`, '-XX:+UseG1GC', '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${path.join(this.home, 'log4j2.properties')}`,
        '-cp', this.classpath(),
        'kafka.Kafka', this.marker,
      ],
      logFile: this.logFile,
      cwd: this.home,
    });
  }

  async probe(): Promise<boolean> {
    if (!(await canConnect(this.port))) return false;
    const kafka = new Kafka({
      clientId: 'liandong-stack-probe',
      brokers: [`127.0.0.1:${this.port}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  version(): string {
    return `Apache Kafka ${STACK_VERSIONS.kafka} (KRaft, combined broker+controller)`;
  }

  private serverProperties(): string {
    const { port } = this;
    const controller = this.config.stack.kafka.controller_port;
    return [
      '# Written by `liandong stack up` on every start; edit liandong.yaml instead.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controller}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(this.home, 'data')}`,
      'num.partitions=3',
      // Topics are created by the hub with explicit partitions and settings, never by accident.
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'log.retention.hours=168',
      '',
    ].join('\n');
  }
}

/**
 * 16 random bytes, base64url. One in 64 would start with '-', which StorageTool's argument
 * parser takes for an option ("--cluster-id: expected one argument"); Kafka's own generator
 * skips those too.
 */
export function newClusterId(): string {
  while (true) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const LOG4J2_PROPERTIES = `# Broker log: INFO to stdout (the stack's log file), chatty components at WARN.
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.controller.name = org.apache.kafka.controller
logger.controller.level = info
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = info
`;
