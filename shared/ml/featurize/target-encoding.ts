/**
 * Target encoding (Azure ML's CatTargetEncoder): a category becomes the smoothed mean of the target
 * over the training rows that have it,
 *
 *     (Σ y + m · prior) / (count + m),
 *
 * with `m` the smoothing strength and `prior` the mean over all rows; a category never seen in
 * training becomes the prior. Regression encodes y; binary classification the indicator of the
 * second class (classes sorted); multiclass one column per class.
 *
 * Leakage: a training row's own target must not shape its encoding, or a model learns to read the
 * label back out of rare categories. So the training rows get out-of-fold values: the rows are
 * split into `folds` random folds (seeded), and a row is encoded with the statistics, prior
 * included, of the other folds only. The fitted transform, the one applied to new rows and
 * exported, uses the statistics of all training rows.
 * ONNX: one LabelEncoder (ai.onnx.ml, keys_strings → values_floats, default = prior) per column.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import { Rng } from '../rng.js';
import type { Column } from '../types.js';
import type { CategoryKeys } from './category-keys.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { concatColumns } from './onnx-ops.js';

export const DEFAULT_TARGET_FOLDS = 5;
export const DEFAULT_TARGET_SMOOTHING = 10;

/** The target a supervised featurizer fits on. Forecasting targets are numeric: use regression. */
export type TargetValues =
  { task: 'regression'; values: Float64Array } | { task: 'classification'; values: readonly string[] };

export interface TargetEncodingOptions {
  seed: number;
  folds?: number;
  smoothing?: number;
}

/** The target as m numeric outputs per row (row-major [rows, m]) and their names. */
export function targetOutputs(target: TargetValues): { y: Float64Array; m: number; names: string[] } {
  if (target.task === 'regression') {
    for (const v of target.values) {
      if (!Number.isFinite(v))
        throw new RangeError('target values must be finite numbers (drop rows without a target)');
    }
    return { y: Float64Array.from(target.values), m: 1, names: ['target_mean'] };
  }
  const classes = [...new Set(target.values)].sort();
  if (classes.length < 2)
    throw new RangeError(`a classification target needs 2 classes or more; got ${classes.length}`);
  const outputs = classes.length === 2 ? classes.slice(1) : classes;
  const m = outputs.length;
  const y = new Float64Array(target.values.length * m);
  target.values.forEach((label, r) => {
    const j = outputs.indexOf(label);
    if (j >= 0) y[r * m + j] = 1;
  });
  return { y, m, names: outputs.map((c) => `target[${c}]`) };
}

export function fitTarget(
  name: string,
  column: Column,
  keys: CategoryKeys,
  target: TargetValues,
  options: TargetEncodingOptions,
): FittedColumn {
  const rowKeys = keys.keysOf(column);
  const n = rowKeys.length;
  if (target.values.length !== n) {
    throw new RangeError(`target has ${target.values.length} values for ${n} rows`);
  }
  if (n < 2) throw new RangeError('target encoding needs 2 training rows or more');
  const smoothing = options.smoothing ?? DEFAULT_TARGET_SMOOTHING;
  if (!(smoothing >= 0)) throw new RangeError(`smoothing must be ≥ 0; got ${smoothing}`);
  const folds = Math.min(options.folds ?? DEFAULT_TARGET_FOLDS, n);
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`folds must be an integer ≥ 2; got ${folds}`);
  const { y, m, names } = targetOutputs(target);

  // Key ids; per-key and per-(fold, key) sums and counts; the fold of each row.
  const ids = new Map<string, number>();
  const rowId = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const k = rowKeys[r] as string;
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    rowId[r] = id;
  }
  const K = ids.size;
  const fold = new Int32Array(n);
  const order = new Rng(options.seed).shuffle(Array.from({ length: n }, (_, i) => i));
  order.forEach((row, i) => (fold[row] = i % folds));

  const sum = new Float64Array(K * m);
  const count = new Float64Array(K);
  const foldSum = new Float64Array(folds * K * m);
  const foldCount = new Float64Array(folds * K);
  const total = new Float64Array(m);
  const foldTotal = new Float64Array(folds * m);
  const foldRows = new Float64Array(folds);
  for (let r = 0; r < n; r++) {
    const id = rowId[r] as number;
    const f = fold[r] as number;
    count[id]! += 1;
    foldCount[f * K + id]! += 1;
    foldRows[f]! += 1;
    for (let j = 0; j < m; j++) {
      const v = y[r * m + j] as number;
      sum[id * m + j]! += v;
      foldSum[(f * K + id) * m + j]! += v;
      total[j]! += v;
      foldTotal[f * m + j]! += v;
    }
  }

  const prior = Array.from(total, (t) => Math.fround(t / n));
  const tables = Array.from({ length: m }, () => new Map<string, number>());
  for (const [k, id] of ids) {
    for (let j = 0; j < m; j++) {
      const enc = (sum[id * m + j]! + smoothing * (total[j]! / n)) / (count[id]! + smoothing);
      tables[j]?.set(k, Math.fround(enc));
    }
  }

  const train = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    const id = rowId[r] as number;
    const f = fold[r] as number;
    const rest = n - foldRows[f]!;
    const cnt = count[id]! - foldCount[f * K + id]!;
    for (let j = 0; j < m; j++) {
      const p = (total[j]! - foldTotal[f * m + j]!) / rest;
      const s = sum[id * m + j]! - foldSum[(f * K + id) * m + j]!;
      train[r * m + j] = Math.fround((s + smoothing * p) / (cnt + smoothing));
    }
  }

  return {
    transform: new TargetTransform(
      name,
      column.kind,
      keys,
      names.map((o) => `${name}:${o}`),
      tables,
      prior,
    ),
    train,
  };
}

export class TargetTransform implements ColumnTransform {
  readonly transformer = 'CatTargetEncoder';
  readonly encoding;

  constructor(
    readonly column: string,
    readonly storage: Column['kind'],
    readonly keys: CategoryKeys,
    readonly featureNames: readonly string[],
    /** Per output: key → float32 encoding. */
    readonly tables: readonly ReadonlyMap<string, number>[],
    /** Per output: float32 prior, the value of unseen categories. */
    readonly prior: readonly number[],
  ) {
    this.encoding = keys.storage === 'string' ? ('string' as const) : ('float32' as const);
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const rowKeys = this.keys.keysOf(column);
    const m = this.tables.length;
    for (let r = 0; r < rowKeys.length; r++) {
      const k = rowKeys[r] as string;
      for (let j = 0; j < m; j++) out[r * stride + offset + j] = this.tables[j]?.get(k) ?? (this.prior[j] as number);
    }
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    return concatColumns(
      g,
      this.tables.map((t, j) => this.keys.lookup(g, input, [...t.keys()], [...t.values()], this.prior[j] as number)),
    );
  }
}
