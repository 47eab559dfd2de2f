import type { ColumnSchema, Row } from '../../domain/mltable/values.js';
import { tableFromRows } from '../featurize/table-from-rows.js';
import { ValidationError } from '../../errors.js';
import type { Column, Table } from '../types.js';

/**
 * Reads the rows of an opened MLTable, within size limits, into a column table for training (see
 * `tableFromRows` for how cells become columns). Which strings are free text is the featurizer's call.
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

export async function collectTable(opened: RowSource, options: CollectOptions = {}): Promise<Table> {
  const maxCells = options.maxCells ?? DEFAULT_MAX_CELLS;
  const rows: Row[] = [];
  for await (const row of opened.rows) {
    rows.push(row);
    if (options.maxRows !== undefined && rows.length > options.maxRows) {
      throw new ValidationError(`The table has more than ${options.maxRows} rows, the most this trainer reads.`, {
        target: 'training_data',
      });
    }
    if (rows.length * opened.columns.length > maxCells) {
      throw new ValidationError(
        `The table has more than ${maxCells} cells (rows × columns), the most this trainer reads; sample it or use fewer columns.`,
        { target: 'training_data' },
      );
    }
  }
  // The schema may have grown while reading (a column first seen in a later file): read it last.
  return tableFromRows(opened.columns, rows);
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
