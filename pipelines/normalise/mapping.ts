import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import cron from 'node-cron';
import { CONNECTOR_KINDS } from '../../connectors/kinds';
import { ConfigError } from '../../lib/errors';
import { CANONICAL_FIELDS, DATASETS, Dataset, MEASURE_KINDS } from './canonical-fields';
import { parseArea, parseVolume, parseWeight } from './parsers/parse-quantity';

/**
 * Source definitions: one YAML file per source under `sources_dir`, with a declarative
 * mapping from the source's fields to the canonical fields. Onboarding a new agency format
 * is a new file, checked with `liandong normalise --source <id> --file <sample>`.
 *
 * A field rule takes its value from one of:
 * - `from`: a source field, or a list of alternatives (the first non-empty one wins);
 * - `const`: a fixed value (e.g. the agency's own code);
 * - `template`: text with `{source field}` and `{@canonical.field}` placeholders.
 * and may set `parse` (a parser other than the field's default), `unit` (money in 万元,
 * areas in 公顷…), `map` (labels → symbols, over the built-in tables), `split` (characters
 * that separate list items) and `required`.
 */
export const PARSERS = [
  'string',
  'text',
  'person_name',
  'enum',
  'enum_list',
  'money',
  'date',
  'timestamp',
  'boolean',
  'region',
  'region_from_address',
  'uscc',
  'string_list',
  'id_number',
  'phone',
  'area',
  'volume',
  'weight',
  'count',
] as const;
export type ParserName = (typeof PARSERS)[number];

const ruleShape = {
  from: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  const: z.union([z.string(), z.number(), z.boolean()]).optional(),
  template: z.string().min(1).optional(),
  parse: z.enum(PARSERS).optional(),
  unit: z.string().optional(),
  map: z.record(z.string(), z.string()).optional(),
  split: z.string().min(1).optional(),
  required: z.boolean().optional(),
};

const oneSource = (rule: { from?: unknown; const?: unknown; template?: unknown }) =>
  [rule.from, rule.const, rule.template].filter((v) => v !== undefined).length === 1;
const ONE_SOURCE = { message: 'needs exactly one of from, const or template' };

export const FieldRuleSchema = z.object(ruleShape).strict().refine(oneSource, ONE_SOURCE);
export type FieldRule = z.infer<typeof FieldRuleSchema>;

const MeasureRuleSchema = z
  .object({ name: z.enum(Object.keys(MEASURE_KINDS) as [keyof typeof MEASURE_KINDS, ...Array<keyof typeof MEASURE_KINDS>]), ...ruleShape })
  .strict()
  .refine(oneSource, ONE_SOURCE);
export type MeasureRule = z.infer<typeof MeasureRuleSchema>;

const SourceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    name: z.string().min(1),
    dataset: z.enum(DATASETS as [Dataset, ...Dataset[]]),
    owner: z.string().optional(),
    description: z.string().optional(),
    mapping: z
      .object({
        fields: z.record(z.string(), FieldRuleSchema),
        measures: z.array(MeasureRuleSchema).default([]),
      })
      .strict(),
    /** How records are pulled; a source whose records are only pushed through the API has none. */
    connector: z
      .object({
        kind: z.string(),
        /** node-cron expression; without one the source runs only on `liandong connector run`. */
        schedule: z.string().optional(),
        config: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SourceDefinition = z.infer<typeof SourceSchema> & {
  file: string;
  /** Short hash of the mapping: part of every record's normaliser version. */
  mappingHash: string;
};

/** Parses and validates one source file; errors name the file, the path and what was expected. */
export function parseSource(file: string, text: string): SourceDefinition {
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = SourceSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', expected: i.message }));
    throw new ConfigError(`${file}: invalid source definition:\n` + issues.map((i) => `  - ${i.path}: ${i.expected}`).join('\n'), issues);
  }
  const source = parsed.data;
  const allowed = CANONICAL_FIELDS[source.dataset];
  const unknown = Object.keys(source.mapping.fields).filter((target) => !(target in allowed));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${file}: mapping.fields: ${unknown.map((u) => JSON.stringify(u)).join(', ')} not a field of ${source.dataset}; expected one of ${Object.keys(allowed).join(', ')}`,
      unknown.map((u) => ({ path: `mapping.fields.${u}`, expected: `a field of ${source.dataset}` })),
    );
  }
  const problems = [
    ...Object.entries(source.mapping.fields).map(([target, rule]) => ruleProblem(`mapping.fields.${target}`, rule.parse ?? allowed[target].kind, allowed[target].kind, rule.unit)),
    ...source.mapping.measures.map((rule, i) => {
      const kind = MEASURE_KINDS[rule.name];
      return ruleProblem(`mapping.measures.${i}`, rule.parse ?? kind, null, rule.unit);
    }),
  ].filter((p): p is { path: string; expected: string } => p !== null);
  if (problems.length > 0) {
    throw new ConfigError(`${file}: invalid mapping:\n` + problems.map((p) => `  - ${p.path}: ${p.expected}`).join('\n'), problems);
  }
  const unmappedRequired = Object.entries(allowed)
    .filter(([target, spec]) => spec.required && !(target in source.mapping.fields))
    .map(([target]) => target);
  if (unmappedRequired.length > 0) {
    throw new ConfigError(
      `${file}: mapping.fields: ${source.dataset} needs a rule for ${unmappedRequired.join(', ')}`,
      unmappedRequired.map((u) => ({ path: `mapping.fields.${u}`, expected: 'a rule (from, const or template)' })),
    );
  }
  if (source.connector) checkConnector(file, source.connector);
  const mappingHash = crypto.createHash('sha256').update(JSON.stringify(source.mapping)).digest('hex').slice(0, 8);
  return { ...source, file, mappingHash };
}

/** The connector's kind exists, its configuration fits that kind, and its schedule parses. */
function checkConnector(file: string, connector: { kind: string; schedule?: string; config: Record<string, unknown> }): void {
  const kind = CONNECTOR_KINDS[connector.kind];
  if (!kind) {
    throw new ConfigError(`${file}: connector.kind: ${JSON.stringify(connector.kind)} is not a connector kind; expected one of ${Object.keys(CONNECTOR_KINDS).join(', ')}`);
  }
  const parsed = kind.config.safeParse(connector.config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: `connector.config.${i.path.join('.')}`, expected: i.message }));
    throw new ConfigError(`${file}: invalid ${connector.kind} configuration:\n` + issues.map((i) => `  - ${i.path}: ${i.expected}`).join('\n'), issues);
  }
  if (connector.schedule !== undefined && kind.pulled === false) {
    throw new ConfigError(`${file}: connector.schedule: a ${connector.kind} source is never pulled, so it takes no schedule`);
  }
  if (connector.schedule !== undefined && !cron.validate(connector.schedule)) {
    throw new ConfigError(`${file}: connector.schedule: ${JSON.stringify(connector.schedule)} is not a cron expression (e.g. "*/5 * * * *")`);
  }
}

// Fields that carry personal data keep their own parser: a plain one would skip hashing or masking.
const PROTECTED_KINDS = new Set(['text', 'person_name', 'id_number', 'phone']);
const UNIT_CHECKS: Partial<Record<string, (unit: string) => void>> = {
  money: (unit) => {
    if (unit !== '元' && unit !== '万元') throw new TypeError('money takes unit 元 or 万元');
  },
  area: (unit) => void parseArea('1', { unit }),
  volume: (unit) => void parseVolume('1', { unit }),
  weight: (unit) => void parseWeight('1', { unit }),
};

/** What is wrong with one rule's parser and unit, found at load time rather than on every record. */
function ruleProblem(path: string, parser: string, kind: string | null, unit: string | undefined): { path: string; expected: string } | null {
  if (kind !== null && PROTECTED_KINDS.has(kind) && parser !== kind) {
    return { path: `${path}.parse`, expected: `this field holds personal data and must use the ${kind} parser, not ${parser}` };
  }
  if (unit === undefined) return null;
  const check = UNIT_CHECKS[parser];
  if (!check) return { path: `${path}.unit`, expected: `unit applies to money, area, volume and weight, not to ${parser}` };
  try {
    check(unit);
  } catch (err) {
    return { path: `${path}.unit`, expected: `${JSON.stringify(unit)} is not a unit the ${parser} parser knows (${(err as Error).message})` };
  }
  return null;
}

/** Loads every `*.yaml` source in a folder, keyed by id; duplicate ids are an error. */
export function loadSources(dir: string): Map<string, SourceDefinition> {
  const sources = new Map<string, SourceDefinition>();
  if (!fs.existsSync(dir)) return sources;
  for (const name of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, name);
    const source = parseSource(file, fs.readFileSync(file, 'utf8'));
    const existing = sources.get(source.id);
    if (existing) throw new ConfigError(`${file}: source id ${source.id} is already defined in ${existing.file}`);
    sources.set(source.id, source);
  }
  return sources;
}

export function requireSource(sources: Map<string, SourceDefinition>, id: string): SourceDefinition {
  const source = sources.get(id);
  if (!source) {
    throw new ConfigError(`unknown source ${JSON.stringify(id)}; defined sources: ${[...sources.keys()].join(', ') || '(none)'}`);
  }
  return source;
}
