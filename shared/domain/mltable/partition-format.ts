import type { CellValue, ColumnSchema } from './values.js';

/**
 * extract_columns_from_partition_format: columns taken from each file's path. '{name}' captures
 * one folder or file-name part as a string; '{name:yyyy/MM/dd/HH/mm/ss}' captures a datetime
 * from those tokens. The format describes the end of the path: '/{year}/{month}/' matches the
 * file's last two folders, '{year}/{name}.csv' its last folder and its file name.
 */
export interface PartitionFormat {
  columns: ColumnSchema[];
  /** Values of the columns for one path; undefined when the path does not have the format. */
  match(path: string): Record<string, CellValue> | undefined;
}

const DATE_TOKENS: Record<string, { re: string; field: 'y' | 'M' | 'd' | 'H' | 'm' | 's' }> = {
  yyyy: { re: '(\\d{4})', field: 'y' },
  MM: { re: '(\\d{2})', field: 'M' },
  dd: { re: '(\\d{2})', field: 'd' },
  HH: { re: '(\\d{2})', field: 'H' },
  mm: { re: '(\\d{2})', field: 'm' },
  ss: { re: '(\\d{2})', field: 's' },
};

type Capture = { column: string; kind: 'string' } | { column: string; kind: 'date'; field: keyof DateParts };
interface DateParts {
  y: number;
  M: number;
  d: number;
  H: number;
  m: number;
  s: number;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles a format; throws a plain Error saying what is wrong (the caller adds where). */
export function compilePartitionFormat(format: string): PartitionFormat {
  let re = '';
  const captures: Capture[] = [];
  const columns: ColumnSchema[] = [];
  let i = 0;
  while (i < format.length) {
    const open = format.indexOf('{', i);
    if (open < 0) {
      re += escape(format.slice(i));
      break;
    }
    re += escape(format.slice(i, open));
    const close = format.indexOf('}', open);
    if (close < 0) throw new Error(`'{' at position ${open} has no closing '}'`);
    const body = format.slice(open + 1, close);
    const colon = body.indexOf(':');
    const column = (colon < 0 ? body : body.slice(0, colon)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_ -]*$/.test(column)) throw new Error(`'{${body}}' does not start with a column name`);
    if (columns.some((c) => c.name === column)) throw new Error(`column '${column}' appears twice`);
    if (colon < 0) {
      re += '([^/]+?)';
      captures.push({ column, kind: 'string' });
      columns.push({ name: column, type: 'string' });
    } else {
      const fmt = body.slice(colon + 1);
      let j = 0;
      while (j < fmt.length) {
        const token = Object.keys(DATE_TOKENS).find((t) => fmt.startsWith(t, j));
        if (token !== undefined) {
          const t = DATE_TOKENS[token];
          if (t === undefined) break;
          re += t.re;
          captures.push({ column, kind: 'date', field: t.field });
          j += token.length;
        } else {
          const ch = fmt[j] ?? '';
          if (/[A-Za-z]/.test(ch)) throw new Error(`'${fmt}' has '${ch}'; use yyyy, MM, dd, HH, mm and ss`);
          re += escape(ch);
          j++;
        }
      }
      columns.push({ name: column, type: 'datetime' });
    }
    i = close + 1;
  }
  if (columns.length === 0) throw new Error("it names no column; write '{column}' or '{column:yyyy/MM/dd}'");
  const regex = new RegExp(`${re}${format.endsWith('/') ? '[^/]*' : ''}$`);
  return {
    columns,
    match(path) {
      const m = regex.exec(path);
      if (m === null) return undefined;
      const out: Record<string, CellValue> = {};
      const dates = new Map<string, DateParts>();
      captures.forEach((c, k) => {
        const v = m[k + 1] ?? '';
        if (c.kind === 'string') {
          out[c.column] = safeDecode(v);
        } else {
          const parts = dates.get(c.column) ?? { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0 };
          parts[c.field] = Number(v);
          dates.set(c.column, parts);
        }
      });
      for (const [column, p] of dates) {
        const t = Date.UTC(p.y, p.M - 1, p.d, p.H, p.m, p.s);
        const d = new Date(t);
        out[column] = d.getUTCMonth() === p.M - 1 && d.getUTCDate() === p.d && p.H < 24 ? d : null;
      }
      return out;
    },
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
