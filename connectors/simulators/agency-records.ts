import type { Dataset } from '../../pipelines/normalise/canonical-fields';
import { COUNTIES, Company, makeAddress, makeCompany, makePerson, Person } from './identities';
import { Random } from './random';

/**
 * Records as three Jiuquan agencies write them — the market regulator's penalties, 12345
 * tickets (several versions per ticket as it moves through its statuses) and procuratorate
 * supervision records citing both — deterministic from a seed. A share of them carries a
 * known defect, so tests can check every record's fate against this ground truth.
 *
 * The seed is the city: its companies (120 unless told) and 400 residents are drawn first,
 * from the seed alone, so every simulator built on this one with the same seed (the penalty
 * API, the 12345 feed, the procuratorate table) meets the same parties, as one city's
 * agencies do.
 */
export type Defect =
  | 'MALFORMED_JSON'
  | 'BAD_DATE'
  | 'BAD_AMOUNT'
  | 'BAD_ID_NUMBER'
  | 'BAD_USCC'
  | 'MISSING_TICKET_ID'
  | 'UNKNOWN_REGION'
  /** An older export names the case number 案件编码: fixed by a mapping alternative. */
  | 'OLD_CASE_NUMBER_FIELD';

export const DEFECTS: readonly Defect[] = ['MALFORMED_JSON', 'BAD_DATE', 'BAD_AMOUNT', 'BAD_ID_NUMBER', 'BAD_USCC', 'MISSING_TICKET_ID', 'UNKNOWN_REGION', 'OLD_CASE_NUMBER_FIELD'];

const TICKET_DEFECTS = new Set<Defect>(['MISSING_TICKET_ID', 'MALFORMED_JSON', 'BAD_DATE', 'BAD_USCC', 'UNKNOWN_REGION']);
const SUPERVISION_DEFECTS = new Set<Defect>(['MALFORMED_JSON', 'BAD_DATE', 'BAD_ID_NUMBER', 'BAD_USCC', 'UNKNOWN_REGION']);

export interface SimulatedRecord {
  sourceId: string;
  dataset: Dataset;
  recordKey: string;
  payload: string;
  defect?: Defect;
  /** Clear personal data inside the payload (ID and phone numbers): must never reach a canonical topic. */
  pii: string[];
}

export interface SimulationOptions {
  seed: number;
  count: number;
  /** Share of records with a defect (0.05 = 5%). */
  defectRate?: number;
  sources?: { penalty: string; hotline: string; supervision: string };
  /** Years the simulated events fall in. */
  year?: number;
  /**
   * Companies in the city (120). A small city puts many records on each company, which is what
   * a party's 360° view wants; a larger one spreads them, as a real city's register does.
   */
  companies?: number;
}

const VIOLATIONS = [
  { type: '销售不符合食品安全标准的食品', basis: '《中华人民共和国食品安全法》第一百二十四条第一款' },
  { type: '销售假冒注册商标的商品', basis: '《中华人民共和国商标法》第六十条第二款' },
  { type: '无照经营', basis: '《无证无照经营查处办法》第十三条' },
  { type: '虚假广告', basis: '《中华人民共和国广告法》第五十五条' },
  { type: '生产销售伪劣产品', basis: '《中华人民共和国产品质量法》第五十条' },
  { type: '价格违法', basis: '《中华人民共和国价格法》第四十条' },
];
const PENALTY_KINDS = ['警告', '罚款', '警告、罚款', '罚款、没收违法所得', '没收违法所得、罚款、吊销营业执照'];
const CASE_STATUS = ['已决定', '执行完毕', '已结案', '已结案'];
const CHANNELS = ['电话', '网站', 'APP', '微信', '小程序'];
const APPEALS = ['投诉', '举报', '咨询', '求助', '建议', '投诉'];
const CATEGORIES = [
  { code: '0101', name: '环境保护-大气污染', topic: '生态环境' },
  { code: '0205', name: '食品安全-餐饮服务', topic: '食品药品' },
  { code: '0311', name: '劳动保障-拖欠工资', topic: '欠薪' },
  { code: '0402', name: '国土资源-违法占地', topic: '耕地' },
  { code: '0507', name: '市场监管-价格欺诈', topic: '市场秩序' },
  { code: '0603', name: '林业-乱砍滥伐', topic: '林业' },
];
const TICKET_FLOW = ['已受理', '已派单', '办理中', '已办结'];
const SATISFACTION = ['满意', '基本满意', '不满意', '未评价'];
const SUPERVISION_KINDS = ['检察建议', '诉前检察建议', '检察意见（移送）', '公益诉讼线索', '12309信访', '立案监督'];
const SUPERVISION_STATUS = ['办理中', '待回复', '已回复', '已办结'];

function dateText(rng: Random, year: number, month: number, day: number): string {
  const m = String(month).padStart(2, '0');
  const d = String(day).padStart(2, '0');
  switch (rng.int(0, 3)) {
    case 0:
      return `${year}年${month}月${day}日`;
    case 1:
      return `${year}-${m}-${d}`;
    case 2:
      return `${year}/${month}/${day}`;
    default:
      return `${year}${m}${d}`;
  }
}

function stamp(year: number, dayOfYear: number, minutes: number): string {
  const t = new Date(Date.UTC(year, 0, 1) + dayOfYear * 86_400_000 + minutes * 60_000);
  return t.toISOString().replace('T', ' ').slice(0, 19);
}

export class AgencySimulator {
  private readonly rng: Random;
  readonly companies: Company[];
  readonly people: Person[];
  private readonly decisionNos: string[] = [];
  private readonly ticketIds: string[] = [];
  private seq = 0;

  constructor(private readonly options: SimulationOptions) {
    this.rng = new Random(options.seed);
    this.companies = Array.from({ length: options.companies ?? 120 }, () => makeCompany(this.rng));
    this.people = Array.from({ length: 400 }, () => makePerson(this.rng));
  }

  private get sources() {
    return this.options.sources ?? { penalty: 'jq-amr-penalty', hotline: 'jq-12345', supervision: 'jq-procuratorate' };
  }

  /** All records, in arrival order. */
  *records(): Generator<SimulatedRecord> {
    const rate = this.options.defectRate ?? 0;
    let pendingTicket: SimulatedRecord[] = [];
    for (let i = 0; i < this.options.count; i++) {
      if (pendingTicket.length > 0) {
        yield pendingTicket.shift()!;
        continue;
      }
      const defect = this.rng.chance(rate) ? this.rng.pick(DEFECTS) : undefined;
      const roll = this.rng.next();
      // Each kind of record takes only the defects it can have; the penalty takes the rest.
      if (defect === 'MISSING_TICKET_ID' || (roll < 0.45 && (defect === undefined || TICKET_DEFECTS.has(defect)))) {
        pendingTicket = this.ticketVersions(defect);
        yield pendingTicket.shift()!;
      } else if (roll >= 0.8 && (defect === undefined || SUPERVISION_DEFECTS.has(defect))) {
        yield this.supervision(defect);
      } else {
        yield this.penalty(defect);
      }
    }
  }

  private finish(sourceId: string, dataset: Dataset, recordKey: string, body: Record<string, unknown>, pii: string[], defect?: Defect): SimulatedRecord {
    let payload = JSON.stringify(body);
    if (defect === 'MALFORMED_JSON') payload = payload.slice(0, Math.max(5, Math.floor(payload.length / 2)));
    return { sourceId, dataset, recordKey, payload, defect, pii };
  }

  penalty(defect?: Defect): SimulatedRecord {
    const rng = this.rng;
    const year = this.options.year ?? 2025;
    const n = ++this.seq;
    const caseNo = `JSJ-${year}-${String(n).padStart(6, '0')}`;
    const decisionNo = `酒市监罚〔${year}〕${n}号`;
    this.decisionNos.push(decisionNo);
    const individual = defect === 'BAD_ID_NUMBER' || (defect !== 'BAD_USCC' && defect !== 'UNKNOWN_REGION' && rng.chance(0.25));
    const company = rng.pick(this.companies);
    const person = rng.pick(this.people);
    const violation = rng.pick(VIOLATIONS);
    const month = rng.int(1, 11);
    const day = rng.int(1, 28);
    const fineWan = rng.pick(['0.2', '0.5', '1', '2', '5', '8', '12.5', '30', '60']);
    const pii: string[] = [];
    const body: Record<string, unknown> = {
      [defect === 'OLD_CASE_NUMBER_FIELD' ? '案件编码' : '案件编号']: caseNo,
      决定书文号: decisionNo,
      行为类别: '一般程序',
      当事人类型: individual ? '自然人' : company.soleProprietor ? '个体工商户' : '法人',
      当事人名称: individual ? person.name : company.name,
      违法行为类型: violation.type,
      主要违法事实: `经查，当事人于${year}年${month}月在${(individual ? person.county : company.county).name}经营场所${violation.type}，违法经营额${rng.int(1, 90)}万元。`,
      处罚依据: violation.basis,
      处罚种类: rng.pick(PENALTY_KINDS),
      '罚款金额（万元）': defect === 'BAD_AMOUNT' ? 'abc元' : fineWan,
      '没收违法所得（元）': rng.chance(0.5) ? `${rng.int(1, 99)},${rng.digits(3)}.${rng.digits(2)}` : '',
      '违法经营额（元）': String(rng.int(1_000, 900_000)),
      '违法所得（元）': String(rng.int(100, 150_000)),
      违法行为发生日期: dateText(rng, year, month, day),
      处罚决定日期: defect === 'BAD_DATE' ? `${year}-02-30` : dateText(rng, year, month + 1, day),
      案件状态: rng.pick(CASE_STATUS),
      是否移送公安: '否',
      更新时间: stamp(year, month * 30 + day + 10, rng.int(0, 1439)),
    };
    if (individual) {
      body.身份证号码 = defect === 'BAD_ID_NUMBER' ? person.idNumber.slice(0, 17) + (person.idNumber[17] === '0' ? '1' : '0') : person.idNumber;
      body.区划代码 = person.county.code;
      pii.push(person.idNumber);
    } else {
      body.统一社会信用代码 = defect === 'BAD_USCC' ? company.uscc.slice(0, 17) : company.uscc;
      body.发生地 = defect === 'UNKNOWN_REGION' ? '兰州市城关区东岗西路1号' : makeAddress(rng, company.county);
    }
    return this.finish(this.sources.penalty, 'enforcement-case', caseNo, body, pii, defect);
  }

  /** A ticket's successive versions, each a new record with a later 更新时间. */
  ticketVersions(defect?: Defect): SimulatedRecord[] {
    const rng = this.rng;
    const year = this.options.year ?? 2025;
    const ticketId = `JQ12345-${year}${String(++this.seq).padStart(7, '0')}`;
    this.ticketIds.push(ticketId);
    const caller = rng.pick(this.people);
    const company = rng.pick(this.companies);
    const category = rng.pick(CATEGORIES);
    const day = rng.int(0, 330);
    const received = stamp(year, day, rng.int(0, 1439));
    const steps = rng.int(1, TICKET_FLOW.length);
    const related = rng.chance(0.2) && this.ticketIds.length > 1 ? rng.pick(this.ticketIds.slice(0, -1)) : '';
    const mentionsPhone = rng.chance(0.3);
    const versions: SimulatedRecord[] = [];
    for (let step = 0; step < steps; step++) {
      const body: Record<string, unknown> = {
        工单编号: defect === 'MISSING_TICKET_ID' ? '' : ticketId,
        来源渠道: rng.pick(CHANNELS),
        受理时间: defect === 'BAD_DATE' ? `${year}-02-30 09:15` : received,
        诉求类型: rng.pick(APPEALS),
        分类编码: category.code,
        分类名称: category.name,
        涉及领域: category.topic,
        标题: `反映${company.name}${category.name.split('-')[1]}问题`,
        诉求内容: `来电人${caller.name}反映：${company.name}存在${category.name.split('-')[1]}问题，多次反映未解决。${mentionsPhone ? `请回电${caller.phone}。` : ''}`,
        来电人: caller.name,
        联系电话: caller.phone,
        所属区县: defect === 'UNKNOWN_REGION' ? '兰州市城关区' : company.county.name,
        事发地址: makeAddress(rng, company.county),
        被反映对象: company.name,
        被反映对象信用代码: defect === 'BAD_USCC' ? company.uscc.slice(1) : rng.chance(0.7) ? company.uscc : '',
        承办单位: `${company.county.name}市场监督管理局`,
        派单时间: step >= 1 ? stamp(year, day, 600) : '',
        办理时限: stamp(year, day + 15, 1080),
        工单状态: TICKET_FLOW[step],
        办结时间: step >= 3 ? stamp(year, day + 7, 900) : '',
        满意度: step >= 3 ? rng.pick(SATISFACTION) : '',
        关联工单: related,
        更新时间: stamp(year, day + step * 2, 700 + step),
      };
      versions.push(this.finish(this.sources.hotline, 'hotline-ticket', ticketId, body, [caller.phone], step === 0 ? defect : undefined));
      if (defect) break; // a defective ticket arrives once
    }
    return versions;
  }

  supervision(defect?: Defect): SimulatedRecord {
    const rng = this.rng;
    const year = this.options.year ?? 2025;
    const recordId = `JQJ-${year}-${String(++this.seq).padStart(6, '0')}`;
    const kind = rng.pick(SUPERVISION_KINDS);
    const company = rng.pick(this.companies);
    const person = rng.pick(this.people);
    const aboutPerson = defect === 'BAD_ID_NUMBER' || (defect !== 'BAD_USCC' && rng.chance(0.2));
    const month = rng.int(1, 10);
    const day = rng.int(1, 28);
    const pii: string[] = [];
    const body: Record<string, unknown> = {
      案件编号: recordId,
      检察院代码: '11620900013905600W',
      监督类型: kind,
      文书编号: `酒检${kind.slice(0, 2)}〔${year}〕${rng.int(1, 300)}号`,
      被建议单位代码: '11620900MB19512346',
      关联处罚决定书: this.decisionNos.length > 0 && rng.chance(0.6) ? rng.pick(this.decisionNos) : '',
      关联12345工单: this.ticketIds.length > 0 && rng.chance(0.3) ? rng.pick(this.ticketIds) : '',
      当事人名称: aboutPerson ? person.name : company.name,
      所属区县: defect === 'UNKNOWN_REGION' ? '999999' : rng.pick(COUNTIES).code,
      内容摘要: `经审查，${aboutPerson ? person.name : company.name}涉嫌违法行为，依法${kind === '12309信访' ? '受理群众来信' : '向行政机关制发文书'}。`,
      发出日期: defect === 'BAD_DATE' ? `${year}年2月30日` : dateText(rng, year, month, day),
      回复期限: '',
      回复日期: rng.chance(0.3) ? dateText(rng, year, month + 2, day) : '',
      办理状态: rng.pick(SUPERVISION_STATUS),
      更新时间: stamp(year, month * 30 + day + 3, rng.int(0, 1439)),
    };
    if (aboutPerson) {
      body.当事人身份证号 = defect === 'BAD_ID_NUMBER' ? person.idNumber.slice(0, 6) + '20251340' + person.idNumber.slice(14) : person.idNumber;
      pii.push(person.idNumber);
    } else {
      body.当事人信用代码 = defect === 'BAD_USCC' ? `${company.uscc.slice(0, 10)}IO${company.uscc.slice(12)}` : company.uscc;
    }
    return this.finish(this.sources.supervision, 'supervision-record', recordId, body, pii, defect);
  }
}
