/**
 * The benchmark datasets of ../shared/datasets (datasets.json) as matrices with their fixed
 * train/holdout split: the first `split.train_rows` rows train, the rest are the holdout. Only
 * all-numeric tabular sets are loaded here (the featurizers own the others).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Matrix } from '../../shared/ml/types.js';

// dist/test/support/tabular-datasets.js → the repository root is three folders up; ../shared sits beside it.
export const DATASETS_DIR = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));

/** A skip reason for node:test when the shared datasets are absent, else false. */
export const noDatasets: string | false = existsSync(join(DATASETS_DIR, 'datasets.json'))
  ? false
  : `${DATASETS_DIR} is absent (the shared benchmark datasets)`;

interface DatasetInfo {
  name: string;
  task: string;
  target: string;
  path: string;
  feature_types: Record<string, string>;
  split: { train_rows?: number };
}

export interface SplitPart<Y> {
  X: Matrix;
  y: Y;
}

export interface TabularDataset<Y> {
  name: string;
  featureNames: string[];
  train: SplitPart<Y>;
  test: SplitPart<Y>;
}

function load(name: string): { info: DatasetInfo; header: string[]; rows: string[][] } {
  const manifest = JSON.parse(readFileSync(join(DATASETS_DIR, 'datasets.json'), 'utf8')) as { datasets: DatasetInfo[] };
  const info = manifest.datasets.find((d) => d.name === name);
  if (info === undefined) throw new Error(`dataset ${name} is not in datasets.json`);
  const records = parseCsv(readFileSync(join(DATASETS_DIR, info.path), 'utf8')) as string[][];
  const [header, ...rows] = records;
  if (header === undefined) throw new Error(`${info.path} is empty`);
  return { info, header, rows };
}

function matrix(rows: string[][], featureIdx: number[]): Matrix {
  const data = new Float64Array(rows.length * featureIdx.length);
  rows.forEach((row, i) =>
    featureIdx.forEach((c, j) => {
      const text = row[c] ?? '';
      data[i * featureIdx.length + j] = text === '' ? NaN : Number(text);
    }),
  );
  return { rows: rows.length, cols: featureIdx.length, data };
}

function parts<Y>(
  name: string,
  toY: (values: string[]) => Y,
  task: 'classification' | 'regression',
): TabularDataset<Y> {
  const { info, header, rows } = load(name);
  if (info.task !== task) throw new Error(`${name} is a ${info.task} dataset, not ${task}`);
  const trainRows = info.split.train_rows;
  if (trainRows === undefined) throw new Error(`${name} has no train_rows split`);
  const targetIdx = header.indexOf(info.target);
  const featureIdx = header.map((_, i) => i).filter((i) => i !== targetIdx);
  const featureNames = featureIdx.map((i) => header[i] as string);
  for (const f of featureNames) {
    if (info.feature_types[f] !== 'numeric') throw new Error(`${name}.${f} is not numeric`);
  }
  const part = (slice: string[][]): SplitPart<Y> => ({
    X: matrix(slice, featureIdx),
    y: toY(slice.map((r) => r[targetIdx] ?? '')),
  });
  return { name, featureNames, train: part(rows.slice(0, trainRows)), test: part(rows.slice(trainRows)) };
}

export function classificationDataset(name: string): TabularDataset<string[]> {
  return parts(name, (v) => v, 'classification');
}

export function regressionDataset(name: string): TabularDataset<Float64Array> {
  return parts(name, (v) => Float64Array.from(v, Number), 'regression');
}
