/**
 * GB/T 2260 division codes for Jiuquan, as data: another city is another table of the same shape.
 * Retired codes and names stay in the table with `replacedBy`, because ID numbers keep the code
 * that was current when they were issued and old records keep old names.
 */
export type RegionLevel = 'PROVINCE' | 'CITY' | 'COUNTY';

export interface RegionEntry {
  /** Six-digit code. */
  code: string;
  /** Official full name. */
  name: string;
  level: RegionLevel;
  /** Names recognised in text, full name first then short forms; empty when a current entry owns the name. */
  names: string[];
  /** On a retired entry: the current code that replaced it. */
  replacedBy?: string;
}

export const JIUQUAN_REGIONS: readonly RegionEntry[] = [
  { code: '620000', name: '甘肃省', level: 'PROVINCE', names: ['甘肃省', '甘肃'] },
  { code: '620900', name: '酒泉市', level: 'CITY', names: ['酒泉市', '酒泉'] },
  { code: '620902', name: '肃州区', level: 'COUNTY', names: ['肃州区', '肃州'] },
  { code: '620921', name: '金塔县', level: 'COUNTY', names: ['金塔县', '金塔'] },
  { code: '620922', name: '瓜州县', level: 'COUNTY', names: ['瓜州县', '瓜州'] },
  { code: '620923', name: '肃北蒙古族自治县', level: 'COUNTY', names: ['肃北蒙古族自治县', '肃北县', '肃北'] },
  { code: '620924', name: '阿克塞哈萨克族自治县', level: 'COUNTY', names: ['阿克塞哈萨克族自治县', '阿克塞县', '阿克塞'] },
  { code: '620981', name: '玉门市', level: 'COUNTY', names: ['玉门市', '玉门'] },
  { code: '620982', name: '敦煌市', level: 'COUNTY', names: ['敦煌市', '敦煌'] },

  // The former 酒泉地区 (prefecture) and its counties, before the 2002 reorganisation.
  { code: '622100', name: '酒泉地区', level: 'CITY', names: ['酒泉地区'], replacedBy: '620900' },
  { code: '622101', name: '玉门市', level: 'COUNTY', names: [], replacedBy: '620981' },
  // The county-level 酒泉市 became 肃州区; its name now belongs to the prefecture-level city.
  { code: '622102', name: '酒泉市（县级）', level: 'COUNTY', names: [], replacedBy: '620902' },
  { code: '622103', name: '敦煌市', level: 'COUNTY', names: [], replacedBy: '620982' },
  { code: '622123', name: '金塔县', level: 'COUNTY', names: [], replacedBy: '620921' },
  // 安西县 was renamed 瓜州县 in 2006 (verify the year against the State Council notice).
  { code: '622124', name: '安西县', level: 'COUNTY', names: ['安西县', '安西'], replacedBy: '620922' },
  { code: '622125', name: '肃北蒙古族自治县', level: 'COUNTY', names: [], replacedBy: '620923' },
  { code: '622126', name: '阿克塞哈萨克族自治县', level: 'COUNTY', names: [], replacedBy: '620924' },
];
