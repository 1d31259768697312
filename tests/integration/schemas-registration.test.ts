import { SchemaCompatibilityError } from '../../lib/errors';
import { createRegistry, registerAvro } from '../../lib/registry-client';
import { catalogEntries, loadSchema, registerAll, SCHEMA_FILES, SchemaName } from '../../schemas/catalog';
import { uniqueName } from '../support/helpers';
import { testConfig } from '../support/stack';
import { SAMPLES } from '../unit/schemas/samples';

const config = testConfig();
const registry = createRegistry(config);
const SOURCES = ['smr-jq', 'hotline-12345', 'procuratorate-jq'];
const NAMES = Object.keys(SCHEMA_FILES) as SchemaName[];

type Mutable = { fields: Array<Record<string, unknown>> } & Record<string, unknown>;
const copy = (name: SchemaName): Mutable => structuredClone(loadSchema(name)) as unknown as Mutable;

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${config.registry.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The registry's own verdict (ccompat compatibility endpoint) on `schema` against the subject's latest version. */
async function isCompatible(subject: string, schema: object): Promise<boolean> {
  const response = await fetch(`${config.registry.url}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`compatibility check for ${subject}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { is_compatible: boolean }).is_compatible;
}

describe('registering every schema of the catalog in the real registry', () => {
  // A prefix per run keeps these subjects apart from every other run and from the hub's own.
  const prefix = `${uniqueName('it.schemas')}.`;
  let ids: Map<string, number>;

  beforeAll(async () => {
    ids = await registerAll(registry, config, SOURCES, { subjectPrefix: prefix });
  });

  it('registers one subject per canonical topic, the dead-letter topic and each raw source', () => {
    expect([...ids.keys()]).toEqual([
      `${prefix}canonical.enforcement-case-value`,
      `${prefix}canonical.hotline-ticket-value`,
      `${prefix}canonical.supervision-record-value`,
      `${prefix}dlq.normalise-value`,
      `${prefix}raw.smr-jq-value`,
      `${prefix}raw.hotline-12345-value`,
      `${prefix}raw.procuratorate-jq-value`,
    ]);
    for (const id of ids.values()) expect(id).toBeGreaterThan(0);
  });

  it('gives every raw subject the same schema, and so the same id', () => {
    const rawIds = SOURCES.map((source) => ids.get(`${prefix}raw.${source}-value`));
    expect(new Set(rawIds).size).toBe(1);
  });

  it('sets BACKWARD on every subject and registers exactly one version', async () => {
    for (const subject of ids.keys()) {
      expect(await get<{ compatibilityLevel: string }>(`/config/${encodeURIComponent(subject)}`)).toEqual({ compatibilityLevel: 'BACKWARD' });
      expect(await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)).toEqual([1]);
    }
  });

  it('stores each schema as its file says, docs and logical types included', async () => {
    for (const entry of catalogEntries(SOURCES)) {
      const stored = await get<{ schema: string }>(`/schemas/ids/${ids.get(prefix + entry.subject)}`);
      expect(JSON.parse(stored.schema)).toEqual(loadSchema(entry.schema));
    }
  });

  it('returns the same ids when everything is registered again, and adds no version', async () => {
    const again = await registerAll(registry, config, SOURCES, { subjectPrefix: prefix });
    expect(again).toEqual(ids);
    for (const subject of ids.keys()) {
      expect(await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)).toEqual([1]);
    }
  });

  it.each(NAMES)('encodes and decodes a full %s through the registry, with decimals, dates and timestamps as strings', async (name) => {
    const entry = catalogEntries(SOURCES).find((e) => e.schema === name)!;
    const id = ids.get(prefix + entry.subject)!;
    const encoded = await registry.encode(id, SAMPLES[name]);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual(SAMPLES[name]);
  });
});

describe.each(NAMES)('evolution of %s under BACKWARD compatibility', (name) => {
  const subject = `${uniqueName(`it.schemas-evo.${name}`)}-value`;
  let v1: number;
  let v2: number;

  beforeAll(async () => {
    v1 = await registerAvro(registry, config, subject, loadSchema(name));
  });

  it('finds the schema compatible with itself, and re-registering it returns the same id', async () => {
    expect(await isCompatible(subject, loadSchema(name))).toBe(true);
    expect(await registerAvro(registry, config, subject, loadSchema(name))).toBe(v1);
  });

  it('accepts a new optional field as version 2', async () => {
    const evolved = copy(name);
    evolved.fields.push({ name: 'it_note', type: ['null', 'string'], default: null, doc: 'An optional field added by the test.' });
    v2 = await registerAvro(registry, config, subject, evolved);
    expect(v2).not.toBe(v1);
    expect(await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)).toEqual([1, 2]);
  });

  it('refuses a new required field with SchemaCompatibilityError and registers nothing', async () => {
    const broken = copy(name);
    broken.fields.push({ name: 'it_note', type: ['null', 'string'], default: null, doc: 'As in version 2.' });
    broken.fields.push({ name: 'it_required', type: 'string', doc: 'A required field: old records have no value for it.' });
    await expect(registerAvro(registry, config, subject, broken)).rejects.toBeInstanceOf(SchemaCompatibilityError);
    expect(await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)).toEqual([1, 2]);
  });
});

describe('removing an enum symbol (the registry applies Avro\'s rule for enum defaults)', () => {
  const subject = `${uniqueName('it.schemas-enum')}-value`;
  const withoutWater = (keepDefault: boolean): Mutable => {
    const schema = copy('enforcement-case');
    const domain = schema.fields.find((f) => f.name === 'domain')!.type as { symbols: string[]; default?: string };
    domain.symbols = domain.symbols.filter((s) => s !== 'WATER');
    if (!keepDefault) delete domain.default;
    return schema;
  };

  beforeAll(async () => {
    await registerAvro(registry, config, subject, loadSchema('enforcement-case'));
  });

  it('refuses it when the reader enum has no default: old WATER records would be unreadable', async () => {
    expect(await isCompatible(subject, withoutWater(false))).toBe(false);
    await expect(registerAvro(registry, config, subject, withoutWater(false))).rejects.toBeInstanceOf(SchemaCompatibilityError);
  });

  it('accepts it while the enum keeps its default: old WATER records read as OTHER', async () => {
    expect(await isCompatible(subject, withoutWater(true))).toBe(true);
    expect(await registerAvro(registry, config, subject, withoutWater(true))).toBeGreaterThan(0);
  });
});
