import { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { createKafka } from '../../lib/kafka-client';
import { createRegistry } from '../../lib/registry-client';
import { loadSources } from '../../pipelines/normalise/mapping';
import { prepareTopicsAndSchemas } from '../../pipelines/topics';
import { catalogEntries } from '../../schemas/catalog';
import { table } from './output';

const say = (line: string) => process.stdout.write(line + '\n');

export function schemaCommands(): Command {
  const schemas = new Command('schemas').description('the Avro schemas of the hub\'s topics in the schema registry');
  schemas
    .command('register')
    .description('create the topics and register every subject with BACKWARD compatibility (the hub also does this at start-up)')
    .action(async () => {
      const config = loadConfig();
      const sources = loadSources(config.sources_dir);
      await prepareTopicsAndSchemas(config, createKafka(config), createRegistry(config), [...sources.keys()]);
      say(`registered ${catalogEntries([...sources.keys()]).length} subject(s) at ${config.registry.url}`);
    });
  schemas
    .command('list')
    .description('each topic with its subject, schema file and latest registered version')
    .action(async () => {
      const config = loadConfig();
      const sources = loadSources(config.sources_dir);
      const rows = await Promise.all(
        catalogEntries([...sources.keys()]).map(async (entry) => {
          const response = await fetch(`${config.registry.url}/subjects/${encodeURIComponent(entry.subject)}/versions/latest`);
          const latest = response.ok ? ((await response.json()) as { version: number; id: number }) : null;
          return { topic: entry.topic, subject: entry.subject, schema: entry.schema, version: latest?.version ?? null, id: latest?.id ?? null };
        }),
      );
      say(table(rows));
    });
  return schemas;
}
