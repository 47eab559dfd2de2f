/**
 * Cell values of a table and the conversions between them: type inference over sample values,
 * text → typed value, and the datetime formats of MLTable (Python strftime directives).
 */

export const COLUMN_TYPES = ['int', 'float', 'boolean', 'datetime', 'string'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export type CellValue = string | number | boolean | Date | null;
export type Row = Record<string, CellValue>;

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

/** A value as a reader produces it, before typing: text from CSV, JSON scalars from JSON lines. */
export type RawValue = string | number | boolean | Date | null;

/** Marker for a value that does not convert. */
export const NO_VALUE: unique symbol = Symbol('no value');

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_FLOAT_TEXT = /^[+-]?(?:inf|infinity|nan)$/i;
const BOOL_TEXT = /^(?:true|false)$/i;
/** ISO 8601 dates and date-times, with ' ' or 'T', optional seconds, fraction and offset. */
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** 2024/01/31 and 2024/01/31 12:30[:45]. */
const SLASH_DATETIME = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** The narrowest type every text value fits; null values are ignored; all null is 'string'. */
export function inferTextType(values: Iterable<string | null>): ColumnType {
  let candidates = new Set<ColumnType>(['int', 'float', 'boolean', 'datetime']);
  let seen = false;
  for (const v of values) {
    if (v === null || v === '') continue;
    seen = true;
    const fits = new Set<ColumnType>();
    if (candidates.has('int') && INT_TEXT.test(v) && Number.isSafeInteger(Number(v))) fits.add('int');
    if (candidates.has('float') && (FLOAT_TEXT.test(v) || SPECIAL_FLOAT_TEXT.test(v))) fits.add('float');
    if (candidates.has('boolean') && BOOL_TEXT.test(v)) fits.add('boolean');
    if (candidates.has('datetime') && parseIsoDatetime(v) !== undefined) fits.add('datetime');
    candidates = fits;
    if (candidates.size === 0) return 'string';
  }
  if (!seen) return 'string';
  for (const t of ['int', 'float', 'boolean', 'datetime'] as const) if (candidates.has(t)) return t;
  return 'string';
}

/** The type of typed values (JSON lines, Parquet): int ⊂ float; any other mix is 'string'. */
export function inferValueType(values: Iterable<RawValue>): ColumnType {
  let type: ColumnType | undefined;
  for (const v of values) {
    if (v === null) continue;
    const t: ColumnType =
      typeof v === 'number'
        ? Number.isInteger(v)
          ? 'int'
          : 'float'
        : typeof v === 'boolean'
          ? 'boolean'
          : v instanceof Date
            ? 'datetime'
            : 'string';
    if (type === undefined || type === t) type = t;
    else if ((type === 'int' && t === 'float') || (type === 'float' && t === 'int')) type = 'float';
    else return 'string';
  }
  return type ?? 'string';
}

export interface BooleanOptions {
  trueValues?: readonly string[];
  falseValues?: readonly string[];
  /** What a value in neither list becomes; default 'error'. */
  mismatchAs?: 'true' | 'false' | 'error';
}

const DEFAULT_TRUE = ['true', '1', 'yes', 'y', 't'];
const DEFAULT_FALSE = ['false', '0', 'no', 'n', 'f'];

/** Converts one value to a column type; NO_VALUE when it does not convert. null stays null. */
export function convertValue(
  value: RawValue,
  type: ColumnType,
  options: { formats?: readonly string[]; boolean?: BooleanOptions } = {},
): CellValue | typeof NO_VALUE {
  if (value === null) return null;
  switch (type) {
    case 'string':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'int': {
      if (typeof value === 'number') return Number.isInteger(value) ? value : NO_VALUE;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value !== 'string') return NO_VALUE;
      const t = value.trim();
      if (t === '') return null;
      if (INT_TEXT.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
      // '3.0' is an int written as a float (pandas writes them); '3.5' is not.
      if (FLOAT_TEXT.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
      return NO_VALUE;
    }
    case 'float': {
      if (typeof value === 'number') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value !== 'string') return NO_VALUE;
      const t = value.trim();
      if (t === '') return null;
      if (FLOAT_TEXT.test(t)) return Number(t);
      if (SPECIAL_FLOAT_TEXT.test(t)) {
        const lower = t.toLowerCase().replace(/^\+/, '');
        if (lower.endsWith('nan')) return Number.NaN;
        return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      }
      return NO_VALUE;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : mismatch(options.boolean);
      if (typeof value !== 'string') return NO_VALUE;
      const t = value.trim();
      if (t === '') return null;
      const custom = options.boolean?.trueValues !== undefined || options.boolean?.falseValues !== undefined;
      if (custom) {
        if (options.boolean?.trueValues?.includes(t)) return true;
        if (options.boolean?.falseValues?.includes(t)) return false;
      } else {
        if (DEFAULT_TRUE.includes(t.toLowerCase())) return true;
        if (DEFAULT_FALSE.includes(t.toLowerCase())) return false;
      }
      return mismatch(options.boolean);
    }
    case 'datetime': {
      if (value instanceof Date) return value;
      if (typeof value !== 'string') return NO_VALUE;
      const t = value.trim();
      if (t === '') return null;
      if (options.formats !== undefined && options.formats.length > 0) {
        for (const f of options.formats) {
          const d = parseStrftime(t, f);
          if (d !== undefined) return d;
        }
        return NO_VALUE;
      }
      return parseIsoDatetime(t) ?? NO_VALUE;
    }
  }
}

function mismatch(options: BooleanOptions | undefined): boolean | typeof NO_VALUE {
  if (options?.mismatchAs === 'true') return true;
  if (options?.mismatchAs === 'false') return false;
  return NO_VALUE;
}

/** ISO 8601 ('2024-01-31', '2024-01-31 12:30:00', '…T12:30:00.5Z', '…+02:00') or '2024/01/31[ 12:30[:00]]'; UTC unless an offset is given. */
export function parseIsoDatetime(text: string): Date | undefined {
  const m = ISO_DATETIME.exec(text) ?? SLASH_DATETIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = ''] = m;
  const ms = Number(`0.${frac || '0'}`) * 1000;
  let offsetMinutes = 0;
  if (zone !== '' && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (z === null) return undefined;
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return makeUtc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms, offsetMinutes);
}

function makeUtc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  offsetMinutes: number,
): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, Math.round(ms));
  const check = new Date(t);
  // Date.UTC rolls 2023-02-30 over to March; a real date does not roll.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return undefined;
  }
  return new Date(t - offsetMinutes * 60_000);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_LONG = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** The strftime directives MLTable datetime formats may use. */
export const STRFTIME_DIRECTIVES = ['%Y', '%y', '%m', '%d', '%H', '%I', '%p', '%M', '%S', '%f', '%z', '%b', '%B', '%%'];

/** Checks a format once so a bad one is reported when the MLTable is read, not on every row. */
export function checkStrftimeFormat(format: string): string | undefined {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    const directive = format.slice(i, i + 2);
    if (!STRFTIME_DIRECTIVES.includes(directive)) {
      return `'${directive}' is not a supported directive; use ${STRFTIME_DIRECTIVES.join(' ')}`;
    }
    i++;
  }
  return undefined;
}

/** Parses text with a Python strftime format (the directives above); undefined when it does not match. */
export function parseStrftime(text: string, format: string): Date | undefined {
  let re = '';
  const fields: string[] = [];
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] ?? '';
    if (ch !== '%') {
      re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const d = format[++i] ?? '';
    const part: Record<string, string> = {
      Y: '(\\d{4})',
      y: '(\\d{2})',
      m: '(\\d{1,2})',
      d: '(\\d{1,2})',
      H: '(\\d{1,2})',
      I: '(\\d{1,2})',
      p: '(AM|PM|am|pm)',
      M: '(\\d{1,2})',
      S: '(\\d{1,2})',
      f: '(\\d{1,6})',
      z: '(Z|[+-]\\d{2}:?\\d{2})',
      b: '([A-Za-z]{3})',
      B: '([A-Za-z]+)',
    };
    if (d === '%') {
      re += '%';
      continue;
    }
    const p = part[d];
    if (p === undefined) return undefined;
    re += p;
    fields.push(d);
  }
  const m = new RegExp(`^${re}$`).exec(text);
  if (m === null) return undefined;
  let year = 1900;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let pm: boolean | undefined;
  let offset = 0;
  for (let k = 0; k < fields.length; k++) {
    const v = m[k + 1] ?? '';
    switch (fields[k]) {
      case 'Y':
        year = Number(v);
        break;
      case 'y':
        year = Number(v) + (Number(v) < 69 ? 2000 : 1900);
        break;
      case 'm':
        month = Number(v);
        break;
      case 'd':
        day = Number(v);
        break;
      case 'H':
      case 'I':
        hour = Number(v);
        break;
      case 'p':
        pm = v.toLowerCase() === 'pm';
        break;
      case 'M':
        minute = Number(v);
        break;
      case 'S':
        second = Number(v);
        break;
      case 'f':
        ms = Number(`0.${v}`) * 1000;
        break;
      case 'z': {
        if (v !== 'Z') {
          const z = /^([+-])(\d{2}):?(\d{2})$/.exec(v);
          if (z === null) return undefined;
          offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
        }
        break;
      }
      case 'b':
      case 'B': {
        const idx = (fields[k] === 'b' ? MONTHS : MONTHS_LONG).indexOf(v.toLowerCase());
        if (idx < 0) return undefined;
        month = idx + 1;
        break;
      }
    }
  }
  if (pm !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  return makeUtc(year, month, day, hour, minute, second, ms, offset);
}

/** Text of a value for messages. */
export function describeValue(value: RawValue): string {
  if (value === null) return 'null';
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
