import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { ValidationError } from '../../shared/errors.js';
import { classificationMetrics, encodeLabels } from '../../shared/ml/metrics.js';
import { knnTrainer } from '../../shared/ml/models/knn.js';
import {
  bernoulliNaiveBayesTrainer,
  gaussianNaiveBayesTrainer,
  multinomialNaiveBayesTrainer,
} from '../../shared/ml/models/naive-bayes.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import { Rng } from '../../shared/ml/rng.js';
import type { FittedModel, Matrix } from '../../shared/ml/types.js';
import { loadClassification, noDatasets } from './ml-datasets.js';

const close = (actual: number, expected: number, tol = 1e-12, label = ''): void => {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${label} expected ${expected}, got ${actual}`,
  );
};

const matrix = (rows: number[][]): Matrix => ({
  rows: rows.length,
  cols: rows[0]?.length ?? 0,
  data: Float64Array.from(rows.flat()),
});

const SEED = { seed: 1 };

// ---------------------------------------------------------------------------------------------
// kNN, checked by hand on one feature: training points 0, 1, 2, 10, 11.

const X1 = matrix([[0], [1], [2], [10], [11]]);
const Y1 = ['a', 'a', 'b', 'b', 'b'];

test('KNN classifier, uniform: the 3 nearest of 1.4 are 1 (a), 2 (b), 0 (a)', () => {
  const model = knnTrainer.fit(X1, Y1, { nNeighbors: 3 }, SEED);
  assert.equal(model.task, 'classification');
  assert.deepEqual(model.classes, ['a', 'b']);
  const p = model.predictProba?.(matrix([[1.4], [10.4]])) as Matrix;
  close(p.data[0] as number, 2 / 3);
  close(p.data[1] as number, 1 / 3);
  // 10.4: nearest 10, 11, 2 -> all b.
  assert.deepEqual([...p.data.slice(2)], [0, 1]);
  assert.deepEqual([...model.predict(matrix([[1.4], [10.4]]))], [0, 1]);
});

test('KNN classifier, distance weights: 1/d votes; a distance-0 neighbour takes all the weight', () => {
  const model = knnTrainer.fit(X1, Y1, { nNeighbors: 3, weights: 'distance' }, SEED);
  const p = model.predictProba?.(matrix([[1.4], [1]])) as Matrix;
  const a = 1 / 0.4 + 1 / 1.4;
  const b = 1 / 0.6;
  close(p.data[0] as number, a / (a + b), 1e-12);
  // 1 is a training point (class a): it alone votes.
  assert.deepEqual([...p.data.slice(2)], [1, 0]);
});

test('KNN: equal distances go to the lower training row; k above the row count is lowered', () => {
  const tie = knnTrainer.fit(matrix([[0], [1]]), ['a', 'b'], { nNeighbors: 1 }, SEED);
  assert.deepEqual([...tie.predict(matrix([[0.5]]))], [0]);
  const swapped = knnTrainer.fit(matrix([[1], [0]]), ['b', 'a'], { nNeighbors: 1 }, SEED);
  // Row 0 (x = 1, class b) is first among the equals now.
  assert.deepEqual([...swapped.predict(matrix([[0.5]]))], [1]);
  const all = knnTrainer.fit(X1, Y1, { nNeighbors: 10 }, SEED);
  const p = all.predictProba?.(matrix([[1.4]])) as Matrix;
  close(p.data[0] as number, 2 / 5);
});

test('KNN: sample weights multiply each neighbour’s vote', () => {
  const model = knnTrainer.fit(X1, Y1, { nNeighbors: 3 }, { seed: 1, weights: Float64Array.from([1, 1, 5, 1, 1]) });
  const p = model.predictProba?.(matrix([[1.4]])) as Matrix;
  close(p.data[0] as number, 2 / 7);
  assert.deepEqual([...model.predict(matrix([[1.4]]))], [1]);
});

test('KNN regressor: mean of the neighbours, or their 1/d-weighted mean', () => {
  const y = Float64Array.from([0, 1, 2, 10, 11]);
  const uniform = knnTrainer.fit(X1, y, { nNeighbors: 3 }, SEED);
  assert.equal(uniform.task, 'regression');
  assert.equal(uniform.classes, undefined);
  close(uniform.predict(matrix([[1.4]]))[0] as number, 1);
  const weighted = knnTrainer.fit(X1, y, { nNeighbors: 3, weights: 'distance' }, SEED);
  const [w0, w1, w2] = [1 / 0.4, 1 / 0.6, 1 / 1.4];
  close(weighted.predict(matrix([[1.4]]))[0] as number, (w0 * 1 + w1 * 2 + w2 * 0) / (w0 + w1 + w2));
  close(weighted.predict(matrix([[10]]))[0] as number, 10);
  assert.throws(() => uniform.predictProba?.(matrix([[1]])), TypeError);
});

test('KNN: euclidean over several features, bad arguments', () => {
  const model = knnTrainer.fit(
    matrix([
      [0, 0],
      [3, 4],
      [6, 8],
    ]),
    Float64Array.from([1, 2, 3]),
    { nNeighbors: 1 },
    SEED,
  );
  // (2, 3) is sqrt(13) from (0,0) and sqrt(2) from (3,4).
  assert.deepEqual([...model.predict(matrix([[2, 3]]))], [2]);
  assert.throws(() => model.predict(matrix([[1, 2, 3]])), /3 columns/);
  assert.throws(() => knnTrainer.fit(X1, Y1, { nNeighbors: 0 }, SEED), /nNeighbors/);
  assert.throws(() => knnTrainer.fit(X1, Y1.slice(1), {}, SEED), /y has 4/);
  assert.throws(() => knnTrainer.fit(matrix([[Number.NaN]]), ['a'], {}, SEED), /non-finite/);
  assert.deepEqual(knnTrainer.azureNames, ['KNN']);
});

// ---------------------------------------------------------------------------------------------
// Naive Bayes, against closed forms

const normalPdf = (x: number, mean: number, variance: number): number =>
  Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);

test('GaussianNaiveBayes: scikit-learn’s doc example, probabilities = prior x product of normal densities', () => {
  const X = matrix([
    [-1, -1],
    [-2, -1],
    [-3, -2],
    [1, 1],
    [2, 1],
    [3, 2],
  ]);
  const y = ['1', '1', '1', '2', '2', '2'];
  const model = gaussianNaiveBayesTrainer.fit(X, y, {}, SEED);
  // sklearn: clf.predict([[-0.8, -1]]) -> [1].
  assert.deepEqual([...model.predict(matrix([[-0.8, -1]]))], [0]);
  // Class means (-2, -4/3) and (2, 4/3); variances (2/3, 2/9); epsilon = 1e-9 * max(28/6, 2).
  const eps = 1e-9 * (28 / 6);
  const density = (x: number[], sign: number): number =>
    normalPdf(x[0] as number, 2 * sign, 2 / 3 + eps) * normalPdf(x[1] as number, (4 / 3) * sign, 2 / 9 + eps);
  const q = [0.5, 0.2];
  // The model reads features as float32 values, as its ONNX graph does: 0.2 is Math.fround(0.2).
  const p1 = 0.5 * density(q.map(Math.fround), -1);
  const p2 = 0.5 * density(q.map(Math.fround), 1);
  const proba = model.predictProba?.(matrix([q])) as Matrix;
  close(proba.data[0] as number, p1 / (p1 + p2), 1e-12);
  close(proba.data[1] as number, p2 / (p1 + p2), 1e-12);
});

test('GaussianNaiveBayes: integer sample weights equal repeated rows; explicit priors', () => {
  const X = matrix([
    [0.1, 2],
    [0.4, 1],
    [1.5, 0.2],
    [2.2, 0.1],
    [1.9, 0.5],
  ]);
  const y = ['x', 'x', 'y', 'y', 'y'];
  const weighted = gaussianNaiveBayesTrainer.fit(X, y, {}, { seed: 1, weights: Float64Array.from([3, 1, 1, 2, 1]) });
  const repeated = gaussianNaiveBayesTrainer.fit(
    matrix([
      [0.1, 2],
      [0.1, 2],
      [0.1, 2],
      [0.4, 1],
      [1.5, 0.2],
      [2.2, 0.1],
      [2.2, 0.1],
      [1.9, 0.5],
    ]),
    ['x', 'x', 'x', 'x', 'y', 'y', 'y', 'y'],
    {},
    SEED,
  );
  const q = matrix([
    [1, 1],
    [0.2, 1.5],
  ]);
  const a = weighted.predictProba?.(q) as Matrix;
  const b = repeated.predictProba?.(q) as Matrix;
  // var_smoothing uses the unweighted variance, so the two differ by ~1e-9 relative at most.
  a.data.forEach((v, i) => close(v, b.data[i] as number, 1e-6));
  const skewed = gaussianNaiveBayesTrainer.fit(X, y, { priors: [0.99, 0.01] }, SEED);
  assert.ok(((skewed.predictProba?.(matrix([[1, 1]])) as Matrix).data[0] as number) > (a.data[0] as number));
  assert.throws(() => gaussianNaiveBayesTrainer.fit(X, y, { priors: [0.5, 0.6] }, SEED), /sum to 1/);
  assert.throws(() => gaussianNaiveBayesTrainer.fit(X, Float64Array.from([1, 2, 3, 4, 5]), {}, SEED), TypeError);
});

test('MultinomialNaiveBayes: Laplace-smoothed word probabilities', () => {
  const X = matrix([
    [2, 1, 0],
    [3, 0, 1],
    [0, 2, 2],
    [1, 3, 1],
  ]);
  const model = multinomialNaiveBayesTrainer.fit(X, ['s', 's', 'h', 'h'], {}, SEED);
  assert.deepEqual(model.classes, ['h', 's']);
  // h: counts (1, 5, 3) + 1 over 12; s: (5, 1, 1) + 1 over 10; priors 1/2.
  const ph = (2 / 12) * (6 / 12) * (4 / 12);
  const ps = (6 / 10) * (2 / 10) * (2 / 10);
  const proba = model.predictProba?.(matrix([[1, 1, 1]])) as Matrix;
  close(proba.data[0] as number, ph / (ph + ps));
  // Counts raise the probability to a power.
  const p2 = model.predictProba?.(matrix([[0, 2, 0]])) as Matrix;
  close(p2.data[0] as number, (6 / 12) ** 2 / ((6 / 12) ** 2 + (2 / 10) ** 2));
  assert.throws(
    () => multinomialNaiveBayesTrainer.fit(matrix([[1, -1]]), ['a'], {}, SEED),
    (e: unknown) => e instanceof ValidationError && /non-negative/.test(e.message),
  );
  assert.deepEqual(multinomialNaiveBayesTrainer.azureNames, ['MultinomialNaiveBayes']);
});

test('BernoulliNaiveBayes: presence and absence both count; features binarized at 0', () => {
  const X = matrix([
    [1, 0, 1],
    [1, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  const model = bernoulliNaiveBayesTrainer.fit(X, ['a', 'a', 'b', 'b'], {}, SEED);
  // a: p = (2, 1, 1) + 1 over 2 + 2 = (.75, .5, .5); b: (.25, .5, .75).
  const pa = 0.75 * (1 - 0.5) * (1 - 0.5);
  const pb = 0.25 * (1 - 0.5) * (1 - 0.75);
  const proba = model.predictProba?.(matrix([[1, 0, 0]])) as Matrix;
  close(proba.data[0] as number, pa / (pa + pb));
  // 3.7 and -2 binarize to 1 and 0.
  const same = model.predictProba?.(matrix([[3.7, -2, 0]])) as Matrix;
  close(same.data[0] as number, pa / (pa + pb));
  assert.deepEqual(bernoulliNaiveBayesTrainer.azureNames, ['BernoulliNaiveBayes']);
});

test('iris holdout: KNN and GaussianNaiveBayes are accurate', { skip: noDatasets }, () => {
  const { train, test: holdout } = loadClassification('iris');
  for (const [name, model] of [
    ['KNN', knnTrainer.fit(train.X, train.y, { nNeighbors: 5 }, SEED)],
    ['KNN distance', knnTrainer.fit(train.X, train.y, { nNeighbors: 7, weights: 'distance' }, SEED)],
    ['GaussianNaiveBayes', gaussianNaiveBayesTrainer.fit(train.X, train.y, {}, SEED)],
  ] as const) {
    const proba = model.predictProba?.(holdout.X) as Matrix;
    const m = classificationMetrics({ yTrue: encodeLabels(holdout.y, model.classes ?? []), proba });
    assert.ok(m.accuracy >= 0.9, `${name} accuracy ${m.accuracy}`);
    assert.ok(m.AUC_weighted >= 0.95, `${name} AUC_weighted ${m.AUC_weighted}`);
  }
});

// ---------------------------------------------------------------------------------------------
// ONNX export: the graph run by onnxruntime agrees with the TypeScript model on the same rows.
//
// The synthetic inputs are float32-representable (Math.fround), so the graph's feeds hold exactly
// the numbers the TypeScript model saw. Continuous synthetic features keep exact distance ties
// (which float32 rounding could break differently from float64) out of the kNN checks; five query
// rows repeat training rows to exercise the distance-0 rule. The raw-scale rows are not float32
// values and put naive Bayes' log-likelihoods in the thousands: only a graph that computes in
// double, on features read as float32 on both sides, keeps them within 1e-5.

const rng = new Rng(3);
const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());

function synthetic(
  rows: number,
  width: number,
  classes: number,
): { X: Matrix; labels: string[]; values: Float64Array } {
  const data = new Float64Array(rows * width);
  const labels: string[] = [];
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = rng.int(classes);
    labels.push(`class_${c}`);
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const v = Math.fround(3 + c * 1.5 * (j % 2 === 0 ? -1 : 1) + 1.2 * gaussian());
      data[i * width + j] = v;
      sum += v;
    }
    values[i] = Math.fround(sum + gaussian());
  }
  return { X: { rows, cols: width, data }, labels, values };
}

const TRAIN = synthetic(200, 4, 3);
const QUERY = synthetic(60, 4, 3);
for (let r = 0; r < 5; r++) QUERY.X.data.set(TRAIN.X.data.subarray(r * 7 * 4, r * 7 * 4 + 4), r * 4);
const SAMPLE_WEIGHTS = Float64Array.from({ length: 200 }, () => 0.5 + rng.int(3));

/** A year, an income, a count and an indicator, as a pipeline passes them (not float32 values). */
function rawScale(rows: number): { X: Matrix; labels: string[] } {
  const data = new Float64Array(rows * 4);
  const labels: string[] = [];
  for (let i = 0; i < rows; i++) {
    const c = rng.int(3);
    labels.push(`class_${c}`);
    const indicator = c === 2 || rng.next() < 0.1 ? 1 : 0;
    data.set([2000 + 3 * c + rng.next() * 12, 20 + 25 * c + rng.next() * 40, rng.int(4 + 2 * c), indicator], i * 4);
  }
  return { X: { rows, cols: 4, data }, labels };
}

const RAW_TRAIN = rawScale(200);
const RAW_QUERY = rawScale(60);
// Bernoulli binarizes at 50.2, which float32 cannot hold: float32 reads it as 50.20000076 > 50.2, so
// a graph comparing in float32 would call that income "not above" where TypeScript says "above".
const THRESHOLD = 50.2;
for (const [r, income] of [THRESHOLD, Math.fround(THRESHOLD), THRESHOLD - 1e-6, THRESHOLD + 1e-6].entries()) {
  RAW_QUERY.X.data[r * 4 + 1] = income;
}

interface OnnxOutputs {
  labels?: readonly string[];
  probabilities?: Float32Array;
  prediction?: Float32Array;
}

async function runExported(model: FittedModel, X: Matrix): Promise<OnnxOutputs> {
  const g = createOnnxGraph('exported');
  const x = g.input('features', 'float', ['N', X.cols]);
  const out = model.exportOnnx(g, { tensor: x, width: X.cols });
  if (out.label !== undefined) g.output(out.label, 'string', ['N']);
  if (out.probabilities !== undefined) g.output(out.probabilities, 'float', ['N', model.classes?.length ?? 0]);
  if (out.prediction !== undefined) g.output(out.prediction, 'float', ['N', 1]);
  const session = await new OnnxModelRuntime().load(g.toBytes());
  try {
    const result = await session.run({
      features: { type: 'float', dims: [X.rows, X.cols], data: Float32Array.from(X.data) },
    });
    const pick = (name: string | undefined) => (name === undefined ? undefined : result[name]);
    const label = pick(out.label);
    const probabilities = pick(out.probabilities);
    const prediction = pick(out.prediction);
    return {
      ...(label?.type === 'string' ? { labels: label.data } : {}),
      ...(probabilities?.type === 'float' ? { probabilities: probabilities.data } : {}),
      ...(prediction?.type === 'float' ? { prediction: prediction.data } : {}),
    };
  } finally {
    await session.close();
  }
}

/** Every element within 1e-5 of the TypeScript value, relative to that value. */
function assertRelative(actual: ArrayLike<number> | undefined, expected: ArrayLike<number>, label: string): void {
  assert.ok(actual !== undefined, `${label}: missing output`);
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= 1e-5 * Math.abs(e), `${label}[${i}]: onnxruntime ${a}, TypeScript ${e}`);
  }
}

const CLASSIFIERS: [string, () => FittedModel, Matrix][] = [
  ['KNN uniform', () => knnTrainer.fit(TRAIN.X, TRAIN.labels, { nNeighbors: 5 }, SEED), QUERY.X],
  [
    'KNN distance, sample weights',
    () =>
      knnTrainer.fit(
        TRAIN.X,
        TRAIN.labels,
        { nNeighbors: 7, weights: 'distance' },
        { seed: 1, weights: SAMPLE_WEIGHTS },
      ),
    QUERY.X,
  ],
  ['GaussianNaiveBayes', () => gaussianNaiveBayesTrainer.fit(TRAIN.X, TRAIN.labels, {}, SEED), QUERY.X],
  [
    'MultinomialNaiveBayes',
    () =>
      multinomialNaiveBayesTrainer.fit(
        { ...TRAIN.X, data: TRAIN.X.data.map((v) => Math.max(0, Math.round(v))) },
        TRAIN.labels,
        { alpha: 0.5 },
        SEED,
      ),
    { ...QUERY.X, data: QUERY.X.data.map((v) => Math.max(0, Math.round(v))) },
  ],
  ['BernoulliNaiveBayes', () => bernoulliNaiveBayesTrainer.fit(TRAIN.X, TRAIN.labels, { binarize: 3 }, SEED), QUERY.X],
  [
    'GaussianNaiveBayes, raw scale',
    () => gaussianNaiveBayesTrainer.fit(RAW_TRAIN.X, RAW_TRAIN.labels, {}, SEED),
    RAW_QUERY.X,
  ],
  [
    'MultinomialNaiveBayes, raw scale',
    () => multinomialNaiveBayesTrainer.fit(RAW_TRAIN.X, RAW_TRAIN.labels, {}, SEED),
    RAW_QUERY.X,
  ],
  [
    'BernoulliNaiveBayes, raw scale',
    () => bernoulliNaiveBayesTrainer.fit(RAW_TRAIN.X, RAW_TRAIN.labels, { binarize: THRESHOLD }, SEED),
    RAW_QUERY.X,
  ],
];

for (const [name, fit, X] of CLASSIFIERS) {
  test(`ONNX export of ${name} agrees with TypeScript (labels exactly, probabilities within 1e-5 relative)`, async () => {
    const model = fit();
    const onnx = await runExported(model, X);
    const proba = model.predictProba?.(X) as Matrix;
    assertRelative(onnx.probabilities, proba.data, `${name} probabilities`);
    const labels = Array.from(model.predict(X), (i) => model.classes?.[i] as string);
    assert.deepEqual(onnx.labels, labels);
    // The check can fail: the labels are not all one class.
    assert.ok(new Set(labels).size > 1);
  });
}

test('ONNX export of KNN regressors agrees with TypeScript within 1e-5 relative', async () => {
  for (const [name, model] of [
    ['uniform', knnTrainer.fit(TRAIN.X, TRAIN.values, { nNeighbors: 5 }, SEED)],
    [
      'distance, sample weights',
      knnTrainer.fit(
        TRAIN.X,
        TRAIN.values,
        { nNeighbors: 6, weights: 'distance' },
        { seed: 1, weights: SAMPLE_WEIGHTS },
      ),
    ],
  ] as const) {
    const onnx = await runExported(model, QUERY.X);
    assertRelative(onnx.prediction, model.predict(QUERY.X), `KNN regressor ${name}`);
  }
  // A query equal to a training row predicts that row's target under distance weights.
  const exact = knnTrainer.fit(TRAIN.X, TRAIN.values, { nNeighbors: 6, weights: 'distance' }, SEED);
  const onnx = await runExported(exact, QUERY.X);
  assertRelative(onnx.prediction?.slice(0, 1), [TRAIN.values[0] as number], 'distance-0 row');
});

test('exportOnnx refuses a feature block of the wrong width', () => {
  const model = gaussianNaiveBayesTrainer.fit(TRAIN.X, TRAIN.labels, {}, SEED);
  const g = createOnnxGraph('bad');
  assert.throws(() => model.exportOnnx(g, { tensor: g.input('x', 'float', ['N', 3]), width: 3 }), /width is 3/);
});
