// Linear models in TypeScript: the solvers reach the optimum of their penalized objectives (the
// KKT conditions hold), the fitted models are accurate on seeded synthetic data, weights behave as
// weights, and bad input is refused. Agreement with onnxruntime is in
// test/integration/linear-onnx.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../shared/errors.js';
import {
  elasticNetTrainer,
  lassoLarsTrainer,
  LINEAR_TRAINERS,
  logisticRegressionTrainer,
  sgdClassifierTrainer,
  sgdRegressorTrainer,
} from '../../shared/ml/models/linear.js';
import type { LinearRegressionModel, LogisticRegressionModel } from '../../shared/ml/models/linear.js';
import {
  fitBinomial,
  fitGaussian,
  fitMultinomial,
  originalScale,
  type LinearSolution,
  type Penalty,
} from '../../shared/ml/models/linear-solver.js';
import type { Matrix } from '../../shared/ml/types.js';
import { Rng } from '../../shared/ml/rng.js';
import { classificationData, features, normal, regressionData, rowsOf, rSquared } from '../support/synthetic-data.js';

const SCALES = [1, 10, 0.1, 100, 1, 3];
const OFFSETS = [0, 5, -1, 50, 0, 2];
const W = [1.5, -0.2, 8, 0.03, 0, 0.5];

const precise = { standardize: true, maxIter: 200, tol: 1e-14 };

/** Weighted column means and standard deviations, as the solver standardizes. */
function columnStats(X: Matrix, w: Float64Array): { mean: number[]; sd: number[] } {
  const mean: number[] = [];
  const sd: number[] = [];
  for (let j = 0; j < X.cols; j++) {
    let m = 0;
    for (let i = 0; i < X.rows; i++) m += (w[i] as number) * (X.data[i * X.cols + j] as number);
    let v = 0;
    for (let i = 0; i < X.rows; i++) v += (w[i] as number) * ((X.data[i * X.cols + j] as number) - m) ** 2;
    mean.push(m);
    sd.push(Math.sqrt(v));
  }
  return { mean, sd };
}

function normalizedWeights(n: number, weights?: Float64Array): Float64Array {
  const w = weights === undefined ? new Float64Array(n).fill(1) : Float64Array.from(weights);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/**
 * The largest violation of the optimality conditions of Σ wᵢ lossᵢ + λ P(β̃) (β̃ on standardized
 * features), given the loss's negative gradient in the score, gᵢ (residual yᵢ − ŷᵢ, or yᵢ − pᵢ):
 * Σ wᵢ gᵢ = 0 (intercept), and per feature Gⱼ = Σ wᵢ x̃ᵢⱼ gᵢ ∈ λ(1−ρ)β̃ⱼ + λρ ∂|β̃ⱼ|.
 */
function kktViolation(
  X: Matrix,
  w: Float64Array,
  g: Float64Array,
  beta: ArrayLike<number>,
  penalty: Penalty,
  stats: { mean: number[]; sd: number[] },
): number {
  let worst = Math.abs(g.reduce((s, gi, i) => s + (w[i] as number) * gi, 0));
  for (let j = 0; j < X.cols; j++) {
    const sd = stats.sd[j] as number;
    let G = 0;
    for (let i = 0; i < X.rows; i++) {
      G +=
        (w[i] as number) * (((X.data[i * X.cols + j] as number) - (stats.mean[j] as number)) / sd) * (g[i] as number);
    }
    const b = (beta[j] as number) * sd;
    const l1 = penalty.lambda * penalty.l1Ratio;
    const l2 = penalty.lambda * (1 - penalty.l1Ratio);
    const violation = b !== 0 ? Math.abs(G - l2 * b - l1 * Math.sign(b)) : Math.max(0, Math.abs(G) - l1);
    worst = Math.max(worst, violation);
  }
  return worst;
}

/** Block `block`'s scores of a solver solution, on the original features. */
function predictRaw(X: Matrix, solution: LinearSolution, block = 0): Float64Array {
  const s = originalScale(solution);
  const out = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    let v = s.intercepts[block] as number;
    for (let j = 0; j < X.cols; j++) {
      v += (X.data[i * X.cols + j] as number) * (s.coefficients[block * X.cols + j] as number);
    }
    out[i] = v;
  }
  return out;
}

const regression = regressionData(11, 500, W, 3, 0.5, SCALES, OFFSETS);

describe('linear solvers reach the optimum (KKT conditions)', () => {
  const gaussianPenalties: Penalty[] = [
    { lambda: 0, l1Ratio: 0 },
    { lambda: 0.3, l1Ratio: 0 },
    { lambda: 0.3, l1Ratio: 1 },
    { lambda: 0.1, l1Ratio: 0.5 },
  ];
  for (const penalty of gaussianPenalties) {
    it(`gaussian, λ=${penalty.lambda}, ρ=${penalty.l1Ratio}, with and without sample weights`, () => {
      for (const weights of [undefined, Float64Array.from({ length: 500 }, (_, i) => 1 + (i % 4))]) {
        const s = fitGaussian(regression.X, regression.y, weights, penalty, precise);
        assert.ok(s.converged);
        const w = normalizedWeights(500, weights);
        const fitted = predictRaw(regression.X, s);
        const residual = regression.y.map((y, i) => y - (fitted[i] as number));
        const violation = kktViolation(
          regression.X,
          w,
          residual,
          originalScale(s).coefficients,
          penalty,
          columnStats(regression.X, w),
        );
        assert.ok(violation < 1e-6, `KKT violation ${violation}`);
      }
    });
  }

  it('gaussian without penalty is ordinary least squares (the normal equations)', () => {
    const s = originalScale(fitGaussian(regression.X, regression.y, undefined, { lambda: 0, l1Ratio: 0 }, precise));
    const ols = leastSquares(regression.X, regression.y);
    for (let j = 0; j < W.length; j++) {
      const want = ols[j + 1] as number;
      assert.ok(Math.abs((s.coefficients[j] as number) - want) <= 1e-7 * Math.max(1, Math.abs(want)), `β${j}`);
    }
    assert.ok(Math.abs((s.intercepts[0] as number) - (ols[0] as number)) < 1e-6);
  });

  const binary = classificationData(
    21,
    600,
    ['no', 'yes'],
    [
      [0, 0, 0, 0, 0, 0],
      [2, -0.1, 5, 0.01, 0, -1],
    ],
    [0, -0.3],
    0.7,
    SCALES,
  );
  const y01 = Uint8Array.from(binary.y, (l) => (l === 'yes' ? 1 : 0));
  for (const penalty of [
    { lambda: 1e-3, l1Ratio: 0 },
    { lambda: 0.02, l1Ratio: 1 },
    { lambda: 0.01, l1Ratio: 0.5 },
  ]) {
    it(`binomial, λ=${penalty.lambda}, ρ=${penalty.l1Ratio}`, () => {
      const s = fitBinomial(binary.X, y01, undefined, penalty, precise);
      assert.ok(s.converged);
      const w = normalizedWeights(600);
      const scores = predictRaw(binary.X, s);
      const g = Float64Array.from(y01, (y, i) => y - 1 / (1 + Math.exp(-(scores[i] as number))));
      const violation = kktViolation(binary.X, w, g, originalScale(s).coefficients, penalty, columnStats(binary.X, w));
      assert.ok(violation < 1e-6, `KKT violation ${violation}`);
    });
  }

  const three = classificationData(
    31,
    600,
    ['a', 'b', 'c'],
    [
      [1, 0, 0, 0, 0, 0],
      [0, 0, 10, 0, 0, 0],
      [-1, 0, -10, 0, 0.5, 0],
    ],
    [0, 0, 0.2],
    0.5,
    SCALES,
  );
  const yk = Uint32Array.from(three.y, (l) => ['a', 'b', 'c'].indexOf(l));
  for (const penalty of [
    { lambda: 1e-3, l1Ratio: 0 },
    { lambda: 0.01, l1Ratio: 1 },
  ]) {
    it(`multinomial, λ=${penalty.lambda}, ρ=${penalty.l1Ratio}`, () => {
      const s = fitMultinomial(three.X, yk, 3, undefined, penalty, precise);
      assert.ok(s.converged);
      const w = normalizedWeights(600);
      const scores = [0, 1, 2].map((k) => predictRaw(three.X, s, k));
      for (let k = 0; k < 3; k++) {
        const g = Float64Array.from(yk, (y, i) => {
          const e = scores.map((sc) => Math.exp(sc[i] as number));
          return (y === k ? 1 : 0) - (e[k] as number) / e.reduce((a, b) => a + b, 0);
        });
        const beta = originalScale(s).coefficients.subarray(k * 6, k * 6 + 6);
        const violation = kktViolation(three.X, w, g, beta, penalty, columnStats(three.X, w));
        assert.ok(violation < 1e-6, `class ${k}: KKT violation ${violation}`);
      }
    });
  }

  it('gaussian without standardization penalizes the raw coefficients', () => {
    const penalty = { lambda: 0.2, l1Ratio: 0.5 };
    const s = fitGaussian(regression.X, regression.y, undefined, penalty, { ...precise, standardize: false });
    assert.ok(s.converged);
    assert.deepEqual([...s.scale], [1, 1, 1, 1, 1, 1]);
    const w = normalizedWeights(500);
    const fitted = predictRaw(regression.X, s);
    const residual = regression.y.map((y, i) => y - (fitted[i] as number));
    const stats = { mean: columnStats(regression.X, w).mean, sd: [1, 1, 1, 1, 1, 1] };
    const violation = kktViolation(regression.X, w, residual, originalScale(s).coefficients, penalty, stats);
    assert.ok(violation < 1e-6, `KKT violation ${violation}`);
  });

  it('wide data (more features than the Gram limit) reaches the optimum by residual updates', () => {
    // 300 features > GRAM_MAX_FEATURES (256): the residual form of coordinate descent.
    const rng = new Rng(61);
    const n = 200;
    const d = 300;
    const X = features(
      rng,
      n,
      Array.from({ length: d }, (_, j) => 1 + (j % 7)),
    );
    const truth = Array.from({ length: d }, (_, j) => (j < 10 ? 1 / (1 + (j % 7)) : 0));
    const y = Float64Array.from({ length: n }, (_, i) => {
      let v = 0.5 + 0.1 * normal(rng);
      for (let j = 0; j < d; j++) v += (X.data[i * d + j] as number) * (truth[j] as number);
      return v;
    });
    const w = normalizedWeights(n);
    const stats = columnStats(X, w);
    for (const penalty of [
      { lambda: 0.05, l1Ratio: 1 },
      { lambda: 0.5, l1Ratio: 0 },
    ]) {
      const s = fitGaussian(X, y, undefined, penalty, precise);
      assert.ok(s.converged);
      const fitted = predictRaw(X, s);
      const residual = y.map((v, i) => v - (fitted[i] as number));
      const violation = kktViolation(X, w, residual, originalScale(s).coefficients, penalty, stats);
      assert.ok(violation < 1e-6, `gaussian λ=${penalty.lambda}: KKT violation ${violation}`);
    }
    const y01 = Uint8Array.from(y, (v) => (v > 0.5 ? 1 : 0));
    const penalty = { lambda: 0.02, l1Ratio: 0.5 };
    const s = fitBinomial(X, y01, undefined, penalty, precise);
    assert.ok(s.converged);
    const scores = predictRaw(X, s);
    const g = Float64Array.from(y01, (v, i) => v - 1 / (1 + Math.exp(-(scores[i] as number))));
    const violation = kktViolation(X, w, g, originalScale(s).coefficients, penalty, stats);
    assert.ok(violation < 1e-6, `binomial: KKT violation ${violation}`);
  });
});

/** Ordinary least squares with an intercept, by Gaussian elimination on the normal equations. */
function leastSquares(X: Matrix, y: Float64Array): number[] {
  const p = X.cols + 1;
  const A = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (let i = 0; i < X.rows; i++) {
    const row = [1, ...Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols))];
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++)
        (A[a] as number[])[b] = ((A[a] as number[])[b] as number) + (row[a] as number) * (row[b] as number);
      (A[a] as number[])[p] = ((A[a] as number[])[p] as number) + (row[a] as number) * (y[i] as number);
    }
  }
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++)
      if (Math.abs((A[r] as number[])[c] as number) > Math.abs((A[pivot] as number[])[c] as number)) pivot = r;
    [A[c], A[pivot]] = [A[pivot] as number[], A[c] as number[]];
    const rowC = A[c] as number[];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const rowR = A[r] as number[];
      const f = (rowR[c] as number) / (rowC[c] as number);
      for (let k = c; k <= p; k++) rowR[k] = (rowR[k] as number) - f * (rowC[k] as number);
    }
  }
  return A.map((row, c) => (row[p] as number) / (row[c] as number));
}

describe('linear trainers', () => {
  const train = rowsOf(regression.X, 0, 400);
  const holdout = rowsOf(regression.X, 400, 500);
  const yTrain = regression.y.slice(0, 400);
  const yHoldout = regression.y.slice(400);
  const generatingR2 = rSquared(yHoldout, regression.truth.slice(400));

  it('ElasticNet with a tiny penalty recovers the generating model (R² on holdout as good as the truth)', () => {
    const m = elasticNetTrainer.fit(train, yTrain, { alpha: 1e-6 }, { seed: 1 }) as LinearRegressionModel;
    const r2 = rSquared(yHoldout, m.predict(holdout));
    assert.ok(generatingR2 > 0.9, `generating R² ${generatingR2}`);
    assert.ok(r2 > generatingR2 - 0.01, `fitted R² ${r2} vs generating ${generatingR2}`);
    W.forEach((w, j) =>
      assert.ok(
        Math.abs((m.original.coefficients[j] as number) - w) <
          (0.05 * Math.max(1, Math.abs(w))) / (SCALES[j] as number),
        `β${j}`,
      ),
    );
    assert.ok(Math.abs(m.original.intercept - 3) < 0.5);
  });

  it('LassoLars zeroes the irrelevant feature and shrinks the rest; a large alpha leaves the mean', () => {
    const m = lassoLarsTrainer.fit(train, yTrain, { alpha: 0.2 }, { seed: 1 }) as LinearRegressionModel;
    assert.equal(m.coefficients[4], 0);
    assert.ok(rSquared(yHoldout, m.predict(holdout)) > 0.8);
    const flat = lassoLarsTrainer.fit(train, yTrain, { alpha: 1e6 }, { seed: 1 }) as LinearRegressionModel;
    assert.deepEqual([...flat.coefficients], [0, 0, 0, 0, 0, 0]);
    const mean = yTrain.reduce((a, b) => a + b, 0) / yTrain.length;
    assert.equal(flat.intercept, Math.fround(mean));
  });

  it('a larger ridge penalty gives smaller standardized coefficients', () => {
    const norms = [0.01, 0.1, 1, 10].map((alpha) => {
      const m = sgdRegressorTrainer.fit(train, yTrain, { alpha, penalty: 'l2' }, { seed: 1 }) as LinearRegressionModel;
      return Math.hypot(...m.coefficients);
    });
    for (let k = 1; k < norms.length; k++) assert.ok((norms[k] as number) < (norms[k - 1] as number), norms.join(', '));
  });

  it('integer sample weights fit the same model as repeated rows; a zero weight drops the row', () => {
    const n = 60;
    const small = rowsOf(train, 0, n);
    const ySmall = yTrain.slice(0, n);
    const weights = Float64Array.from({ length: n }, (_, i) => i % 3);
    const repeatedRows: number[] = [];
    weights.forEach((w, i) => {
      for (let r = 0; r < w; r++) repeatedRows.push(i);
    });
    const repeated: Matrix = {
      rows: repeatedRows.length,
      cols: small.cols,
      data: Float64Array.from(
        repeatedRows.flatMap((i) => Array.from(small.data.subarray(i * small.cols, (i + 1) * small.cols))),
      ),
    };
    const yRepeated = Float64Array.from(repeatedRows, (i) => ySmall[i] as number);
    const params = { alpha: 0.05, l1Ratio: 0.5, tol: 1e-14 };
    const weighted = elasticNetTrainer.fit(small, ySmall, params, { seed: 1, weights }) as LinearRegressionModel;
    const copies = elasticNetTrainer.fit(repeated, yRepeated, params, { seed: 1 }) as LinearRegressionModel;
    [...weighted.coefficients].forEach((c, j) =>
      assert.ok(
        Math.abs(c - (copies.coefficients[j] as number)) <= 1e-6 * Math.max(1, Math.abs(c)),
        `β${j}: ${c} vs ${copies.coefficients[j]}`,
      ),
    );
    assert.ok(Math.abs(weighted.intercept - copies.intercept) <= 1e-6 * Math.max(1, Math.abs(copies.intercept)));
  });

  it('is deterministic: the same data and settings give bit-identical models', () => {
    const a = elasticNetTrainer.fit(train, yTrain, { alpha: 0.1 }, { seed: 1 }) as LinearRegressionModel;
    const b = elasticNetTrainer.fit(train, yTrain, { alpha: 0.1 }, { seed: 2 }) as LinearRegressionModel;
    assert.deepEqual(a.coefficients, b.coefficients);
    assert.equal(a.intercept, b.intercept);
  });

  it('stores only float32 values (what the ONNX graph holds), and maps them back to the original features', () => {
    const m = elasticNetTrainer.fit(train, yTrain, { alpha: 0.1 }, { seed: 1 }) as LinearRegressionModel;
    for (const v of [...m.coefficients, m.intercept, ...m.scaling.offset, ...m.scaling.scale]) {
      assert.equal(Math.fround(v), v);
    }
    // The original-scale view predicts what the model predicts (up to the float32 scaling).
    const predicted = m.predict(holdout);
    for (let i = 0; i < holdout.rows; i++) {
      let v = m.original.intercept;
      for (let j = 0; j < holdout.cols; j++) {
        v += (holdout.data[i * holdout.cols + j] as number) * (m.original.coefficients[j] as number);
      }
      assert.ok(Math.abs(v - (predicted[i] as number)) < 1e-4 * Math.max(1, Math.abs(v)), `row ${i}`);
    }
  });

  const binary = classificationData(
    41,
    800,
    ['churn', 'stay'],
    [
      [0, 0, 0, 0, 0, 0],
      [2, -0.1, 5, 0.01, 0, -1],
    ],
    [0, -0.3],
    0.3,
    SCALES,
    OFFSETS,
  );

  it('LogisticRegression (binary) classifies separable-ish data with accuracy above 0.9', () => {
    const m = logisticRegressionTrainer.fit(
      rowsOf(binary.X, 0, 600),
      binary.y.slice(0, 600),
      { C: 1 },
      { seed: 1 },
    ) as LogisticRegressionModel;
    assert.deepEqual(m.classes, ['churn', 'stay']);
    assert.equal(m.intercepts.length, 1);
    const test = rowsOf(binary.X, 600, 800);
    const predicted = m.predict(test);
    const accuracy = binary.y.slice(600).filter((label, i) => m.classes[predicted[i] as number] === label).length / 200;
    assert.ok(accuracy > 0.9, `accuracy ${accuracy}`);
    const proba = m.predictProba(test);
    for (let i = 0; i < 200; i++) {
      const p0 = proba.data[2 * i] as number;
      const p1 = proba.data[2 * i + 1] as number;
      assert.ok(Math.abs(p0 + p1 - 1) < 1e-12);
      assert.equal(predicted[i], p1 > p0 ? 1 : 0);
    }
  });

  const four = classificationData(
    51,
    1000,
    ['ant', 'bee', 'cat', 'dog'],
    [
      [1, 0, 0, 0, 0, 0],
      [0, 0, 10, 0, 0, 0],
      [-1, 0, -10, 0, 0, 0],
      [0, 0.1, 0, 0, 0, 0],
    ],
    [0, 0, 0, -0.5],
    0.3,
    SCALES,
    OFFSETS,
  );

  it('LogisticRegression (multinomial) classifies four classes with accuracy above 0.85', () => {
    const m = logisticRegressionTrainer.fit(
      rowsOf(four.X, 0, 800),
      four.y.slice(0, 800),
      { C: 10 },
      { seed: 1 },
    ) as LogisticRegressionModel;
    assert.deepEqual(m.classes, ['ant', 'bee', 'cat', 'dog']);
    assert.equal(m.intercepts.length, 4);
    assert.ok(m.fit.converged);
    const predicted = m.predict(rowsOf(four.X, 800, 1000));
    const accuracy = four.y.slice(800).filter((label, i) => m.classes[predicted[i] as number] === label).length / 200;
    assert.ok(accuracy > 0.85, `accuracy ${accuracy}`);
    const proba = m.predictProba(rowsOf(four.X, 800, 1000));
    for (let i = 0; i < 200; i++) {
      const row = Array.from(proba.data.subarray(4 * i, 4 * i + 4));
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
  });

  it('SGD (classification) with an L1 penalty zeroes features that carry nothing', () => {
    const m = sgdClassifierTrainer.fit(
      rowsOf(binary.X, 0, 600),
      binary.y.slice(0, 600),
      { alpha: 0.02, penalty: 'l1' },
      { seed: 1 },
    ) as LogisticRegressionModel;
    assert.equal(m.coefficients[4], 0);
    assert.notEqual(m.coefficients[2], 0);
  });

  it('takes numeric class labels as strings', () => {
    const y = Float64Array.from(binary.y.slice(0, 600), (l) => (l === 'stay' ? 1 : 0));
    const m = logisticRegressionTrainer.fit(rowsOf(binary.X, 0, 600), y, {}, { seed: 1 });
    assert.deepEqual(m.classes, ['0', '1']);
  });

  it('lists its trainers under their Azure ML names', () => {
    assert.deepEqual(
      LINEAR_TRAINERS.regression.map((t) => [t.name, t.azureNames]),
      [
        ['elastic-net', ['ElasticNet']],
        ['lasso-lars', ['LassoLars']],
        ['sgd-regressor', ['SGD']],
      ],
    );
    assert.deepEqual(
      LINEAR_TRAINERS.classification.map((t) => [t.name, t.azureNames]),
      [
        ['logistic-regression', ['LogisticRegression']],
        ['sgd-classifier', ['SGD']],
      ],
    );
  });
});

describe('linear trainers refuse bad input', () => {
  const X: Matrix = { rows: 3, cols: 2, data: Float64Array.from([1, 2, 3, 4, 5, 7]) };
  const y = Float64Array.from([1, 2, 3]);
  const refusals: { name: string; fit: () => unknown; target: string; message: RegExp }[] = [
    {
      name: 'a missing feature value',
      fit: () => elasticNetTrainer.fit({ ...X, data: Float64Array.from([1, 2, NaN, 4, 5, 7]) }, y, {}, { seed: 1 }),
      target: 'X',
      message: /impute missing values first\); X\[1, 0\] is NaN/,
    },
    {
      name: 'a target of the wrong length',
      fit: () => elasticNetTrainer.fit(X, Float64Array.from([1, 2]), {}, { seed: 1 }),
      target: 'y',
      message: /y has 2 values for 3 rows/,
    },
    {
      name: 'labels for regression',
      fit: () => elasticNetTrainer.fit(X, ['a', 'b', 'c'], {}, { seed: 1 }),
      target: 'y',
      message: /regression needs a numeric target/,
    },
    {
      name: 'an infinite target',
      fit: () => lassoLarsTrainer.fit(X, Float64Array.from([1, Infinity, 3]), {}, { seed: 1 }),
      target: 'y',
      message: /not a finite number at row 1/,
    },
    {
      name: 'a single class',
      fit: () => logisticRegressionTrainer.fit(X, ['a', 'a', 'a'], {}, { seed: 1 }),
      target: 'y',
      message: /at least two classes; the target has only 'a'/,
    },
    {
      name: 'a negative alpha',
      fit: () => elasticNetTrainer.fit(X, y, { alpha: -1 }, { seed: 1 }),
      target: 'alpha',
      message: /alpha must be a non-negative number; got -1/,
    },
    {
      name: 'an l1Ratio above 1',
      fit: () => elasticNetTrainer.fit(X, y, { l1Ratio: 1.5 }, { seed: 1 }),
      target: 'l1Ratio',
      message: /l1Ratio must be in \[0, 1\]; got 1.5/,
    },
    {
      name: 'C = 0',
      fit: () => logisticRegressionTrainer.fit(X, ['a', 'b', 'a'], { C: 0 }, { seed: 1 }),
      target: 'C',
      message: /C must be a positive number/,
    },
    {
      name: 'an unknown penalty',
      fit: () => sgdRegressorTrainer.fit(X, y, { penalty: 'l3' as 'l1' }, { seed: 1 }),
      target: 'penalty',
      message: /penalty must be one of l2, l1, elasticnet, none; got 'l3'/,
    },
    {
      name: 'negative weights',
      fit: () => elasticNetTrainer.fit(X, y, {}, { seed: 1, weights: Float64Array.from([1, -1, 1]) }),
      target: 'weights',
      message: /weights\[1\] is -1/,
    },
    {
      name: 'all-zero weights',
      fit: () => elasticNetTrainer.fit(X, y, {}, { seed: 1, weights: new Float64Array(3) }),
      target: 'weights',
      message: /must not all be zero/,
    },
    {
      name: 'a fractional maxIter',
      fit: () => elasticNetTrainer.fit(X, y, { maxIter: 2.5 }, { seed: 1 }),
      target: 'maxIter',
      message: /maxIter must be a positive integer/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} with a ValidationError`, () => {
      assert.throws(c.fit, (err: unknown) => {
        assert.ok(err instanceof AppError, String(err));
        assert.equal(err.code, 'ValidationError');
        assert.equal(err.target, c.target);
        assert.match(err.message, c.message);
        return true;
      });
    });
  }

  it('refuses to predict on a matrix of another width', () => {
    const m = elasticNetTrainer.fit(X, y, { alpha: 0.01 }, { seed: 1 });
    assert.throws(
      () => m.predict({ rows: 1, cols: 3, data: new Float64Array(3) }),
      /X has 3 columns; the model was fitted on 2/,
    );
  });
});
