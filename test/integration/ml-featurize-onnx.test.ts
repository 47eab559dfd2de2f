// The featurizer's exported graph, run by onnxruntime-node through the ModelRuntime adapter, agrees
// with its TypeScript transform on holdout rows: a table mixing every column kind, with missing
// values, unseen categories, unseen words and out-of-range numbers and dates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { fitFeaturizer } from '../../shared/ml/featurize/featurizer.js';
import type { FeaturizerOptions } from '../../shared/ml/featurize/featurizer.js';
import { declareOnnxInputs, toOnnxFeeds } from '../../shared/ml/featurize/onnx-io.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import { Rng } from '../../shared/ml/rng.js';
import type { FittedFeaturizer, Matrix, Table } from '../../shared/ml/types.js';
import type { ModelSession } from '../../shared/ports/model-runtime.js';
import { cat, dt, num, slice, table, text } from '../support/ml-tables.js';

const TOLERANCE = 1e-5;

/**
 * Every cell within 1e-5 relative of the larger magnitude. Exact zeros must be exact: the
 * featurizers produce 0 from indicators and empty rows, never from a cancellation.
 */
function assertAgree(ts: Matrix, onnx: Float32Array, names: readonly string[]): void {
  assert.equal(onnx.length, ts.rows * ts.cols, 'ONNX output size');
  let worst = 0;
  for (let r = 0; r < ts.rows; r++) {
    for (let j = 0; j < ts.cols; j++) {
      const a = ts.data[r * ts.cols + j] as number;
      const b = onnx[r * ts.cols + j] as number;
      const scale = Math.max(Math.abs(a), Math.abs(b));
      const rel = scale === 0 ? 0 : Math.abs(a - b) / scale;
      worst = Math.max(worst, rel);
      assert.ok(
        Number.isFinite(a) && rel <= TOLERANCE,
        `row ${r}, feature '${names[j]}': TypeScript ${a}, ONNX ${b} (relative ${rel})`,
      );
    }
  }
  assert.ok(worst <= TOLERANCE);
}

const runtime = new OnnxModelRuntime();
const sessions: ModelSession[] = [];
after(async () => {
  for (const s of sessions) await s.close();
});

/** Exports `featurizer` alone (inputs → features) and runs it on `rows`. */
async function runOnnx(featurizer: FittedFeaturizer & { onnxInputs: Parameters<typeof toOnnxFeeds>[1] }, rows: Table) {
  const g = createOnnxGraph('featurizer');
  const inputs = declareOnnxInputs(g, featurizer.onnxInputs);
  const features = featurizer.exportOnnx(g, inputs);
  g.output(features.tensor, 'float', ['N', features.width]);
  const session = await runtime.load(g.toBytes());
  sessions.push(session);
  const out = await session.run(toOnnxFeeds(rows, featurizer.onnxInputs));
  const tensor = out[features.tensor];
  assert.ok(tensor !== undefined && tensor.type === 'float', 'a float feature tensor');
  assert.deepEqual(tensor.dims, [rows.rows, features.width]);
  return tensor.data as Float32Array;
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'engine', 'Fast', 'slow', 'ÜBER', 'café', 'x2', 'zeta', 'quiet'];
const DAY = 86_400_000;

/** 400 rows: 300 to fit on, 100 holdout rows with their own surprises. */
function mixedTable(): { all: Table; target: Float64Array; labels: string[] } {
  const n = 400;
  const rng = new Rng(2024);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const holdout = (i: number): boolean => i >= 300;
  const all = table(
    // Numbers far from their mean (cancellation), missing values, out-of-range holdout values.
    num(
      'income',
      Array.from({ length: n }, (_, i) =>
        i % 11 === 0 ? null : holdout(i) && i % 7 === 0 ? 1e6 + rng.next() : 52_000 + rng.next() * 3,
      ),
    ),
    num(
      'ratio',
      Array.from({ length: n }, (_, i) => (i % 13 === 5 ? null : (rng.next() - 0.5) * 1e-3)),
    ),
    num(
      'count',
      Array.from({ length: n }, () => rng.int(20)),
    ),
    // Low cardinality with missing values; holdout rows bring unseen categories.
    cat(
      'color',
      Array.from({ length: n }, (_, i) =>
        i % 9 === 0 ? null : holdout(i) && i % 5 === 0 ? 'ultraviolet' : pick(['red', 'green', 'blue', 'teal']),
      ),
    ),
    // High cardinality: target + frequency encoding (+ '' cells, which are missing too).
    cat(
      'city',
      Array.from({ length: n }, (_, i) =>
        i % 17 === 0 ? '' : holdout(i) && i % 3 === 0 ? `new-city-${i}` : `city-${rng.int(60)}`,
      ),
    ),
    // Imputed with most_frequent (a categorical imputer).
    cat(
      'segment',
      Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : pick(['a', 'b', 'b', 'c']))),
    ),
    // Numeric columns declared Categorical: low cardinality with a missing category (one-hot by
    // Equal and IsNaN), high cardinality (target/frequency lookups by MatMul), and one imputed
    // with a constant (Where before Equal).
    num(
      'zip',
      Array.from({ length: n }, (_, i) => (i % 15 === 2 ? null : 10_000 + rng.int(holdout(i) ? 120 : 80) * 7)),
    ),
    num(
      'level',
      Array.from({ length: n }, (_, i) => (i % 7 === 3 ? null : rng.int(4) + 0.5)),
    ),
    num(
      'stars',
      Array.from({ length: n }, (_, i) => (i % 10 === 1 ? null : holdout(i) && i % 4 === 0 ? 9 : 1 + rng.int(5))),
    ),
    // Datetimes across 1960..2060, with missing values and a holdout far outside the range.
    dt(
      'signup',
      Array.from({ length: n }, (_, i) =>
        i % 8 === 0
          ? null
          : holdout(i) && i % 9 === 0
            ? Date.UTC(2200, 1, 29, 13, 5)
            : Date.UTC(1960, 0, 1) + Math.floor(rng.next() * 100 * 365.25) * DAY + rng.int(DAY),
      ),
    ),
    // Free text with punctuation, case, accents; holdout rows bring unseen words and empty text.
    text(
      'review',
      Array.from({ length: n }, (_, i) =>
        i % 12 === 0
          ? null
          : holdout(i) && i % 6 === 0
            ? 'Completely unheard-of vocabulary!'
            : Array.from({ length: 1 + rng.int(8) }, () => pick(WORDS)).join(pick([' ', ', ', '. ', ' - '])),
      ),
    ),
  );
  const target = Float64Array.from({ length: n }, () => rng.next() * 100);
  const labels = Array.from({ length: n }, () => pick(['low', 'mid', 'high']));
  return { all, target, labels };
}

describe('the featurizer exported to ONNX agrees with TypeScript on holdout rows', () => {
  const { all, target, labels } = mixedTable();
  const train = slice(all, 0, 300);
  const test_ = slice(all, 300, 400);
  const featurization: FeaturizerOptions['featurization'] = {
    mode: 'custom',
    column_name_and_types: { stars: 'Categorical', zip: 'Categorical', level: 'Categorical' },
    transformer_params: {
      imputer: [
        { fields: ['ratio'], parameters: { strategy: 'median' } },
        { fields: ['segment'], parameters: { strategy: 'most_frequent' } },
        { fields: ['city'], parameters: { strategy: 'constant', fill_value: 'unknown' } },
        { fields: ['level'], parameters: { strategy: 'constant', fill_value: 0.5 } },
        { fields: ['signup'], parameters: { strategy: 'constant', fill_value: '2000-01-01T00:00:00Z' } },
      ],
    },
  };

  const cases: { name: string; options: Omit<FeaturizerOptions, 'seed'> }[] = [
    {
      name: 'regression target, standard scaling',
      options: { featurization, scaler: 'standard', target: { task: 'regression', values: target.slice(0, 300) } },
    },
    {
      name: 'multiclass target, robust scaling, a one-hot cap of 8',
      options: {
        featurization,
        scaler: 'robust',
        maxOneHotCategories: 8,
        target: { task: 'classification', values: labels.slice(0, 300) },
      },
    },
    { name: 'no target (frequency + capped one-hot), min-max scaling', options: { featurization, scaler: 'minmax' } },
    { name: 'mode auto, no scaling', options: {} },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const { featurizer, plan } = fitFeaturizer(train, { seed: 3, ...c.options });
      // The table exercises every kind of transformer.
      const used = new Set(plan.columns.flatMap((p) => p.transformers.map((t) => t.split('+')[0])));
      for (const t of ['Imputer', 'DateTimeParts', 'TfIdf']) assert.ok(used.has(t), `${t} in ${[...used].join(', ')}`);
      if (c.options.featurization !== undefined) {
        const encoders = Object.fromEntries(plan.columns.map((p) => [p.name, p.transformers]));
        const highCardinality =
          c.options.target === undefined
            ? ['FrequencyEncoder', 'OneHotEncoder']
            : ['CatTargetEncoder', 'FrequencyEncoder'];
        assert.deepEqual(encoders['city'], highCardinality);
        assert.deepEqual(encoders['zip'], highCardinality);
        assert.deepEqual(encoders['level'], ['OneHotEncoder']);
        assert.deepEqual(encoders['stars'], ['OneHotEncoder']);
      }
      for (const rows of [test_, train]) {
        const ts = featurizer.transform(rows);
        assertAgree(ts, await runOnnx(featurizer, rows), featurizer.featureNames);
      }
    });
  }

  test('the holdout rows do reach the unseen-value paths', () => {
    const { featurizer } = fitFeaturizer(train, { seed: 3, featurization, maxOneHotCategories: 8 });
    const m = featurizer.transform(test_);
    const col = (name: string): number[] => {
      const j = featurizer.featureNames.indexOf(name);
      assert.ok(j >= 0, name);
      return Array.from({ length: m.rows }, (_, r) => m.data[r * m.cols + j] as number);
    };
    assert.ok(
      col('color=__other__').some((v) => v === 1),
      'an unseen color',
    );
    assert.ok(
      col('stars=__other__').some((v) => v === 1),
      'an unseen star count',
    );
    assert.ok(
      col('city:frequency').some((v) => v === 0),
      'an unseen city',
    );
    assert.ok(
      col('signup:year').some((v) => v === 2200),
      'a date outside the training range',
    );
  });
});

describe('the exported featurizer', () => {
  let bytes: Uint8Array;
  before(() => {
    const { all } = mixedTable();
    const { featurizer } = fitFeaturizer(slice(all, 0, 300), { seed: 3 });
    const g = createOnnxGraph('featurizer');
    const features = featurizer.exportOnnx(g, declareOnnxInputs(g, featurizer.onnxInputs));
    g.output(features.tensor, 'float', ['N', features.width]);
    bytes = g.toBytes();
  });

  test('declares one input per raw column used: float numbers, double datetimes, strings, text tokens', async () => {
    const session = await runtime.load(bytes);
    sessions.push(session);
    assert.deepEqual(
      session.inputs().map((i) => [i.name, i.type, i.shape]),
      [
        ['income', 'float', ['N', 1]],
        ['ratio', 'float', ['N', 1]],
        ['count', 'float', ['N', 1]],
        ['color', 'string', ['N', 1]],
        ['city', 'string', ['N', 1]],
        ['segment', 'string', ['N', 1]],
        ['zip', 'float', ['N', 1]],
        ['level', 'float', ['N', 1]],
        ['stars', 'float', ['N', 1]],
        ['signup', 'double', ['N', 1]],
        ['review', 'string', ['N', 'review:tokens']],
      ],
    );
  });
});
