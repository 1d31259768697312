import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { STACK_VERSIONS } from '../../hub/stack/versions';

interface Compose {
  services: Record<string, { image?: string; build?: unknown }>;
}

const compose = YAML.parse(fs.readFileSync(path.resolve(__dirname, '../../docker/docker-compose.yml'), 'utf8')) as Compose;

function imageTag(service: string): { name: string; tag: string } {
  const image = compose.services[service]?.image;
  if (!image) throw new Error(`docker-compose.yml has no image for ${service}`);
  const [name, tag] = image.split(':');
  return { name, tag };
}

describe('the production compose file', () => {
  it('runs the same Kafka as the local stack', () => {
    expect(imageTag('kafka')).toEqual({ name: 'apache/kafka', tag: STACK_VERSIONS.kafka });
  });

  it('runs the same Apicurio Registry as the local stack', () => {
    expect(imageTag('registry')).toEqual({ name: 'apicurio/apicurio-registry', tag: STACK_VERSIONS.apicurio });
  });

  it('runs the PostgreSQL major the hub targets', () => {
    const { name, tag } = imageTag('postgres');
    expect(name).toBe('postgres');
    expect(Number(tag.split('.')[0])).toBe(STACK_VERSIONS.postgresMajor);
  });

  it('builds the hub from the project Dockerfile', () => {
    expect(compose.services.hub.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(fs.existsSync(path.resolve(__dirname, '../../docker/Dockerfile'))).toBe(true);
  });

  it('asks the Kafka POM for the version the stack records', () => {
    const pom = fs.readFileSync(path.resolve(__dirname, '../../hub/stack/maven/kafka-libs.pom.xml'), 'utf8');
    expect(pom).toContain(`<kafka.version>${STACK_VERSIONS.kafka}</kafka.version>`);
    expect(pom).toContain(`<log4j.version>${STACK_VERSIONS.log4j}</log4j.version>`);
  });
});
