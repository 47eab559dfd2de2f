/**
 * Column type inference: what each raw column is for. A column's storage (numbers, strings,
 * epoch-ms datetimes) comes from the table; its purpose is inferred from its values:
 *
 * - every value missing → ignore;
 * - one distinct value and nothing missing → ignore (constant: it cannot tell rows apart);
 * - numbers → numeric, except ID_MIN_DISTINCT or more distinct consecutive integers with nothing
 *   missing (0..n−1, 1..n, in any order), which are a row id → ignore;
 * - datetimes → datetime;
 * - strings → text when the values average at least TEXT_MIN_WORDS words (whitespace-separated:
 *   'cust-0042' is one word, though two tokens) and at least
 *   TEXT_MIN_UNIQUE_RATIO of them are distinct (or the table says 'text'); else ignore when at
 *   least ID_MIN_UNIQUE_RATIO are distinct and there are ID_MIN_DISTINCT or more (names, GUIDs,
 *   emails: ids that one-hot or target encoding could only memorize); else categorical.
 *
 * `column_name_and_types` overrides the inference (settings.ts checks that the storage allows it).
 */
import type { Column, Table } from '../types.js';
import type { ColumnPurpose, ResolvedFeaturization } from './settings.js';

export const TEXT_MIN_WORDS = 3;
export const TEXT_MIN_UNIQUE_RATIO = 0.5;
export const ID_MIN_UNIQUE_RATIO = 0.9;
export const ID_MIN_DISTINCT = 50;

export interface ColumnStats {
  rows: number;
  missing: number;
  /** Distinct non-missing values. */
  distinct: number;
  /** Mean whitespace-separated words per non-missing value (string columns). */
  averageWords?: number;
}

export interface ColumnPlan {
  name: string;
  storage: Column['kind'];
  purpose: ColumnPurpose;
  /** Why: the rule that decided, or the setting. */
  reason: string;
  stats: ColumnStats;
}

export function columnStats(column: Column): ColumnStats {
  const rows = column.values.length;
  if (column.kind === 'numeric' || column.kind === 'datetime') {
    const seen = new Set<number>();
    let missing = 0;
    for (const v of column.values) {
      if (Number.isNaN(v)) missing++;
      else seen.add(v);
    }
    return { rows, missing, distinct: seen.size };
  }
  const seen = new Set<string>();
  let missing = 0;
  let words = 0;
  for (const v of column.values) {
    if (v === null || v === '') {
      missing++;
      continue;
    }
    seen.add(v);
    words += countWords(v);
  }
  return { rows, missing, distinct: seen.size, averageWords: rows > missing ? words / (rows - missing) : 0 };
}

function countWords(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const space = /\s/.test(s[i] as string);
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/** The purpose of every column of `table`, in column order. */
export function inferColumnTypes(table: Table, settings?: Pick<ResolvedFeaturization, 'purposes'>): ColumnPlan[] {
  return table.columns.map((column) => {
    const stats = columnStats(column);
    const base = { name: column.name, storage: column.kind, stats };
    const declared = settings?.purposes.get(column.name);
    if (declared !== undefined) return { ...base, purpose: declared, reason: 'column_name_and_types' };
    return { ...base, ...inferPurpose(column, stats) };
  });
}

function inferPurpose(column: Column, stats: ColumnStats): { purpose: ColumnPurpose; reason: string } {
  const present = stats.rows - stats.missing;
  if (present === 0) return { purpose: 'ignore', reason: 'every value is missing' };
  if (stats.distinct <= 1 && stats.missing === 0) return { purpose: 'ignore', reason: 'constant: one distinct value' };
  switch (column.kind) {
    case 'numeric':
      return isRowId(column.values, stats)
        ? { purpose: 'ignore', reason: 'distinct consecutive integers, like a row id' }
        : { purpose: 'numeric', reason: 'numbers' };
    case 'datetime':
      return { purpose: 'datetime', reason: 'datetimes' };
    case 'text':
    case 'categorical': {
      const ratio = stats.distinct / present;
      const pct = `${Math.round(ratio * 100)}% distinct`;
      if (column.kind === 'text') return { purpose: 'text', reason: 'a text column' };
      if ((stats.averageWords ?? 0) >= TEXT_MIN_WORDS && ratio >= TEXT_MIN_UNIQUE_RATIO) {
        return {
          purpose: 'text',
          reason: `strings of ${(stats.averageWords ?? 0).toFixed(1)} words on average, ${pct}`,
        };
      }
      if (ratio >= ID_MIN_UNIQUE_RATIO && stats.distinct >= ID_MIN_DISTINCT) {
        return { purpose: 'ignore', reason: `high cardinality, ${pct}, like an id` };
      }
      return { purpose: 'categorical', reason: `strings, ${stats.distinct} distinct` };
    }
  }
}

function isRowId(values: Float64Array, stats: ColumnStats): boolean {
  if (stats.missing > 0 || stats.distinct !== stats.rows || stats.rows < ID_MIN_DISTINCT) return false;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isInteger(v)) return false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max - min === stats.rows - 1;
}
