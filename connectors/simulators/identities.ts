import { Random } from './random';

/**
 * Realistic identities for simulated agencies: Jiuquan companies with valid (and a few
 * invalid) credit codes, residents with valid ID numbers, mobile numbers, places.
 */
const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

export function usccWithCheck(first17: string): string {
  const sum = [...first17].reduce((s, c, i) => s + USCC_ALPHABET.indexOf(c) * USCC_WEIGHTS[i], 0);
  return first17 + USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

export function idWithCheck(first17: string): string {
  const sum = [...first17].reduce((s, c, i) => s + Number(c) * ID_WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

export const COUNTIES = [
  { code: '620902', name: '肃州区', towns: ['西峰乡', '银达镇', '泉湖乡', '总寨镇', '东洞乡'], streets: ['解放路', '肃州路', '富康路', '盘旋路'] },
  { code: '620921', name: '金塔县', towns: ['鼎新镇', '中东镇', '古城乡'], streets: ['航天路', '金塔大道'] },
  { code: '620922', name: '瓜州县', towns: ['锁阳城镇', '柳园镇', '渊泉镇'], streets: ['渊泉路', '锁阳路'] },
  { code: '620923', name: '肃北蒙古族自治县', towns: ['党城湾镇', '马鬃山镇'], streets: ['党河路'] },
  { code: '620924', name: '阿克塞哈萨克族自治县', towns: ['红柳湾镇'], streets: ['博州路'] },
  { code: '620981', name: '玉门市', towns: ['玉门镇', '花海镇', '赤金镇'], streets: ['新市区人民路', '石油路'] },
  { code: '620982', name: '敦煌市', towns: ['七里镇', '沙州镇', '月牙泉镇'], streets: ['鸣山路', '阳关路', '沙州北路'] },
] as const;

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '马', '周', '吴', '孙', '朱', '何', '胡', '郭', '罗', '高', '林', '梁'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '建华', '文斌', '海燕', '玉兰', '志强'];
const TRADE = ['商贸', '农业科技', '建材', '餐饮管理', '石化', '矿业', '新能源', '物流', '食品', '畜牧', '酒店', '房地产开发', '环保科技', '药业'];
const BRAND = ['祁连', '丝路', '雄关', '飞天', '汉武', '阳关', '戈壁', '绿洲', '鸣沙', '金泉', '嘉峪', '西域', '昌盛', '鑫源', '瑞丰'];

export interface Company {
  name: string;
  uscc: string;
  county: (typeof COUNTIES)[number];
  soleProprietor: boolean;
}

export interface Person {
  name: string;
  idNumber: string;
  phone: string;
  county: (typeof COUNTIES)[number];
}

export function makeCompany(rng: Random): Company {
  const county = rng.pick(COUNTIES);
  const sole = rng.chance(0.2);
  const first17 = `9${sole ? '2' : '1'}${county.code}${rng.pick(['MA', 'MB', '0'])}${rng.digits(9)}`.slice(0, 17);
  const name = sole ? `${county.name.slice(0, 2)}${rng.pick(SURNAMES)}${rng.pick(GIVEN)}${rng.pick(['烧烤店', '便利店', '农家乐', '汽修部'])}` : `酒泉${rng.pick(BRAND)}${rng.pick(TRADE)}有限公司`;
  return { name, uscc: /(77|13)$/.test(first17) ? pilotCode(first17) : usccWithCheck(first17), county, soleProprietor: sole };
}

/**
 * About 2% of companies carry an early pilot code whose check character does not verify — legally
 * valid (REFERENCE §1), so the hub must keep them with a USCC_CHECKSUM warning. Chosen from the
 * code's own digits so the rest of a seed's data stays as it was.
 */
function pilotCode(first17: string): string {
  const valid = usccWithCheck(first17);
  const check = valid[17];
  return first17 + USCC_ALPHABET[(USCC_ALPHABET.indexOf(check) + 1) % USCC_ALPHABET.length];
}

export function makePerson(rng: Random): Person {
  const county = rng.pick(COUNTIES);
  const birth = `${rng.int(1950, 2003)}${String(rng.int(1, 12)).padStart(2, '0')}${String(rng.int(1, 28)).padStart(2, '0')}`;
  const idNumber = idWithCheck(`${county.code}${birth}${rng.digits(3)}`);
  const phone = `1${rng.pick(['3', '5', '7', '8', '9'])}${rng.digits(9)}`;
  return { name: rng.pick(SURNAMES) + rng.pick(GIVEN), idNumber, phone, county };
}

export function makeAddress(rng: Random, county: (typeof COUNTIES)[number]): string {
  return `甘肃省酒泉市${county.name}${rng.pick(county.towns)}${rng.pick(county.streets)}${rng.int(1, 300)}号`;
}
