import type { CellValue, ColumnSchema, Row } from '../../domain/mltable/values.js';
import { ValidationError } from '../../errors.js';
import type { Column, Table } from '../types.js';

/**
 * Reads the rows of an opened MLTable into a column table for training: ints and floats become
 * numeric columns (missing → NaN), datetimes epoch-millisecond columns, booleans and strings
 * categorical columns (missing → null). Which strings are free text is the featurizer's call.
 */

/** Rows as the MLTable reader streams them (shared/services/mltable-reader.ts `OpenedTable`). */
export interface RowSource {
  columns: ColumnSchema[];
  rows: AsyncIterable<Row>;
}

export interface CollectOptions {
  /** Refuse tables with more rows than this (the trainer's memory is the limit). */
  maxRows?: number;
  /** Refuse tables with more cells (rows × columns) than this. */
  maxCells?: number;
}

export const DEFAULT_MAX_CELLS = 50_000_000;

type Builder =
  | { kind: 'numeric'; values: number[] }
  | { kind: 'datetime'; values: number[] }
  | { kind: 'categorical'; values: (string | null)[] };

function builderFor(schema: ColumnSchema): Builder {
  switch (schema.type) {
    case 'int':
    case 'float':
      return { kind: 'numeric', values: [] };
    case 'datetime':
      return { kind: 'datetime', values: [] };
    default:
      return { kind: 'categorical', values: [] };
  }
}

function push(builder: Builder, value: CellValue | undefined): void {
  if (builder.kind === 'categorical') {
    builder.values.push(
      value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : String(value),
    );
    return;
  }
  if (value === null || value === undefined) builder.values.push(NaN);
  else if (value instanceof Date) builder.values.push(value.getTime());
  else if (typeof value === 'number') builder.values.push(value);
  else if (typeof value === 'boolean') builder.values.push(value ? 1 : 0);
  else {
    const n = builder.kind === 'datetime' ? Date.parse(value) : Number(value);
    builder.values.push(Number.isFinite(n) ? n : NaN);
  }
}

export async function collectTable(opened: RowSource, options: CollectOptions = {}): Promise<Table> {
  const maxCells = options.maxCells ?? DEFAULT_MAX_CELLS;
  const builders = new Map<string, Builder>();
  const order: string[] = [];
  const ensure = (schema: ColumnSchema, rowsSoFar: number): Builder => {
    let b = builders.get(schema.name);
    if (b === undefined) {
      b = builderFor(schema);
      // A column that appears in a later file is missing in the rows before it.
      for (let i = 0; i < rowsSoFar; i++) push(b, null);
      builders.set(schema.name, b);
      order.push(schema.name);
    }
    return b;
  };
  for (const schema of opened.columns) ensure(schema, 0);
  let rows = 0;
  for await (const row of opened.rows) {
    for (const schema of opened.columns) ensure(schema, rows);
    for (const name of order) push(builders.get(name) as Builder, row[name]);
    rows++;
    if (options.maxRows !== undefined && rows > options.maxRows) {
      throw new ValidationError(`The table has more than ${options.maxRows} rows, the most this trainer reads.`, {
        target: 'training_data',
      });
    }
    if (rows * order.length > maxCells) {
      throw new ValidationError(
        `The table has more than ${maxCells} cells (rows × columns), the most this trainer reads; sample it or use fewer columns.`,
        { target: 'training_data' },
      );
    }
  }
  const columns: Column[] = order.map((name) => {
    const b = builders.get(name) as Builder;
    return b.kind === 'categorical'
      ? { kind: 'categorical', name, values: b.values }
      : { kind: b.kind, name, values: Float64Array.from(b.values) };
  });
  return { rows, columns };
}

/** The target column, split off the table: numbers for regression, class labels for classification. */
export function splitTarget(
  table: Table,
  target: string,
  task: 'classification' | 'regression',
): { features: Table; y: Float64Array | string[]; dropped: number } {
  const column = table.columns.find((c) => c.name === target);
  if (column === undefined) {
    throw new ValidationError(
      `target_column_name '${target}' is not a column of the training data (columns: ${table.columns.map((c) => c.name).join(', ')}).`,
      { target: 'target_column_name' },
    );
  }
  const keep: number[] = [];
  for (let i = 0; i < table.rows; i++) {
    const v = column.values[i];
    const missing = typeof v === 'number' ? Number.isNaN(v) : v === null || v === undefined;
    if (!missing) keep.push(i);
  }
  let y: Float64Array | string[];
  if (task === 'regression') {
    if (column.kind !== 'numeric') {
      throw new ValidationError(`A regression target must be numeric; '${target}' is ${column.kind}.`, {
        target: 'target_column_name',
      });
    }
    y = Float64Array.from(keep, (i) => column.values[i] as number);
  } else {
    y = keep.map((i) => {
      const v = column.values[i];
      return typeof v === 'number' ? String(v) : String(v);
    });
  }
  const pick = (c: Column): Column =>
    c.kind === 'categorical' || c.kind === 'text'
      ? { ...c, values: keep.map((i) => c.values[i] ?? null) }
      : { ...c, values: Float64Array.from(keep, (i) => c.values[i] as number) };
  return {
    features: { rows: keep.length, columns: table.columns.filter((c) => c !== column).map(pick) },
    y,
    dropped: table.rows - keep.length,
  };
}
