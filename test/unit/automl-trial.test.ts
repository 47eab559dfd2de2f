// runTrial on small benchmark data: every registered algorithm of both tasks cross-validates to
// finite Azure metrics and a sane score, out-of-fold predictions cover each row once, and
// classification probabilities stay aligned to the job's classes when a fold misses a class. A
// cross-validated trial's model is its fold bag, and fitPipeline fits the same one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALGORITHMS } from '../../shared/ml/automl/algorithms.js';
import { featurizeDataset, prepareDataset } from '../../shared/ml/automl/dataset.js';
import { predictPipeline, toFloat32Values } from '../../shared/ml/automl/pipeline.js';
import { fitPipeline } from '../../shared/ml/automl/refit.js';
import { fitOnRows, runTrial, scorePredictions } from '../../shared/ml/automl/trial.js';
import { AveragedModel } from '../../shared/ml/models/averaged.js';
import type { AutomlSettings, ParamValue, PreparedDataset } from '../../shared/ml/automl/types.js';
import type { Matrix, Table } from '../../shared/ml/types.js';
import { classificationDataset, noDatasets, regressionDataset } from '../support/tabular-datasets.js';
import { cat, num, table } from '../support/ml-tables.js';

function settings(task: 'classification' | 'regression', extra: Partial<AutomlSettings> = {}): AutomlSettings {
  return {
    task,
    targetColumn: 'target',
    primaryMetric: task === 'classification' ? 'accuracy' : 'normalized_root_mean_squared_error',
    validation: { kind: 'cv', folds: 3 },
    algorithms: [],
    enableVoteEnsemble: false,
    enableStackEnsemble: false,
    maxTrials: 10,
    maxConcurrentTrials: 1,
    earlyTermination: false,
    seed: 0,
    notices: [],
    ...extra,
  };
}

function toTable(X: Matrix, names: readonly string[], target: Table['columns'][number]): Table {
  const columns: Table['columns'] = names.map((name, j) => ({
    kind: 'numeric',
    name,
    values: Float64Array.from({ length: X.rows }, (_, r) => X.data[r * X.cols + j] as number),
  }));
  return { rows: X.rows, columns: [...columns, target] };
}

function loadClassification(name: string): Table {
  const d = classificationDataset(name);
  return toTable(d.train.X, d.featureNames, { kind: 'categorical', name: 'target', values: d.train.y });
}

function loadRegression(name: string): Table {
  const d = regressionDataset(name);
  return toTable(d.train.X, d.featureNames, { kind: 'numeric', name: 'target', values: d.train.y });
}

/** Fewer rounds and trees than the defaults, to keep the suite fast. */
function quick(params: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  const out = { ...params };
  if (typeof out['nEstimators'] === 'number') out['nEstimators'] = 20;
  return out;
}

function assertFinite(metrics: Record<string, number>, names: readonly string[]): void {
  for (const name of names) assert.ok(Number.isFinite(metrics[name]), `${name} = ${metrics[name]}`);
}

describe('runTrial', { skip: noDatasets }, () => {
  // Iris: every classification algorithm, 3-fold CV. Bernoulli NB binarizes at 0 and iris has
  // no negative value, so it can only learn the priors.
  const iris = (): PreparedDataset => prepareDataset(settings('classification'), loadClassification('iris'));
  for (const entry of ALGORITHMS.classification) {
    test(`iris: ${entry.name}`, () => {
      const data = iris();
      const out = runTrial(data, { algorithm: entry.name, params: quick(entry.defaults) });
      assertFinite(out.metrics, ['accuracy', 'AUC_weighted', 'log_loss', 'f1_score_macro', 'norm_macro_recall']);
      assert.equal(out.score, out.metrics['accuracy']);
      const floor = entry.name === 'BernoulliNaiveBayes' ? 0.2 : 0.85;
      assert.ok(out.score > floor && out.score <= 1, `${entry.name} accuracy ${out.score}`);
      // Each row is validated once: its probabilities sum to 1.
      const k = 3;
      for (let r = 0; r < data.features.rows; r++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += out.oof[r * k + c] as number;
        assert.ok(Math.abs(s - 1) < 1e-6, `row ${r} sums to ${s}`);
      }
      const pred = predictPipeline(out.pipeline, data.features);
      assert.equal(pred.probabilities?.length, data.features.rows * k);
      assert.ok(out.seconds >= 0);
    });
  }

  // Diabetes: every regression algorithm.
  for (const entry of ALGORITHMS.regression) {
    test(`diabetes: ${entry.name}`, () => {
      const data = prepareDataset(settings('regression'), loadRegression('diabetes'));
      const out = runTrial(data, { algorithm: entry.name, params: quick(entry.defaults) });
      assertFinite(out.metrics, [
        'r2_score',
        'normalized_root_mean_squared_error',
        'mean_absolute_error',
        'spearman_correlation',
      ]);
      assert.equal(out.score, out.metrics['normalized_root_mean_squared_error']);
      const weak = entry.name === 'DecisionTree' || entry.name === 'KNN';
      assert.ok(out.score > 0 && out.score < (weak ? 0.35 : 0.25), `${entry.name} NRMSE ${out.score}`);
      if (!weak) assert.ok((out.metrics['r2_score'] as number) > 0.3, `${entry.name} r2 ${out.metrics['r2_score']}`);
      assert.ok(out.oof.every((v) => Number.isFinite(v)));
    });
  }

  test('breast_cancer: logistic regression CV AUC_weighted > 0.98', () => {
    const data = prepareDataset(
      settings('classification', { primaryMetric: 'AUC_weighted', validation: { kind: 'cv', folds: 5 } }),
      loadClassification('breast_cancer'),
    );
    const out = runTrial(data, { algorithm: 'LogisticRegression', params: { C: 1 } });
    assert.ok(out.score > 0.98, `AUC_weighted ${out.score}`);
  });

  test('wine: LightGBM, reproducible for the same seed', () => {
    const data = prepareDataset(settings('classification'), loadClassification('wine'));
    const config = { algorithm: 'LightGBM', params: { nEstimators: 30, numLeaves: 8, learningRate: 0.2 } };
    const a = runTrial(data, config);
    const b = runTrial(data, config);
    assert.ok(a.score > 0.85, `accuracy ${a.score}`);
    assert.equal(a.score, b.score);
    assert.deepEqual(a.oof, b.oof);
  });
});

describe('runTrial alignment and holdout rows', () => {
  const n = 30;
  const xs = Array.from({ length: n }, (_, i) => i);
  const t = table(
    num(
      'x',
      xs.map((i) => (i % 3) * 10 + (i % 7) * 0.1),
    ),
    cat(
      'target',
      xs.map((i) => ['a', 'b', 'c'][i % 3] ?? 'a'),
    ),
  );

  test('a fold whose training rows miss a class still gives [rows, classes] probabilities', () => {
    const data = prepareDataset(settings('classification', { validation: { kind: 'split', size: 0.2 } }), t);
    // Train without class 'c' (rows i % 3 === 2), validate on the first six rows.
    const validation = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const train = Int32Array.from(xs.filter((i) => i >= 6 && i % 3 !== 2));
    data.folds = [{ train, validation }];
    const out = runTrial(data, { algorithm: 'LogisticRegression', params: {} });
    assert.equal(out.oof.length, n * 3);
    for (const r of validation) {
      assert.equal(out.oof[r * 3 + 2], 0, 'class c never seen: probability 0');
      assert.ok(Math.abs((out.oof[r * 3] as number) + (out.oof[r * 3 + 1] as number) - 1) < 1e-9);
    }
    // Rows no fold validates stay NaN.
    assert.ok(Number.isNaN(out.oof[6 * 3]));
    assert.ok(Number.isFinite(out.metrics['accuracy']));
    assert.deepEqual(out.pipeline.classes, ['a', 'b', 'c']);
  });

  test('scorePredictions scores a subset of rows with Azure names', () => {
    const data = prepareDataset(settings('regression', { targetColumn: 'y' }), table(num('x', xs), num('y', xs)));
    const perfect = scorePredictions(data, { prediction: Float64Array.from(xs) }, [0, 5, 9]);
    assert.equal(perfect['r2_score'], 1);
    assert.equal(perfect['normalized_root_mean_squared_error'], 0);
    const off = scorePredictions(data, { prediction: Float64Array.from(xs, (v) => v + 2.9) });
    // Normalized by the dataset's range (29), not the subset's.
    assert.ok(Math.abs((off['normalized_root_mean_squared_error'] as number) - 0.1) < 1e-12);
  });
});

describe('the model a trial keeps', () => {
  const n = 60;
  const xs = Array.from({ length: n }, (_, i) => i);
  const x = xs.map((i) => (i * 7) % 13);
  const z = xs.map((i) => (i * 5) % 11);
  const y = xs.map((i) => (x[i] as number) * 2 + (z[i] as number) + (i % 3));
  const t = table(num('x', x), num('z', z), num('target', y));
  const config = { algorithm: 'LightGBM', params: { nEstimators: 10, minChildSamples: 3, numLeaves: 4 } };

  test('cross-validated: the average of its fold models, which fitPipeline fits again', () => {
    const data = prepareDataset(settings('regression'), t);
    const out = runTrial(data, config);
    assert.equal(out.pipeline.head.kind, 'single');
    const model = out.pipeline.head.kind === 'single' ? out.pipeline.head.model : undefined;
    assert.ok(model instanceof AveragedModel);
    assert.equal(model.members.length, 3);
    // The mean of the three fold models, each fitted on its fold's training rows alone.
    const X = toFloat32Values(featurizeDataset(data).train);
    const folds = data.folds.map((fold) => fitOnRows(data, X, config, fold.train).predict(X));
    const pred = predictPipeline(out.pipeline, data.features).prediction as Float64Array;
    for (let r = 0; r < n; r++) {
      const mean = folds.reduce((s, p) => s + (p[r] as number), 0) / 3;
      assert.ok(
        Math.abs((pred[r] as number) - mean) <= 1e-5 * Math.abs(mean) + 1e-9,
        `row ${r}: ${pred[r]} vs ${mean}`,
      );
    }
    // Not the model fitted on every row.
    const all = fitOnRows(data, X, config).predict(X);
    assert.ok(all.some((v, r) => Math.abs(v - (pred[r] as number)) > 1e-6));
    // fitPipeline fits that same fold bag again; an ensemble's member averages five folds' models.
    const again = fitPipeline(data, { kind: 'single', config });
    assert.deepEqual(predictPipeline(again, data.features).prediction, pred);
    const vote = fitPipeline(data, { kind: 'vote', members: [{ config, weight: 1 }] }).head;
    assert.ok(vote.kind === 'vote' && vote.members[0]?.model instanceof AveragedModel);
    assert.equal(vote.members[0].model.members.length, 5);
  });

  test("the user's folds (cv_split_column_names): the trial and an ensemble member bag over them", () => {
    const folds = (i: number) => i % 3;
    const withSplits = table(
      ...t.columns,
      num(
        'f0',
        xs.map((i) => (folds(i) === 0 ? 0 : 1)),
      ),
      num(
        'f1',
        xs.map((i) => (folds(i) === 1 ? 0 : 1)),
      ),
    );
    const columns = { kind: 'columns' as const, columns: ['f0', 'f1'] };
    const data = prepareDataset(settings('regression', { validation: columns }), withSplits);
    const out = runTrial(data, config);
    const model = out.pipeline.head.kind === 'single' ? out.pipeline.head.model : undefined;
    assert.ok(model instanceof AveragedModel);
    assert.equal(model.members.length, 2);
    // The vote's member keeps the two given folds, not five drawn ones.
    const vote = fitPipeline(data, { kind: 'vote', members: [{ config, weight: 1 }] }).head;
    assert.ok(vote.kind === 'vote' && vote.members[0]?.model instanceof AveragedModel);
    assert.equal(vote.members[0].model.members.length, 2);
  });

  test('limits.max_cores_per_trial: boosting builds its histograms on more threads and fits the same model', () => {
    const one = runTrial(prepareDataset(settings('regression'), t), config);
    for (const cores of [2, -1]) {
      const many = runTrial(prepareDataset(settings('regression', { coresPerTrial: cores }), t), config);
      assert.deepEqual(many.metrics, one.metrics, `cores ${cores}`);
      assert.deepEqual(many.oof, one.oof, `cores ${cores}`);
      assert.deepEqual(many.config, one.config, 'the threads are not a hyperparameter of the trial');
    }
  });

  test('one validation split: the model fitted on every row', () => {
    const data = prepareDataset(settings('regression', { validation: { kind: 'split', size: 0.2 } }), t);
    const out = runTrial(data, config);
    const model = out.pipeline.head.kind === 'single' ? out.pipeline.head.model : undefined;
    assert.ok(model !== undefined && !(model instanceof AveragedModel));
    const X = toFloat32Values(featurizeDataset(data).train);
    assert.deepEqual(predictPipeline(out.pipeline, data.features).prediction, fitOnRows(data, X, config).predict(X));
  });

  test('a fold model missing a class, or a stable learner: the model fitted on every row', () => {
    const classification = (labels: string[]): PreparedDataset =>
      prepareDataset(settings('classification'), table(num('x', x), cat('target', labels)));
    const data = classification(xs.map((i) => (i < 2 ? 'rare' : i % 2 === 0 ? 'a' : 'b')));
    // Both 'rare' rows in the first fold: its model never sees the class.
    const thirds = [0, 1, 2].map((k) => Int32Array.from(xs.filter((i) => Math.floor(i / 20) === k)));
    data.folds = thirds.map((validation, k) => ({
      train: Int32Array.from(thirds.filter((_, j) => j !== k).flatMap((rows) => [...rows])),
      validation,
    }));
    for (const algorithm of ['DecisionTree', 'LogisticRegression']) {
      const out = runTrial(data, { algorithm, params: {} });
      const model = out.pipeline.head.kind === 'single' ? out.pipeline.head.model : undefined;
      assert.ok(model !== undefined && !(model instanceof AveragedModel), algorithm);
      assert.deepEqual(model.classes, ['a', 'b', 'rare']);
    }
    const both = classification(xs.map((i) => (i % 2 === 0 ? 'a' : 'b')));
    const tree = runTrial(both, { algorithm: 'DecisionTree', params: {} }).pipeline.head;
    assert.ok(tree.kind === 'single' && tree.model instanceof AveragedModel);
    const linear = runTrial(both, { algorithm: 'LogisticRegression', params: {} }).pipeline.head;
    assert.ok(linear.kind === 'single' && !(linear.model instanceof AveragedModel));
  });
});
