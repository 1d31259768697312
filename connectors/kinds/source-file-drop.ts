import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SourceError } from '../../lib/errors';
import { readTableFile } from '../../lib/tabular';
import type { ConnectorKind } from '../contract';

/**
 * `file-drop`: a watched folder where an agency drops CSV files (UTF-8, UTF-8 with BOM or GBK)
 * and XLSX workbooks with Chinese headers. Each file is read whole; after its records are in
 * Kafka it moves to `done/`. A file that cannot be read moves to `failed/` with a report of
 * why (`<file>.report.json`), and the run counts it as failed — nothing is dropped silently.
 */
const FileDropConfig = z
  .object({
    dir: z.string(),
    /** File name endings to take; others are left alone. */
    extensions: z.array(z.string()).default(['.csv', '.xlsx', '.jsonl', '.json']),
    /** The column that identifies a record; `<file>:<row>` when absent. */
    id_field: z.string().optional(),
  })
  .strict();
export type FileDropConfig = z.infer<typeof FileDropConfig>;

function moveTo(file: string, folder: string): string {
  fs.mkdirSync(folder, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.join(folder, fs.existsSync(path.join(folder, path.basename(file))) ? `${stamp}-${path.basename(file)}` : path.basename(file));
  fs.renameSync(file, target);
  return target;
}

function pending(config: FileDropConfig): string[] {
  if (!fs.existsSync(config.dir)) throw new SourceError(`drop folder ${config.dir} does not exist`, undefined, { retriable: false });
  return fs
    .readdirSync(config.dir, { withFileTypes: true })
    .filter((e) => e.isFile() && config.extensions.some((ext) => e.name.toLowerCase().endsWith(ext)))
    .map((e) => path.join(config.dir, e.name))
    .sort();
}

export const fileDrop: ConnectorKind<FileDropConfig> = {
  kind: 'file-drop',
  description: 'a folder of CSV (UTF-8/GBK), XLSX and JSON Lines files; processed files go to done/, unreadable ones to failed/ with a report',
  config: FileDropConfig,

  async check(config) {
    return `${pending(config).length} file(s) waiting in ${config.dir}`;
  },

  async *read(config, _state, ctx) {
    for (const file of pending(config)) {
      if (ctx.signal.aborted) return;
      let records;
      try {
        records = (await readTableFile(file)).records;
      } catch (err) {
        const target = moveTo(file, path.join(config.dir, 'failed'));
        const reason = (err as Error).message;
        fs.writeFileSync(`${target}.report.json`, JSON.stringify({ file: path.basename(file), failed_at: new Date().toISOString(), reason }, null, 2));
        ctx.logger.warn('file could not be read', { file: path.basename(file), reason });
        yield { type: 'reject', what: path.basename(file), reason };
        continue;
      }
      let row = 1;
      for (const record of records) {
        row++;
        const id = config.id_field ? record[config.id_field] : undefined;
        yield { type: 'record', key: id !== undefined && id !== null && id !== '' ? String(id) : `${path.basename(file)}:${row}`, payload: record };
      }
      // Everything before this state is in Kafka when the runner asks for the next item.
      yield { type: 'state', state: { last_file: path.basename(file) } };
      moveTo(file, path.join(config.dir, 'done'));
    }
  },
};
