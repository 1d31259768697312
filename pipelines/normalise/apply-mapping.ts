import { CANONICAL_FIELDS, Dataset, FieldSpec, MEASURE_KINDS } from './canonical-fields';
import type { FieldRule, MeasureRule, ParserName, SourceDefinition } from './mapping';
import { runParser, ParserContext } from './field-parsers';

/** One reason a record cannot be normalised, as it appears in the DLQ. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface MappedFields {
  /** Canonical dotted paths (e.g. `party.uscc`, `caller_phone_hash`) → canonical values. */
  values: Map<string, unknown>;
  measures: Array<{ name: string; value: number; unit: string }>;
  warnings: string[];
  errors: FieldError[];
  /** Clear names of individuals seen in the record, to be masked inside free text. */
  personNames: string[];
}

const EMPTY = new Set(['', '-', '/', '无', 'null', 'NULL', 'N/A', '—']);

/** The value of a source field: an exact key first, then a dotted path into nested objects. */
export function sourceValue(payload: Record<string, unknown>, field: string): unknown {
  if (field in payload) return payload[field];
  if (!field.includes('.')) return undefined;
  let node: unknown = payload;
  for (const part of field.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  // The placeholders are short: a longer string is a value without trimming it first.
  if (typeof value === 'string') return value.length <= 8 && EMPTY.has(value.trim());
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function pick(payload: Record<string, unknown>, from: string | string[]): unknown {
  for (const field of Array.isArray(from) ? from : [from]) {
    const value = sourceValue(payload, field);
    if (!isEmpty(value)) return value;
  }
  return undefined;
}

function renderTemplate(template: string, payload: Record<string, unknown>, values: Map<string, unknown>): { text?: string; missing?: string } {
  let missing: string | undefined;
  const text = template.replace(/\{(@?)([^{}]+)\}/g, (_m, canonical: string, name: string) => {
    // `{a|b}`: the first of several source fields that has a value.
    const value = canonical ? values.get(name) : pick(payload, name.split('|'));
    if (isEmpty(value)) {
      missing ??= canonical ? `@${name}` : name;
      return '';
    }
    return String(value).trim();
  });
  return missing ? { missing } : { text };
}

const orderCache = new WeakMap<SourceDefinition, Array<[string, FieldRule]>>();

/** Templates may refer to canonical values, so they run after direct fields. */
function orderedRules(source: SourceDefinition): Array<[string, FieldRule]> {
  let ordered = orderCache.get(source);
  if (!ordered) {
    const rules = Object.entries(source.mapping.fields);
    ordered = [...rules.filter(([, r]) => r.template === undefined), ...rules.filter(([, r]) => r.template !== undefined)];
    orderCache.set(source, ordered);
  }
  return ordered;
}

function defaultParser(spec: FieldSpec): ParserName {
  return spec.kind;
}

/**
 * Applies a source's mapping to one payload. Collects every error rather than stopping at
 * the first, so an operator sees all that is wrong with a record at once.
 */
export function applyMapping(source: SourceDefinition, payload: Record<string, unknown>, ctx: ParserContext): MappedFields {
  const specs = CANONICAL_FIELDS[source.dataset as Dataset];
  const out: MappedFields = { values: new Map(), measures: [], warnings: [], errors: [], personNames: [] };
  const ordered = orderedRules(source);

  for (const [target, rule] of ordered) {
    const spec = specs[target];
    const raw = ruleInput(rule, payload, out.values);
    if (raw.missing !== undefined || isEmpty(raw.value)) {
      if (rule.required || spec.required) {
        const what = raw.missing ?? (rule.from ? [rule.from].flat().join(' | ') : target);
        out.errors.push({ field: target, code: 'MISSING_FIELD', message: `no value for ${target} (source field ${what})` });
      }
      continue;
    }
    const parsed = runParser(rule.parse ?? defaultParser(spec), raw.value, { target, spec, rule, ctx });
    if (!parsed.ok) {
      out.errors.push({ field: target, code: parsed.code, message: parsed.message });
      continue;
    }
    out.warnings.push(...parsed.warnings);
    for (const [path, value] of parsed.assign) out.values.set(path, value);
    if (parsed.personName) out.personNames.push(parsed.personName);
  }

  for (const rule of source.mapping.measures) applyMeasure(rule, payload, out, ctx);
  return out;
}

function ruleInput(rule: FieldRule | MeasureRule, payload: Record<string, unknown>, values: Map<string, unknown>): { value?: unknown; missing?: string } {
  if (rule.const !== undefined) return { value: rule.const };
  if (rule.template !== undefined) {
    const rendered = renderTemplate(rule.template, payload, values);
    return rendered.missing ? { missing: rendered.missing } : { value: rendered.text };
  }
  return { value: pick(payload, rule.from!) };
}

function applyMeasure(rule: MeasureRule, payload: Record<string, unknown>, out: MappedFields, ctx: ParserContext): void {
  const field = `measures.${rule.name}`;
  const raw = ruleInput(rule, payload, out.values);
  if (raw.missing !== undefined || isEmpty(raw.value)) {
    if (rule.required) out.errors.push({ field, code: 'MISSING_FIELD', message: `no value for ${field}` });
    return;
  }
  const kind = MEASURE_KINDS[rule.name];
  const parser: ParserName = rule.parse ?? (kind === 'money' ? 'money' : kind);
  const parsed = runParser(parser, raw.value, { target: field, spec: { kind: 'money' }, rule, ctx });
  if (!parsed.ok) {
    out.errors.push({ field, code: parsed.code, message: parsed.message });
    return;
  }
  out.warnings.push(...parsed.warnings);
  if (parsed.measure) out.measures.push({ name: rule.name, ...parsed.measure });
}
