/**
 * Source labels → canonical enum symbols. Every canonical enum has a fallback symbol, so an
 * unknown label never breaks a record: it maps to the fallback and says so in a warning.
 */
import { ok, type ParseOk } from './result';
import { compactText } from './text';

// Labels are compared without width, spaces or case: `已 办结`, `ＡＰＰ` and `app` are one label.
function key(label: string): string {
  return compactText(label).toUpperCase();
}

/**
 * Example: `mapEnum('投诉', DEFAULT_ENUM_LABELS.appeal_type, 'OTHER', 'appeal_type')` → `'COMPLAINT'`;
 * `mapEnum('complaint', …)` → `'COMPLAINT'` (a canonical symbol passes through in any case);
 * `mapEnum('催办', …)` → `'OTHER'` with warning `UNMAPPED_ENUM:appeal_type`.
 * An empty value also maps to the fallback with the warning: the source sent nothing usable.
 */
export function mapEnum(value: string, table: Record<string, string>, fallback: string, field: string): ParseOk<string> {
  const k = key(value);
  const lookup = compiled(table);
  if (lookup.symbols.has(k) || k === fallback) return ok(k);
  const symbol = lookup.labels.get(k);
  return symbol === undefined ? ok(fallback, [`UNMAPPED_ENUM:${field}`]) : ok(symbol);
}

interface CompiledTable {
  symbols: Set<string>;
  labels: Map<string, string>;
}

// Tables are long-lived (the defaults, or a mapping's own), so each is keyed once, not per value.
const compiledTables = new WeakMap<Record<string, string>, CompiledTable>();

function compiled(table: Record<string, string>): CompiledTable {
  let c = compiledTables.get(table);
  if (!c) {
    c = { symbols: new Set(Object.values(table)), labels: new Map() };
    for (const [label, symbol] of Object.entries(table)) if (!c.labels.has(key(label))) c.labels.set(key(label), symbol);
    compiledTables.set(table, c);
  }
  return c;
}

/**
 * Array-valued enums (penalty kinds, topics) arrive as one cell: `警告、罚款`, `罚款;没收违法所得`.
 * Splits on the usual list separators, maps each part and drops duplicates, keeping order.
 */
export function mapEnumList(value: string, table: Record<string, string>, fallback: string, field: string): ParseOk<string[]> {
  const symbols: string[] = [];
  const warnings = new Set<string>();
  for (const part of value.split(/[,，、;；/|\n]+/)) {
    if (part.trim() === '') continue;
    const r = mapEnum(part, table, fallback, field);
    if (!symbols.includes(r.value)) symbols.push(r.value);
    r.warnings.forEach((w) => warnings.add(w));
  }
  return ok(symbols, [...warnings]);
}

export type EnumField =
  | 'appeal_type' | 'ticket_status' | 'channel' | 'satisfaction' | 'action_type' | 'case_status'
  | 'penalty_kind' | 'party_kind' | 'domain' | 'supervision_kind' | 'supervision_status' | 'topic';

/** The fallback symbol of each canonical enum, as the data standard declares it. */
export const ENUM_FALLBACKS: Record<EnumField, string> = {
  appeal_type: 'OTHER', ticket_status: 'UNKNOWN', channel: 'OTHER', satisfaction: 'NOT_RATED',
  action_type: 'OTHER', case_status: 'UNKNOWN', penalty_kind: 'OTHER', party_kind: 'UNKNOWN',
  domain: 'OTHER', supervision_kind: 'OTHER', supervision_status: 'UNKNOWN', topic: 'OTHER',
};

/**
 * Labels seen in Chinese sources. A source with its own wording extends a copy of these in its
 * configuration rather than changing them here.
 */
export const DEFAULT_ENUM_LABELS: Record<EnumField, Record<string, string>> = {
  appeal_type: {
    咨询: 'CONSULTATION', 求助: 'HELP', 求决: 'HELP', 投诉: 'COMPLAINT', 举报: 'REPORT',
    建议: 'SUGGESTION', 意见建议: 'SUGGESTION', 表扬: 'PRAISE', 感谢: 'PRAISE', 其他: 'OTHER',
  },
  ticket_status: {
    受理: 'RECEIVED', 已受理: 'RECEIVED', 已派单: 'DISPATCHED', 已转办: 'DISPATCHED', 派单: 'DISPATCHED',
    办理中: 'IN_PROGRESS', 处理中: 'IN_PROGRESS', 已回复: 'REPLIED', 已答复: 'REPLIED',
    办结: 'CLOSED', 已办结: 'CLOSED', 退回: 'RETURNED', 已退单: 'RETURNED', 重办: 'REOPENED', 重新办理: 'REOPENED',
  },
  channel: {
    电话: 'PHONE', 热线: 'PHONE', '12345热线': 'PHONE', 网站: 'WEB', 网页: 'WEB', 门户网站: 'WEB',
    APP: 'APP', 手机客户端: 'APP', 微信: 'WECHAT', 公众号: 'WECHAT', 微信公众号: 'WECHAT',
    小程序: 'MINI_PROGRAM', 微信小程序: 'MINI_PROGRAM', 邮件: 'EMAIL', 电子邮件: 'EMAIL', 邮箱: 'EMAIL',
  },
  satisfaction: {
    满意: 'SATISFIED', 非常满意: 'SATISFIED', 基本满意: 'BASICALLY_SATISFIED', 不满意: 'DISSATISFIED',
    未评价: 'NOT_RATED', 未回访: 'NOT_RATED',
  },
  action_type: {
    行政处罚: 'PENALTY', 行政强制: 'COERCIVE_MEASURE', 行政强制措施: 'COERCIVE_MEASURE',
    行政检查: 'INSPECTION', 责令改正: 'ORDER_TO_CORRECT', 责令整改: 'ORDER_TO_CORRECT', 责令限期改正: 'ORDER_TO_CORRECT',
  },
  case_status: {
    立案: 'REGISTERED', 已立案: 'REGISTERED', 调查中: 'INVESTIGATING', 已决定: 'DECIDED', 作出决定: 'DECIDED',
    执行完毕: 'EXECUTED', 已执行: 'EXECUTED', 结案: 'CLOSED', 已结案: 'CLOSED',
    已移送: 'TRANSFERRED', 移送公安: 'TRANSFERRED', 移送公安机关: 'TRANSFERRED', 撤销: 'REVOKED', 已撤销: 'REVOKED',
  },
  penalty_kind: {
    警告: 'WARNING', 通报批评: 'WARNING', 罚款: 'FINE', 没收违法所得: 'CONFISCATION', 没收非法财物: 'CONFISCATION',
    暂扣许可证: 'SUSPENSION', 暂扣许可证件: 'SUSPENSION', 责令停产停业: 'SUSPENSION', 限制开展生产经营活动: 'SUSPENSION',
    吊销许可证: 'REVOCATION', 吊销许可证件: 'REVOCATION', 吊销营业执照: 'REVOCATION',
    行政拘留: 'DETENTION',
  },
  party_kind: {
    法人: 'ORGANISATION', 法人及非法人组织: 'ORGANISATION', 非法人组织: 'ORGANISATION', 单位: 'ORGANISATION',
    企业: 'ORGANISATION', 自然人: 'INDIVIDUAL', 个人: 'INDIVIDUAL', 个体工商户: 'SOLE_PROPRIETOR', 个体户: 'SOLE_PROPRIETOR',
  },
  domain: {
    市场监管: 'MARKET', 市场监督管理: 'MARKET', 生态环境: 'ENVIRONMENT', 环境保护: 'ENVIRONMENT',
    自然资源: 'NATURAL_RESOURCES', 林业和草原: 'FORESTRY_GRASSLAND', 林草: 'FORESTRY_GRASSLAND',
    农业农村: 'AGRICULTURE', 水利: 'WATER', 水务: 'WATER', 应急管理: 'EMERGENCY_SAFETY',
    人力资源和社会保障: 'HUMAN_RESOURCES', 人社: 'HUMAN_RESOURCES', 卫生健康: 'HEALTH', 卫生健康委: 'HEALTH',
    文化和旅游: 'CULTURE_HERITAGE', 文物: 'CULTURE_HERITAGE', 交通运输: 'TRANSPORT',
    住房和城乡建设: 'HOUSING_CONSTRUCTION', 住建: 'HOUSING_CONSTRUCTION',
  },
  supervision_kind: {
    '12309信访': 'PETITION_12309', 控告申诉: 'PETITION_12309', 公益诉讼线索: 'PIL_LEAD',
    诉前检察建议: 'PIL_PRELITIGATION_SUGGESTION', 检察建议: 'PROCURATORIAL_SUGGESTION',
    '检察意见(移送)': 'TRANSFER_OPINION', '检察意见(不起诉后行政处罚)': 'REVERSE_TRANSFER_OPINION',
    反向衔接检察意见: 'REVERSE_TRANSFER_OPINION', 立案监督: 'FILING_SUPERVISION', 不起诉: 'NON_PROSECUTION',
  },
  supervision_status: {
    办理中: 'OPEN', 待回复: 'AWAITING_REPLY', 已回复: 'REPLIED', 已办结: 'CLOSED', 撤回: 'WITHDRAWN',
  },
  topic: {
    环境: 'ENVIRONMENT', 生态环境: 'ENVIRONMENT', 污染: 'ENVIRONMENT', 环境污染: 'ENVIRONMENT',
    食品药品: 'FOOD_DRUG_SAFETY', 食品安全: 'FOOD_DRUG_SAFETY', 药品安全: 'FOOD_DRUG_SAFETY',
    欠薪: 'WAGE_ARREARS', 拖欠工资: 'WAGE_ARREARS', 讨薪: 'WAGE_ARREARS', 耕地: 'FARMLAND', 农用地: 'FARMLAND',
    林业: 'FORESTRY', 毁林: 'FORESTRY', 文物: 'HERITAGE', 市场秩序: 'MARKET_ORDER', 安全生产: 'SAFETY', 诈骗: 'FRAUD',
  },
};
