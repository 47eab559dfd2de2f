/**
 * The shared vocabulary of `shared/ml`: tables of raw columns as they come out of an MLTable,
 * dense numeric matrices (row-major Float64Array) once featurized, fitted transformers and models
 * that predict in TypeScript and export themselves into one ONNX graph.
 *
 * Everything is deterministic for a given seed: randomness comes only from `Rng` (shared/ml/rng.ts).
 */
import type { OnnxGraphBuilder } from './onnx/builder.js';

/** A raw column: numbers (NaN = missing), strings (null = missing), or epoch-ms dates (NaN = missing). */
export type Column =
  | { kind: 'numeric'; name: string; values: Float64Array }
  | { kind: 'categorical'; name: string; values: (string | null)[] }
  | { kind: 'text'; name: string; values: (string | null)[] }
  | { kind: 'datetime'; name: string; values: Float64Array };

export interface Table {
  rows: number;
  columns: Column[];
}

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export type Task = 'classification' | 'regression' | 'forecasting';

/**
 * In an ONNX graph, a block of features: the name of a float tensor of shape [N, width], and
 * what each of its columns is (for explanations and manifests).
 */
export interface OnnxFeatures {
  tensor: string;
  width: number;
}

/** A fitted featurizer step: raw table → numeric matrix, and the same as ONNX nodes. */
export interface FittedFeaturizer {
  /** Names of the produced features, in column order. */
  readonly featureNames: readonly string[];
  transform(table: Table): Matrix;
  /**
   * Adds the nodes computing this step to `g`. `inputs` maps each raw column name to the graph
   * input that carries it: float [N,1] for numeric, double [N,1] of epoch ms for datetime (float32
   * cannot hold epoch ms), string [N,1] for categorical, and for text the tokens, string [N,T]
   * (opset 17 cannot split strings). shared/ml/featurize/onnx-io.ts declares and feeds them.
   */
  exportOnnx(g: OnnxGraphBuilder, inputs: ReadonlyMap<string, string>): OnnxFeatures;
}

/** A fitted model on a numeric matrix. */
export interface FittedModel {
  readonly task: 'classification' | 'regression';
  /** Class labels (classification), in the order of `predictProba`'s columns. */
  readonly classes?: readonly string[];
  /** Regression: the prediction; classification: the index into `classes` of the predicted class. */
  predict(X: Matrix): Float64Array;
  /** Classification: row-major [rows, classes.length] probabilities. */
  predictProba?(X: Matrix): Matrix;
  /**
   * Adds the model to `g`, reading `features`. Returns the graph tensor names of the outputs:
   * regression `{ prediction }` (float [N,1]); classification `{ label, probabilities }` (label: the
   * class string [N]; probabilities: float [N, classes]).
   */
  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string };
}

/** A trainer: hyperparameters in, fitted model out. `weights` are sample weights (optional). */
export interface Trainer<P> {
  /** The algorithm's Azure ML name(s) it implements, e.g. ['LightGBM'] for histogram GBM. */
  readonly azureNames: readonly string[];
  readonly name: string;
  fit(
    X: Matrix,
    y: Float64Array | readonly string[],
    params: P,
    options: { seed: number; weights?: Float64Array },
  ): FittedModel;
}
