/**
 * Seeded synthetic datasets for model tests: features on deliberately different scales and
 * offsets, targets from a known generating model, and a train/holdout split.
 */
import { Rng } from '../../shared/ml/rng.js';
import type { Matrix } from '../../shared/ml/types.js';

/** A standard normal draw (Box–Muller) from `rng`. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Rows × cols features: column j is N(offset_j, scale_j²). */
export function features(rng: Rng, rows: number, scales: readonly number[], offsets?: readonly number[]): Matrix {
  const cols = scales.length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      data[i * cols + j] = (offsets?.[j] ?? 0) + (scales[j] as number) * normal(rng);
    }
  }
  return { rows, cols, data };
}

export function rowsOf(X: Matrix, from: number, to: number): Matrix {
  return { rows: to - from, cols: X.cols, data: X.data.slice(from * X.cols, to * X.cols) };
}

export function dot(X: Matrix, i: number, w: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < X.cols; j++) s += (X.data[i * X.cols + j] as number) * (w[j] as number);
  return s;
}

export interface RegressionData {
  X: Matrix;
  y: Float64Array;
  /** The generating model's noiseless prediction for each row. */
  truth: Float64Array;
  noise: number;
}

/** y = X·w + b + N(0, noise²). */
export function regressionData(
  seed: number,
  rows: number,
  w: readonly number[],
  b: number,
  noise: number,
  scales: readonly number[],
  offsets?: readonly number[],
): RegressionData {
  const rng = new Rng(seed);
  const X = features(rng, rows, scales, offsets);
  const truth = new Float64Array(rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    truth[i] = dot(X, i, w) + b;
    y[i] = (truth[i] as number) + noise * normal(rng);
  }
  return { X, y, truth, noise };
}

export interface ClassificationData {
  X: Matrix;
  y: string[];
}

/**
 * The class whose score, (x − offset)·w_k + b_k + N(0, noise²), is highest: scores see the
 * features centred, so the offsets change the data but not the balance of the classes.
 */
export function classificationData(
  seed: number,
  rows: number,
  labels: readonly string[],
  w: readonly (readonly number[])[],
  b: readonly number[],
  noise: number,
  scales: readonly number[],
  offsets?: readonly number[],
): ClassificationData {
  const rng = new Rng(seed);
  const X = features(rng, rows, scales, offsets);
  const y: string[] = [];
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < labels.length; k++) {
      let s = (b[k] as number) + noise * normal(rng);
      for (let j = 0; j < X.cols; j++) {
        s += ((X.data[i * X.cols + j] as number) - (offsets?.[j] ?? 0)) * ((w[k] as number[])[j] as number);
      }
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
    }
    y.push(labels[best] as string);
  }
  return { X, y };
}

/** 1 − SSE/SST. */
export function rSquared(y: ArrayLike<number>, prediction: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += (y[i] as number) / y.length;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    sse += ((y[i] as number) - (prediction[i] as number)) ** 2;
    sst += ((y[i] as number) - mean) ** 2;
  }
  return 1 - sse / sst;
}
