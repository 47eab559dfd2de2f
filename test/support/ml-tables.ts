// Builders of shared/ml Tables for tests: cells as plain JS values, missing as null.
import type { TabularTask } from '../../shared/ml/automl/types.js';
import { Rng } from '../../shared/ml/rng.js';
import type { Column, Table } from '../../shared/ml/types.js';

export function num(name: string, values: readonly (number | null)[]): Column {
  return { kind: 'numeric', name, values: Float64Array.from(values, (v) => (v === null ? Number.NaN : v)) };
}

export function cat(name: string, values: readonly (string | null)[]): Column {
  return { kind: 'categorical', name, values: [...values] };
}

export function text(name: string, values: readonly (string | null)[]): Column {
  return { kind: 'text', name, values: [...values] };
}

/** ISO 8601 text or epoch ms. */
export function dt(name: string, values: readonly (string | number | null)[]): Column {
  return {
    kind: 'datetime',
    name,
    values: Float64Array.from(values, (v) => (v === null ? Number.NaN : typeof v === 'number' ? v : Date.parse(v))),
  };
}

export function table(...columns: Column[]): Table {
  return { rows: columns[0]?.values.length ?? 0, columns };
}

/** Rows [from, to) of a table. */
export function slice(t: Table, from: number, to: number): Table {
  return {
    rows: to - from,
    columns: t.columns.map((c) =>
      c.kind === 'numeric' || c.kind === 'datetime'
        ? { ...c, values: c.values.slice(from, to) }
        : { ...c, values: c.values.slice(from, to) },
    ),
  };
}

/** Row r of a matrix, as an array. */
export function row(m: { cols: number; data: Float64Array }, r: number): number[] {
  return Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
}

/** The column of a matrix named `name` in `featureNames`. */
export function feature(
  m: { rows: number; cols: number; data: Float64Array },
  featureNames: readonly string[],
  name: string,
): number[] {
  const j = featureNames.indexOf(name);
  if (j < 0) throw new Error(`no feature '${name}' in ${featureNames.join(', ')}`);
  return Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + j] as number);
}

export const MIXED_TRAIN = 160;
export const MIXED_ROWS = 220;

/**
 * 220 rows of numbers with missing values, a categorical, a datetime and short text: the first
 * MIXED_TRAIN to train on, the rest holdout rows with unseen categories and words.
 */
export function mixedTable(task: TabularTask): Table {
  const rng = new Rng(11);
  const words = ['red', 'fast', 'quiet', 'engine', 'blue', 'slow', 'café', 'x2'];
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const income: (number | null)[] = [];
  const age: (number | null)[] = [];
  const color: (string | null)[] = [];
  const signup: (number | null)[] = [];
  const note: (string | null)[] = [];
  const target: (number | string)[] = [];
  for (let i = 0; i < MIXED_ROWS; i++) {
    const holdout = i >= MIXED_TRAIN;
    const inc = 20 + rng.next() * 80;
    const a = 18 + rng.int(60);
    const c = holdout && i % 7 === 0 ? 'violet' : pick(['red', 'green', 'blue']);
    const day = Date.UTC(2015, 0, 1) + rng.int(2000) * 86_400_000;
    const ws = Array.from({ length: 1 + rng.int(4) }, () => pick(words));
    income.push(i % 9 === 0 ? null : inc);
    age.push(i % 11 === 3 ? null : a);
    color.push(i % 13 === 5 ? null : c);
    signup.push(i % 10 === 7 ? null : day);
    note.push(i % 8 === 1 ? null : holdout && i % 5 === 0 ? 'never seen words' : ws.join(' '));
    const score = inc / 20 + (c === 'red' ? 2 : 0) + (ws.includes('fast') ? 1.5 : 0) + a / 30 + rng.next() * 2;
    if (task === 'regression') target.push(100 + 10 * score);
    else target.push(score < 5 ? 'low' : score < 7 ? 'mid' : 'high');
  }
  return table(
    num('income', income),
    num('age', age),
    cat('color', color),
    dt('signup', signup),
    text('note', note),
    task === 'regression' ? num('target', target as number[]) : cat('target', target as string[]),
  );
}
