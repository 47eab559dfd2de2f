// Builders of shared/ml Tables for tests: cells as plain JS values, missing as null.
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
