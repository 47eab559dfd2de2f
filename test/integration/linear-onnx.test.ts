// Each linear trainer's fitted model against its own ONNX export run by onnxruntime-node, on holdout
// rows of seeded synthetic data: predictions and probabilities agree within 1e-5 relative, and the
// labels are equal.
//
// Why 1e-5 is attainable, and where it is not: the export is a Scaler then a LinearRegressor or
// LinearClassifier, all float32 in onnxruntime. The model stores only float32 values and reproduces
// the Scaler bit for bit (see shared/ml/models/linear.ts), so both sides differ only by
// onnxruntime's float32 accumulation of the dot product. A float32 dot product is accurate
// relative to the sum of its terms' magnitudes, |b| + Σ|wⱼx̃ⱼ|, not relative to its result: where
// the terms cancel to less than a tenth of that sum, no float32 evaluation can promise 1e-5 of the
// result. For those regression rows only, the tolerance is 1e-5 of a tenth of the terms' sum (the
// count of such rows is reported as a diagnostic). Probabilities come from softmax, whose relative
// error is the absolute error of the score differences, so they are held to 1e-5 relative
// throughout (down to 1e-30, below which float32 has no normal numbers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelSession } from '../../shared/adapters/onnx-runtime.js';
import {
  elasticNetTrainer,
  lassoLarsTrainer,
  LinearRegressionModel,
  logisticRegressionTrainer,
  LogisticRegressionModel,
  sgdClassifierTrainer,
  sgdRegressorTrainer,
} from '../../shared/ml/models/linear.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import type { FittedModel, Matrix } from '../../shared/ml/types.js';
import type { RuntimeTensor } from '../../shared/ports/model-runtime.js';
import { classificationData, regressionData, rowsOf } from '../support/synthetic-data.js';

const SCALES = [1, 10, 0.1, 100, 1, 3, 0.01, 1];
const OFFSETS = [0, 5, -1, 50, 0, 2, 0, -3];
const TRAIN = 600;
const HOLDOUT = 300;
const RTOL = 1e-5;

interface AgreementCase {
  name: string;
  /** Fits the model on the training rows (the trainer with its hyperparameters). */
  fit: (
    X: Matrix,
    y: Float64Array | readonly string[],
    options: { seed: number; weights?: Float64Array },
  ) => FittedModel;
  X: Matrix;
  y: Float64Array | string[];
  weights?: Float64Array;
  /** Feed the features as two graph inputs joined by Concat (as a featurized pipeline does). */
  split?: boolean;
}

const regression = regressionData(101, TRAIN + HOLDOUT, [1.5, -0.2, 8, 0.03, 0, 0.5, -50, 2], 3, 0.3, SCALES, OFFSETS);
const binary = classificationData(
  102,
  TRAIN + HOLDOUT,
  ['no', 'yes'],
  [new Array<number>(8).fill(0), [2, -0.1, 5, 0.01, 0, -1, 30, 0.5]],
  [0, 0.4],
  0.4,
  SCALES,
  OFFSETS,
);
const multiclass = classificationData(
  103,
  TRAIN + HOLDOUT,
  ['ant', 'bee', 'cat', 'dog'],
  [
    [1, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 10, 0, 0, 0, 0, 0],
    [-1, 0, -10, 0, 0, 0, 50, 0],
    [0, 0.1, 0, 0, 0, 0, 0, 1],
  ],
  [0, 0, 0, -0.5],
  0.3,
  SCALES,
  OFFSETS,
);
const rowWeights = Float64Array.from({ length: TRAIN }, (_, i) => 0.5 + (i % 5) / 2);

const cases: AgreementCase[] = [
  {
    name: 'ElasticNet',
    fit: (X, y, o) => elasticNetTrainer.fit(X, y, { alpha: 0.05, l1Ratio: 0.5 }, o),
    X: regression.X,
    y: regression.y,
  },
  {
    name: 'ElasticNet, sample weights, features from Concat',
    fit: (X, y, o) => elasticNetTrainer.fit(X, y, { alpha: 1e-4 }, o),
    X: regression.X,
    y: regression.y,
    weights: rowWeights,
    split: true,
  },
  {
    name: 'LassoLars',
    fit: (X, y, o) => lassoLarsTrainer.fit(X, y, { alpha: 0.1 }, o),
    X: regression.X,
    y: regression.y,
  },
  {
    name: 'SGD regressor (elasticnet)',
    fit: (X, y, o) => sgdRegressorTrainer.fit(X, y, { penalty: 'elasticnet', alpha: 0.01 }, o),
    X: regression.X,
    y: regression.y,
  },
  {
    name: 'LogisticRegression, binary',
    fit: (X, y, o) => logisticRegressionTrainer.fit(X, y, { C: 1 }, o),
    X: binary.X,
    y: binary.y,
  },
  {
    name: 'LogisticRegression, binary, L1, sample weights',
    fit: (X, y, o) => logisticRegressionTrainer.fit(X, y, { C: 0.5, penalty: 'l1' }, o),
    X: binary.X,
    y: binary.y,
    weights: rowWeights,
  },
  {
    name: 'LogisticRegression, multinomial',
    fit: (X, y, o) => logisticRegressionTrainer.fit(X, y, { C: 10 }, o),
    X: multiclass.X,
    y: multiclass.y,
  },
  {
    name: 'SGD classifier (elasticnet), multinomial, features from Concat',
    fit: (X, y, o) => sgdClassifierTrainer.fit(X, y, { penalty: 'elasticnet', alpha: 1e-3 }, o),
    X: multiclass.X,
    y: multiclass.y,
    split: true,
  },
];

/** Exports `model` reading float features [N, d] (or two inputs joined by Concat) and runs it on `X`. */
async function runExport(model: FittedModel, X: Matrix, split: boolean): Promise<Record<string, RuntimeTensor>> {
  const d = X.cols;
  const g = createOnnxGraph('agreement');
  const f32 = Float32Array.from(X.data);
  let feeds: Record<string, RuntimeTensor>;
  let tensor: string;
  if (split) {
    const a = g.input('a', 'float', ['N', 3]);
    const b = g.input('b', 'float', ['N', d - 3]);
    [tensor] = g.node('Concat', [a, b], [g.fresh('features')], { axis: { i: 1 } }) as [string];
    const left = new Float32Array(X.rows * 3);
    const right = new Float32Array(X.rows * (d - 3));
    for (let i = 0; i < X.rows; i++) {
      left.set(f32.subarray(i * d, i * d + 3), i * 3);
      right.set(f32.subarray(i * d + 3, (i + 1) * d), i * (d - 3));
    }
    feeds = {
      a: { type: 'float', dims: [X.rows, 3], data: left },
      b: { type: 'float', dims: [X.rows, d - 3], data: right },
    };
  } else {
    tensor = g.input('features', 'float', ['N', d]);
    feeds = { features: { type: 'float', dims: [X.rows, d], data: f32 } };
  }
  const out = model.exportOnnx(g, { tensor, width: d });
  if (model.task === 'regression') {
    g.output(out.prediction as string, 'float', ['N', 1]);
  } else {
    g.output(out.label as string, 'string', ['N']);
    g.output(out.probabilities as string, 'float', ['N', (model.classes ?? []).length]);
  }
  g.metadata('model', model.task);
  const session = await OnnxModelSession.load(g.toBytes());
  try {
    const results = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(out).map(([role, name]) => [role, results[name as string] as RuntimeTensor]),
    );
  } finally {
    await session.close();
  }
}

describe('linear models agree with their ONNX export (onnxruntime-node, holdout rows)', () => {
  for (const c of cases) {
    it(c.name, async (t) => {
      const train = rowsOf(c.X, 0, TRAIN);
      const holdout = rowsOf(c.X, TRAIN, TRAIN + HOLDOUT);
      const yTrain = c.y instanceof Float64Array ? c.y.slice(0, TRAIN) : c.y.slice(0, TRAIN);
      const model = c.fit(train, yTrain, { seed: 7, weights: c.weights });
      const out = await runExport(model, holdout, c.split ?? false);

      if (model instanceof LinearRegressionModel) {
        const onnx = out.prediction as RuntimeTensor;
        assert.equal(onnx.type, 'float');
        assert.deepEqual([...onnx.dims], [HOLDOUT, 1]);
        const ts = model.predict(holdout);
        let cancelling = 0;
        let worst = 0;
        const scaled = new Float64Array(holdout.cols);
        for (let i = 0; i < HOLDOUT; i++) {
          model.scaling.row(holdout, i, scaled);
          let terms = Math.abs(model.intercept);
          for (let j = 0; j < holdout.cols; j++)
            terms += Math.abs((model.coefficients[j] as number) * (scaled[j] as number));
          const expected = ts[i] as number;
          const actual = onnx.data[i] as number;
          if (Math.abs(expected) < 0.1 * terms) cancelling++;
          worst = Math.max(worst, Math.abs(actual - expected) / Math.abs(expected));
          const tol = RTOL * Math.max(Math.abs(expected), 0.1 * terms);
          assert.ok(
            Math.abs(actual - expected) <= tol,
            `row ${i}: TypeScript ${expected}, ONNX ${actual}, terms ${terms}`,
          );
        }
        t.diagnostic(
          `${cancelling} of ${HOLDOUT} rows had terms cancelling below a tenth of their sum; ` +
            `largest relative difference over all rows: ${worst.toExponential(2)}`,
        );
      } else if (model instanceof LogisticRegressionModel) {
        const K = model.classes.length;
        const label = out.label as RuntimeTensor;
        const proba = out.probabilities as RuntimeTensor;
        assert.equal(label.type, 'string');
        assert.deepEqual([...label.dims], [HOLDOUT]);
        assert.equal(proba.type, 'float');
        assert.deepEqual([...proba.dims], [HOLDOUT, K]);
        const expected = model.predictProba(holdout);
        let smallest = 1;
        let worst = 0;
        for (let k = 0; k < HOLDOUT * K; k++) {
          const e = expected.data[k] as number;
          const a = proba.data[k] as number;
          smallest = Math.min(smallest, e);
          worst = Math.max(worst, Math.abs(a - e) / e);
          assert.ok(
            Math.abs(a - e) <= Math.max(RTOL * e, 1e-30),
            `row ${Math.floor(k / K)}, class ${k % K}: TypeScript ${e}, ONNX ${a}`,
          );
        }
        const predicted = model.predict(holdout);
        assert.deepEqual(
          label.data,
          Array.from(predicted, (k) => model.classes[k]),
        );
        t.diagnostic(
          `smallest probability compared: ${smallest.toExponential(2)}; ` +
            `largest relative difference: ${worst.toExponential(2)}`,
        );
      } else {
        assert.fail(`unexpected model ${model.constructor.name}`);
      }
    });
  }
});
