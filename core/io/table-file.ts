/**
 * Core's one table reader: CSV (RFC 4180, header row) and JSON tables from files, as the
 * pipeline runner reads table inputs and as tools read the tables Focal writes.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createTable, tableFromJson, type Cell, type Table } from '../data/table.js';
import type { JsonValue } from '../data/model.js';
import { FocalError } from '../errors.js';

/** A UTF-8 text file; `E_IO` naming the file when it cannot be read. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FocalError('E_IO', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { file }, { cause: err });
  }
}

/** A JSON file; `E_IO` when unreadable, `E_FORMAT` naming the file when it is not JSON. */
export async function readJsonFile(file: string): Promise<JsonValue> {
  const text = await readTextFile(file);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new FocalError('E_FORMAT', `${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
}

/**
 * A table from a CSV file with a header row, or a JSON file in the table's JSON form
 * (`{columns, rows}`, TableJsonSchema: what Focal writes) or a bare array of row objects.
 * A CSV file is read and parsed piece by piece, so its size is not bounded by the longest
 * string V8 makes (512 MiB): an objects table of a slide reads back. A JSON file is parsed whole,
 * and one too large for that is refused naming its .csv twin.
 * @throws FocalError `E_IO` when the file cannot be read, `E_FORMAT` naming the file and field.
 */
export async function readTableFile(file: string): Promise<Table> {
  if (file.toLowerCase().endsWith('.json')) {
    const bytes = await fileSize(file);
    if (bytes > MAX_JSON_TABLE_BYTES) {
      throw new FocalError('E_FORMAT', `${file}: a JSON table of ${(bytes / 1048576).toFixed(0)} MiB is more than can be read as one JSON text (512 MiB); read the table's CSV (Focal writes both: ${file.replace(/\.json$/i, '.csv')})`, { file });
    }
    return tableFromJson(await readJsonFile(file), file);
  }
  const parser = new CsvTableParser(file);
  let stream;
  try {
    stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const chunk of stream) parser.push(chunk as string);
  } catch (err) {
    stream?.destroy();
    if (err instanceof FocalError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FocalError('E_IO', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message}`, { file }, { cause: err });
  }
  return parser.end();
}

/** The most a JSON table file may hold to be parsed: V8's longest string is 2^29 − 24 UTF-16 units, and a UTF-8 file has at least as many bytes as units. */
const MAX_JSON_TABLE_BYTES = 2 ** 29 - 24;

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FocalError('E_IO', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { file }, { cause: err });
  }
}

/** RFC 4180 CSV with a header row; numeric-looking cells become numbers, empty cells null. */
export function parseCsv(text: string, file = '<csv>'): Table {
  return parseCsvPieces([text], file);
}

/** {@link parseCsv} of a text that comes in pieces, split anywhere (what readTableFile does with a file read 1 MiB at a time). */
export function parseCsvPieces(pieces: Iterable<string>, file = '<csv>'): Table {
  const parser = new CsvTableParser(file);
  for (const piece of pieces) parser.push(piece);
  return parser.end();
}

/**
 * RFC 4180 CSV parsed from pieces of text as they come (`push`), each record made a row at
 * once: the first record is the header, blank lines are skipped, a row with another number of
 * fields than the header is an error naming the file and the row. A quoted field may hold commas,
 * line breaks and doubled quotes; a quote opens a quoted field only at the field's start.
 */
class CsvTableParser {
  private header: string[] | undefined;
  private plainHeader = true;
  private readonly rows: Record<string, Cell>[] = [];
  private field = '';
  private record: string[] = [];
  private quoted = false;
  /** The last character of a piece when what it means depends on the next piece (a quote in a quoted field, a CR). */
  private carry = '';

  constructor(private readonly file: string) {}

  push(piece: string, last = false): void {
    const text = this.carry + piece;
    this.carry = '';
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.quoted) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.field += text.slice(i);
          break;
        }
        this.field += text.slice(i, q);
        if (q + 1 === n && !last) {
          // a doubled quote or the closing one: the next piece says
          this.carry = '"';
          break;
        }
        if (text[q + 1] === '"') {
          this.field += '"';
          i = q + 2;
        } else {
          this.quoted = false;
          i = q + 1;
        }
        continue;
      }
      const ch = text[i];
      if (ch === '"' && this.field === '') {
        this.quoted = true;
        i++;
      } else if (ch === ',') {
        this.record.push(this.field);
        this.field = '';
        i++;
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\r' && i + 1 === n && !last) {
          // CR LF or a lone CR: the next piece says
          this.carry = '\r';
          break;
        }
        if (ch === '\r' && text[i + 1] === '\n') i++;
        this.record.push(this.field);
        this.endRecord();
        i++;
      } else {
        // a run of plain characters (a quote inside a field is one of them)
        let j = i + 1;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 44 || c === 10 || c === 13) break;
          j++;
        }
        this.field += text.slice(i, j);
        i = j;
      }
    }
  }

  end(): Table {
    this.push('', true);
    if (this.quoted) throw new FocalError('E_FORMAT', `${this.file}: unterminated quoted field`, { file: this.file });
    if (this.field !== '' || this.record.length > 0) {
      this.record.push(this.field);
      this.endRecord();
    }
    if (!this.header) throw new FocalError('E_FORMAT', `${this.file} is empty: a table needs a header row`, { file: this.file });
    return createTable(this.header, this.rows);
  }

  private endRecord(): void {
    const r = this.record;
    this.record = [];
    this.field = '';
    const header = this.header;
    if (!header) {
      this.header = r;
      this.plainHeader = !r.includes('__proto__');
      return;
    }
    if (r.length === 1 && r[0] === '') return;
    if (r.length !== header.length) throw new FocalError('E_FORMAT', `${this.file}: row ${this.rows.length + 2} has ${r.length} fields, the header has ${header.length}`, { file: this.file });
    let row: Record<string, Cell>;
    if (this.plainHeader) {
      row = {};
      for (let j = 0; j < header.length; j++) row[header[j]] = csvValue(r[j]);
    } else row = Object.fromEntries(header.map((h, j) => [h, csvValue(r[j])])); // a column named __proto__ is a cell, not the row's prototype
    this.rows.push(row);
  }
}

function csvValue(s: string): Cell {
  if (s === '') return null;
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : s;
}
