/**
 * A reader of PostgreSQL's binary COPY format, written from the format's documentation apart
 * from the writer it checks: the rows, each a list of its fields' bytes (null for NULL).
 */
export function readBinaryCopy(data: Buffer): Array<Array<Buffer | null>> {
  const signature = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
  if (!data.subarray(0, 11).equals(signature)) throw new Error('no PGCOPY signature');
  let pos = 11;
  const flags = data.readInt32BE(pos);
  if (flags !== 0) throw new Error(`flags ${flags}`);
  pos += 4;
  pos += 4 + data.readInt32BE(pos); // header extension
  const rows: Array<Array<Buffer | null>> = [];
  for (;;) {
    const fields = data.readInt16BE(pos);
    pos += 2;
    if (fields === -1) break;
    const row: Array<Buffer | null> = [];
    for (let i = 0; i < fields; i++) {
      const size = data.readInt32BE(pos);
      pos += 4;
      if (size === -1) row.push(null);
      else {
        row.push(data.subarray(pos, pos + size));
        pos += size;
      }
    }
    rows.push(row);
  }
  if (pos !== data.length) throw new Error(`${data.length - pos} bytes after the trailer`);
  return rows;
}

/** A timestamptz field's value as ISO text (microseconds beyond the millisecond shown after it). */
export function timestamptzText(field: Buffer): string {
  const micros = field.readBigInt64BE(0);
  const ms = Number(micros / 1000n) + Date.UTC(2000, 0, 1);
  const rest = Number(((micros % 1000n) + 1000n) % 1000n);
  const floored = micros < 0n && rest !== 0 ? ms - 1 : ms;
  return new Date(floored).toISOString() + (rest ? `+${rest}us` : '');
}
