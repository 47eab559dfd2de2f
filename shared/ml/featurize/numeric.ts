/**
 * Numeric columns: imputation of missing values (mean, median, most frequent or a constant), a
 * missing-indicator feature when the training rows had missing values, and optional scaling.
 *
 * The graph takes numbers as float32 (FittedFeaturizer's contract), so this transform reads each
 * cell at float32 precision too (`Math.fround`): the features a model is trained on are the ones
 * it is served, and the two agree to float32 rounding of the result, however far the value is from
 * the offset. ONNX: Imputer (ai.onnx.ml) → Scaler (ai.onnx.ml), and IsNaN → Cast for the indicator.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { concatColumns, nanIndicator, one } from './onnx-ops.js';
import { applyScaler, fitScaler } from './scaler.js';
import type { FittedScaler, ScalerKind } from './scaler.js';
import { mean, median, mostFrequent, sortedFinite } from './stats.js';

export const IMPUTE_STRATEGIES = ['mean', 'median', 'most_frequent', 'constant'] as const;
export type ImputeStrategy = (typeof IMPUTE_STRATEGIES)[number];

export interface NumericImputer {
  strategy: ImputeStrategy;
  /** The value for `constant`. */
  fillValue?: number;
}

export interface NumericOptions {
  /** undefined: missing values pass through as NaN (featurization off). */
  imputer?: NumericImputer;
  scaler: ScalerKind;
}

export function fitNumeric(name: string, values: Float64Array, options: NumericOptions): FittedColumn {
  const x32 = Float64Array.from(values, Math.fround);
  let missing = 0;
  for (const v of x32) if (Number.isNaN(v)) missing++;
  let fill: number | undefined;
  if (options.imputer !== undefined) {
    const sorted = sortedFinite(x32);
    fill = Math.fround(imputeValue(sorted, options.imputer, name));
  }
  const imputed = fill === undefined ? x32 : x32.map((v) => (Number.isNaN(v) ? (fill as number) : v));
  const scaler = fitScaler(sortedFinite(imputed), options.scaler);
  return { transform: new NumericTransform(name, fill, missing > 0 && fill !== undefined, scaler) };
}

function imputeValue(sorted: Float64Array, imputer: NumericImputer, name: string): number {
  switch (imputer.strategy) {
    case 'constant':
      if (imputer.fillValue === undefined || !Number.isFinite(imputer.fillValue)) {
        throw new RangeError(`the constant imputer of column '${name}' needs a finite fill_value`);
      }
      return imputer.fillValue;
    case 'mean':
      return sorted.length === 0 ? 0 : mean(sorted);
    case 'median':
      return sorted.length === 0 ? 0 : median(sorted);
    case 'most_frequent':
      return sorted.length === 0 ? 0 : mostFrequent(sorted);
  }
}

export class NumericTransform implements ColumnTransform {
  readonly storage = 'numeric';
  readonly encoding = 'float32';
  readonly transformer: string;
  readonly featureNames: readonly string[];

  constructor(
    readonly column: string,
    /** float32 fill value; undefined: no imputation. */
    readonly fill: number | undefined,
    readonly indicator: boolean,
    readonly scaler: FittedScaler | undefined,
  ) {
    this.featureNames = indicator ? [column, `${column}:missing`] : [column];
    const parts = [fill === undefined ? 'PassThrough' : 'Imputer'];
    if (indicator) parts.push('MissingIndicator');
    if (scaler !== undefined) parts.push(`${scaler.kind}Scaler`);
    this.transformer = parts.join('+');
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const values = column.values as Float64Array;
    const { fill, scaler, indicator } = this;
    for (let r = 0; r < values.length; r++) {
      let v = Math.fround(values[r] as number);
      const isMissing = Number.isNaN(v);
      if (isMissing && fill !== undefined) v = fill;
      if (scaler !== undefined) v = applyScaler(scaler, v);
      out[r * stride + offset] = v;
      if (indicator) out[r * stride + offset + 1] = isMissing ? 1 : 0;
    }
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    let x = input;
    if (this.fill !== undefined) {
      x = one(
        g.node(
          'Imputer',
          [x],
          [g.fresh('imputed')],
          { imputed_value_floats: { floats: [this.fill] }, replaced_value_float: { f: Number.NaN } },
          'ai.onnx.ml',
        ),
      );
    }
    if (this.scaler !== undefined) {
      x = one(
        g.node(
          'Scaler',
          [x],
          [g.fresh('scaled')],
          { offset: { floats: [this.scaler.offset] }, scale: { floats: [this.scaler.scale] } },
          'ai.onnx.ml',
        ),
      );
    }
    return this.indicator ? concatColumns(g, [x, nanIndicator(g, input)]) : x;
  }
}
