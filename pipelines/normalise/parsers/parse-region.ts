/**
 * Division codes (GB/T 2260) from a code, a name or an address. Results are always today's code;
 * retired codes and names warn `REGION_HISTORICAL`, names warn `REGION_FROM_NAME`.
 */
import { type RegionEntry, type RegionLevel, JIUQUAN_REGIONS } from './regions-jiuquan';
import { fail, ok, type ParseResult } from './result';
import { compactText } from './text';

export type Region = { code: string; name: string };

const SPECIFICITY: Record<RegionLevel, number> = { COUNTY: 3, CITY: 2, PROVINCE: 1 };

// A county name followed by a road word is a street: Jiuquan has a 敦煌路 and a 玉门路 in 肃州区.
const STREET_AFTER = /^[东西南北中]?(?:大街|大道|路|街|巷|道)/;

function resolve(entry: RegionEntry, table: readonly RegionEntry[], warnings: string[]): ParseResult<Region> {
  if (entry.replacedBy === undefined) return ok({ code: entry.code, name: entry.name }, warnings);
  const current = table.find((e) => e.code === entry.replacedBy && e.replacedBy === undefined);
  if (!current) return fail('UNKNOWN_REGION', `retired code ${entry.code} points at ${entry.replacedBy}, which the table lacks`);
  return ok({ code: current.code, name: current.name }, [...warnings, 'REGION_HISTORICAL']);
}

/**
 * A six-digit code, a 12-digit statistical code (its county part is used, warning
 * `REGION_TRUNCATED`) or an exact name, full or short.
 * Examples: `lookupRegion('620902')` → ok `{ code: '620902', name: '肃州区' }`;
 * `lookupRegion('安西县')` → ok `{ code: '620922', name: '瓜州县' }` with `REGION_FROM_NAME`, `REGION_HISTORICAL`.
 */
export function lookupRegion(input: string, table: readonly RegionEntry[] = JIUQUAN_REGIONS): ParseResult<Region> {
  const s = compactText(input);
  if (s === '') return fail('UNKNOWN_REGION', 'region is empty');
  if (/^\d{6}$|^\d{12}$/.test(s)) {
    const code = s.slice(0, 6);
    const entry = table.find((e) => e.code === code);
    if (!entry) return fail('UNKNOWN_REGION', `code ${code} is not in the region table`);
    return resolve(entry, table, s.length === 12 ? ['REGION_TRUNCATED'] : []);
  }
  // Current entries are listed first, so a name shared with a retired entry resolves to today's.
  const entry = table.find((e) => e.names.includes(s));
  if (!entry) return fail('UNKNOWN_REGION', `"${s}" is not a known region code or name`);
  return resolve(entry, table, ['REGION_FROM_NAME']);
}

/**
 * The most specific region named in an address: county before city before province; among
 * equals, the one written first (addresses run from large to small), then the longer name.
 * Example: `regionFromAddress('甘肃省酒泉市肃州区解放路12号')` → ok `{ code: '620902', name: '肃州区' }`
 * with `REGION_FROM_NAME`.
 */
export function regionFromAddress(address: string, table: readonly RegionEntry[] = JIUQUAN_REGIONS): ParseResult<Region> {
  const s = compactText(address);
  let best: { entry: RegionEntry; at: number; length: number } | undefined;
  for (const entry of table) {
    for (const name of entry.names) {
      for (let at = s.indexOf(name); at >= 0; at = s.indexOf(name, at + 1)) {
        if (STREET_AFTER.test(s.slice(at + name.length))) continue;
        const better =
          !best ||
          SPECIFICITY[entry.level] > SPECIFICITY[best.entry.level] ||
          (SPECIFICITY[entry.level] === SPECIFICITY[best.entry.level] &&
            (at < best.at || (at === best.at && name.length > best.length)));
        if (better) best = { entry, at, length: name.length };
      }
    }
  }
  if (!best) return fail('UNKNOWN_REGION', 'no known region name in the address');
  return resolve(best.entry, table, ['REGION_FROM_NAME']);
}
