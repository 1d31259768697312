import fs from 'node:fs';
import path from 'node:path';
import { StackError } from '../../lib/errors';
import { ensureMaven, isRoot, aptInstall } from './system';
import { run, runAsync } from './process';
import { STACK_VERSIONS } from './versions';

/**
 * Fetches the services' jars and archives from Maven Central into the stack's cache
 * (a git-ignored folder), once: a `.complete` marker is written only after a whole
 * download, so an interrupted one is redone, never half-used.
 */

const KAFKA_POM = path.join(__dirname, 'maven', 'kafka-libs.pom.xml');

export interface Downloads {
  cacheDir: string;
  /** Log of the Maven runs. */
  logFile: string;
}

function mavenRepo(cacheDir: string): string {
  return path.join(cacheDir, 'maven-repo');
}

// Maven does not lock its local repository: two downloads at once could corrupt it.
let mavenQueue: Promise<unknown> = Promise.resolve();

function runMaven(service: string, what: string, args: string[], dl: Downloads, pom = KAFKA_POM): Promise<void> {
  const next = mavenQueue.then(() => runMavenNow(service, what, args, dl, pom));
  mavenQueue = next.catch(() => undefined);
  return next;
}

async function runMavenNow(service: string, what: string, args: string[], dl: Downloads, pom: string): Promise<void> {
  const mvn = ensureMaven(service);
  const result = await runAsync(mvn, ['-B', '-q', `-Dmaven.repo.local=${mavenRepo(dl.cacheDir)}`, '-f', pom, ...args], {
    timeoutMs: 20 * 60_000,
  });
  fs.appendFileSync(dl.logFile, `$ mvn ${args.join(' ')}\n${result.stdout}${result.stderr}\n`);
  if (result.status !== 0) {
    const output = (result.stdout + result.stderr).trim().split('\n').slice(-15).join('\n');
    throw new StackError(service, 'DOWNLOAD_REFUSED', `could not download ${what} from Maven Central (mvn exit ${result.status})`, output);
  }
}

function kafkaHome(cacheDir: string): string {
  return path.join(cacheDir, `kafka_${STACK_VERSIONS.scala}-${STACK_VERSIONS.kafka}`);
}

/** Where the Kafka jars are (or will be) cached. */
export function kafkaLibsDir(cacheDir: string): string {
  return path.join(kafkaHome(cacheDir), 'libs');
}

/** The folder of Kafka broker jars (with the console consumer and the log4j2 binding). */
export async function ensureKafkaLibs(dl: Downloads): Promise<string> {
  const home = kafkaHome(dl.cacheDir);
  const libs = kafkaLibsDir(dl.cacheDir);
  if (fs.existsSync(path.join(home, '.complete'))) return libs;
  fs.rmSync(home, { recursive: true, force: true });
  const partial = `${home}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  await runMaven(
    'kafka',
    `org.apache.kafka:kafka_${STACK_VERSIONS.scala}:${STACK_VERSIONS.kafka}`,
    [
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${STACK_VERSIONS.kafka}`,
      `-Dlog4j.version=${STACK_VERSIONS.log4j}`,
      `-DoutputDirectory=${path.join(partial, 'libs')}`,
    ],
    dl,
  );
  fs.renameSync(partial, home);
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  return libs;
}

/** The folder holding Apicurio Registry's runner jar and its `lib/`. */
export async function ensureApicurio(dl: Downloads): Promise<{ home: string; runnerJar: string }> {
  const version = STACK_VERSIONS.apicurio;
  const home = path.join(dl.cacheDir, `apicurio-registry-${version}`);
  const runnerJar = path.join(home, `apicurio-registry-app-${version}-runner.jar`);
  if (fs.existsSync(path.join(home, '.complete'))) return { home, runnerJar };
  fs.rmSync(home, { recursive: true, force: true });
  const partial = `${home}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const artifact = `io.apicurio:apicurio-registry-app:${version}:tar.gz:all`;
  await runMaven('registry', artifact, ['dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${partial}`], dl);
  const archive = path.join(partial, `apicurio-registry-app-${version}-all.tar.gz`);
  if (run('tar', ['--version']).status !== 0 && isRoot()) aptInstall('registry', ['tar', 'gzip']);
  const untar = run('tar', ['-xzf', archive, '-C', partial]);
  if (untar.status !== 0) throw new StackError('registry', 'DOWNLOAD_CORRUPT', `could not unpack ${archive}: ${untar.stderr.trim()}`);
  fs.rmSync(archive);
  if (!fs.existsSync(path.join(partial, path.basename(runnerJar)))) {
    throw new StackError('registry', 'DOWNLOAD_CORRUPT', `${artifact} has no ${path.basename(runnerJar)}`);
  }
  fs.renameSync(partial, home);
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  return { home, runnerJar };
}

/**
 * The runtime jars of a small Maven project of the hub's own (e.g. the Avro tools used to
 * check our messages with an independent implementation), cached like the services.
 */
export async function ensureMavenLibs(dl: Downloads, name: string, pom: string): Promise<string> {
  const home = path.join(dl.cacheDir, name);
  const libs = path.join(home, 'libs');
  if (fs.existsSync(path.join(home, '.complete'))) return libs;
  fs.rmSync(home, { recursive: true, force: true });
  const partial = `${home}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  await runMaven('tools', `the dependencies of ${pom}`, ['dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(partial, 'libs')}`], dl, pom);
  fs.renameSync(partial, home);
  fs.writeFileSync(path.join(home, '.complete'), new Date().toISOString());
  return libs;
}
