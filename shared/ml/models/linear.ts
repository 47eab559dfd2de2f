/**
 * Linear models: penalized least squares (Azure ML names ElasticNet, LassoLars, SGD for regression)
 * and penalized logistic regression, binary and multinomial (LogisticRegression, SGD for
 * classification). All are fitted by the coordinate-descent solvers of `linear-solver.ts`, which
 * reach the optimum of the penalized objective; the objectives and hyperparameters follow
 * scikit-learn's, with two deliberate differences:
 *
 * - The penalty applies to standardized features (`standardize`, default true), as glmnet does and
 *   as Azure ML's pipelines get by putting a scaler before these models; coefficients are reported
 *   on the original features.
 * - LassoLars is the same L1 objective solved by coordinate descent instead of least-angle
 *   regression, and SGD is the same objective as scikit-learn's SGDRegressor (squared error) and
 *   SGDClassifier (loss 'log_loss') solved to convergence instead of by stochastic gradient steps.
 *   Hinge and modified-Huber losses are not implemented.
 *
 * Float32: the exported graph is a Scaler (x − offset)·scale, which centres and scales the features
 * as the solver did, then a LinearRegressor or LinearClassifier on those standardized features;
 * onnxruntime computes both in float32. So that the TypeScript model and its export are the same
 * model, every stored number (offsets, scales, coefficients, intercepts) is a float32 value, and
 * predict() reproduces the Scaler exactly (Math.fround after each float32 operation) before a
 * double-precision dot product. What remains between the two is onnxruntime's float32
 * accumulation of the dot product. Working on standardized features keeps that small: on raw
 * features, large offsets folded into the intercept would make the terms cancel.
 */
import { ValidationError } from '../../errors.js';
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import {
  fitBinomial,
  fitGaussian,
  fitMultinomial,
  originalScale,
  type LinearSolution,
  type Penalty,
  type SolverOptions,
} from './linear-solver.js';
import { compareLabels } from './class-labels.js';

/** Settings common to every linear trainer. */
export interface LinearSolverParams {
  /** Penalize standardized features (default true). */
  standardize?: boolean;
  /** Outer iterations (default 100). */
  maxIter?: number;
  /** Convergence threshold relative to the null deviance (default 1e-10). */
  tol?: number;
}

export type PenaltyKind = 'l2' | 'l1' | 'elasticnet' | 'none';

export interface ElasticNetParams extends LinearSolverParams {
  /** Penalty strength λ (default 1, as scikit-learn). */
  alpha?: number;
  /** Mix of L1 in the penalty, in [0, 1] (default 0.5). */
  l1Ratio?: number;
}

export interface LassoLarsParams extends LinearSolverParams {
  /** L1 penalty strength (default 1, as scikit-learn). */
  alpha?: number;
}

export interface SgdParams extends LinearSolverParams {
  /** Penalty strength (default 1e-4, as scikit-learn's SGD). */
  alpha?: number;
  penalty?: PenaltyKind;
  /** L1 share for penalty 'elasticnet' (default 0.15). */
  l1Ratio?: number;
}

export interface LogisticRegressionParams extends LinearSolverParams {
  /** Inverse penalty strength: the objective is C·Σ wᵢ lossᵢ + penalty (default 1). */
  C?: number;
  penalty?: PenaltyKind;
  /** L1 share for penalty 'elasticnet' (default 0.5). */
  l1Ratio?: number;
}

/** What a fit reports about the optimisation, for logs and tests. */
export interface LinearFitInfo {
  iterations: number;
  converged: boolean;
}

// ---- fitted models ----

/**
 * The standardization in front of a linear model, as the ONNX Scaler computes it: feature j becomes
 * float32((float32(xⱼ) − offset[j]) · scale[j]). Offsets and scales are float32 values.
 */
export class FeatureScaling {
  constructor(
    readonly offset: Float64Array,
    readonly scale: Float64Array,
  ) {}

  static fromSolution(solution: LinearSolution): FeatureScaling {
    return new FeatureScaling(
      Float64Array.from(solution.mean, Math.fround),
      Float64Array.from(solution.scale, (s) => Math.fround(1 / s)),
    );
  }

  get width(): number {
    return this.offset.length;
  }

  /** Row i of X, scaled, into `out`. */
  row(X: Matrix, i: number, out: Float64Array): void {
    const d = this.offset.length;
    for (let j = 0; j < d; j++) {
      const centred = Math.fround(Math.fround(X.data[i * d + j] as number) - (this.offset[j] as number));
      out[j] = Math.fround(centred * (this.scale[j] as number));
    }
  }

  exportOnnx(g: OnnxGraphBuilder, features: OnnxFeatures): string {
    checkFeatureWidth(features, this.width);
    const [scaled] = g.node(
      'Scaler',
      [features.tensor],
      [g.fresh('standardized')],
      { offset: { floats: [...this.offset] }, scale: { floats: [...this.scale] } },
      'ai.onnx.ml',
    );
    return scaled as string;
  }
}

/** y = b + w · scaling(x): a Scaler and a LinearRegressor in ONNX. */
export class LinearRegressionModel implements FittedModel {
  readonly task = 'regression';
  /** Coefficients and intercept on the original features (for explanations), in double precision. */
  readonly original: { coefficients: Float64Array; intercept: number };

  constructor(
    readonly scaling: FeatureScaling,
    /** Float32 coefficients of the scaled features, one per feature. */
    readonly coefficients: Float64Array,
    readonly intercept: number,
    readonly fit: LinearFitInfo,
  ) {
    const o = originalScale({
      coefficients,
      intercepts: Float64Array.of(intercept),
      mean: scaling.offset,
      scale: scaling.scale.map((s) => 1 / s),
      iterations: 0,
      converged: true,
    });
    this.original = { coefficients: o.coefficients, intercept: o.intercepts[0] as number };
  }

  predict(X: Matrix): Float64Array {
    const d = this.coefficients.length;
    checkWidth(X, d);
    const out = new Float64Array(X.rows);
    const x = new Float64Array(d);
    const w = this.coefficients;
    for (let i = 0; i < X.rows; i++) {
      this.scaling.row(X, i, x);
      let s = this.intercept;
      for (let j = 0; j < d; j++) s += (x[j] as number) * (w[j] as number);
      out[i] = s;
    }
    return out;
  }

  exportOnnx(g: OnnxGraphBuilder, features: OnnxFeatures): { prediction: string } {
    const scaled = this.scaling.exportOnnx(g, features);
    const [prediction] = g.node(
      'LinearRegressor',
      [scaled],
      [g.fresh('prediction')],
      {
        coefficients: { floats: [...this.coefficients] },
        intercepts: { floats: [this.intercept] },
        targets: { i: 1 },
      },
      'ai.onnx.ml',
    );
    return { prediction: prediction as string };
  }
}

/**
 * Logistic regression on scaled features. Binary: one coefficient row, p(classes[1]) = σ(b + w·x̃).
 * Multinomial: one row per class, probabilities by softmax. A Scaler and a LinearClassifier in ONNX.
 */
export class LogisticRegressionModel implements FittedModel {
  readonly task = 'classification';
  /** Coefficients and intercepts on the original features (for explanations), in double precision. */
  readonly original: { coefficients: Float64Array; intercepts: Float64Array };

  constructor(
    readonly classes: readonly string[],
    readonly scaling: FeatureScaling,
    /** Float32, row-major [rows, features]; rows = 1 (binary) or classes.length. */
    readonly coefficients: Float64Array,
    readonly intercepts: Float64Array,
    readonly fit: LinearFitInfo,
  ) {
    this.original = originalScale({
      coefficients,
      intercepts,
      mean: scaling.offset,
      scale: scaling.scale.map((s) => 1 / s),
      iterations: 0,
      converged: true,
    });
  }

  private get width(): number {
    return this.coefficients.length / this.intercepts.length;
  }

  predictProba(X: Matrix): Matrix {
    const d = this.width;
    checkWidth(X, d);
    const K = this.classes.length;
    const rowsOfW = this.intercepts.length;
    const { rows } = X;
    const out = new Float64Array(rows * K);
    const s = new Float64Array(rowsOfW);
    const x = new Float64Array(d);
    for (let i = 0; i < rows; i++) {
      this.scaling.row(X, i, x);
      for (let k = 0; k < rowsOfW; k++) {
        let v = this.intercepts[k] as number;
        const off = k * d;
        for (let j = 0; j < d; j++) v += (x[j] as number) * (this.coefficients[off + j] as number);
        s[k] = v;
      }
      if (rowsOfW === 1) {
        const v = s[0] as number;
        // σ(−v) rather than 1 − σ(v): keeps small probabilities accurate.
        out[i * 2] = 1 / (1 + Math.exp(v));
        out[i * 2 + 1] = 1 / (1 + Math.exp(-v));
      } else {
        let m = -Infinity;
        for (let k = 0; k < K; k++) m = Math.max(m, s[k] as number);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp((s[k] as number) - m);
        for (let k = 0; k < K; k++) out[i * K + k] = Math.exp((s[k] as number) - m) / sum;
      }
    }
    return { rows, cols: K, data: out };
  }

  predict(X: Matrix): Float64Array {
    const proba = this.predictProba(X);
    const K = proba.cols;
    const out = new Float64Array(proba.rows);
    for (let i = 0; i < proba.rows; i++) {
      let best = 0;
      for (let k = 1; k < K; k++)
        if ((proba.data[i * K + k] as number) > (proba.data[i * K + best] as number)) best = k;
      out[i] = best;
    }
    return out;
  }

  /**
   * LinearClassifier with SOFTMAX. The binary model is written as two rows, (0, 0) and (w, b):
   * softmax(0, s) = (σ(−s), σ(s)) is the same model, and onnxruntime computes both probabilities
   * directly, where its LOGISTIC path would give the first as 1 − σ(s) and lose the small ones to
   * float32 cancellation.
   */
  exportOnnx(g: OnnxGraphBuilder, features: OnnxFeatures): { label: string; probabilities: string } {
    const d = this.width;
    const scaled = this.scaling.exportOnnx(g, features);
    const binary = this.intercepts.length === 1;
    const coefficients = binary ? [...new Array<number>(d).fill(0), ...this.coefficients] : [...this.coefficients];
    const intercepts = binary ? [0, this.intercepts[0] as number] : [...this.intercepts];
    const [label, probabilities] = g.node(
      'LinearClassifier',
      [scaled],
      [g.fresh('label'), g.fresh('probabilities')],
      {
        classlabels_strings: { strings: [...this.classes] },
        coefficients: { floats: coefficients },
        intercepts: { floats: intercepts },
        multi_class: { i: binary ? 0 : 1 },
        post_transform: { s: 'SOFTMAX' },
      },
      'ai.onnx.ml',
    );
    return { label: label as string, probabilities: probabilities as string };
  }
}

// ---- trainers ----

const DEFAULT_SOLVER = { standardize: true, maxIter: 100, tol: 1e-10 };

export const elasticNetTrainer: Trainer<ElasticNetParams> = {
  azureNames: ['ElasticNet'],
  name: 'elastic-net',
  fit(X, y, params, options) {
    const penalty: Penalty = {
      lambda: nonNegative(params.alpha ?? 1, 'alpha'),
      l1Ratio: ratio(params.l1Ratio ?? 0.5, 'l1Ratio'),
    };
    return fitRegression(X, y, penalty, params, options.weights);
  },
};

export const lassoLarsTrainer: Trainer<LassoLarsParams> = {
  azureNames: ['LassoLars'],
  name: 'lasso-lars',
  fit(X, y, params, options) {
    return fitRegression(
      X,
      y,
      { lambda: nonNegative(params.alpha ?? 1, 'alpha'), l1Ratio: 1 },
      params,
      options.weights,
    );
  },
};

export const sgdRegressorTrainer: Trainer<SgdParams> = {
  azureNames: ['SGD'],
  name: 'sgd-regressor',
  fit(X, y, params, options) {
    const penalty = penaltyOf(
      params.penalty ?? 'l2',
      nonNegative(params.alpha ?? 1e-4, 'alpha'),
      params.l1Ratio ?? 0.15,
    );
    return fitRegression(X, y, penalty, params, options.weights);
  },
};

export const sgdClassifierTrainer: Trainer<SgdParams> = {
  azureNames: ['SGD'],
  name: 'sgd-classifier',
  fit(X, y, params, options) {
    const penalty = penaltyOf(
      params.penalty ?? 'l2',
      nonNegative(params.alpha ?? 1e-4, 'alpha'),
      params.l1Ratio ?? 0.15,
    );
    return fitClassification(X, y, penalty, params, options.weights);
  },
};

export const logisticRegressionTrainer: Trainer<LogisticRegressionParams> = {
  azureNames: ['LogisticRegression'],
  name: 'logistic-regression',
  fit(X, y, params, options) {
    const C = params.C ?? 1;
    if (!(C > 0) || !Number.isFinite(C))
      throw new ValidationError(`C must be a positive number; got ${C}`, { target: 'C' });
    // C·Σ sᵢ lossᵢ + P(β)  ⇔  Σ (sᵢ/S) lossᵢ + P(β)/(C·S), S = Σ sᵢ (n without weights).
    const S = options.weights === undefined ? X.rows : options.weights.reduce((a, b) => a + b, 0);
    const penalty = penaltyOf(params.penalty ?? 'l2', 1 / (C * S), params.l1Ratio ?? 0.5);
    return fitClassification(X, y, penalty, params, options.weights);
  },
};

/** The linear trainers by task. */
export const LINEAR_TRAINERS = {
  regression: [elasticNetTrainer, lassoLarsTrainer, sgdRegressorTrainer],
  classification: [logisticRegressionTrainer, sgdClassifierTrainer],
} as const;

function fitRegression(
  X: Matrix,
  y: Float64Array | readonly string[],
  penalty: Penalty,
  params: LinearSolverParams,
  weights: Float64Array | undefined,
): LinearRegressionModel {
  checkData(X, y, weights);
  if (!(y instanceof Float64Array)) {
    throw new ValidationError('regression needs a numeric target (Float64Array); got labels', { target: 'y' });
  }
  const bad = y.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new ValidationError(`the target is not a finite number at row ${bad}: ${y[bad]}`, { target: 'y' });
  const solution = fitGaussian(X, y, weights, penalty, solverOptions(params));
  return new LinearRegressionModel(
    FeatureScaling.fromSolution(solution),
    Float64Array.from(solution.coefficients, Math.fround),
    Math.fround(solution.intercepts[0] as number),
    fitInfo(solution),
  );
}

function fitClassification(
  X: Matrix,
  y: Float64Array | readonly string[],
  penalty: Penalty,
  params: LinearSolverParams,
  weights: Float64Array | undefined,
): LogisticRegressionModel {
  checkData(X, y, weights);
  const labels = y instanceof Float64Array ? Array.from(y, (v) => String(v)) : y;
  const classes = [...new Set(labels)].sort(compareLabels);
  if (classes.length < 2) {
    throw new ValidationError(
      `classification needs at least two classes; the target has ${classes.length === 0 ? 'none' : `only '${classes[0]}'`}`,
      { target: 'y' },
    );
  }
  const index = new Map(classes.map((c, k) => [c, k]));
  const options = solverOptions(params);
  let solution: LinearSolution;
  if (classes.length === 2) {
    const y01 = Uint8Array.from(labels, (l) => index.get(l) as number);
    solution = fitBinomial(X, y01, weights, penalty, options);
  } else {
    const yk = Uint32Array.from(labels, (l) => index.get(l) as number);
    solution = fitMultinomial(X, yk, classes.length, weights, penalty, options);
  }
  return new LogisticRegressionModel(
    classes,
    FeatureScaling.fromSolution(solution),
    Float64Array.from(solution.coefficients, Math.fround),
    Float64Array.from(solution.intercepts, Math.fround),
    fitInfo(solution),
  );
}

function fitInfo(solution: LinearSolution): LinearFitInfo {
  return { iterations: solution.iterations, converged: solution.converged };
}

function penaltyOf(kind: PenaltyKind, lambda: number, l1Ratio: number): Penalty {
  switch (kind) {
    case 'l2':
      return { lambda, l1Ratio: 0 };
    case 'l1':
      return { lambda, l1Ratio: 1 };
    case 'elasticnet':
      return { lambda, l1Ratio: ratio(l1Ratio, 'l1Ratio') };
    case 'none':
      return { lambda: 0, l1Ratio: 0 };
    default:
      throw new ValidationError(`penalty must be one of l2, l1, elasticnet, none; got '${String(kind)}'`, {
        target: 'penalty',
      });
  }
}

function solverOptions(params: LinearSolverParams): SolverOptions {
  const maxIter = params.maxIter ?? DEFAULT_SOLVER.maxIter;
  if (!Number.isInteger(maxIter) || maxIter < 1) {
    throw new ValidationError(`maxIter must be a positive integer; got ${maxIter}`, { target: 'maxIter' });
  }
  const tol = params.tol ?? DEFAULT_SOLVER.tol;
  if (!(tol > 0) || !Number.isFinite(tol))
    throw new ValidationError(`tol must be a positive number; got ${tol}`, { target: 'tol' });
  return { standardize: params.standardize ?? DEFAULT_SOLVER.standardize, maxIter, tol };
}

function nonNegative(value: number, name: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new ValidationError(`${name} must be a non-negative number; got ${value}`, { target: name });
  }
  return value;
}

function ratio(value: number, name: string): number {
  if (!(value >= 0 && value <= 1))
    throw new ValidationError(`${name} must be in [0, 1]; got ${value}`, { target: name });
  return value;
}

function checkData(X: Matrix, y: Float64Array | readonly string[], weights: Float64Array | undefined): void {
  if (X.data.length !== X.rows * X.cols) {
    throw new ValidationError(`X has ${X.data.length} values for ${X.rows} rows × ${X.cols} columns`, { target: 'X' });
  }
  if (X.rows === 0) throw new ValidationError('X has no rows', { target: 'X' });
  if (y.length !== X.rows)
    throw new ValidationError(`y has ${y.length} values for ${X.rows} rows of X`, { target: 'y' });
  const bad = X.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const row = Math.floor(bad / X.cols);
    throw new ValidationError(
      `linear models need finite features (impute missing values first); X[${row}, ${bad - row * X.cols}] is ${X.data[bad]}`,
      { target: 'X' },
    );
  }
  if (weights !== undefined) {
    if (weights.length !== X.rows) {
      throw new ValidationError(`weights has ${weights.length} values for ${X.rows} rows`, { target: 'weights' });
    }
    const badW = weights.findIndex((v) => !(v >= 0) || !Number.isFinite(v));
    if (badW >= 0) {
      throw new ValidationError(`weights must be finite and non-negative; weights[${badW}] is ${weights[badW]}`, {
        target: 'weights',
      });
    }
    if (!(weights.reduce((a, b) => a + b, 0) > 0)) {
      throw new ValidationError('weights must not all be zero', { target: 'weights' });
    }
  }
}

function checkWidth(X: Matrix, d: number): void {
  if (X.cols !== d) throw new RangeError(`X has ${X.cols} columns; the model was fitted on ${d}`);
}

function checkFeatureWidth(features: OnnxFeatures, d: number): void {
  if (features.width !== d) {
    throw new RangeError(`features '${features.tensor}' are ${features.width} wide; the model was fitted on ${d}`);
  }
}
