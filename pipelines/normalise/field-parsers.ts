import type { FieldSpec } from './canonical-fields';
import type { FieldRule, MeasureRule, ParserName } from './mapping';
import { DEFAULT_ENUM_LABELS, mapEnum } from './parsers/map-enum';
import { maskPiiInText } from './parsers/mask-text';
import { parseDate, parseTimestamp } from './parsers/parse-date';
import { parseIdNumber } from './parsers/parse-id-number';
import { parseMoney } from './parsers/parse-money';
import { parsePhone } from './parsers/parse-phone';
import { parseArea, parseVolume, parseWeight } from './parsers/parse-quantity';
import { lookupRegion, regionFromAddress } from './parsers/parse-region';
import { parseUscc } from './parsers/parse-uscc';
import { toHalfWidth } from './parsers/text';
import { maskPersonName } from './pii';

/** What every field parser may use besides the value: the PII key and today's date. */
export interface ParserContext {
  piiSecret: string;
  /** 'YYYY-MM-DD' (Asia/Shanghai) — ID numbers born after it are invalid. */
  today: string;
}

export interface FieldParseInput {
  target: string;
  spec: FieldSpec;
  rule: FieldRule | MeasureRule;
  ctx: ParserContext;
}

export type FieldParseResult =
  | {
      ok: true;
      /** Canonical paths and values to set. */
      assign: Array<[string, unknown]>;
      warnings: string[];
      personName?: string;
      measure?: { value: number; unit: string };
    }
  | { ok: false; code: string; message: string };

const LIST_SEPARATORS = /[、，,;；\/|\s]+/;

const done = (assign: Array<[string, unknown]>, warnings: string[] = []): FieldParseResult => ({ ok: true, assign, warnings });
const bad = (code: string, message: string): FieldParseResult => ({ ok: false, code, message });

function asText(value: unknown): string {
  return toHalfWidth(typeof value === 'string' ? value : String(value)).trim();
}

function splitList(value: unknown, rule: FieldRule | MeasureRule): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(rule.split ? new RegExp(`[${escapeClass(rule.split)}]+`) : LIST_SEPARATORS);
  return items.map((i) => asText(i)).filter((i) => i !== '');
}

function escapeClass(chars: string): string {
  return chars.replace(/[\\\]^-]/g, '\\$&');
}

const mergedTables = new WeakMap<FieldRule | MeasureRule, Record<string, string>>();

/** The built-in labels of the field's enum with the rule's own `map` over them (built once per rule). */
function enumTable(spec: FieldSpec, rule: FieldRule | MeasureRule): Record<string, string> {
  const defaults = spec.labels ? (DEFAULT_ENUM_LABELS as Record<string, Record<string, string>>)[spec.labels] ?? {} : {};
  if (!rule.map) return defaults;
  let table = mergedTables.get(rule);
  if (!table) {
    table = { ...defaults, ...rule.map };
    mergedTables.set(rule, table);
  }
  return table;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  是: true, 否: false, true: true, false: false, '1': true, '0': false, y: true, n: false, yes: true, no: false,
  已移送: true, 未移送: false, 有: true, 没有: false,
};

/** Runs the named parser on one source value and says which canonical fields it sets. */
export function runParser(name: ParserName, value: unknown, input: FieldParseInput): FieldParseResult {
  const { target, spec, rule, ctx } = input;
  switch (name) {
    case 'string':
      return done([[target, asText(value)]]);
    case 'text': {
      const masked = maskPiiInText(String(value).trim());
      return done([[target, masked.text]], masked.found > 0 ? ['PII_MASKED'] : []);
    }
    case 'person_name': {
      const clear = asText(value);
      const path = target.endsWith('.name') ? target : `${target}_masked`;
      return { ok: true, assign: [[path, maskPersonName(clear)]], warnings: [], personName: clear };
    }
    case 'enum': {
      const mapped = mapEnum(asText(value), enumTable(spec, rule), spec.fallback ?? 'OTHER', target);
      return done([[target, mapped.value]], mapped.warnings);
    }
    case 'enum_list': {
      const table = enumTable(spec, rule);
      const warnings: string[] = [];
      const symbols: string[] = [];
      for (const item of splitList(value, rule)) {
        const mapped = mapEnum(item, table, spec.fallback ?? 'OTHER', target);
        warnings.push(...mapped.warnings);
        if (!symbols.includes(mapped.value)) symbols.push(mapped.value);
      }
      return done([[target, symbols]], warnings);
    }
    case 'string_list':
      return done([[target, [...new Set(splitList(value, rule))]]]);
    case 'money': {
      const parsed = parseMoney(value as string | number, rule.unit ? { unit: rule.unit as '元' | '万元' } : undefined);
      if (!parsed.ok) return bad(parsed.code, parsed.message);
      if (target.startsWith('measures.')) return { ok: true, assign: [], warnings: parsed.warnings, measure: { value: Number(parsed.value.yuan), unit: 'CNY' } };
      return done([[target, parsed.value.yuan]], parsed.warnings);
    }
    case 'date': {
      const parsed = parseDate(value as string | number);
      return parsed.ok ? done([[target, parsed.value.iso]], parsed.warnings) : bad(parsed.code, parsed.message);
    }
    case 'timestamp': {
      const parsed = parseTimestamp(value as string | number);
      return parsed.ok ? done([[target, parsed.value.iso]], parsed.warnings) : bad(parsed.code, parsed.message);
    }
    case 'boolean': {
      const word = asText(value).toLowerCase();
      if (typeof value === 'boolean') return done([[target, value]]);
      if (word in BOOLEAN_WORDS) return done([[target, BOOLEAN_WORDS[word]]]);
      return bad('BAD_BOOLEAN', `${JSON.stringify(asText(value))} is not a yes/no value (是/否, true/false, 1/0)`);
    }
    case 'region': {
      // A code or a name; failing that, the most specific place named inside an address.
      const text = asText(value);
      const direct = lookupRegion(text);
      const parsed = direct.ok ? direct : regionFromAddress(text);
      return parsed.ok ? done([[target, parsed.value.code]], parsed.warnings) : bad(parsed.code, parsed.message);
    }
    case 'region_from_address': {
      const parsed = regionFromAddress(asText(value));
      return parsed.ok ? done([[target, parsed.value.code]], parsed.warnings) : bad(parsed.code, parsed.message);
    }
    case 'uscc': {
      const parsed = parseUscc(String(value));
      return parsed.ok ? done([[target, parsed.value.uscc]], parsed.warnings) : bad(parsed.code, parsed.message);
    }
    case 'id_number': {
      const parsed = parseIdNumber(String(value), ctx.piiSecret, ctx.today);
      return parsed.ok
        ? done([[`${target}_hash`, parsed.value.hash], [`${target}_masked`, parsed.value.masked]], parsed.warnings)
        : bad(parsed.code, parsed.message);
    }
    case 'phone': {
      const parsed = parsePhone(String(value), ctx.piiSecret);
      return parsed.ok
        ? done([[`${target}_hash`, parsed.value.hash], [`${target}_masked`, parsed.value.masked]], parsed.warnings)
        : bad(parsed.code, parsed.message);
    }
    case 'area':
    case 'volume':
    case 'weight': {
      const parse = name === 'area' ? parseArea : name === 'volume' ? parseVolume : parseWeight;
      const parsed = parse(value as string | number, rule.unit ? { unit: rule.unit } : undefined);
      if (!parsed.ok) return bad(parsed.code, parsed.message);
      return { ok: true, assign: [], warnings: parsed.warnings, measure: { value: parsed.value.value, unit: parsed.value.unit } };
    }
    case 'count': {
      const text = asText(value).replace(/[人名棵株个次]$/, '');
      if (!/^\d+$/.test(text)) return bad('BAD_QUANTITY', `${JSON.stringify(asText(value))} is not a whole number`);
      return { ok: true, assign: [], warnings: [], measure: { value: Number(text), unit: 'count' } };
    }
  }
}
