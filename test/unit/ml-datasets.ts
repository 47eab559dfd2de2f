// Loads the shared benchmark datasets (/work/shared/datasets, described by datasets.json) for the
// shared/ml tests. Tests that need them skip, saying why, when the corpus is absent.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Column, Matrix, Table } from '../../shared/ml/types.js';

// dist/test/unit/<file>.js -> the repository root is three folders up; ../shared sits beside it.
const DATASETS = join(fileURLToPath(new URL('../../../../shared/', import.meta.url)), 'datasets');

export const noDatasets: string | false = existsSync(join(DATASETS, 'datasets.json'))
  ? false
  : `${DATASETS} is absent (the shared corpus)`;

export interface DatasetInfo {
  name: string;
  target: string;
  time_column?: string;
  series_id_columns?: string[];
  horizon?: number;
  season_length?: number;
  split: { train_rows?: number; test_points_per_series?: number };
  path: string;
}

export function datasetInfo(name: string): DatasetInfo {
  const all = JSON.parse(readFileSync(join(DATASETS, 'datasets.json'), 'utf8')) as { datasets: DatasetInfo[] };
  const info = all.datasets.find((d) => d.name === name);
  if (info === undefined) throw new Error(`dataset ${name} is not in datasets.json`);
  return info;
}

function readRecords(info: DatasetInfo): Record<string, string>[] {
  return parseCsv(readFileSync(join(DATASETS, info.path), 'utf8'), { columns: true }) as Record<string, string>[];
}

/** A CSV as a Table: the time column as dates (UTC), the named columns as categorical, the rest numeric. */
export function loadTable(name: string, categorical: readonly string[] = []): { info: DatasetInfo; table: Table } {
  const info = datasetInfo(name);
  const records = readRecords(info);
  const names = Object.keys(records[0] ?? {});
  const columns: Column[] = names.map((col) => {
    if (col === info.time_column) {
      return {
        kind: 'datetime',
        name: col,
        values: Float64Array.from(records, (r) => Date.parse(`${r[col]}T00:00:00Z`)),
      };
    }
    if (categorical.includes(col))
      return { kind: 'categorical', name: col, values: records.map((r) => r[col] ?? null) };
    return { kind: 'numeric', name: col, values: Float64Array.from(records, (r) => Number(r[col])) };
  });
  return { info, table: { rows: records.length, columns } };
}

/** A classification dataset as a feature matrix and string labels, split by its head/tail rule. */
export function loadClassification(name: string): {
  train: { X: Matrix; y: string[] };
  test: { X: Matrix; y: string[] };
  features: string[];
} {
  const info = datasetInfo(name);
  const records = readRecords(info);
  const features = Object.keys(records[0] ?? {}).filter((c) => c !== info.target);
  const toMatrix = (rows: Record<string, string>[]): Matrix => ({
    rows: rows.length,
    cols: features.length,
    data: Float64Array.from(rows.flatMap((r) => features.map((f) => Number(r[f])))),
  });
  const cut = info.split.train_rows ?? Math.floor(records.length * 0.8);
  const head = records.slice(0, cut);
  const tail = records.slice(cut);
  return {
    train: { X: toMatrix(head), y: head.map((r) => r[info.target] as string) },
    test: { X: toMatrix(tail), y: tail.map((r) => r[info.target] as string) },
    features,
  };
}
