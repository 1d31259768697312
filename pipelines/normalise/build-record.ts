import { CANONICAL_FIELDS, Dataset, FieldSpec } from './canonical-fields';
import type { MappedFields } from './apply-mapping';
import { lookupRegion } from './parsers/parse-region';
import { maskNamesInText, maskPersonName } from './pii';

export interface Lineage {
  source_id: string;
  raw_topic: string;
  raw_partition: number;
  raw_offset: number;
  ingested_at: string;
  normaliser_version: string;
}

export interface BuildContext {
  lineage: Lineage;
  /** When the hub received the raw record (ISO): the version when the source gives none. */
  receivedAt: string;
  replyDeadlines: Record<string, { months: number; days: number }>;
}

export type CanonicalRecord = Record<string, unknown>;

const PARTY_PREFIXES = ['party', 'subject'];

function defaultFor(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'enum':
      return spec.fallback ?? 'OTHER';
    case 'enum_list':
    case 'string_list':
      return [];
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** Names that only organisations bear (company, factory, shop, bureau, cooperative…). */
const ORGANISATION_NAME = /(公司|集团|厂|店|超市|商行|商店|酒店|宾馆|饭店|餐厅|合作社|中心|局|委员会|协会|学校|医院|诊所|所|站|场|馆|部|社|院|银行|工作室|农家乐)$/;

/** Organisation class from the credit code: 9 2 … is a sole proprietor (个体工商户). */
function kindFromUscc(uscc: string): string {
  return uscc[0] === '9' && uscc[1] === '2' ? 'SOLE_PROPRIETOR' : 'ORGANISATION';
}

function buildParty(prefix: string, values: Map<string, unknown>, personNames: string[]): Record<string, unknown> | null {
  const get = (f: string) => values.get(`${prefix}.${f}`) ?? null;
  const fields = ['kind', 'name', 'uscc', 'id_hash', 'id_masked', 'region_code'];
  if (fields.every((f) => get(f) === null)) return null;
  let kind = get('kind') as string | null;
  const uscc = get('uscc') as string | null;
  if (kind === null || kind === 'UNKNOWN') {
    const name = get('name') as string | null;
    if (uscc) kind = kindFromUscc(uscc);
    else if (get('id_hash')) kind = 'INDIVIDUAL';
    else if (name && ORGANISATION_NAME.test(name)) kind = 'ORGANISATION';
    else kind = 'UNKNOWN';
  }
  let regionCode = get('region_code') as string | null;
  if (regionCode === null && uscc) {
    // Positions 3–8 of a credit code are the registering authority's division code.
    const region = lookupRegion(uscc.slice(2, 8));
    if (region.ok) regionCode = region.value.code;
  }
  let name = get('name') as string | null;
  // Only a known organisation's name stays readable: an unknown party may be a person.
  if (name !== null && kind !== 'ORGANISATION' && kind !== 'SOLE_PROPRIETOR') {
    personNames.push(name);
    name = maskPersonName(name);
  }
  return { kind, name, uscc, id_hash: get('id_hash'), id_masked: get('id_masked'), region_code: regionCode };
}

function addPeriod(isoDate: string, period: { months: number; days: number }): string {
  const [y, m, d] = isoDate.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1 + period.months, 1));
  // Same day of the month, or the month's last day (31 Jan + 1 month = 28/29 Feb).
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(d, lastDay) + period.days);
  return date.toISOString().slice(0, 10);
}

/** Per dataset, its top-level fields and its free-text fields, listed once. */
const LAYOUT = Object.fromEntries(
  (Object.keys(CANONICAL_FIELDS) as Dataset[]).map((dataset) => {
    const entries = Object.entries(CANONICAL_FIELDS[dataset]);
    return [
      dataset,
      {
        topLevel: entries.filter(([path]) => !path.includes('.')),
        text: entries.filter(([, spec]) => spec.kind === 'text').map(([path]) => path),
        parties: PARTY_PREFIXES.filter((prefix) => `${prefix}.kind` in CANONICAL_FIELDS[dataset]),
      },
    ];
  }),
) as Record<Dataset, { topLevel: Array<[string, FieldSpec]>; text: string[]; parties: string[] }>;

/**
 * Turns mapped fields into a complete canonical record: defaults for what the source did
 * not send, parties with their kind inferred and individuals' names masked (also inside
 * free text), the reply deadline computed when missing, lineage and warnings.
 */
export function buildRecord(dataset: Dataset, mapped: MappedFields, ctx: BuildContext): CanonicalRecord {
  const layout = LAYOUT[dataset];
  const values = mapped.values;
  const warnings = [...mapped.warnings];
  const personNames = [...mapped.personNames];
  const record: CanonicalRecord = {};

  for (const prefix of layout.parties) record[prefix] = buildParty(prefix, values, personNames);
  if (dataset === 'enforcement-case' && record.party === null) {
    record.party = { kind: 'UNKNOWN', name: null, uscc: null, id_hash: null, id_masked: null, region_code: null };
  }

  for (const [path, spec] of layout.topLevel) {
    if (spec.kind === 'id_number' || spec.kind === 'phone') {
      record[`${path}_hash`] = values.get(`${path}_hash`) ?? null;
      record[`${path}_masked`] = values.get(`${path}_masked`) ?? null;
    } else if (spec.kind === 'person_name') {
      record[`${path}_masked`] = values.get(`${path}_masked`) ?? null;
    } else {
      record[path] = values.has(path) ? values.get(path) : defaultFor(spec);
    }
  }
  if (personNames.length > 0) {
    for (const path of layout.text) if (typeof record[path] === 'string') record[path] = maskNamesInText(record[path] as string, personNames);
  }

  if (dataset === 'enforcement-case') record.measures = mapped.measures;
  if (dataset === 'supervision-record' && record.reply_due_on === null && typeof record.issued_on === 'string') {
    const period = ctx.replyDeadlines[record.kind as string];
    if (period) {
      record.reply_due_on = addPeriod(record.issued_on, period);
      warnings.push('REPLY_DUE_COMPUTED');
    }
  }
  if (record.source_updated_at === null) {
    record.source_updated_at = ctx.receivedAt;
    warnings.push('SOURCE_VERSION_FROM_RECEIPT');
  }
  record.lineage = ctx.lineage;
  record.warnings = [...new Set(warnings)];
  return record;
}
