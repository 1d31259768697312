import type { Dataset } from '../../../schemas/catalog';

/**
 * Sharing levels of the canonical datasets, in the national classification of government data
 * (无条件共享 unconditional, 有条件共享 conditional, 不予共享 not shared).
 *
 * Why every dataset is 有条件共享:
 * - The Jiuquan linkage opinion (酒政发〔2025〕17号, part 四(五), 建立数据融合共享机制) asks for exactly these three
 *   kinds of data to be linked — agencies' enforcement data, public data (12345 tickets) and the
 *   procuratorate's supervision data — so none of them is 不予共享 as a whole.
 * - It makes the pooling institutional "through joint meetings and countersigned documents"
 *   (联席会议、会签文件): sharing follows an agreement, which the hub records as an API key's
 *   `read:<dataset>` scope. That is a condition, so none is 无条件共享 either.
 * - Each holds data about people (parties, callers) and non-public matters (cases under
 *   investigation, procuratorial documents), which the PIPL lets leave the source only for a
 *   stated purpose and to the minimum needed: the keyed hashes of ID and phone numbers are a
 *   further condition (`read:pii`), and the clear numbers and names of individuals are never
 *   shared — the normaliser hashes and masks them before anything reaches a topic or the
 *   warehouse, so they are 不予共享 by construction.
 *
 * This is a declared table, not configuration: changing a dataset's level is a policy decision
 * that should go through review with the code that enforces it.
 */
export const SHARING_LEVELS = ['无条件共享', '有条件共享', '不予共享'] as const;
export type SharingLevel = (typeof SHARING_LEVELS)[number];

export interface DatasetSharing {
  level: SharingLevel;
  /** What a recipient needs, in the hub's terms. */
  conditions: string;
  /** Values of the dataset's subject matter that are never shared (不予共享), and why. */
  not_shared: string[];
  /** Where the level comes from. */
  basis: string;
}

const BASIS = '酒政发〔2025〕17号 关于建立健全府检联动机制的实施意见 四(五) 建立数据融合共享机制: 执法数据、社会公共数据与法律监督数据相衔接, 以联席会议、会签文件等方式制度化; 个人信息保护法 (最小必要)';
const NEVER = ['居民身份证号码明文 (clear ID numbers: only a keyed hash and a masked form are kept)', '自然人姓名明文 (individuals\' names: kept masked only)'];

export const DATASET_SHARING: Readonly<Record<Dataset, DatasetSharing>> = Object.freeze({
  'enforcement-case': {
    level: '有条件共享',
    conditions: 'A sharing agreement recorded as the key\'s read:enforcement-case scope; keyed hashes of ID numbers only with read:pii.',
    not_shared: NEVER,
    basis: BASIS,
  },
  'hotline-ticket': {
    level: '有条件共享',
    conditions: 'A sharing agreement (12345–12309 data linkage) recorded as the key\'s read:hotline-ticket scope; keyed hashes of callers\' phone numbers and of ID numbers only with read:pii.',
    not_shared: [...NEVER, '来电人电话明文 (callers\' phone numbers: only a keyed hash and a masked form are kept)'],
    basis: `${BASIS}; 意见 三(五)14 推动“12345”政务热线与“12309”检察服务中心数据联通共享`,
  },
  'supervision-record': {
    level: '有条件共享',
    conditions: 'A sharing agreement with the procuratorate recorded as the key\'s read:supervision-record scope; keyed hashes of ID numbers only with read:pii.',
    not_shared: NEVER,
    basis: BASIS,
  },
});
