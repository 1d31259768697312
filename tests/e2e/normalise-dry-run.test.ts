import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { runCli } from '../support/cli';

/** An operator onboarding a new agency format checks its mapping on sample files. */
describe('liandong normalise --source <id> --file <sample>', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liandong-dry-run-'));
  const header = ['工单编号', '来源渠道', '受理时间', '诉求类型', '诉求内容', '来电人', '联系电话', '所属区县', '工单状态', '更新时间'];
  const rows = [
    ['JQ12345-1', '电话', '2025年6月4日 14时30分', '投诉', '反映某烧烤店油烟扰民，请回电13912345678', '李四', '139-1234-5678', '肃州区', '已受理', '2025-06-04 14:31'],
    ['JQ12345-2', '微信', '2025/06/05 09:00', '举报', '敦煌市七里镇有人倾倒建筑垃圾', '王五', '+86 137 0000 1111', '敦煌市', '已办结', '2025-06-06 10:00'],
    ['JQ12345-3', '网站', '2025-02-30 10:00', '咨询', '咨询营业执照办理', '赵六', '13800001111', '金塔县', '已受理', '2025-06-06 10:00'],
  ];

  it('reads a GBK-encoded CSV with Chinese headers and prints each canonical record or its errors', async () => {
    const file = path.join(dir, 'tickets-gbk.csv');
    fs.writeFileSync(file, iconv.encode([header, ...rows].map((r) => r.join(',')).join('\r\n'), 'gbk'));
    const result = await runCli(['normalise', '--source', 'jq-12345', '--file', file]);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ index: 1, ok: true, key: 'JQ12345-1' });
    expect(lines[0].record).toMatchObject({ channel: 'PHONE', appeal_type: 'COMPLAINT', region_code: '620902', received_at: '2025-06-04T06:30:00.000Z', caller_name_masked: '李*', caller_phone_masked: '139****5678' });
    expect(lines[0].record.content).not.toContain('13912345678');
    expect(lines[1].record).toMatchObject({ channel: 'WECHAT', status: 'CLOSED', region_code: '620982', caller_phone_masked: '137****1111' });
    expect(lines[2]).toMatchObject({ index: 3, ok: false, errors: [{ field: 'received_at', code: 'BAD_DATE' }] });
    expect(result.stderr).toContain('3 record(s)');
    expect(result.stderr).toContain('(csv, gbk): 2 canonical, 1 with errors');
    expect(result.status).toBe(4);
    expect(result.stdout).not.toMatch(/13912345678|13700001111/);
  });

  it('reads an XLSX workbook', async () => {
    const file = path.join(dir, 'tickets.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('工单');
    sheet.addRow(header);
    for (const row of rows.slice(0, 2)) sheet.addRow(row);
    await workbook.xlsx.writeFile(file);
    const result = await runCli(['normalise', '--source', 'jq-12345', '--file', file]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.key)).toEqual(['JQ12345-1', 'JQ12345-2']);
    expect(result.stderr).toContain('(xlsx, binary): 2 canonical, 0 with errors');
  });

  it('reports a broken JSON line as that record’s error and goes on', async () => {
    const file = path.join(dir, 'tickets.jsonl');
    fs.writeFileSync(file, [JSON.stringify(Object.fromEntries(header.map((h, i) => [h, rows[0][i]]))), '{"工单编号": "JQ-broken"', ''].join('\n'));
    const result = await runCli(['normalise', '--source', 'jq-12345', '--file', file]);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ok)).toEqual([true, false]);
    expect(lines[1].errors[0].code).toBe('MALFORMED_JSON');
  });

  it('names an unknown source and the ones it knows', async () => {
    const result = await runCli(['normalise', '--source', 'nobody', '--file', path.join(dir, 'tickets.jsonl')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/unknown source "nobody"; defined sources: jq-12345, jq-amr-penalty, jq-procuratorate/);
  });
});
