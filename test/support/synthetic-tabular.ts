/**
 * Seeded synthetic tabular problems for the tree tests: a smooth regression, a noisy binary problem
 * with an interaction, and three classes. Same seed, same data.
 */
import { Rng } from '../../shared/ml/rng.js';
import type { Matrix } from '../../shared/ml/types.js';

export interface Synthetic<Y> {
  X: Matrix;
  y: Y;
}

function uniformMatrix(rng: Rng, rows: number, cols: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { rows, cols, data };
}

function gaussian(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** y = 10 sin(π x0 x1) + 5 x2² + 3 x3 + noise; x4.. are pure noise features. */
export function friedmanRegression(seed: number, rows: number, cols = 6, noise = 0.3): Synthetic<Float64Array> {
  const rng = new Rng(seed);
  const X = uniformMatrix(rng, rows, cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x = (j: number): number => X.data[i * cols + j] as number;
    y[i] = 10 * Math.sin(Math.PI * x(0) * x(1)) + 5 * x(2) ** 2 + 3 * x(3) + noise * gaussian(rng);
  }
  return { X, y };
}

/** Labels 'yes' / 'no' from a logistic model with an x0·x1 interaction; `flip` of the labels are random. */
export function binaryClassification(seed: number, rows: number, cols = 6, flip = 0.05): Synthetic<string[]> {
  const rng = new Rng(seed);
  const X = uniformMatrix(rng, rows, cols);
  const y: string[] = [];
  for (let i = 0; i < rows; i++) {
    const x = (j: number): number => X.data[i * cols + j] as number;
    const positive = 3 * x(0) * x(1) + 2 * x(2) - x(3) > 0;
    y.push((rng.next() < flip ? !positive : positive) ? 'yes' : 'no');
  }
  return { X, y };
}

/** Three classes by the angle of (x0, x1), with a little noise. */
export function threeClasses(seed: number, rows: number, cols = 5): Synthetic<string[]> {
  const rng = new Rng(seed);
  const X = uniformMatrix(rng, rows, cols);
  const y: string[] = [];
  for (let i = 0; i < rows; i++) {
    const angle = Math.atan2(X.data[i * cols + 1] as number, X.data[i * cols] as number) + 0.2 * gaussian(rng);
    const turn = (angle + Math.PI) / (2 * Math.PI); // may leave [0, 1) by the noise
    const sector = ((Math.floor(turn * 3) % 3) + 3) % 3;
    y.push(['red', 'green', 'blue'][sector] as string);
  }
  return { X, y };
}

/** The rows [start, end) of a matrix. */
export function sliceRows(X: Matrix, start: number, end: number): Matrix {
  return { rows: end - start, cols: X.cols, data: X.data.slice(start * X.cols, end * X.cols) };
}

/** Splits a synthetic set into the first `trainRows` rows and the rest. */
export function splitSynthetic<Y extends Float64Array | string[]>(
  s: Synthetic<Y>,
  trainRows: number,
): { train: Synthetic<Y>; test: Synthetic<Y> } {
  const cut = <T extends Float64Array | string[]>(y: T, a: number, b: number): T => y.slice(a, b) as T;
  return {
    train: { X: sliceRows(s.X, 0, trainRows), y: cut(s.y, 0, trainRows) },
    test: { X: sliceRows(s.X, trainRows, s.X.rows), y: cut(s.y, trainRows, s.X.rows) },
  };
}

export function accuracy(classes: readonly string[], predicted: Float64Array, y: readonly string[]): number {
  let right = 0;
  predicted.forEach((c, i) => {
    if (classes[c] === y[i]) right++;
  });
  return right / y.length;
}

export function r2(predicted: Float64Array, y: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v / y.length;
  let residual = 0;
  let total = 0;
  y.forEach((v, i) => {
    residual += (v - (predicted[i] as number)) ** 2;
    total += (v - mean) ** 2;
  });
  return 1 - residual / total;
}
