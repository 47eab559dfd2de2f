/**
 * The unit the featurizer is built from: one fitted transformer reading one raw column. Several may
 * read the same column (a high-cardinality categorical gets a target and a frequency encoding).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';

/**
 * How a raw column travels into the ONNX graph (see onnx-io.ts):
 * - `float32`: numbers as float [N,1] (NaN = missing);
 * - `epoch-ms`: datetimes as double [N,1] of epoch milliseconds (NaN = missing), since float32
 *   cannot hold epoch ms (its 24-bit mantissa is minutes apart in 2024);
 * - `string`: strings as string [N,1], missing as '';
 * - `tokens`: text already tokenized by `tokenize` (text.ts), string [N,T] padded with ''. ONNX
 *   opset 17 has no string-splitting operator, so the tokenizer cannot live in the graph.
 */
export type InputEncoding = 'float32' | 'epoch-ms' | 'string' | 'tokens';

export interface ColumnTransform {
  /** The raw column read. */
  readonly column: string;
  /** The storage kind the column must have. */
  readonly storage: Column['kind'];
  readonly encoding: InputEncoding;
  /** Which transformer this is, for the plan and the model manifest (e.g. 'OneHotEncoder'). */
  readonly transformer: string;
  readonly featureNames: readonly string[];
  /** Writes the features of every row into `out[row * stride + offset + j]`. */
  write(column: Column, out: Float64Array, stride: number, offset: number): void;
  /**
   * Adds the nodes computing the same features from graph input `input` (shaped as `encoding`
   * says); returns the name of a float tensor [N, featureNames.length].
   */
  exportOnnx(g: OnnxGraphBuilder, input: string): string;
}

/** What fitting a transformer gives: the transform, and the training rows' features where they differ. */
export interface FittedColumn {
  transform: ColumnTransform;
  /**
   * Row-major [rows, width] features of the training rows, when they must not be `transform`
   * applied to the training rows (target encoding: out-of-fold values). Absent otherwise.
   */
  train?: Float64Array;
}
