/**
 * Naive Bayes classifiers, as scikit-learn fits them: Gaussian (GaussianNB), multinomial
 * (MultinomialNB, Azure's MultinomialNaiveBayes) and Bernoulli (BernoulliNB, Azure's
 * BernoulliNaiveBayes). Azure's AutoML does not offer a Gaussian one; GaussianNaiveBayes is our
 * name for it.
 *
 * Each model is a joint log-likelihood per class, jll(x) = log prior + log p(x | class);
 * probabilities are its softmax and the label its arg-max. Sample weights weigh the per-class
 * means, variances, counts and priors (scikit-learn's sample_weight).
 *
 * ONNX: the graph casts its float32 features to double and computes the jll, its softmax and its
 * arg-max in double from double constants, as TypeScript does after reading each feature as a
 * float32 value (`Math.fround`, exactly what the graph receives); only the probabilities are cast
 * to float at the end. On raw features (a year, an income) each class's jll is in the thousands,
 * and float32 arithmetic there would move the probabilities by 1e-4 relative or more (see
 * ARCHITECTURE.md for the same choice in the tree models).
 */
import { ValidationError } from '../../errors.js';
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import { checkFitInput, checkPredictInput, encodeClasses, isLabels } from './fit-input.js';
import { cast, doubleTensor, int64Constant, op } from './onnx-helpers.js';

export interface GaussianNaiveBayesParams {
  /** var_smoothing: this fraction of the largest feature variance is added to every variance (default 1e-9). */
  varSmoothing?: number;
  /** Class priors in class order (sorted labels); default: the (weighted) class frequencies. */
  priors?: readonly number[];
}

export interface MultinomialNaiveBayesParams {
  /** Additive (Laplace/Lidstone) smoothing (default 1). */
  alpha?: number;
  /** Learn class priors (default true); false gives uniform priors. */
  fitPrior?: boolean;
}

export interface BernoulliNaiveBayesParams extends MultinomialNaiveBayesParams {
  /** Features above this are 1, others 0 (default 0); null: the features are already 0/1. */
  binarize?: number | null;
}

/** What every naive Bayes variant shares: classes, and how jll becomes labels and probabilities. */
abstract class FittedNaiveBayes implements FittedModel {
  readonly task = 'classification' as const;

  constructor(
    readonly classes: readonly string[],
    protected readonly width: number,
  ) {}

  /** Row-major [rows, classes] joint log-likelihood, each feature read as float32 (as the graph reads it). */
  abstract jointLogLikelihood(X: Matrix): Float64Array;

  /** The jll as ONNX nodes from the double [N, width] features: a double [N, classes] tensor name. */
  protected abstract exportJll(g: OnnxGraphBuilder, x: string): string;

  /** softmax(jll) as the graph computes it: exp(jll − row max), divided by its row sum. */
  predictProba(X: Matrix): Matrix {
    const jll = this.jointLogLikelihood(X);
    const nc = this.classes.length;
    const data = new Float64Array(X.rows * nc);
    for (let r = 0; r < X.rows; r++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < nc; c++) max = Math.max(max, jll[r * nc + c] as number);
      let sum = 0;
      for (let c = 0; c < nc; c++) {
        const e = Math.exp((jll[r * nc + c] as number) - max);
        data[r * nc + c] = e;
        sum += e;
      }
      for (let c = 0; c < nc; c++) data[r * nc + c] = (data[r * nc + c] as number) / sum;
    }
    return { rows: X.rows, cols: nc, data };
  }

  predict(X: Matrix): Float64Array {
    const jll = this.jointLogLikelihood(X);
    const nc = this.classes.length;
    const out = new Float64Array(X.rows);
    for (let r = 0; r < X.rows; r++) {
      let best = 0;
      for (let c = 1; c < nc; c++) if ((jll[r * nc + c] as number) > (jll[r * nc + best] as number)) best = c;
      out[r] = best;
    }
    return out;
  }

  exportOnnx(g: OnnxGraphBuilder, features: OnnxFeatures): { label: string; probabilities: string } {
    if (features.width !== this.width) {
      throw new RangeError(`features.width is ${features.width}; the model was fitted on ${this.width}`);
    }
    const jll = this.exportJll(g, cast(g, features.tensor, 'double', 'nb_features_f64'));
    const max = op(g, 'ReduceMax', [jll], 'nb_max', { axes: { ints: [1] }, keepdims: { i: 1 } });
    const exp = op(g, 'Exp', [op(g, 'Sub', [jll, max], 'nb_shifted')], 'nb_exp');
    const sum = op(g, 'ReduceSum', [exp, int64Constant(g, 'nb_axis1', [1])], 'nb_sum', { keepdims: { i: 1 } });
    const probabilities = cast(g, op(g, 'Div', [exp, sum], 'nb_probabilities_f64'), 'float', 'nb_probabilities');
    const argmax = op(g, 'ArgMax', [jll], 'nb_argmax', { axis: { i: 1 }, keepdims: { i: 0 } });
    const classes = g.constant('nb_classes', { type: 'string', dims: [this.classes.length], data: this.classes });
    const label = op(g, 'Gather', [classes, argmax], 'nb_label', { axis: { i: 0 } });
    return { label, probabilities };
  }
}

class FittedGaussianNaiveBayes extends FittedNaiveBayes {
  /** [classes, width] means and variances (smoothing included); [classes] constant terms. */
  constructor(
    classes: readonly string[],
    width: number,
    private readonly theta: Float64Array,
    private readonly variance: Float64Array,
    private readonly constant: Float64Array,
  ) {
    super(classes, width);
  }

  jointLogLikelihood(X: Matrix): Float64Array {
    checkPredictInput(X, this.width);
    const nc = this.classes.length;
    const d = this.width;
    const out = new Float64Array(X.rows * nc);
    for (let r = 0; r < X.rows; r++) {
      for (let c = 0; c < nc; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = Math.fround(X.data[r * d + j] as number) - (this.theta[c * d + j] as number);
          s += (diff * diff) / (this.variance[c * d + j] as number);
        }
        out[r * nc + c] = (this.constant[c] as number) - 0.5 * s;
      }
    }
    return out;
  }

  protected exportJll(g: OnnxGraphBuilder, x: string): string {
    const nc = this.classes.length;
    const d = this.width;
    // (x - theta)^2 / var per class, exactly as in TypeScript (no expanded form: N x classes x width is small).
    const x3 = op(g, 'Unsqueeze', [x, int64Constant(g, 'gnb_axis1', [1])], 'gnb_x3');
    const diff = op(g, 'Sub', [x3, doubleTensor(g, 'gnb_theta', [1, nc, d], this.theta)], 'gnb_diff');
    const sq = op(g, 'Mul', [diff, diff], 'gnb_sq');
    const scaled = op(g, 'Div', [sq, doubleTensor(g, 'gnb_var', [1, nc, d], this.variance)], 'gnb_scaled');
    const sum = op(g, 'ReduceSum', [scaled, int64Constant(g, 'gnb_axis2', [2])], 'gnb_sum', { keepdims: { i: 0 } });
    const half = op(g, 'Mul', [sum, doubleTensor(g, 'gnb_minus_half', [], [-0.5])], 'gnb_half');
    return op(g, 'Add', [half, doubleTensor(g, 'gnb_constant', [1, nc], this.constant)], 'gnb_jll');
  }
}

/** Multinomial and Bernoulli share a linear jll: X' @ W^T + b (X' binarized for Bernoulli). */
class FittedLinearNaiveBayes extends FittedNaiveBayes {
  constructor(
    classes: readonly string[],
    width: number,
    /** [classes, width] */
    private readonly coef: Float64Array,
    /** [classes] */
    private readonly intercept: Float64Array,
    private readonly binarize: number | null,
    private readonly prefix: string,
  ) {
    super(classes, width);
  }

  jointLogLikelihood(X: Matrix): Float64Array {
    checkPredictInput(X, this.width);
    const nc = this.classes.length;
    const d = this.width;
    const out = new Float64Array(X.rows * nc);
    for (let r = 0; r < X.rows; r++) {
      for (let c = 0; c < nc; c++) {
        // The graph's order: MatMul, then Add of the intercept.
        let s = 0;
        for (let j = 0; j < d; j++) {
          let v = Math.fround(X.data[r * d + j] as number);
          if (this.binarize !== null) v = v > this.binarize ? 1 : 0;
          s += v * (this.coef[c * d + j] as number);
        }
        out[r * nc + c] = s + (this.intercept[c] as number);
      }
    }
    return out;
  }

  protected exportJll(g: OnnxGraphBuilder, x: string): string {
    const nc = this.classes.length;
    const d = this.width;
    const p = this.prefix;
    let input = x;
    if (this.binarize !== null) {
      // Compared in double, so a threshold that is not a float32 value splits as in TypeScript.
      const above = op(g, 'Greater', [x, doubleTensor(g, `${p}_threshold`, [], [this.binarize])], `${p}_above`);
      input = cast(g, above, 'double', `${p}_binary`);
    }
    const transposed = new Float64Array(d * nc);
    for (let c = 0; c < nc; c++) for (let j = 0; j < d; j++) transposed[j * nc + c] = this.coef[c * d + j] as number;
    const product = op(g, 'MatMul', [input, doubleTensor(g, `${p}_coef`, [d, nc], transposed)], `${p}_product`);
    return op(g, 'Add', [product, doubleTensor(g, `${p}_intercept`, [1, nc], this.intercept)], `${p}_jll`);
  }
}

function classificationTargets(
  y: Float64Array | readonly string[],
  trainer: string,
): { classes: string[]; index: Int32Array } {
  if (!isLabels(y)) throw new TypeError(`y: ${trainer} is a classifier; pass class labels (strings), not numbers`);
  return encodeClasses(y);
}

function classWeights(index: Int32Array, nc: number, weights: Float64Array | undefined): Float64Array {
  const out = new Float64Array(nc);
  for (let i = 0; i < index.length; i++)
    out[index[i] as number] = (out[index[i] as number] as number) + (weights?.[i] ?? 1);
  return out;
}

function logPriors(counts: Float64Array, fitPrior: boolean): Float64Array {
  const nc = counts.length;
  if (!fitPrior) return new Float64Array(nc).fill(-Math.log(nc));
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => Math.log(c) - Math.log(total));
}

function checkAlpha(alpha: number): void {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new RangeError(`alpha must be finite and >= 0; got ${alpha}`);
}

export const gaussianNaiveBayesTrainer: Trainer<GaussianNaiveBayesParams> = {
  azureNames: ['GaussianNaiveBayes'],
  name: 'gaussian-naive-bayes',
  fit(X, y, params, options) {
    checkFitInput(X, y, options.weights, 1);
    const { classes, index } = classificationTargets(y, 'GaussianNaiveBayes');
    const varSmoothing = params.varSmoothing ?? 1e-9;
    if (!(varSmoothing >= 0)) throw new RangeError(`varSmoothing must be >= 0; got ${varSmoothing}`);
    const nc = classes.length;
    const d = X.cols;
    const n = X.rows;
    const w = options.weights;

    // epsilon = var_smoothing * the largest (unweighted) feature variance, as scikit-learn.
    let maxVar = 0;
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += X.data[i * d + j] as number;
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += ((X.data[i * d + j] as number) - mean) ** 2;
      maxVar = Math.max(maxVar, v / n);
    }
    const epsilon = varSmoothing * maxVar;

    const counts = classWeights(index, nc, w);
    const theta = new Float64Array(nc * d);
    const variance = new Float64Array(nc * d);
    for (let i = 0; i < n; i++) {
      const c = index[i] as number;
      const wi = w?.[i] ?? 1;
      for (let j = 0; j < d; j++) theta[c * d + j] = (theta[c * d + j] as number) + wi * (X.data[i * d + j] as number);
    }
    for (let c = 0; c < nc; c++)
      for (let j = 0; j < d; j++) theta[c * d + j] = (theta[c * d + j] as number) / (counts[c] as number);
    for (let i = 0; i < n; i++) {
      const c = index[i] as number;
      const wi = w?.[i] ?? 1;
      for (let j = 0; j < d; j++) {
        const diff = (X.data[i * d + j] as number) - (theta[c * d + j] as number);
        variance[c * d + j] = (variance[c * d + j] as number) + wi * diff * diff;
      }
    }
    for (let c = 0; c < nc; c++) {
      if (!((counts[c] as number) > 0)) {
        throw new ValidationError(
          `class '${classes[c]}' has zero total sample weight; GaussianNaiveBayes cannot fit it`,
        );
      }
      for (let j = 0; j < d; j++) {
        variance[c * d + j] = (variance[c * d + j] as number) / (counts[c] as number) + epsilon;
      }
    }
    if (variance.some((v) => !(v > 0))) {
      throw new ValidationError(
        'GaussianNaiveBayes: a class has a constant feature and every feature is constant overall; ' +
          'var_smoothing cannot make the variance positive. Drop constant features.',
      );
    }

    let logPrior: Float64Array;
    if (params.priors !== undefined) {
      const priors = params.priors;
      if (priors.length !== nc) throw new RangeError(`priors has ${priors.length} entries; there are ${nc} classes`);
      const sum = priors.reduce((a, b) => a + b, 0);
      if (priors.some((p) => !(p >= 0)) || Math.abs(sum - 1) > 1e-8) {
        throw new RangeError('priors must be non-negative and sum to 1');
      }
      logPrior = Float64Array.from(priors, (p) => Math.log(p));
    } else {
      logPrior = logPriors(counts, true);
    }
    const constant = new Float64Array(nc);
    for (let c = 0; c < nc; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.log(2 * Math.PI * (variance[c * d + j] as number));
      constant[c] = (logPrior[c] as number) - 0.5 * s;
    }
    return new FittedGaussianNaiveBayes(classes, d, theta, variance, constant);
  },
};

/** Weighted per-class feature sums of X (or of its binarized form). */
function featureCounts(
  X: Matrix,
  index: Int32Array,
  nc: number,
  weights: Float64Array | undefined,
  binarize: number | null,
): Float64Array {
  const d = X.cols;
  const out = new Float64Array(nc * d);
  for (let i = 0; i < X.rows; i++) {
    const c = index[i] as number;
    const wi = weights?.[i] ?? 1;
    for (let j = 0; j < d; j++) {
      let v = X.data[i * d + j] as number;
      if (binarize !== null) v = v > binarize ? 1 : 0;
      out[c * d + j] = (out[c * d + j] as number) + wi * v;
    }
  }
  return out;
}

export const multinomialNaiveBayesTrainer: Trainer<MultinomialNaiveBayesParams> = {
  azureNames: ['MultinomialNaiveBayes'],
  name: 'multinomial-naive-bayes',
  fit(X, y, params, options) {
    checkFitInput(X, y, options.weights, 1);
    const { classes, index } = classificationTargets(y, 'MultinomialNaiveBayes');
    for (let i = 0; i < X.data.length; i++) {
      if ((X.data[i] as number) < 0) {
        throw new ValidationError(
          `MultinomialNaiveBayes needs non-negative features (counts or frequencies); row ${Math.floor(i / X.cols)}, ` +
            `column ${i % X.cols} is ${X.data[i]}. Scale features to [0, 1] or use GaussianNaiveBayes.`,
        );
      }
    }
    // scikit-learn raises alpha below 1e-10 to 1e-10 (force_alpha=False) so no log(0).
    const alpha = Math.max(params.alpha ?? 1, 1e-10);
    checkAlpha(alpha);
    const nc = classes.length;
    const d = X.cols;
    const fc = featureCounts(X, index, nc, options.weights, null);
    const coef = new Float64Array(nc * d);
    for (let c = 0; c < nc; c++) {
      let total = 0;
      for (let j = 0; j < d; j++) total += (fc[c * d + j] as number) + alpha;
      for (let j = 0; j < d; j++) coef[c * d + j] = Math.log((fc[c * d + j] as number) + alpha) - Math.log(total);
    }
    const intercept = logPriors(classWeights(index, nc, options.weights), params.fitPrior ?? true);
    return new FittedLinearNaiveBayes(classes, d, coef, intercept, null, 'mnb');
  },
};

export const bernoulliNaiveBayesTrainer: Trainer<BernoulliNaiveBayesParams> = {
  azureNames: ['BernoulliNaiveBayes'],
  name: 'bernoulli-naive-bayes',
  fit(X, y, params, options) {
    checkFitInput(X, y, options.weights, 1);
    const { classes, index } = classificationTargets(y, 'BernoulliNaiveBayes');
    const alpha = Math.max(params.alpha ?? 1, 1e-10);
    checkAlpha(alpha);
    const binarize = params.binarize === undefined ? 0 : params.binarize;
    const nc = classes.length;
    const d = X.cols;
    const counts = classWeights(index, nc, options.weights);
    const fc = featureCounts(X, index, nc, options.weights, binarize);
    // jll = sum_j x_j log p + (1 - x_j) log(1 - p) + log prior = x . (log p - log(1-p)) + sum log(1-p) + log prior.
    const coef = new Float64Array(nc * d);
    const intercept = logPriors(counts, params.fitPrior ?? true);
    for (let c = 0; c < nc; c++) {
      let negSum = 0;
      for (let j = 0; j < d; j++) {
        const logP = Math.log((fc[c * d + j] as number) + alpha) - Math.log((counts[c] as number) + 2 * alpha);
        const logNotP = Math.log(1 - Math.exp(logP));
        coef[c * d + j] = logP - logNotP;
        negSum += logNotP;
      }
      intercept[c] = (intercept[c] as number) + negSum;
    }
    return new FittedLinearNaiveBayes(classes, d, coef, intercept, binarize, 'bnb');
  },
};
