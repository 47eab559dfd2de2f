// Which model an AutoML job registers (shared/ml/automl/selection.ts): the top of the leaderboard,
// an ensemble within 0.1% of it, or on small cross-validated data the simplest model within one
// standard error of the best trial.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBest, complexity } from '../../shared/ml/automl/selection.js';

const board = [
  { name: 'vote', value: 0.9977, algorithm: 'VotingEnsemble' },
  { name: 'et', value: 0.9969, algorithm: 'ExtremeRandomTrees', standardError: 0.00165 },
  { name: 'gb', value: 0.9967, algorithm: 'GradientBoosting', standardError: 0.001 },
  { name: 'lr', value: 0.9958, algorithm: 'LogisticRegression', standardError: 0.0026 },
  { name: 'tree', value: 0.9955, algorithm: 'DecisionTree', standardError: 0.004 },
  { name: 'sgd', value: 0.9855, algorithm: 'SGD', standardError: 0.01 },
];

describe('AutoML best model', () => {
  it('ranks algorithms from linear models to ensembles', () => {
    assert.deepEqual(
      ['LogisticRegression', 'KNN', 'LightGBM', 'StackEnsemble', undefined].map(complexity),
      [0, 1, 2, 3, 2],
    );
  });

  it('takes the simplest model within one standard error of the best trial on small cross-validated data', () => {
    const choice = chooseBest(board, 'AUC_weighted', { rows: 455, folds: 10 });
    assert.equal(choice?.name, 'lr');
    assert.match(
      choice?.why ?? '',
      /LogisticRegression lr .* one standard error \(0\.00165\) of the best trial et .* 455 training rows/,
    );
    // With a tighter bound (0.9969 − 0.0005 = 0.9964) the linear model falls outside; the simplest
    // inside is the best trial itself, ahead of the vote that outscored it.
    const tighter = board.map((e) => (e.name === 'et' ? { ...e, standardError: 0.0005 } : e));
    assert.equal(chooseBest(tighter, 'AUC_weighted', { rows: 455, folds: 10 })?.name, 'et');
  });

  it('bounds from above for a metric to minimize', () => {
    const errors = [
      { name: 'gbm', value: 0.1, algorithm: 'LightGBM', standardError: 0.01 },
      { name: 'enet', value: 0.108, algorithm: 'ElasticNet', standardError: 0.012 },
      { name: 'lars', value: 0.115, algorithm: 'LassoLars', standardError: 0.012 },
    ];
    const metric = 'normalized_root_mean_squared_error';
    assert.equal(chooseBest(errors, metric, { rows: 353, folds: 5 })?.name, 'enet');
  });

  it('keeps the top, or an ensemble within 0.1% of it, on large data, one split or without standard errors', () => {
    const ensembleClose = [board[1]!, { ...board[0]!, value: 0.9962 }, board[3]!];
    for (const scoring of [
      { rows: 80_000, folds: 1 },
      { rows: 5_000, folds: 3 },
      { rows: 455, folds: 1 },
    ]) {
      assert.equal(chooseBest(board, 'AUC_weighted', scoring)?.name, 'vote', JSON.stringify(scoring));
      assert.equal(chooseBest(ensembleClose, 'AUC_weighted', scoring)?.name, 'vote', JSON.stringify(scoring));
      assert.equal(chooseBest(board.slice(1), 'AUC_weighted', scoring)?.name, 'et', JSON.stringify(scoring));
      assert.equal(chooseBest(board, 'AUC_weighted', scoring)?.why, undefined);
    }
    const noErrors = board.map(({ standardError: _, ...e }) => e);
    assert.equal(chooseBest(noErrors, 'AUC_weighted', { rows: 455, folds: 10 })?.name, 'vote');
    assert.equal(chooseBest([], 'AUC_weighted', { rows: 455, folds: 10 }), undefined);
  });
});
