import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrationBins,
  calibrationCurves,
  multiclassCurves,
  precisionRecallCurve,
  rocCurve,
} from '../../shared/ml/metric-curves.js';
import {
  CLASSIFICATION_METRIC_NAMES,
  METRIC_GOALS,
  PRIMARY_METRICS,
  REGRESSION_METRIC_NAMES,
  averagePrecision,
  averageRanks,
  binaryAuc,
  classificationMetrics,
  confusionMatrix,
  encodeLabels,
  isBetter,
  metricGoal,
  normalizeConfusionMatrix,
  regressionMetrics,
  spearmanCorrelation,
} from '../../shared/ml/metrics.js';
import { Rng } from '../../shared/ml/rng.js';
import type { Matrix } from '../../shared/ml/types.js';

// Reference values. scikit-learn is not installed where these tests were written
// (`python3 -c "import sklearn"` fails), so there are no freshly generated sklearn literals here.
// Instead: (a) the examples printed in scikit-learn's documentation (sklearn.metrics docstrings);
// (b) numbers from a one-off numpy 2.4.6 / scipy 1.17.1 script that computes each metric from its
// definition (AUC as the weighted share of correctly ordered positive/negative pairs, ties 1/2;
// average precision as the weighted mean over positives of the precision at their score), which
// is independent of the threshold sweep in shared/ml/metric-curves.ts; (c) hand-checked cases.

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

/** Probabilities that put all mass on the predicted class, to score label-only metrics. */
const oneHot = (pred: number[], k: number): Matrix =>
  matrix(pred.map((p) => Array.from({ length: k }, (_, c) => (c === p ? 1 : 0))));

// ---------------------------------------------------------------------------------------------
// Names and goals

test('the metric table: every name has a goal, primary metrics are Azure’s, goals are right', () => {
  for (const name of [...CLASSIFICATION_METRIC_NAMES, ...REGRESSION_METRIC_NAMES]) {
    assert.ok(METRIC_GOALS[name] === 'maximize' || METRIC_GOALS[name] === 'minimize', name);
  }
  assert.deepEqual(PRIMARY_METRICS.classification, [
    'accuracy',
    'AUC_weighted',
    'average_precision_score_weighted',
    'norm_macro_recall',
    'precision_score_weighted',
  ]);
  assert.deepEqual(PRIMARY_METRICS.regression, [
    'spearman_correlation',
    'normalized_root_mean_squared_error',
    'r2_score',
    'normalized_mean_absolute_error',
  ]);
  assert.equal(PRIMARY_METRICS.forecasting[0], 'normalized_root_mean_squared_error');
  const expected: [string, 'maximize' | 'minimize'][] = [
    ['accuracy', 'maximize'],
    ['AUC_weighted', 'maximize'],
    ['log_loss', 'minimize'],
    ['norm_macro_recall', 'maximize'],
    ['spearman_correlation', 'maximize'],
    ['normalized_root_mean_squared_error', 'minimize'],
    ['r2_score', 'maximize'],
    ['mean_absolute_percentage_error', 'minimize'],
  ];
  for (const [name, goal] of expected) assert.equal(metricGoal(name), goal, name);
  assert.throws(() => metricGoal('auc'), RangeError);
  assert.equal(isBetter('log_loss', 0.1, 0.2), true);
  assert.equal(isBetter('accuracy', 0.1, 0.2), false);
  assert.equal(isBetter('accuracy', Number.NaN, 0.2), false);
  assert.equal(isBetter('accuracy', 0.1, Number.NaN), true);
});

// ---------------------------------------------------------------------------------------------
// scikit-learn documentation examples

test('sklearn doc examples: roc_auc_score 0.75 and average_precision_score 0.8333 on [0.1, 0.4, 0.35, 0.8]', () => {
  const scores = [0.1, 0.4, 0.35, 0.8];
  const y = [0, 0, 1, 1];
  close(
    binaryAuc(scores, (i) => y[i] === 1),
    0.75,
  );
  close(
    averagePrecision(scores, (i) => y[i] === 1),
    0.8333333333333333,
  );
  // Through classificationMetrics with two columns: AUC_weighted is the binary AUC.
  const m = classificationMetrics({ yTrue: y, proba: matrix(scores.map((s) => [1 - s, s])) });
  close(m.AUC_weighted, 0.75);
  close(m.AUC_macro, 0.75);
});

test('sklearn doc examples: roc_curve and precision_recall_curve points', () => {
  const scores = [0.1, 0.4, 0.35, 0.8];
  const roc = rocCurve(scores, (i) => i >= 2);
  assert.deepEqual([...roc.fpr], [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual([...roc.tpr], [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual([...roc.thresholds], [Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1]);
  const pr = precisionRecallCurve(scores, (i) => i >= 2);
  // sklearn lists these in increasing threshold order: precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0].
  assert.deepEqual([...pr.recall], [0, 0.5, 0.5, 1, 1]);
  const expectedPrecision = [1, 1, 0.5, 2 / 3, 0.5];
  pr.precision.forEach((p, i) => close(p, expectedPrecision[i] as number));
});

test('sklearn doc examples: log_loss 0.21616, matthews_corrcoef -1/3, balanced_accuracy 0.625', () => {
  // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]); classes [ham, spam].
  const y = encodeLabels(['spam', 'ham', 'ham', 'spam'], ['ham', 'spam']);
  const m = classificationMetrics({
    yTrue: y,
    proba: matrix([
      [0.1, 0.9],
      [0.9, 0.1],
      [0.8, 0.2],
      [0.35, 0.65],
    ]),
  });
  close(m.log_loss, 0.21616187468057912);
  // matthews_corrcoef([+1, +1, +1, -1], [+1, -1, +1, +1]); -1 -> 0, +1 -> 1.
  close(classificationMetrics({ yTrue: [1, 1, 1, 0], proba: oneHot([1, 0, 1, 1], 2) }).matthews_correlation, -1 / 3);
  // balanced_accuracy_score([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]).
  close(
    classificationMetrics({ yTrue: [0, 1, 0, 0, 1, 0], proba: oneHot([0, 1, 0, 0, 0, 1], 2) }).balanced_accuracy,
    0.625,
  );
});

test('sklearn doc examples: f1/precision/recall on y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1]', () => {
  const m = classificationMetrics({ yTrue: [0, 1, 2, 0, 1, 2], proba: oneHot([0, 2, 1, 0, 0, 1], 3) });
  close(m.f1_score_macro, 0.26666666666666666);
  close(m.f1_score_micro, 0.3333333333333333);
  close(m.f1_score_weighted, 0.26666666666666666);
  close(m.precision_score_macro, 0.2222222222222222);
  close(m.precision_score_micro, 0.3333333333333333);
  close(m.precision_score_weighted, 0.2222222222222222);
  close(m.recall_score_macro, 0.3333333333333333);
  close(m.accuracy, 1 / 3);
});

test('sklearn doc example: confusion_matrix([2,0,2,2,0,1], [0,0,2,2,0,2]) and its row normalization', () => {
  const cm = confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], 3);
  assert.deepEqual([...cm.data], [2, 0, 0, 0, 0, 1, 1, 0, 2]);
  const normalized = normalizeConfusionMatrix(cm);
  assert.deepEqual([...normalized.data].slice(0, 6), [1, 0, 0, 0, 0, 1]);
  close(normalized.data[6] as number, 1 / 3);
  close(normalized.data[8] as number, 2 / 3);
  const weighted = confusionMatrix([0, 1, 1], [0, 1, 0], 2, [2, 0.5, 3]);
  assert.deepEqual([...weighted.data], [2, 0, 3, 0.5]);
});

test('sklearn doc example: calibration_curve with 3 bins', () => {
  const y = [0, 0, 0, 0, 1, 1, 1, 1, 1];
  const p = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0];
  const bins = calibrationBins(p, (i) => y[i] === 1, { bins: 3 });
  // sklearn: prob_true [0, 0.5, 1], prob_pred [0.2, 0.525, 0.85].
  assert.deepEqual(
    bins.map((b) => b.count),
    [3, 2, 4],
  );
  [0, 0.5, 1].forEach((v, i) => close(bins[i]?.fractionPositive as number, v));
  [0.2, 0.525, 0.85].forEach((v, i) => close(bins[i]?.meanPredicted as number, v));
  // A probability on an inner edge falls in the lower bin (searchsorted 'left').
  const edge = calibrationBins([0.5, 0.5000001], () => true, { bins: 2 });
  assert.deepEqual(
    edge.map((b) => b.count),
    [1, 1],
  );
  const empty = calibrationBins([0.9], () => true, { bins: 2 });
  assert.equal(empty[0]?.count, 0);
  assert.ok(Number.isNaN(empty[0]?.meanPredicted as number));
});

test('sklearn doc examples: r2 0.9486, MAE 0.5, RMSE sqrt(0.375), explained variance 0.9572, median AE 0.5', () => {
  const m = regressionMetrics({ yTrue: [3, -0.5, 2, 7], yPred: [2.5, 0.0, 2, 8] });
  close(m.r2_score, 0.9486081370449679);
  close(m.mean_absolute_error, 0.5);
  close(m.root_mean_squared_error, Math.sqrt(0.375));
  close(m.explained_variance, 0.9571734475374732);
  close(m.median_absolute_error, 0.5);
  // Range of y_true is 7.5; RMSLE and its normalization are NaN with negatives (Azure skips them).
  close(m.normalized_mean_absolute_error, 0.5 / 7.5);
  close(m.normalized_root_mean_squared_error, Math.sqrt(0.375) / 7.5);
  assert.ok(Number.isNaN(m.root_mean_squared_log_error));
  assert.ok(Number.isNaN(m.normalized_root_mean_squared_log_error));
});

// ---------------------------------------------------------------------------------------------
// A weighted 3-class case checked against definitions (numpy 2.4.6, pairwise AUC and per-positive AP)

const Y3 = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2];
const P3 = matrix([
  [0.6, 0.3, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.2, 0.7],
  [0.3, 0.3, 0.4],
  [0.4, 0.4, 0.2],
  [0.5, 0.25, 0.25],
  [0.2, 0.5, 0.3],
  [0.3, 0.4, 0.3],
  [0.2, 0.2, 0.6],
  [0.1, 0.1, 0.8],
]);
const W3 = Float64Array.from([1, 2, 1, 0.5, 1, 3, 1, 1, 2, 1]);

test('weighted multiclass metrics match their definitions (tied probabilities included)', () => {
  const m = classificationMetrics({ yTrue: Y3, proba: P3, weights: W3 });
  const expected: Partial<Record<keyof typeof m, number>> = {
    accuracy: 0.7037037037037037,
    AUC_weighted: 0.8642625081221572,
    AUC_macro: 0.8715678084099135,
    AUC_micro: 0.8127572016460906,
    average_precision_score_weighted: 0.790100302063928,
    average_precision_score_macro: 0.7807845843651471,
    average_precision_score_micro: 0.6904680157242471,
    precision_score_weighted: 0.7218106995884774,
    precision_score_macro: 0.7018518518518518,
    recall_score_macro: 0.7103174603174603,
    balanced_accuracy: 0.7103174603174603,
    recall_score_weighted: 0.7037037037037037,
    f1_score_macro: 0.7007575757575758,
    f1_score_weighted: 0.7074915824915825,
    matthews_correlation: 0.5565292008203501,
    log_loss: 0.8348115170887543,
    norm_macro_recall: 0.5654761904761905,
    weighted_accuracy: 0.7058823529411765,
  };
  for (const [name, value] of Object.entries(expected)) close(m[name as keyof typeof m], value as number, 1e-12, name);
  // Row 4 ties classes 0 and 1 at 0.4: the arg-max takes the first, class 0 (a miss: its label is 1).
  const cm = confusionMatrix(Y3, [0, 1, 2, 2, 0, 0, 1, 1, 2, 2], 3, W3);
  assert.deepEqual([...cm.data], [4, 0, 2, 1, 3, 0, 0, 1, 2.5]);
});

// ---------------------------------------------------------------------------------------------
// Ties and weights as properties

/** AUC by its definition: P(score of a positive > score of a negative), ties count 1/2. */
function pairwiseAuc(scores: number[], pos: boolean[], w: number[]): number {
  let num = 0;
  let p = 0;
  let q = 0;
  for (let i = 0; i < scores.length; i++) {
    if (pos[i]) p += w[i] as number;
    else q += w[i] as number;
    if (!pos[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (pos[j]) continue;
      const si = scores[i] as number;
      const sj = scores[j] as number;
      num += (w[i] as number) * (w[j] as number) * (si > sj ? 1 : si === sj ? 0.5 : 0);
    }
  }
  return num / (p * q);
}

test('AUC equals the pairwise definition with heavy ties and weights (200 seeded cases)', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const n = 2 + rng.int(30);
    // Scores on a coarse grid so ties are common.
    const scores = Array.from({ length: n }, () => rng.int(5) / 4);
    const pos = Array.from({ length: n }, () => rng.next() < 0.4);
    if (!pos.some(Boolean) || pos.every(Boolean)) continue;
    const w = Array.from({ length: n }, () => (trial % 2 === 0 ? 1 : rng.int(4) + rng.next()));
    close(
      binaryAuc(scores, (i) => pos[i] as boolean, w),
      pairwiseAuc(scores, pos, w),
      1e-12,
      `trial ${trial}`,
    );
  }
});

test('ties: all scores equal give AUC 0.5 and AP = prevalence; a positive tied with a negative earns half', () => {
  close(
    binaryAuc([0.3, 0.3, 0.3, 0.3], (i) => i < 1),
    0.5,
  );
  close(
    averagePrecision([0.3, 0.3, 0.3, 0.3], (i) => i < 1),
    0.25,
  );
  // pos 0.9, pos 0.5, neg 0.5, neg 0.1: pairs (0.9>0.5, 0.9>0.1, 0.5=0.5, 0.5>0.1) = 3.5 / 4.
  close(
    binaryAuc([0.9, 0.5, 0.5, 0.1], (i) => i < 2),
    0.875,
  );
  // Order within a tie does not matter.
  close(
    binaryAuc([0.5, 0.9, 0.1, 0.5], (i) => i === 1 || i === 3),
    0.875,
  );
});

test('integer sample weights equal repeating rows, for every classification and regression metric', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 20; trial++) {
    const n = 8 + rng.int(12);
    const k = 2 + rng.int(3);
    const y: number[] = [];
    const rows: number[][] = [];
    const w: number[] = [];
    for (let i = 0; i < n; i++) {
      y.push(i < k ? i : rng.int(k));
      const raw = Array.from({ length: k }, () => rng.int(4) + 0.5);
      const s = raw.reduce((a, b) => a + b, 0);
      rows.push(raw.map((v) => v / s));
      w.push(1 + rng.int(3));
    }
    const repeatedY: number[] = [];
    const repeatedRows: number[][] = [];
    y.forEach((label, i) => {
      for (let r = 0; r < (w[i] as number); r++) {
        repeatedY.push(label);
        repeatedRows.push(rows[i] as number[]);
      }
    });
    const weighted = classificationMetrics({ yTrue: y, proba: matrix(rows), weights: Float64Array.from(w) });
    const repeated = classificationMetrics({ yTrue: repeatedY, proba: matrix(repeatedRows) });
    for (const name of CLASSIFICATION_METRIC_NAMES) {
      if (name === 'weighted_accuracy') continue; // Azure computes it from class counts, ignoring weights.
      close(weighted[name], repeated[name], 1e-12, `${name} (trial ${trial})`);
    }
    const yt = Array.from({ length: n }, () => rng.next() * 10);
    const yp = yt.map((v) => v + rng.next() * 0.5);
    const rw = regressionMetrics({ yTrue: yt, yPred: yp, weights: Float64Array.from(w) });
    const ry: number[] = [];
    const rp: number[] = [];
    yt.forEach((v, i) => {
      for (let r = 0; r < (w[i] as number); r++) {
        ry.push(v);
        rp.push(yp[i] as number);
      }
    });
    const rr = regressionMetrics({ yTrue: ry, yPred: rp });
    for (const name of [
      'mean_absolute_error',
      'root_mean_squared_error',
      'r2_score',
      'explained_variance',
      'normalized_root_mean_squared_error',
      'normalized_mean_absolute_error',
      'root_mean_squared_log_error',
    ] as const) {
      close(rw[name], rr[name], 1e-12, `${name} (trial ${trial})`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Azure's rules and edge cases

test('binary: AUC_weighted is the AUC; average_precision_score_weighted mixes both classes’ AP by support', () => {
  const y = [0, 1, 1, 0, 1, 0, 0];
  const p1 = [0.2, 0.7, 0.4, 0.4, 0.9, 0.1, 0.6];
  const m = classificationMetrics({ yTrue: y, proba: matrix(p1.map((p) => [1 - p, p])) });
  close(
    m.AUC_weighted,
    binaryAuc(p1, (i) => y[i] === 1),
  );
  const ap1 = averagePrecision(p1, (i) => y[i] === 1);
  const ap0 = averagePrecision(
    p1.map((p) => 1 - p),
    (i) => y[i] === 0,
  );
  close(m.average_precision_score_weighted, (4 * ap0 + 3 * ap1) / 7);
  close(m.average_precision_score_macro, (ap0 + ap1) / 2);
});

test('norm_macro_recall: 1 when perfect, (recall - 1/k)/(1 - 1/k), clipped at 0 when worse than chance', () => {
  const perfect = classificationMetrics({ yTrue: [0, 1, 2, 1], proba: oneHot([0, 1, 2, 1], 3) });
  assert.equal(perfect.norm_macro_recall, 1);
  // Binary, recall per class 1 and 0.5: macro 0.75, R 0.5 -> 0.5.
  close(classificationMetrics({ yTrue: [0, 0, 1, 1], proba: oneHot([0, 0, 1, 0], 2) }).norm_macro_recall, 0.5);
  // Everything wrong: macro recall 0 -> -1 before clipping.
  assert.equal(classificationMetrics({ yTrue: [0, 1, 0, 1], proba: oneHot([1, 0, 1, 0], 2) }).norm_macro_recall, 0);
});

test('norm_macro_recall and AUC with more than two classes score only the classes present in y_true', () => {
  // Class 2 never occurs; its column is dropped, so row 1's arg-max over classes 0 and 1 is class 1.
  const proba = matrix([
    [0.6, 0.3, 0.1],
    [0.1, 0.3, 0.6],
    [0.2, 0.7, 0.1],
    [0.5, 0.1, 0.4],
  ]);
  const m = classificationMetrics({ yTrue: [0, 1, 1, 0], proba });
  // Scored over classes {0, 1}: predictions [0, 1, 1, 0] are all right, R = 1/2.
  assert.equal(m.norm_macro_recall, 1);
  // Accuracy still uses the full arg-max (row 1 predicts class 2): 3/4.
  close(m.accuracy, 0.75);
  close(
    m.AUC_weighted,
    (binaryAuc([0.6, 0.1, 0.2, 0.5], (i) => i === 0 || i === 3) +
      binaryAuc([0.3, 0.3, 0.7, 0.1], (i) => i === 1 || i === 2)) /
      2,
  );
  // Macro precision averages over labels in y_true or y_pred (0, 1, 2): class 2 predicted, never right.
  close(m.precision_score_macro, (1 + 1 + 0) / 3);
  close(m.f1_score_macro, (1 + 2 / 3 + 0) / 3);
});

test('one class in y_true: AUC is NaN (Azure refuses it), accuracy and log_loss still computed', () => {
  const m = classificationMetrics({
    yTrue: [1, 1, 1],
    proba: matrix([
      [0.2, 0.8],
      [0.6, 0.4],
      [0.1, 0.9],
    ]),
  });
  assert.ok(Number.isNaN(m.AUC_weighted));
  assert.ok(Number.isNaN(m.AUC_macro));
  close(m.accuracy, 2 / 3);
  close(m.log_loss, -(Math.log(0.8) + Math.log(0.4) + Math.log(0.9)) / 3);
  // Azure: a label predicted but absent from y_true gives a NaN mean recall, and max(0.0, nan) = 0.
  assert.equal(m.norm_macro_recall, 0);
  // All predicted right with one class: recall 1, R = 1/2 -> 1.
  assert.equal(
    classificationMetrics({
      yTrue: [1, 1],
      proba: matrix([
        [0.2, 0.8],
        [0.1, 0.9],
      ]),
    }).norm_macro_recall,
    1,
  );
  const three = classificationMetrics({
    yTrue: [2, 2],
    proba: matrix([
      [0.1, 0.1, 0.8],
      [0.3, 0.3, 0.4],
    ]),
  });
  assert.ok(Number.isNaN(three.AUC_weighted));
  // AP of the only present column: every row positive, precision 1 everywhere.
  assert.equal(three.average_precision_score_weighted, 1);
});

test('log_loss clips probabilities at float64 eps instead of returning Infinity', () => {
  const m = classificationMetrics({
    yTrue: [0, 1],
    proba: matrix([
      [1, 0],
      [1, 0],
    ]),
  });
  close(m.log_loss, -Math.log(Number.EPSILON) / 2, 1e-9);
});

test('bad classification inputs are RangeErrors naming the problem', () => {
  assert.throws(() => classificationMetrics({ yTrue: [0, 3], proba: oneHot([0, 1], 2) }), /yTrue\[1\] = 3/);
  assert.throws(() => classificationMetrics({ yTrue: [0], proba: oneHot([0, 1], 2) }), /rows/);
  assert.throws(
    () => classificationMetrics({ yTrue: [0, 1], proba: oneHot([0, 1], 2), weights: [1, -1] }),
    /weights\[1\]/,
  );
  assert.throws(() => encodeLabels(['a', 'z'], ['a', 'b']), /label 'z'/);
});

test('regression with weights matches its definitions (numpy 2.4.6, scipy 1.17.1 spearmanr)', () => {
  const yTrue = [3.0, -0.5, 2, 7, 4.2, 1.1, 0.0, 5.5];
  const yPred = [2.5, 0.0, 2, 8, 3.9, 0.3, 0.4, 5.0];
  const weights = Float64Array.from([1, 2, 1, 1, 0.5, 1, 1, 2]);
  const m = regressionMetrics({ yTrue, yPred, weights });
  close(m.root_mean_squared_error, 0.5707797067908166);
  close(m.mean_absolute_error, 0.5105263157894736);
  close(m.r2_score, 0.9532362086378421);
  close(m.explained_variance, 0.9532401848126029);
  // Unweighted, as Azure: Spearman (scipy), MAPE skipping the zero actual, median absolute error.
  close(m.spearman_correlation, 0.9761904761904763);
  close(m.mean_absolute_percentage_error, 31.416202844774272);
  close(m.median_absolute_error, 0.5);
  close(m.normalized_root_mean_squared_error, 0.0761039609054422);
  close(m.normalized_mean_absolute_error, 0.06807017543859648);
  // An explicit dataset range (Azure passes the full target's) replaces y_true's.
  close(
    regressionMetrics({ yTrue, yPred, weights, yMin: -10, yMax: 10 }).normalized_root_mean_squared_error,
    0.5707797067908166 / 20,
  );
});

test('spearman with ties uses average ranks (scipy.stats.spearmanr = 0.9007775105401477)', () => {
  const a = [1, 2, 2, 3, 4, 4, 4, 5];
  const b = [2, 1, 3, 3, 5, 4, 6, 6];
  assert.deepEqual([...averageRanks(a)], [1, 2.5, 2.5, 4, 6, 6, 6, 8]);
  close(spearmanCorrelation(a, b), 0.9007775105401477);
});

test('constant y: r2 is 1 if exact else 0, normalized errors best/worst, spearman its worst (-1)', () => {
  const exact = regressionMetrics({ yTrue: [2, 2, 2], yPred: [2, 2, 2] });
  assert.equal(exact.r2_score, 1);
  assert.equal(exact.normalized_root_mean_squared_error, 0);
  assert.equal(exact.normalized_mean_absolute_error, 0);
  assert.equal(exact.spearman_correlation, -1);
  const off = regressionMetrics({ yTrue: [2, 2, 2], yPred: [2, 2, 2 + 1e-8] });
  assert.equal(off.r2_score, 0);
  assert.equal(off.normalized_root_mean_squared_error, 1);
  assert.equal(regressionMetrics({ yTrue: [1, 2, 3], yPred: [2, 2, 2] }).r2_score, 0);
  // Constant predictions: spearman is undefined -> -1.
  assert.equal(regressionMetrics({ yTrue: [1, 2, 3], yPred: [5, 5, 5] }).spearman_correlation, -1);
});

test('Azure clipping: r2 at -1, normalized errors at 1; a single point; MAPE NaN with all-zero actuals', () => {
  const bad = regressionMetrics({ yTrue: [0, 1, 2], yPred: [10, -10, 30] });
  assert.equal(bad.r2_score, -1);
  assert.equal(bad.normalized_root_mean_squared_error, 1);
  assert.equal(bad.normalized_mean_absolute_error, 1);
  assert.equal(regressionMetrics({ yTrue: [4], yPred: [4] }).r2_score, 1);
  assert.equal(regressionMetrics({ yTrue: [4], yPred: [5] }).r2_score, 0);
  assert.ok(Number.isNaN(regressionMetrics({ yTrue: [0, 0], yPred: [1, 2] }).mean_absolute_percentage_error));
  assert.throws(() => regressionMetrics({ yTrue: [1, 2], yPred: [1] }), RangeError);
});

// ---------------------------------------------------------------------------------------------
// Curves

test('multiclass curves: per present class, micro AUC agrees with AUC_micro, macro ROC runs (0,0) to (1,1)', () => {
  const curves = multiclassCurves(Y3, P3, W3);
  assert.deepEqual(
    curves.perClass.map((c) => c.classIndex),
    [0, 1, 2],
  );
  const trapezoid = (x: Float64Array, y: Float64Array): number => {
    let a = 0;
    for (let i = 1; i < x.length; i++)
      a += (((x[i] as number) - (x[i - 1] as number)) * ((y[i] as number) + (y[i - 1] as number))) / 2;
    return a;
  };
  const m = classificationMetrics({ yTrue: Y3, proba: P3, weights: W3 });
  close(trapezoid(curves.micro.roc.fpr, curves.micro.roc.tpr), m.AUC_micro);
  curves.perClass.forEach((c, i) => {
    const expected = [0.8222222222222222, 0.9210526315789473, 0.8714285714285714][i] as number;
    close(trapezoid(c.roc.fpr, c.roc.tpr), expected, 1e-12, `class ${c.classIndex}`);
  });
  const { fpr, tpr } = curves.macro.roc;
  assert.equal(fpr[0], 0);
  assert.equal(tpr[0], 0);
  assert.equal(fpr[fpr.length - 1], 1);
  close(tpr[tpr.length - 1] as number, 1);
  for (let i = 1; i < tpr.length; i++)
    assert.ok((tpr[i] as number) >= (tpr[i - 1] as number) - 1e-15, 'macro TPR is monotone');
  const pr = curves.macro.pr;
  assert.equal(pr.recall[0], 0);
  assert.equal(pr.recall[pr.recall.length - 1], 1);
  // A class absent from y_true has no curve.
  const absent = multiclassCurves(
    [0, 1, 0],
    matrix([
      [0.5, 0.3, 0.2],
      [0.2, 0.7, 0.1],
      [0.6, 0.2, 0.2],
    ]),
  );
  assert.deepEqual(
    absent.perClass.map((c) => c.classIndex),
    [0, 1],
  );
});

test('calibration curves per class and pooled: counts add up, a perfectly calibrated bin is its own mean', () => {
  const curves = calibrationCurves(Y3, P3, { bins: 5 });
  assert.equal(curves.perClass.length, 3);
  for (const c of curves.perClass)
    assert.equal(
      c.bins.reduce((s, b) => s + b.count, 0),
      10,
    );
  assert.equal(
    curves.micro.reduce((s, b) => s + b.count, 0),
    30,
  );
  const weighted = calibrationCurves(Y3, P3, { bins: 5, weights: W3 });
  close(
    weighted.micro.reduce((s, b) => s + b.weight, 0),
    3 * 13.5,
  );
  // 0.25 probability, one positive in four: calibrated.
  const bins = calibrationBins([0.25, 0.25, 0.25, 0.25], (i) => i === 0, { bins: 4 });
  close(bins[0]?.fractionPositive as number, 0.25);
  close(bins[0]?.meanPredicted as number, 0.25);
});
