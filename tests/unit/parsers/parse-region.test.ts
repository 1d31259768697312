import { JIUQUAN_REGIONS, lookupRegion, regionFromAddress, type RegionEntry } from '../../../pipelines/normalise/parsers';

describe('lookupRegion', () => {
  // [as written, today's code, today's name, warnings]
  it.each([
    ['620900', '620900', '酒泉市', []],
    ['620902', '620902', '肃州区', []],
    [' 620921 ', '620921', '金塔县', []],
    ['６２０９２２', '620922', '瓜州县', []],
    ['620923', '620923', '肃北蒙古族自治县', []],
    ['620924', '620924', '阿克塞哈萨克族自治县', []],
    ['620981', '620981', '玉门市', []],
    ['620982', '620982', '敦煌市', []],
    ['620000', '620000', '甘肃省', []],
    ['620902000000', '620902', '肃州区', ['REGION_TRUNCATED']], // 12-digit statistical code
    ['620982100000', '620982', '敦煌市', ['REGION_TRUNCATED']], // a town in 敦煌
    ['622100', '620900', '酒泉市', ['REGION_HISTORICAL']], // the former 酒泉地区
    ['622101', '620981', '玉门市', ['REGION_HISTORICAL']],
    ['622102', '620902', '肃州区', ['REGION_HISTORICAL']], // county-level 酒泉市
    ['622103', '620982', '敦煌市', ['REGION_HISTORICAL']],
    ['622123', '620921', '金塔县', ['REGION_HISTORICAL']],
    ['622124', '620922', '瓜州县', ['REGION_HISTORICAL']], // 安西县
    ['622125', '620923', '肃北蒙古族自治县', ['REGION_HISTORICAL']],
    ['622126', '620924', '阿克塞哈萨克族自治县', ['REGION_HISTORICAL']],
    ['酒泉市', '620900', '酒泉市', ['REGION_FROM_NAME']], // the city, not the retired county-level 酒泉市
    ['酒泉', '620900', '酒泉市', ['REGION_FROM_NAME']],
    ['肃州区', '620902', '肃州区', ['REGION_FROM_NAME']],
    ['肃州', '620902', '肃州区', ['REGION_FROM_NAME']],
    ['金塔', '620921', '金塔县', ['REGION_FROM_NAME']],
    ['瓜州', '620922', '瓜州县', ['REGION_FROM_NAME']],
    ['肃北', '620923', '肃北蒙古族自治县', ['REGION_FROM_NAME']],
    ['肃北县', '620923', '肃北蒙古族自治县', ['REGION_FROM_NAME']],
    ['阿克塞', '620924', '阿克塞哈萨克族自治县', ['REGION_FROM_NAME']],
    ['阿克塞哈萨克族自治县', '620924', '阿克塞哈萨克族自治县', ['REGION_FROM_NAME']],
    ['玉门', '620981', '玉门市', ['REGION_FROM_NAME']],
    ['敦煌', '620982', '敦煌市', ['REGION_FROM_NAME']],
    ['敦煌市 ', '620982', '敦煌市', ['REGION_FROM_NAME']],
    ['甘肃省', '620000', '甘肃省', ['REGION_FROM_NAME']],
    ['安西县', '620922', '瓜州县', ['REGION_FROM_NAME', 'REGION_HISTORICAL']],
    ['酒泉地区', '620900', '酒泉市', ['REGION_FROM_NAME', 'REGION_HISTORICAL']],
  ])('resolves %j to %s %s (warnings %j)', (input, code, name, warnings) => {
    expect(lookupRegion(input)).toEqual({ ok: true, value: { code, name }, warnings });
  });

  it.each([
    ['', /empty/],
    ['110105', /110105 is not in the region table/], // Beijing: outside this city's table
    ['620903', /not in the region table/],
    ['62090', /not a known region code or name/],
    ['6209021', /not a known region code or name/],
    ['兰州市', /not a known region code or name/],
    ['甘肃省酒泉市肃州区', /not a known region code or name/], // an address: use regionFromAddress
    ['肃州区区', /not a known region code or name/],
  ])('rejects %j with UNKNOWN_REGION saying %s', (input, reason) => {
    const r = lookupRegion(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('UNKNOWN_REGION');
      expect(r.message).toMatch(reason);
    }
  });

  it('reads another city from its own table, so cities are added as data', () => {
    const table: RegionEntry[] = [
      { code: '620100', name: '兰州市', level: 'CITY', names: ['兰州市', '兰州'] },
      { code: '620102', name: '城关区', level: 'COUNTY', names: ['城关区'] },
    ];
    expect(lookupRegion('兰州', table)).toEqual({ ok: true, value: { code: '620100', name: '兰州市' }, warnings: ['REGION_FROM_NAME'] });
    expect(lookupRegion('620902', table).ok).toBe(false);
  });

  it('fails a retired entry whose replacement is missing from the table, naming both codes', () => {
    const table = JIUQUAN_REGIONS.filter((e) => e.code !== '620922');
    expect(lookupRegion('622124', table)).toEqual({
      ok: false,
      code: 'UNKNOWN_REGION',
      message: expect.stringContaining('622124 points at 620922'),
    });
  });
});

describe('regionFromAddress', () => {
  it.each([
    ['甘肃省酒泉市肃州区解放路12号', '620902', []],
    ['酒泉市肃州区西大街', '620902', []],
    ['肃州区东关街道', '620902', []],
    ['敦煌市七里镇', '620982', []],
    ['敦煌七里镇', '620982', []],
    ['甘肃省敦煌市玉门关景区', '620982', []], // 玉门 here is a pass, not 玉门市
    ['玉门市老市区', '620981', []],
    ['金塔县鼎新镇', '620921', []],
    ['瓜州县渊泉镇', '620922', []],
    ['肃北县党城湾镇', '620923', []],
    ['阿克塞县红柳湾镇', '620924', []],
    ['酒泉市敦煌路8号', '620900', []], // a street named after 敦煌 is in the city, not in 敦煌
    ['肃州区玉门路', '620902', []],
    ['酒泉市金塔路与北大街交叉口', '620900', []],
    ['甘肃省酒泉市', '620900', []],
    ['甘肃省兰州市城关区', '620000', []], // only the province is known
    ['甘肃省酒泉地区安西县', '620922', ['REGION_HISTORICAL']],
    ['酒泉地区', '620900', ['REGION_HISTORICAL']],
    ['ＸＸ小区，酒泉市肃州区', '620902', []],
  ])('finds %s in %j', (address, code, extra) => {
    const r = regionFromAddress(address);
    expect(r).toMatchObject({ ok: true, value: { code }, warnings: ['REGION_FROM_NAME', ...extra] });
  });

  it.each([[''], ['北京市朝阳区'], ['敦煌路8号'], ['解放路12号']])('rejects %j with UNKNOWN_REGION', (address) => {
    expect(regionFromAddress(address)).toEqual({
      ok: false,
      code: 'UNKNOWN_REGION',
      message: 'no known region name in the address',
    });
  });
});
