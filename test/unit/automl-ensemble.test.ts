// AutoML ensembles from out-of-fold predictions: OOF scoring leaves unvalidated (NaN) rows out;
// Caruana selection weights complementary models, keeps a perfect one alone and is deterministic;
// the stack's meta reads members·classes columns, scores honestly by an inner CV, and beats its
// members on easy synthetic problems.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitStackEnsemble, oofMetrics, scoreOof, selectVoteEnsemble } from '../../shared/ml/automl/ensemble.js';
import type { OofTarget } from '../../shared/ml/automl/ensemble.js';
import { Rng } from '../../shared/ml/rng.js';
import { normal } from '../support/synthetic-data.js';

/** Rows 0..UNSCORED-1 were never in a validation fold: NaN in every OOF. */
const UNSCORED = 10;

function withUnscoredRows(oof: Float64Array, k: number): Float64Array {
  oof.fill(Number.NaN, 0, UNSCORED * k);
  return oof;
}

/** y ~ N(10, 5²); each member is y plus its own noise (sd given), scaled and shifted. */
function regressionFixture(
  seed: number,
  rows: number,
  members: readonly { noise: number; scale?: number; shift?: number }[],
): { input: OofTarget; oofs: Float64Array[] } {
  const rng = new Rng(seed);
  const y = Float64Array.from({ length: rows }, () => 10 + 5 * normal(rng));
  const oofs = members.map(({ noise, scale = 1, shift = 0 }) =>
    withUnscoredRows(
      y.map((v) => scale * v + shift + noise * normal(rng)),
      1,
    ),
  );
  return { input: { task: 'regression', y }, oofs };
}

function softmaxRow(scores: readonly number[]): number[] {
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - m));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/**
 * k classes from a latent score per class, s = z_a + z_b + noise; member j sees only its own share
 * of the latent scores plus its own noise, so the members err on different rows.
 */
function classificationFixture(
  seed: number,
  rows: number,
  classes: readonly string[],
  memberNoise: readonly number[],
): { input: OofTarget; oofs: Float64Array[] } {
  const rng = new Rng(seed);
  const k = classes.length;
  const parts = memberNoise.map(() => [] as number[][]);
  const y: string[] = [];
  for (let i = 0; i < rows; i++) {
    const total = new Array<number>(k).fill(0);
    for (const rowsOfPart of parts) {
      const part = Array.from({ length: k }, () => 1.5 * normal(rng));
      rowsOfPart.push(part);
      part.forEach((v, c) => (total[c] = (total[c] as number) + v));
    }
    y.push(classes[total.indexOf(Math.max(...total))] as string);
  }
  const oofs = memberNoise.map((noise, j) => {
    const oof = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) {
      const scores = ((parts[j] as number[][])[i] as number[]).map((v) => v + noise * normal(rng));
      oof.set(softmaxRow(scores), i * k);
    }
    return withUnscoredRows(oof, k);
  });
  return { input: { task: 'classification', y, classes }, oofs };
}

describe('scoreOof', () => {
  it('scores only the rows with finite predictions', () => {
    const { input, oofs } = regressionFixture(1, 60, [{ noise: 1 }]);
    const oof = oofs[0] as Float64Array;
    const y = input.y as Float64Array;
    const scoredOnly: OofTarget = { task: 'regression', y: y.slice(UNSCORED) };
    assert.equal(
      scoreOof(input, oof, 'root_mean_squared_error'),
      scoreOof(scoredOnly, oof.slice(UNSCORED), 'root_mean_squared_error'),
    );
    assert.equal(oofMetrics(input, oof).r2_score, scoreOof(input, oof, 'r2_score'));
  });

  it('weighs rows by the sample weights: a zero-weight row does not count', () => {
    const input: OofTarget = { task: 'regression', y: Float64Array.of(1, 2, 3, 4) };
    const oof = Float64Array.of(1, 2, 3, 40);
    const weighted = { ...input, weights: Float64Array.of(1, 1, 1, 0) };
    assert.equal(scoreOof(weighted, oof, 'mean_absolute_error'), 0);
    assert.ok(scoreOof(input, oof, 'mean_absolute_error') > 0);
    assert.throws(() => scoreOof({ ...input, weights: Float64Array.of(1) }, oof, 'r2_score'), /weights/);
  });

  it('reads classification OOFs as [rows, classes] probabilities in the order of classes', () => {
    const input: OofTarget = { task: 'classification', y: ['b', 'a', 'b'], classes: ['a', 'b'] };
    const oof = Float64Array.of(0.2, 0.8, 0.9, 0.1, Number.NaN, Number.NaN);
    assert.equal(scoreOof(input, oof, 'accuracy'), 1);
    assert.equal(scoreOof({ ...input, classes: ['b', 'a'] }, oof, 'accuracy'), 0);
  });

  it('refuses a mis-shaped OOF, a metric of the other task, and an OOF without scored rows', () => {
    const { input, oofs } = regressionFixture(2, 20, [{ noise: 1 }]);
    assert.throws(() => scoreOof(input, new Float64Array(19), 'r2_score'), RangeError);
    assert.throws(() => scoreOof(input, oofs[0] as Float64Array, 'accuracy'), /not a regression metric/);
    assert.throws(() => scoreOof(input, new Float64Array(20).fill(Number.NaN), 'r2_score'), /no row/);
  });
});

describe('selectVoteEnsemble (Caruana)', () => {
  it('weights two complementary regressors and beats the best single one', () => {
    const { input, oofs } = regressionFixture(3, 300, [{ noise: 1 }, { noise: 1.1 }, { noise: 4 }]);
    const metric = 'root_mean_squared_error';
    const singles = oofs.map((o) => scoreOof(input, o, metric));
    const vote = selectVoteEnsemble(input, oofs, metric);
    assert.ok((vote.weights[0] as number) > 0 && (vote.weights[1] as number) > 0, `weights ${vote.weights}`);
    assert.ok(Math.abs(vote.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(
      vote.weights.every((w) => Math.abs(w * 15 - Math.round(w * 15)) < 1e-9),
      'multiples of 1/15',
    );
    assert.ok(vote.score < Math.min(...singles), `vote ${vote.score} vs singles ${singles}`);
    assert.ok(Math.abs(vote.score - scoreOof(input, vote.oof, metric)) < 1e-9);
    assert.ok(vote.oof.subarray(0, UNSCORED).every(Number.isNaN));
  });

  it('weights two complementary classifiers on a maximized and a minimized metric', () => {
    const { input, oofs } = classificationFixture(4, 400, ['no', 'yes'], [0.5, 0.5]);
    for (const metric of ['log_loss', 'AUC_weighted'] as const) {
      const singles = oofs.map((o) => scoreOof(input, o, metric));
      const vote = selectVoteEnsemble(input, oofs, metric);
      assert.ok(
        vote.weights.every((w) => w > 0),
        `${metric}: weights ${vote.weights}`,
      );
      const best = metric === 'log_loss' ? Math.min(...singles) : Math.max(...singles);
      assert.ok(metric === 'log_loss' ? vote.score < best : vote.score > best, `${metric}: ${vote.score} vs ${best}`);
    }
  });

  it('gives a perfect model weight 1 wherever it stands in the list', () => {
    const { input, oofs } = regressionFixture(5, 100, [{ noise: 1 }, { noise: 0 }, { noise: 1.2 }]);
    const vote = selectVoteEnsemble(input, oofs, 'r2_score');
    assert.deepEqual(vote.weights, [0, 1, 0]);
    assert.equal(vote.score, 1);
  });

  it('is deterministic, honours maxMembers and iterations, and refuses bad options', () => {
    const { input, oofs } = regressionFixture(6, 200, [{ noise: 1 }, { noise: 1 }, { noise: 1.5 }]);
    const metric = 'normalized_root_mean_squared_error';
    assert.deepEqual(selectVoteEnsemble(input, oofs, metric), selectVoteEnsemble(input, oofs, metric));
    const single = selectVoteEnsemble(input, oofs, metric, { maxMembers: 1 });
    assert.equal(single.weights.filter((w) => w > 0).length, 1);
    assert.equal(Math.max(...single.weights), 1);
    const one = selectVoteEnsemble(input, oofs, metric, { iterations: 1 });
    assert.equal(one.weights.filter((w) => w > 0).length, 1);
    assert.throws(() => selectVoteEnsemble(input, [], metric), /members is empty/);
    assert.throws(() => selectVoteEnsemble(input, oofs, metric, { iterations: 0 }), /iterations/);
  });
});

describe('fitStackEnsemble', () => {
  it('classification: the meta reads members x classes columns and beats the best member', () => {
    const classes = ['a', 'b', 'c'];
    const { input, oofs } = classificationFixture(7, 300, classes, [0.3, 0.3]);
    const stack = fitStackEnsemble(input, oofs, { seed: 1, metric: 'accuracy' });
    const best = Math.max(...oofs.map((o) => scoreOof(input, o, 'accuracy')));
    assert.ok(stack.score >= best, `stack ${stack.score} vs best member ${best}`);
    assert.deepEqual(stack.metaConfig, { algorithm: 'LogisticRegression', params: { C: 1, penalty: 'l2' } });
    assert.deepEqual(stack.meta.classes, classes);

    const width = oofs.length * classes.length;
    const X = { rows: 2, cols: width, data: new Float64Array(2 * width).fill(1 / 3) };
    assert.equal(stack.meta.predictProba?.(X).cols, 3);
    assert.throws(() => stack.meta.predictProba?.({ rows: 1, cols: width - 1, data: new Float64Array(width - 1) }));

    assert.equal(stack.oof.length, 300 * 3);
    assert.ok(stack.oof.subarray(0, UNSCORED * 3).every(Number.isNaN));
    const scored = stack.oof.subarray(UNSCORED * 3);
    assert.ok(scored.every(Number.isFinite));
    for (let i = 0; i < scored.length; i += 3) {
      assert.ok(Math.abs((scored[i] as number) + (scored[i + 1] as number) + (scored[i + 2] as number) - 1) < 1e-9);
    }
    assert.equal(stack.score, scoreOof(input, stack.oof, 'accuracy'));
  });

  it('binary classification keeps both probability columns of each member', () => {
    const { input, oofs } = classificationFixture(8, 200, ['0', '1'], [0.5, 0.5, 1]);
    const stack = fitStackEnsemble(input, oofs, { seed: 2, metric: 'AUC_weighted', folds: 3 });
    const X = { rows: 1, cols: 6, data: new Float64Array(6).fill(0.5) };
    assert.equal(stack.meta.predictProba?.(X).cols, 2);
    assert.throws(() => stack.meta.predict({ rows: 1, cols: 3, data: new Float64Array(3) }), RangeError);
    const best = Math.max(...oofs.map((o) => scoreOof(input, o, 'AUC_weighted')));
    assert.ok(stack.score >= best, `stack ${stack.score} vs best member ${best}`);
  });

  it('regression: recalibrates miscalibrated members, one column each, in any target units', () => {
    const members = [{ noise: 1, scale: 2, shift: 3 }, { noise: 1.5 }, { noise: 2, shift: -4 }];
    const { input, oofs } = regressionFixture(9, 300, members);
    const metric = 'r2_score';
    const stack = fitStackEnsemble(input, oofs, { seed: 3, metric });
    const best = Math.max(...oofs.map((o) => scoreOof(input, o, metric)));
    assert.ok(stack.score >= best, `stack ${stack.score} vs best member ${best}`);
    assert.equal(stack.metaConfig.algorithm, 'ElasticNet');
    assert.ok(stack.oof.subarray(UNSCORED).every(Number.isFinite));
    assert.ok(stack.oof.subarray(0, UNSCORED).every(Number.isNaN));

    // The refitted meta, fed the members' predictions, predicts in the target's units.
    const y = input.y as Float64Array;
    const X = { rows: 1, cols: 3, data: Float64Array.from(members, (m) => (m.scale ?? 1) * 12 + (m.shift ?? 0)) };
    assert.ok(Math.abs((stack.meta.predict(X)[0] as number) - 12) < 0.5);
    assert.throws(() => stack.meta.predict({ rows: 1, cols: 2, data: new Float64Array(2) }), RangeError);

    // The penalty sees the target standardized: the same stack for a target in tiny or huge units
    // (on the raw target, alpha = 0.01 would zero every coefficient of the 1e-4 one).
    for (const factor of [1e-4, 1e6]) {
      const units = (v: Float64Array): Float64Array => v.map((x) => x * factor);
      const scaled = fitStackEnsemble({ task: 'regression', y: units(y) }, oofs.map(units), { seed: 3, metric });
      assert.ok(Math.abs(scaled.score - stack.score) < 1e-4, `x${factor}: ${scaled.score} vs ${stack.score}`);
    }
  });

  it('fits and scores with sample weights', () => {
    const { input, oofs } = regressionFixture(11, 120, [{ noise: 1 }, { noise: 1.2 }]);
    const weights = Float64Array.from({ length: 120 }, (_, i) => 1 + (i % 3));
    const stack = fitStackEnsemble({ ...input, weights }, oofs, { seed: 1, metric: 'r2_score' });
    assert.equal(stack.score, scoreOof({ ...input, weights }, stack.oof, 'r2_score'));
    assert.notEqual(stack.score, scoreOof(input, stack.oof, 'r2_score'));
  });

  it("stack_meta_learner_type: Azure's meta-learners, a CV type choosing its penalty by the inner folds", () => {
    const classes = ['a', 'b', 'c'];
    const clf = classificationFixture(7, 300, classes, [0.3, 0.3]);
    const metric = 'accuracy';
    const plain = fitStackEnsemble(clf.input, clf.oofs, { seed: 1, metric });
    const explicit = fitStackEnsemble(clf.input, clf.oofs, {
      seed: 1,
      metric,
      metaLearner: { type: 'LogisticRegression', params: {} },
    });
    assert.deepEqual(explicit.oof, plain.oof);
    const strong = fitStackEnsemble(clf.input, clf.oofs, {
      seed: 1,
      metric,
      metaLearner: { type: 'LogisticRegression', params: { C: 1e-4 } },
    });
    assert.equal(strong.metaConfig.params.C, 1e-4);
    // The CV type tries C from 1e-4 to 1e4 on the same folds and keeps the best: at least as good
    // as each of those, C = 1 and C = 1e-4 included.
    const cv = fitStackEnsemble(clf.input, clf.oofs, {
      seed: 1,
      metric,
      metaLearner: { type: 'LogisticRegressionCV', params: {} },
    });
    assert.ok(cv.score >= plain.score && cv.score >= strong.score, `${cv.score} vs ${plain.score}, ${strong.score}`);
    assert.ok([1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4].includes(cv.metaConfig.params.C as number));
    const boosted = fitStackEnsemble(clf.input, clf.oofs, {
      seed: 1,
      metric,
      metaLearner: { type: 'LightGBMClassifier', params: { n_estimators: 20, num_leaves: 4 } },
    });
    assert.equal(boosted.metaConfig.algorithm, 'LightGBM');
    assert.equal(boosted.metaConfig.params.nEstimators, 20);
    assert.deepEqual(boosted.meta.classes, classes);
    assert.equal(boosted.score, scoreOof(clf.input, boosted.oof, metric));

    const reg = regressionFixture(9, 300, [{ noise: 1, scale: 2, shift: 3 }, { noise: 1.5 }]);
    const r2 = 'r2_score';
    const linear = fitStackEnsemble(reg.input, reg.oofs, {
      seed: 3,
      metric: r2,
      metaLearner: { type: 'LinearRegression', params: {} },
    });
    assert.deepEqual(linear.metaConfig, {
      algorithm: 'ElasticNet',
      params: { alpha: 0, l1Ratio: 0, standardizeTarget: true },
    });
    const enetCv = fitStackEnsemble(reg.input, reg.oofs, {
      seed: 3,
      metric: r2,
      metaLearner: { type: 'ElasticNetCV', params: { l1_ratio: 1 } },
    });
    assert.equal(enetCv.metaConfig.params.l1Ratio, 1);
    assert.ok([1e-4, 1e-3, 1e-2, 0.1, 1].includes(enetCv.metaConfig.params.alpha as number));
    const gbm = fitStackEnsemble(reg.input, reg.oofs, {
      seed: 3,
      metric: r2,
      metaLearner: { type: 'LightGBMRegressor', params: {} },
    });
    assert.ok(gbm.score > 0.5, `boosted meta r2 ${gbm.score}`);
    assert.throws(
      () =>
        fitStackEnsemble(reg.input, reg.oofs, {
          seed: 3,
          metric: r2,
          metaLearner: { type: 'LightGBMClassifier', params: {} },
        }),
      /'LightGBMClassifier' is not a regression meta-learner/,
    );
  });

  it('is deterministic for a seed and uses the seed for its inner folds', () => {
    const { input, oofs } = regressionFixture(10, 120, [{ noise: 1 }, { noise: 1.2 }]);
    const options = { seed: 4, metric: 'normalized_mean_absolute_error' as const };
    const a = fitStackEnsemble(input, oofs, options);
    const b = fitStackEnsemble(input, oofs, options);
    assert.deepEqual(a.oof, b.oof);
    assert.equal(a.score, b.score);
    assert.notDeepEqual(fitStackEnsemble(input, oofs, { ...options, seed: 5 }).oof, a.oof);
  });
});
