// Every tree model of shared/ml/models, exported into an ONNX graph (createOnnxGraph) and run by
// onnxruntime-node through the OnnxModelRuntime adapter, agrees with its TypeScript predictions:
// values within 1e-5 relative, labels exactly, on holdout rows and on rows placed on, just above
// and just below every threshold of the first trees, and with missing values. Table-driven over
// models × tasks on seeded synthetic data, then on the shared benchmark datasets when present.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { extraTreesTrainer, randomForestTrainer } from '../../shared/ml/models/forest.js';
import { histGradientBoostingTrainer } from '../../shared/ml/models/gbm.js';
import { decisionTreeTrainer, float32Below } from '../../shared/ml/models/tree.js';
import type { TreeNodes } from '../../shared/ml/models/tree.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import { Rng } from '../../shared/ml/rng.js';
import type { FittedModel, Matrix } from '../../shared/ml/types.js';
import type { RuntimeTensor } from '../../shared/ports/model-runtime.js';
import {
  binaryClassification,
  friedmanRegression,
  splitSynthetic,
  threeClasses,
} from '../support/synthetic-tabular.js';
import type { Synthetic } from '../support/synthetic-tabular.js';
import { classificationDataset, noDatasets, regressionDataset } from '../support/tabular-datasets.js';

const RELATIVE = 1e-5;
/** The smallest normal float32: below it a float32 output keeps no relative precision at all. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

const runtime = new OnnxModelRuntime();

type TreeModel = FittedModel & ({ tree: TreeNodes } | { trees: readonly TreeNodes[] });

function treesOf(model: TreeModel): readonly TreeNodes[] {
  return 'tree' in model ? [model.tree] : model.trees;
}

const float32Above = (x: number): number => -float32Below(-x);

/**
 * The holdout rows, then rows built on the thresholds of the first trees: for each split (at most
 * `limit`), a holdout row with the split feature set to the threshold, the float32 values either
 * side, a double that rounds to the threshold in float32, and NaN.
 */
function withEdgeRows(X: Matrix, trees: readonly TreeNodes[], limit = 80): Matrix {
  const rows: number[][] = [];
  for (let i = 0; i < X.rows; i++) rows.push(Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
  let splits = 0;
  for (const tree of trees) {
    for (let node = 0; node < tree.nodeCount && splits < limit; node++) {
      const f = tree.feature[node] as number;
      if (f < 0) continue;
      const t = tree.threshold[node] as number;
      const values = Number.isFinite(t)
        ? [t, float32Above(t), float32Below(t), t + (float32Above(t) - t) / 4, NaN]
        : [1e30, -1e30, NaN];
      for (const v of values) {
        const row = [...(rows[splits % X.rows] as number[])];
        row[f] = v;
        rows.push(row);
      }
      splits++;
    }
  }
  return { rows: rows.length, cols: X.cols, data: Float64Array.from(rows.flat()) };
}

/** Asserts |onnx − ts| ≤ 1e-5·|ts| element-wise; returns the largest relative difference seen. */
function assertAgrees(onnx: Float32Array, ts: Float64Array, what: string): number {
  assert.equal(onnx.length, ts.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < ts.length; i++) {
    const expected = ts[i] as number;
    const diff = Math.abs((onnx[i] as number) - expected);
    const scale = Math.abs(expected);
    if (scale < FLOAT32_MIN_NORMAL && diff < FLOAT32_MIN_NORMAL) continue;
    assert.ok(diff <= RELATIVE * scale, `${what}[${i}]: onnxruntime ${onnx[i]}, TypeScript ${expected}`);
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

function tensor(outputs: Record<string, RuntimeTensor>, name: string | undefined): RuntimeTensor {
  assert.ok(name !== undefined, 'the model returned no output name');
  const value = outputs[name];
  assert.ok(value !== undefined, `no output '${name}'`);
  return value;
}

/** Exports, runs and compares one fitted model on `holdout` plus its edge rows; returns the worst relative difference. */
async function assertOnnxAgrees(model: TreeModel, holdout: Matrix): Promise<number> {
  const X = withEdgeRows(holdout, treesOf(model));
  const g = createOnnxGraph('tessera-trees');
  const input = g.input('features', 'float', ['N', X.cols]);
  const out = model.exportOnnx(g, { tensor: input, width: X.cols });
  const classes = model.classes ?? [];
  if (model.task === 'regression') g.output(out.prediction as string, 'float', ['N', 1]);
  else {
    g.output(out.label as string, 'string', ['N']);
    g.output(out.probabilities as string, 'float', ['N', classes.length]);
  }
  const session = await runtime.load(g.toBytes());
  try {
    const outputs = await session.run({
      features: { type: 'float', dims: [X.rows, X.cols], data: Float32Array.from(X.data) },
    });
    if (model.task === 'regression') {
      const prediction = tensor(outputs, out.prediction);
      assert.equal(prediction.type, 'float');
      assert.deepEqual(prediction.dims, [X.rows, 1]);
      return assertAgrees(prediction.data as Float32Array, model.predict(X), 'prediction');
    }
    const label = tensor(outputs, out.label);
    assert.equal(label.type, 'string');
    assert.deepEqual(label.dims, [X.rows]);
    const predicted = Array.from(model.predict(X), (c) => classes[c]);
    assert.deepEqual(label.data, predicted);
    const probabilities = tensor(outputs, out.probabilities);
    assert.equal(probabilities.type, 'float');
    assert.deepEqual(probabilities.dims, [X.rows, classes.length]);
    const proba = model.predictProba?.(X);
    assert.ok(proba !== undefined);
    return assertAgrees(probabilities.data as Float32Array, proba.data, 'probabilities');
  } finally {
    await session.close();
  }
}

interface Case {
  name: string;
  fit: () => TreeModel;
  holdout: Matrix;
}

/** Every trainer on one problem. */
function casesFor<Y extends Float64Array | string[]>(
  problem: string,
  data: { train: Synthetic<Y>; test: Synthetic<Y> },
  extra: readonly Case[] = [],
): Case[] {
  const { X, y } = data.train;
  return [
    {
      name: `DecisionTree ${problem}`,
      fit: () => decisionTreeTrainer.fit(X, y, {}, { seed: 1 }),
      holdout: data.test.X,
    },
    {
      name: `RandomForest ${problem}`,
      fit: () => randomForestTrainer.fit(X, y, { nEstimators: 40 }, { seed: 1 }),
      holdout: data.test.X,
    },
    {
      name: `ExtremeRandomTrees ${problem}`,
      fit: () => extraTreesTrainer.fit(X, y, { nEstimators: 40 }, { seed: 1 }),
      holdout: data.test.X,
    },
    {
      name: `LightGBM leaf-wise ${problem}`,
      fit: () => histGradientBoostingTrainer.fit(X, y, {}, { seed: 1 }),
      holdout: data.test.X,
    },
    {
      name: `LightGBM depth-wise, subsampled, early stopping ${problem}`,
      fit: () =>
        histGradientBoostingTrainer.fit(
          X,
          y,
          {
            growPolicy: 'depthwise',
            maxDepth: 4,
            subsample: 0.8,
            colsampleBytree: 0.7,
            earlyStopping: true,
            nEstimators: 300,
          },
          { seed: 1 },
        ),
      holdout: data.test.X,
    },
    ...extra,
  ];
}

/** A copy of X with about `fraction` of its values missing (NaN), chosen by a seeded draw. */
function withMissing(X: Matrix, fraction: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { ...X, data: X.data.map((v) => (rng.next() < fraction ? NaN : v)) };
}

const regression = splitSynthetic(friedmanRegression(41, 1000), 800);
const binary = splitSynthetic(binaryClassification(42, 1000), 800);
const multiclass = splitSynthetic(threeClasses(43, 900), 700);
const weights = Float64Array.from({ length: 800 }, (_, i) => [0, 0.5, 1, 3][i % 4] as number);
const missing = {
  train: { X: withMissing(regression.train.X, 0.15, 1), y: regression.train.y },
  test: { X: withMissing(regression.test.X, 0.15, 2), y: regression.test.y },
};
const missingBinary = {
  train: { X: withMissing(binary.train.X, 0.15, 3), y: binary.train.y },
  test: { X: withMissing(binary.test.X, 0.15, 4), y: binary.test.y },
};

const cases: Case[] = [
  ...casesFor('regression', regression, [
    {
      name: 'RandomForest regression, sample weights',
      fit: () =>
        randomForestTrainer.fit(regression.train.X, regression.train.y, { nEstimators: 20 }, { seed: 2, weights }),
      holdout: regression.test.X,
    },
    {
      name: 'LightGBM regression, 600 rounds (sums that a float32 accumulator would drift on)',
      fit: () =>
        histGradientBoostingTrainer.fit(regression.train.X, regression.train.y, { nEstimators: 600 }, { seed: 1 }),
      holdout: regression.test.X,
    },
  ]),
  ...casesFor('binary', binary, [
    {
      name: 'LightGBM binary, sample weights',
      fit: () => histGradientBoostingTrainer.fit(binary.train.X, binary.train.y, {}, { seed: 2, weights }),
      holdout: binary.test.X,
    },
    {
      name: 'LightGBM binary, confident (probabilities far below 1e-5)',
      fit: () =>
        histGradientBoostingTrainer.fit(
          binary.train.X,
          binary.train.y,
          { nEstimators: 300, learningRate: 0.5, minChildSamples: 5 },
          { seed: 1 },
        ),
      holdout: binary.test.X,
    },
  ]),
  ...casesFor('3 classes', multiclass),
  ...casesFor('regression with 15% missing values', missing),
  ...casesFor('binary with 15% missing values', missingBinary),
  {
    name: 'LightGBM binary on constant features (every tree one leaf)',
    fit: () =>
      histGradientBoostingTrainer.fit(
        { rows: 50, cols: 2, data: new Float64Array(100).fill(3) },
        Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 'rare' : 'common')),
        { nEstimators: 3 },
        { seed: 0 },
      ),
    holdout: { rows: 3, cols: 2, data: Float64Array.of(3, 3, 0, 0, NaN, 1) },
  },
  {
    name: 'RandomForest with numeric labels, ordered by value',
    fit: () =>
      randomForestTrainer.fit(
        multiclass.train.X,
        multiclass.train.y.map((c) => ({ red: '10', green: '2', blue: '0' })[c] ?? c),
        { nEstimators: 10 },
        { seed: 3 },
      ),
    holdout: multiclass.test.X,
  },
];

describe('tree models agree with onnxruntime', () => {
  for (const c of cases) {
    it(c.name, async (t) => {
      const worst = await assertOnnxAgrees(c.fit(), c.holdout);
      t.diagnostic(`largest relative difference ${worst.toExponential(2)}`);
    });
  }

  it('numeric labels keep their numeric order in classes and in the ONNX label output', () => {
    const model = randomForestTrainer.fit(
      multiclass.train.X,
      multiclass.train.y.map((c) => ({ red: '10', green: '2', blue: '0' })[c] ?? c),
      { nEstimators: 2 },
      { seed: 3 },
    );
    assert.deepEqual(model.classes, ['0', '2', '10']);
  });
});

describe('tree models agree with onnxruntime on the shared benchmark datasets', { skip: noDatasets }, () => {
  const table = [
    ['breast_cancer', 'classification'],
    ['iris', 'classification'],
    ['wine', 'classification'],
    ['diabetes', 'regression'],
  ] as const;
  for (const [name, task] of table) {
    const trainers = [
      ['DecisionTree', decisionTreeTrainer],
      ['RandomForest', randomForestTrainer],
      ['ExtremeRandomTrees', extraTreesTrainer],
      ['LightGBM', histGradientBoostingTrainer],
    ] as const;
    for (const [trainerName, trainer] of trainers) {
      it(`${trainerName} on ${name}`, async (t) => {
        const d = task === 'classification' ? classificationDataset(name) : regressionDataset(name);
        const model = trainer.fit(d.train.X, d.train.y, {}, { seed: 1 }) as TreeModel;
        const worst = await assertOnnxAgrees(model, d.test.X);
        t.diagnostic(`largest relative difference ${worst.toExponential(2)}`);
      });
    }
  }
});
