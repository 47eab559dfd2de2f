/**
 * k-nearest neighbours (Azure's KNN: scikit-learn's KNeighborsClassifier / KNeighborsRegressor)
 * with the euclidean metric and brute-force search.
 *
 * - Neighbours are the k rows of smallest distance; equal distances go to the lower training row.
 * - weights 'uniform' counts each neighbour once; 'distance' weighs it by 1/d, and when some
 *   neighbours are at distance 0 they alone vote, equally (scikit-learn's rule).
 * - Sample weights (not in scikit-learn's KNN) multiply each neighbour's vote.
 * - k larger than the training set is lowered to its size.
 *
 * The ONNX export finds candidates with MatMul + ReduceSumSquare on mean-centred rows, keeps the
 * k nearest with TopK, then recomputes their distances exactly from the gathered rows, so the
 * 1/d weights and the distance-0 rule do not suffer the cancellation of the expanded form.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import { checkFitInput, checkPredictInput, encodeClasses, isLabels } from './fit-input.js';
import { floatTensor, int64Constant, op } from './onnx-helpers.js';

export interface KnnParams {
  /** n_neighbors (default 5). */
  nNeighbors?: number;
  /** 'uniform' (default) or 'distance'. */
  weights?: 'uniform' | 'distance';
}

interface Neighbours {
  /** [rows, k] training row indices, nearest first. */
  index: Int32Array;
  /** [rows, k] vote weights (sample weight included), not normalized. */
  weight: Float64Array;
}

class FittedKnn implements FittedModel {
  readonly task: 'classification' | 'regression';
  readonly classes?: readonly string[];

  constructor(
    private readonly train: Matrix,
    private readonly k: number,
    private readonly weighting: 'uniform' | 'distance',
    private readonly sampleWeights: Float64Array | undefined,
    private readonly target:
      { kind: 'classes'; classes: string[]; index: Int32Array } | { kind: 'values'; values: Float64Array },
  ) {
    this.task = target.kind === 'classes' ? 'classification' : 'regression';
    if (target.kind === 'classes') this.classes = target.classes;
  }

  private neighbours(X: Matrix): Neighbours {
    checkPredictInput(X, this.train.cols);
    const { k } = this;
    const m = this.train.rows;
    const d = this.train.cols;
    const T = this.train.data;
    const index = new Int32Array(X.rows * k);
    const weight = new Float64Array(X.rows * k);
    const bestD = new Float64Array(k);
    const bestI = new Int32Array(k);
    for (let r = 0; r < X.rows; r++) {
      let filled = 0;
      const xo = r * d;
      for (let j = 0; j < m; j++) {
        let dist = 0;
        const to = j * d;
        for (let c = 0; c < d; c++) {
          const diff = (X.data[xo + c] as number) - (T[to + c] as number);
          dist += diff * diff;
        }
        // Sorted insertion; strict comparisons keep the lower row first among equal distances.
        if (filled < k) {
          let p = filled++;
          while (p > 0 && (bestD[p - 1] as number) > dist) {
            bestD[p] = bestD[p - 1] as number;
            bestI[p] = bestI[p - 1] as number;
            p--;
          }
          bestD[p] = dist;
          bestI[p] = j;
        } else if (dist < (bestD[k - 1] as number)) {
          let p = k - 1;
          while (p > 0 && (bestD[p - 1] as number) > dist) {
            bestD[p] = bestD[p - 1] as number;
            bestI[p] = bestI[p - 1] as number;
            p--;
          }
          bestD[p] = dist;
          bestI[p] = j;
        }
      }
      let anyZero = false;
      for (let q = 0; q < k; q++) if (bestD[q] === 0) anyZero = true;
      for (let q = 0; q < k; q++) {
        const j = bestI[q] as number;
        let w = 1;
        if (this.weighting === 'distance') w = anyZero ? (bestD[q] === 0 ? 1 : 0) : 1 / Math.sqrt(bestD[q] as number);
        if (this.sampleWeights !== undefined) w *= this.sampleWeights[j] as number;
        index[r * k + q] = j;
        weight[r * k + q] = w;
      }
    }
    return { index, weight };
  }

  predictProba(X: Matrix): Matrix {
    if (this.target.kind !== 'classes') throw new TypeError('predictProba: this KNN model is a regressor');
    const { index: y, classes } = this.target;
    const nc = classes.length;
    const { index, weight } = this.neighbours(X);
    const data = new Float64Array(X.rows * nc);
    for (let r = 0; r < X.rows; r++) {
      let total = 0;
      for (let q = 0; q < this.k; q++) {
        const w = weight[r * this.k + q] as number;
        const c = y[index[r * this.k + q] as number] as number;
        data[r * nc + c] = (data[r * nc + c] as number) + w;
        total += w;
      }
      if (total > 0) for (let c = 0; c < nc; c++) data[r * nc + c] = (data[r * nc + c] as number) / total;
    }
    return { rows: X.rows, cols: nc, data };
  }

  predict(X: Matrix): Float64Array {
    if (this.target.kind === 'classes') {
      const p = this.predictProba(X);
      const out = new Float64Array(X.rows);
      for (let r = 0; r < X.rows; r++) {
        let best = 0;
        for (let c = 1; c < p.cols; c++)
          if ((p.data[r * p.cols + c] as number) > (p.data[r * p.cols + best] as number)) best = c;
        out[r] = best;
      }
      return out;
    }
    const { values } = this.target;
    const { index, weight } = this.neighbours(X);
    const out = new Float64Array(X.rows);
    for (let r = 0; r < X.rows; r++) {
      let num = 0;
      let den = 0;
      for (let q = 0; q < this.k; q++) {
        const w = weight[r * this.k + q] as number;
        num += w * (values[index[r * this.k + q] as number] as number);
        den += w;
      }
      out[r] = den > 0 ? num / den : Number.NaN;
    }
    return out;
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    const { rows: m, cols: d, data: T } = this.train;
    if (features.width !== d) throw new RangeError(`features.width is ${features.width}; the model was fitted on ${d}`);
    const x = features.tensor;
    const k = this.k;

    // Candidate search on the expanded form |x|^2 - 2 x.t + |t|^2, centred to limit cancellation.
    const mean = new Float64Array(d);
    for (let j = 0; j < m; j++)
      for (let c = 0; c < d; c++) mean[c] = (mean[c] as number) + (T[j * d + c] as number) / m;
    const centredT = new Float64Array(d * m);
    const tNorm = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const v = (T[j * d + c] as number) - (mean[c] as number);
        centredT[c * m + j] = v;
        s += v * v;
      }
      tNorm[j] = s;
    }
    const xc = op(g, 'Sub', [x, floatTensor(g, 'knn_mean', [1, d], mean)], 'knn_x_centred');
    const xNorm = op(g, 'ReduceSumSquare', [xc], 'knn_x_norm', { axes: { ints: [1] }, keepdims: { i: 1 } });
    const cross = op(g, 'MatMul', [xc, floatTensor(g, 'knn_train_t', [d, m], centredT)], 'knn_cross');
    const minus2 = op(g, 'Mul', [cross, floatTensor(g, 'knn_minus_two', [], [-2])], 'knn_cross2');
    const partial = op(g, 'Add', [minus2, xNorm], 'knn_partial');
    const sq = op(g, 'Add', [partial, floatTensor(g, 'knn_train_norm', [1, m], tNorm)], 'knn_sq_dist');
    const values = g.fresh('knn_topk_values');
    const indices = g.fresh('knn_topk_indices');
    g.node('TopK', [sq, int64Constant(g, 'knn_k', [k])], [values, indices], {
      axis: { i: 1 },
      largest: { i: 0 },
      sorted: { i: 1 },
    });

    // Exact distances of the k neighbours.
    const neighbourRows = op(g, 'Gather', [floatTensor(g, 'knn_train', [m, d], T), indices], 'knn_rows', {
      axis: { i: 0 },
    });
    const x3 = op(g, 'Unsqueeze', [x, int64Constant(g, 'knn_axis1', [1])], 'knn_x3');
    const diff = op(g, 'Sub', [x3, neighbourRows], 'knn_diff');
    const diff2 = op(g, 'Mul', [diff, diff], 'knn_diff2');
    const dist2 = op(g, 'ReduceSum', [diff2, int64Constant(g, 'knn_axis2', [2])], 'knn_dist2', { keepdims: { i: 0 } });

    let w: string;
    if (this.weighting === 'distance') {
      const dist = op(g, 'Sqrt', [dist2], 'knn_dist');
      const zero = floatTensor(g, 'knn_zero', [], [0]);
      const isZero = op(g, 'Cast', [op(g, 'Equal', [dist, zero], 'knn_is_zero_b')], 'knn_is_zero', { to: { i: 1 } });
      const anyZero = op(g, 'ReduceMax', [isZero], 'knn_any_zero', { axes: { ints: [1] }, keepdims: { i: 1 } });
      const inverse = op(g, 'Reciprocal', [dist], 'knn_inverse');
      const cond = op(g, 'Greater', [anyZero, zero], 'knn_cond');
      w = op(g, 'Where', [cond, isZero, inverse], 'knn_w');
    } else {
      // Ones shaped like the distances: dist2 * 0 + 1 would turn inf into NaN; Shape + Expand does not.
      w = op(g, 'Expand', [floatTensor(g, 'knn_one', [], [1]), op(g, 'Shape', [dist2], 'knn_shape')], 'knn_w');
    }

    if (this.target.kind === 'classes') {
      const { classes, index: y } = this.target;
      const nc = classes.length;
      const table = new Float64Array(m * nc);
      for (let j = 0; j < m; j++) table[j * nc + (y[j] as number)] = this.sampleWeights?.[j] ?? 1;
      const votes = op(g, 'Gather', [floatTensor(g, 'knn_votes', [m, nc], table), indices], 'knn_neighbour_votes', {
        axis: { i: 0 },
      });
      const w3 = op(g, 'Unsqueeze', [w, int64Constant(g, 'knn_axis2b', [2])], 'knn_w3');
      const weighted = op(g, 'Mul', [votes, w3], 'knn_weighted_votes');
      const summed = op(g, 'ReduceSum', [weighted, int64Constant(g, 'knn_axis1b', [1])], 'knn_class_votes', {
        keepdims: { i: 0 },
      });
      const total = op(g, 'ReduceSum', [summed, int64Constant(g, 'knn_axis1c', [1])], 'knn_total_votes', {
        keepdims: { i: 1 },
      });
      const probabilities = op(g, 'Div', [summed, total], 'knn_probabilities');
      const argmax = op(g, 'ArgMax', [probabilities], 'knn_argmax', { axis: { i: 1 }, keepdims: { i: 0 } });
      const label = op(
        g,
        'Gather',
        [g.constant('knn_classes', { type: 'string', dims: [nc], data: classes }), argmax],
        'knn_label',
        { axis: { i: 0 } },
      );
      return { label, probabilities };
    }

    const { values: yv } = this.target;
    const neighbourY = op(g, 'Gather', [floatTensor(g, 'knn_y', [m], yv), indices], 'knn_neighbour_y', {
      axis: { i: 0 },
    });
    let weight = w;
    if (this.sampleWeights !== undefined) {
      const sw = op(
        g,
        'Gather',
        [floatTensor(g, 'knn_sample_w', [m], this.sampleWeights), indices],
        'knn_neighbour_sw',
        {
          axis: { i: 0 },
        },
      );
      weight = op(g, 'Mul', [w, sw], 'knn_w_total');
    }
    const axis1 = int64Constant(g, 'knn_axis1d', [1]);
    const num = op(g, 'ReduceSum', [op(g, 'Mul', [weight, neighbourY], 'knn_wy'), axis1], 'knn_num', {
      keepdims: { i: 1 },
    });
    const den = op(g, 'ReduceSum', [weight, axis1], 'knn_den', { keepdims: { i: 1 } });
    return { prediction: op(g, 'Div', [num, den], 'knn_prediction') };
  }
}

/** Azure's KNN: a classifier for string labels, a regressor for numeric targets. */
export const knnTrainer: Trainer<KnnParams> = {
  azureNames: ['KNN'],
  name: 'k-nearest-neighbours',
  fit(X, y, params, options) {
    checkFitInput(X, y, options.weights, 1);
    const nNeighbors = params.nNeighbors ?? 5;
    if (!Number.isInteger(nNeighbors) || nNeighbors < 1) {
      throw new RangeError(`nNeighbors must be a positive integer; got ${nNeighbors}`);
    }
    const weighting = params.weights ?? 'uniform';
    if (weighting !== 'uniform' && weighting !== 'distance') {
      throw new RangeError(`weights must be 'uniform' or 'distance'; got '${String(weighting)}'`);
    }
    const train: Matrix = { rows: X.rows, cols: X.cols, data: Float64Array.from(X.data) };
    const k = Math.min(nNeighbors, X.rows);
    const sampleWeights = options.weights === undefined ? undefined : Float64Array.from(options.weights);
    const target = isLabels(y)
      ? { kind: 'classes' as const, ...encodeClasses(y) }
      : { kind: 'values' as const, values: Float64Array.from(y) };
    return new FittedKnn(train, k, weighting, sampleWeights, target);
  },
};
