/**
 * Checks and encodings shared by the trainers in this folder: a Trainer receives a matrix, either
 * string labels (classification) or numbers (regression), and optional sample weights.
 */
import type { Matrix } from '../types.js';
import { compareLabels } from './class-labels.js';
import { checkMatrix as checkShape } from './fit-inputs.js';

export interface ClassTargets {
  /** Distinct labels in the order every model here uses (class-labels.ts compareLabels). */
  classes: string[];
  /** Each row's index into `classes`. */
  index: Int32Array;
}

/** The shape checks of `checkMatrix` in fit-inputs.ts, and every value finite (these models take no NaN). */
export function checkMatrix(X: Matrix, name = 'X'): void {
  checkShape(X, name);
  for (let i = 0; i < X.data.length; i++) {
    if (!Number.isFinite(X.data[i] as number)) {
      const row = Math.floor(i / X.cols);
      throw new RangeError(`${name} has a non-finite value at row ${row}, column ${i % X.cols}; impute first`);
    }
  }
}

/** Checks X, y and weights agree; at least `minRows` rows. */
export function checkFitInput(
  X: Matrix,
  y: Float64Array | readonly string[],
  weights: Float64Array | undefined,
  minRows = 1,
): void {
  checkMatrix(X);
  if (X.rows < minRows) throw new RangeError(`X needs at least ${minRows} rows; got ${X.rows}`);
  if (y.length !== X.rows) throw new RangeError(`y has ${y.length} entries but X has ${X.rows} rows`);
  if (weights !== undefined) {
    if (weights.length !== X.rows) throw new RangeError(`weights has ${weights.length} entries; expected ${X.rows}`);
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights[${i}] = ${w} must be finite and >= 0`);
    }
  }
}

export function encodeClasses(y: readonly string[]): ClassTargets {
  const classes = [...new Set(y)].sort(compareLabels);
  const at = new Map(classes.map((c, i) => [c, i]));
  const index = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) index[i] = at.get(y[i] as string) as number;
  return { classes, index };
}

export function isLabels(y: Float64Array | readonly string[]): y is readonly string[] {
  return !(y instanceof Float64Array);
}

export function checkPredictInput(X: Matrix, width: number): void {
  checkMatrix(X);
  if (X.cols !== width) throw new RangeError(`X has ${X.cols} columns; the model was fitted on ${width}`);
}
