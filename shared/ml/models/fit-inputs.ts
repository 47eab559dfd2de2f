/**
 * Checks and normalizes what every tree trainer receives: the matrix, the target (its type decides
 * the task: numbers → regression, strings → classification) and the optional sample weights.
 * Bad arguments throw a TypeError or RangeError that names the parameter.
 */
import type { Matrix } from '../types.js';
import { encodeLabels } from './class-labels.js';

export type FitTarget =
  { task: 'regression'; y: Float64Array } | { task: 'classification'; classes: readonly string[]; codes: Int32Array };

export function checkMatrix(X: Matrix, name = 'X'): void {
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols < 1) {
    throw new RangeError(`${name} must have a non-negative integer row count and at least one column`);
  }
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(`${name}.data has ${X.data.length} values; ${name} is ${X.rows} × ${X.cols}`);
  }
}

export function resolveTarget(X: Matrix, y: Float64Array | readonly string[]): FitTarget {
  checkMatrix(X);
  if (X.rows < 2) throw new RangeError(`X must have at least two rows to fit; got ${X.rows}`);
  if (y.length !== X.rows) throw new RangeError(`y has ${y.length} values; X has ${X.rows} rows`);
  if (y instanceof Float64Array) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i])) throw new RangeError(`y[${i}] must be a finite number; got ${y[i]}`);
    }
    return { task: 'regression', y };
  }
  for (let i = 0; i < y.length; i++) {
    if (typeof y[i] !== 'string') throw new TypeError(`y[${i}] must be a string class label`);
  }
  return { task: 'classification', ...encodeLabels(y) };
}

/** The sample weights, or all ones; each weight must be finite and ≥ 0, and some must be > 0. */
export function resolveWeights(weights: Float64Array | undefined, rows: number): Float64Array {
  if (weights === undefined) return new Float64Array(rows).fill(1);
  if (weights.length !== rows) throw new RangeError(`weights has ${weights.length} values; X has ${rows} rows`);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const w = weights[i] as number;
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`weights[${i}] must be finite and ≥ 0; got ${w}`);
    total += w;
  }
  if (!(total > 0)) throw new RangeError('weights must not all be zero');
  return weights;
}

/** Checks `value` is an integer ≥ `min` (or Infinity when `allowInfinity`), naming `param`. */
export function checkInteger(param: string, value: number, min: number, allowInfinity = false): number {
  if (!(Number.isInteger(value) || (allowInfinity && value === Infinity)) || value < min) {
    throw new RangeError(`${param} must be an integer ≥ ${min}${allowInfinity ? ' or Infinity' : ''}; got ${value}`);
  }
  return value;
}

/** Checks `value` is a finite number in [min, max] (or (min, max] when `openMin`), naming `param`. */
export function checkRange(param: string, value: number, min: number, max: number, openMin = false): number {
  if (!Number.isFinite(value) || value > max || (openMin ? value <= min : value < min)) {
    throw new RangeError(`${param} must be in ${openMin ? '(' : '['}${min}, ${max}]; got ${value}`);
  }
  return value;
}
