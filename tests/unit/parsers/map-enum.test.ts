import {
  DEFAULT_ENUM_LABELS,
  ENUM_FALLBACKS,
  type EnumField,
  mapEnum,
  mapEnumList,
} from '../../../pipelines/normalise/parsers';

const map = (field: EnumField, value: string) => mapEnum(value, DEFAULT_ENUM_LABELS[field], ENUM_FALLBACKS[field], field);

describe('mapEnum with the default labels', () => {
  it.each<[EnumField, string, string]>([
    ['appeal_type', '咨询', 'CONSULTATION'],
    ['appeal_type', '求助', 'HELP'],
    ['appeal_type', ' 投诉 ', 'COMPLAINT'],
    ['appeal_type', '举报', 'REPORT'],
    ['appeal_type', '建议', 'SUGGESTION'],
    ['appeal_type', '表扬', 'PRAISE'],
    ['appeal_type', 'COMPLAINT', 'COMPLAINT'], // a source that already sends the symbol
    ['appeal_type', 'complaint', 'COMPLAINT'],
    ['appeal_type', 'ｃｏｍｐｌａｉｎｔ', 'COMPLAINT'],
    ['ticket_status', '已受理', 'RECEIVED'],
    ['ticket_status', '已转办', 'DISPATCHED'],
    ['ticket_status', '处理中', 'IN_PROGRESS'],
    ['ticket_status', '已答复', 'REPLIED'],
    ['ticket_status', '已 办结', 'CLOSED'],
    ['ticket_status', '已退单', 'RETURNED'],
    ['ticket_status', '重新办理', 'REOPENED'],
    ['channel', '热线', 'PHONE'],
    ['channel', '12345热线', 'PHONE'],
    ['channel', '网页', 'WEB'],
    ['channel', 'app', 'APP'],
    ['channel', 'ＡＰＰ', 'APP'],
    ['channel', '手机客户端', 'APP'],
    ['channel', '公众号', 'WECHAT'],
    ['channel', '微信小程序', 'MINI_PROGRAM'],
    ['channel', '电子邮件', 'EMAIL'],
    ['satisfaction', '满意', 'SATISFIED'],
    ['satisfaction', '基本满意', 'BASICALLY_SATISFIED'],
    ['satisfaction', '不满意', 'DISSATISFIED'],
    ['satisfaction', '未评价', 'NOT_RATED'],
    ['action_type', '行政处罚', 'PENALTY'],
    ['action_type', '行政强制', 'COERCIVE_MEASURE'],
    ['action_type', '行政检查', 'INSPECTION'],
    ['action_type', '责令整改', 'ORDER_TO_CORRECT'],
    ['case_status', '立案', 'REGISTERED'],
    ['case_status', '调查中', 'INVESTIGATING'],
    ['case_status', '作出决定', 'DECIDED'],
    ['case_status', '执行完毕', 'EXECUTED'],
    ['case_status', '已结案', 'CLOSED'],
    ['case_status', '移送公安', 'TRANSFERRED'],
    ['case_status', '撤销', 'REVOKED'],
    ['penalty_kind', '通报批评', 'WARNING'],
    ['penalty_kind', '罚款', 'FINE'],
    ['penalty_kind', '没收非法财物', 'CONFISCATION'],
    ['penalty_kind', '责令停产停业', 'SUSPENSION'],
    ['penalty_kind', '吊销营业执照', 'REVOCATION'],
    ['penalty_kind', '行政拘留', 'DETENTION'],
    ['party_kind', '法人及非法人组织', 'ORGANISATION'],
    ['party_kind', '自然人', 'INDIVIDUAL'],
    ['party_kind', '个体工商户', 'SOLE_PROPRIETOR'],
    ['domain', '市场监管', 'MARKET'],
    ['domain', '林草', 'FORESTRY_GRASSLAND'],
    ['domain', '水务', 'WATER'],
    ['domain', '人社', 'HUMAN_RESOURCES'],
    ['domain', '文物', 'CULTURE_HERITAGE'],
    ['domain', '住建', 'HOUSING_CONSTRUCTION'],
    ['supervision_kind', '12309信访', 'PETITION_12309'],
    ['supervision_kind', '１２３０９信访', 'PETITION_12309'],
    ['supervision_kind', '公益诉讼线索', 'PIL_LEAD'],
    ['supervision_kind', '诉前检察建议', 'PIL_PRELITIGATION_SUGGESTION'],
    ['supervision_kind', '检察建议', 'PROCURATORIAL_SUGGESTION'],
    ['supervision_kind', '检察意见（移送）', 'TRANSFER_OPINION'], // full-width brackets
    ['supervision_kind', '检察意见(不起诉后行政处罚)', 'REVERSE_TRANSFER_OPINION'],
    ['supervision_kind', '反向衔接检察意见', 'REVERSE_TRANSFER_OPINION'],
    ['supervision_kind', '立案监督', 'FILING_SUPERVISION'],
    ['supervision_kind', '不起诉', 'NON_PROSECUTION'],
    ['supervision_status', '办理中', 'OPEN'], // the same label means OPEN here, IN_PROGRESS for tickets
    ['supervision_status', '待回复', 'AWAITING_REPLY'],
    ['supervision_status', '撤回', 'WITHDRAWN'],
    ['topic', '污染', 'ENVIRONMENT'],
    ['topic', '食品药品', 'FOOD_DRUG_SAFETY'],
    ['topic', '拖欠工资', 'WAGE_ARREARS'],
    ['topic', '农用地', 'FARMLAND'],
    ['topic', '毁林', 'FORESTRY'],
    ['topic', '诈骗', 'FRAUD'],
  ])('maps %s %j to %s without a warning', (field, value, symbol) => {
    expect(map(field, value)).toEqual({ ok: true, value: symbol, warnings: [] });
  });

  it.each<[EnumField, string, string]>([
    ['appeal_type', '催办', 'OTHER'],
    ['ticket_status', '待审核', 'UNKNOWN'],
    ['channel', '来信', 'OTHER'],
    ['satisfaction', '', 'NOT_RATED'],
    ['satisfaction', '一般', 'NOT_RATED'],
    ['action_type', '行政许可', 'OTHER'],
    ['case_status', '中止', 'UNKNOWN'],
    ['penalty_kind', '降低资质等级', 'OTHER'],
    ['party_kind', '外国人', 'UNKNOWN'],
    ['domain', '税务', 'OTHER'],
    ['supervision_kind', '抗诉', 'OTHER'],
    ['supervision_status', '已归档', 'UNKNOWN'],
    ['topic', '噪音扰民', 'OTHER'],
    ['appeal_type', 'COMPLAINTS', 'OTHER'], // near a symbol is not a symbol
    ['ticket_status', 'IN_PROGRESS ', 'IN_PROGRESS'], // but trimming still applies
  ])('maps %s %j to the fallback %s with a warning naming the field', (field, value, symbol) => {
    const r = map(field, value);
    expect(r.value).toBe(symbol);
    expect(r.warnings).toEqual(symbol === ENUM_FALLBACKS[field] ? [`UNMAPPED_ENUM:${field}`] : []);
  });

  it('passes a fallback symbol sent by the source through without a warning', () => {
    expect(map('domain', 'other')).toEqual({ ok: true, value: 'OTHER', warnings: [] });
  });

  it('maps with a source-specific table and fallback', () => {
    expect(mapEnum('紧急', { 紧急: 'URGENT', 一般: 'NORMAL' }, 'UNKNOWN', 'urgency').value).toBe('URGENT');
    expect(mapEnum('特急', { 紧急: 'URGENT' }, 'UNKNOWN', 'urgency')).toEqual({
      ok: true,
      value: 'UNKNOWN',
      warnings: ['UNMAPPED_ENUM:urgency'],
    });
  });

  // The canonical enums as the data standard lists them (fallbacks included).
  const STANDARD: Record<EnumField, string[]> = {
    appeal_type: ['CONSULTATION', 'HELP', 'COMPLAINT', 'REPORT', 'SUGGESTION', 'PRAISE', 'OTHER'],
    ticket_status: ['RECEIVED', 'DISPATCHED', 'IN_PROGRESS', 'REPLIED', 'CLOSED', 'RETURNED', 'REOPENED', 'UNKNOWN'],
    channel: ['PHONE', 'WEB', 'APP', 'WECHAT', 'MINI_PROGRAM', 'EMAIL', 'OTHER'],
    satisfaction: ['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED', 'NOT_RATED'],
    action_type: ['PENALTY', 'COERCIVE_MEASURE', 'INSPECTION', 'ORDER_TO_CORRECT', 'OTHER'],
    case_status: ['REGISTERED', 'INVESTIGATING', 'DECIDED', 'EXECUTED', 'CLOSED', 'TRANSFERRED', 'REVOKED', 'UNKNOWN'],
    penalty_kind: ['WARNING', 'FINE', 'CONFISCATION', 'SUSPENSION', 'REVOCATION', 'DETENTION', 'OTHER'],
    party_kind: ['ORGANISATION', 'INDIVIDUAL', 'SOLE_PROPRIETOR', 'UNKNOWN'],
    domain: ['MARKET', 'ENVIRONMENT', 'NATURAL_RESOURCES', 'FORESTRY_GRASSLAND', 'AGRICULTURE', 'WATER',
      'EMERGENCY_SAFETY', 'HUMAN_RESOURCES', 'HEALTH', 'CULTURE_HERITAGE', 'TRANSPORT', 'HOUSING_CONSTRUCTION', 'OTHER'],
    supervision_kind: ['PETITION_12309', 'PIL_LEAD', 'PIL_PRELITIGATION_SUGGESTION', 'PROCURATORIAL_SUGGESTION',
      'TRANSFER_OPINION', 'REVERSE_TRANSFER_OPINION', 'FILING_SUPERVISION', 'NON_PROSECUTION', 'OTHER'],
    supervision_status: ['OPEN', 'AWAITING_REPLY', 'REPLIED', 'CLOSED', 'WITHDRAWN', 'UNKNOWN'],
    topic: ['ENVIRONMENT', 'FOOD_DRUG_SAFETY', 'WAGE_ARREARS', 'FARMLAND', 'FORESTRY', 'HERITAGE', 'MARKET_ORDER',
      'SAFETY', 'FRAUD', 'OTHER'],
  };

  it.each(Object.keys(STANDARD) as EnumField[])('maps %s labels only to symbols of the data standard', (field) => {
    for (const symbol of Object.values(DEFAULT_ENUM_LABELS[field])) expect(STANDARD[field]).toContain(symbol);
    expect(STANDARD[field]).toContain(ENUM_FALLBACKS[field]);
  });

  it('has a default table and a fallback for exactly the enums of the data standard', () => {
    expect(Object.keys(DEFAULT_ENUM_LABELS).sort()).toEqual(Object.keys(STANDARD).sort());
    expect(Object.keys(ENUM_FALLBACKS).sort()).toEqual(Object.keys(STANDARD).sort());
  });
});

describe('mapEnumList', () => {
  it.each<[EnumField, string, string[], string[]]>([
    ['penalty_kind', '警告、罚款', ['WARNING', 'FINE'], []],
    ['penalty_kind', '罚款;没收违法所得', ['FINE', 'CONFISCATION'], []],
    ['penalty_kind', '没收违法所得、没收非法财物', ['CONFISCATION'], []],
    ['penalty_kind', '罚款，没收违法所得，吊销许可证', ['FINE', 'CONFISCATION', 'REVOCATION'], []],
    ['penalty_kind', '罚款、降低资质等级', ['FINE', 'OTHER'], ['UNMAPPED_ENUM:penalty_kind']],
    ['penalty_kind', '', [], []],
    ['topic', '欠薪/安全生产', ['WAGE_ARREARS', 'SAFETY'], []],
    ['topic', 'ENVIRONMENT,FRAUD', ['ENVIRONMENT', 'FRAUD'], []],
  ])('maps %s %j to %j', (field, value, symbols, warnings) => {
    expect(mapEnumList(value, DEFAULT_ENUM_LABELS[field], ENUM_FALLBACKS[field], field)).toEqual({
      ok: true,
      value: symbols,
      warnings,
    });
  });
});
