import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Config } from './config';
import { SchemaCompatibilityError } from './errors';
import { LOGICAL_TYPES } from '../schemas/logical-types';

/**
 * The Confluent-compatible schema-registry client, pointed at the configured ccompat URL.
 * `encode`/`decode` use the hub's logical types: decimals as strings ("50000.00"), dates as
 * 'YYYY-MM-DD', timestamp-millis as ISO-8601 UTC strings.
 */
export function createRegistry(config: Config): SchemaRegistry {
  return new SchemaRegistry({ host: config.registry.url, retry: { retries: 3 } }, { forSchemaOptions: { logicalTypes: LOGICAL_TYPES } });
}

/**
 * Registers an Avro schema under `subject` with the hub's one compatibility level.
 *
 * The level is set on the subject *before* registering: Apicurio's ccompat API answers
 * `NONE` for a subject without its own rule (Confluent answers 404), which the client would
 * take as a mismatch. Setting it first makes both registries behave the same.
 *
 * @example
 *   const id = await registerAvro(registry, config, 'canonical.enforcement-case-value', schemaJson);
 */
export async function registerAvro(registry: SchemaRegistry, config: Config, subject: string, schema: object | string): Promise<number> {
  const compatibility = COMPATIBILITY[config.registry.compatibility];
  await setSubjectCompatibility(config, subject, compatibility);
  try {
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: typeof schema === 'string' ? schema : JSON.stringify(schema) },
      { subject, compatibility },
    );
    return id;
  } catch (err) {
    if (isIncompatible(err)) {
      throw new SchemaCompatibilityError(subject, `schema is not ${compatibility}-compatible with the registered versions: ${(err as Error).message}`, err);
    }
    throw err;
  }
}

/** PUT /config/{subject}: the subject need not exist yet. */
export async function setSubjectCompatibility(config: Config, subject: string, compatibility: string): Promise<void> {
  const response = await fetch(`${config.registry.url}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    throw new Error(`schema registry refused compatibility ${compatibility} for ${subject}: ${response.status} ${await response.text()}`);
  }
}

function isIncompatible(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  return status === 409 || /incompatible|compatib/i.test((err as Error).message ?? '');
}

/** Readiness: the ccompat API lists subjects. */
export async function registryReady(config: Config): Promise<{ subjects: number }> {
  const response = await fetch(`${config.registry.url}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`schema registry at ${config.registry.url} answered ${response.status}`);
  const subjects = (await response.json()) as unknown[];
  return { subjects: subjects.length };
}
