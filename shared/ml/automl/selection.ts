/**
 * Which finished trial or ensemble an AutoML job registers as its best model.
 *
 * - By default, the top of the leaderboard, except that an ensemble within ENSEMBLE_PREFERENCE of
 *   the top is preferred: differences that small are noise, and averaging lowers the variance.
 * - On small data (fewer than SMALL_DATA_ROWS training rows, scored by cross-validation), the
 *   one-standard-error rule (Breiman et al.; Hastie, Tibshirani & Friedman §7.10): the simplest
 *   model whose score is within one standard error of the best trial's. Cross-validation on a few
 *   hundred rows cannot tell a linear model from a forest a fraction of a standard error ahead of
 *   it, and the simpler model is the safer bet on new rows. On breast_cancer (455 rows, 10 folds)
 *   the extra trees scored AUC 0.99690 ± 0.00165 and logistic regression 0.99580; on the 114
 *   holdout rows logistic regression scored 0.99570, the trees 0.98413 and the vote of the best
 *   trials 0.98909. On six resplits of the training rows of each small dataset
 *   (`npm run bench -- automl-resplits`) the evidence is thin either way: against the top trial,
 *   mean test AUC 0.99346 / 0.99510 on breast_cancer, 0.99586 / 0.99688 on wine, 0.99175 / 0.99045
 *   on iris, and the same RMSE on diabetes.
 */
import { METRIC_GOALS } from '../metrics.js';
import type { MetricName } from '../metrics.js';

/** The MLflow metric a trial logs beside its scores: the primary metric's standard error over the folds. */
export const CV_STANDARD_ERROR = 'cv_standard_error';
/** Training rows below which the one-standard-error rule picks the best model. */
export const SMALL_DATA_ROWS = 1_000;
/** An ensemble this close (relative) to the top score is chosen as the best model. */
export const ENSEMBLE_PREFERENCE = 1e-3;

const ENSEMBLES = new Set(['VotingEnsemble', 'StackEnsemble']);
/** Linear models and naive Bayes. */
const SIMPLEST = new Set([
  'LogisticRegression',
  'SGD',
  'ElasticNet',
  'LassoLars',
  'MultinomialNaiveBayes',
  'BernoulliNaiveBayes',
  'GaussianNaiveBayes',
]);
/** One tree or the neighbours: no ensemble of learners. */
const SINGLE_LEARNERS = new Set(['DecisionTree', 'KNN']);

/** 0 for linear models and naive Bayes, 1 for one tree or k-nearest neighbours, 2 for forests and boosting, 3 for ensembles. */
export function complexity(algorithm: string | undefined): number {
  if (algorithm === undefined) return 2;
  if (SIMPLEST.has(algorithm)) return 0;
  if (SINGLE_LEARNERS.has(algorithm)) return 1;
  return ENSEMBLES.has(algorithm) ? 3 : 2;
}

export interface Scored {
  name: string;
  value: number;
  algorithm?: string;
  /** The score's standard error over the folds (trials scored by cross-validation). */
  standardError?: number;
}

export interface Choice {
  name: string;
  /** Set when the one-standard-error rule chose something other than the top of the leaderboard. */
  why?: string;
}

/**
 * The best model of `board` (sorted best first by `metric`), or undefined when it is empty.
 * `rows` and `folds` say how the trials were scored: the one-standard-error rule needs
 * cross-validation (two folds or more) on fewer than SMALL_DATA_ROWS rows.
 */
export function chooseBest(
  board: readonly Scored[],
  metric: MetricName,
  scoring: { rows: number; folds: number },
): Choice | undefined {
  const top = board[0];
  if (top === undefined) return undefined;
  const maximize = METRIC_GOALS[metric] === 'maximize';
  if (scoring.rows > 0 && scoring.rows < SMALL_DATA_ROWS && scoring.folds >= 2) {
    // The reference: the best single trial with a standard error (ensembles are scored on their members' folds).
    const reference = board.find((e) => !ENSEMBLES.has(e.algorithm ?? '') && Number.isFinite(e.standardError));
    if (reference !== undefined) {
      const se = reference.standardError as number;
      const bound = maximize ? reference.value - se : reference.value + se;
      const within = board.filter((e) => (maximize ? e.value >= bound : e.value <= bound));
      // Simplest first; among equals, the leaderboard's order (best first).
      const chosen = within.reduce((best, e) => (complexity(e.algorithm) < complexity(best.algorithm) ? e : best));
      if (chosen !== top) {
        return {
          name: chosen.name,
          why:
            `${chosen.algorithm ?? chosen.name} ${chosen.name} (${metric} ${chosen.value}) was chosen as the best model: ` +
            `it is the simplest within one standard error (${se}) of the best trial ${reference.name} (${reference.value}), ` +
            `and on ${scoring.rows} training rows cross-validation cannot tell them apart.`,
        };
      }
      return { name: top.name };
    }
  }
  const ensemble = board.find(
    (e) =>
      ENSEMBLES.has(e.algorithm ?? '') &&
      Math.abs(e.value - top.value) <= ENSEMBLE_PREFERENCE * Math.max(Math.abs(top.value), 1e-12),
  );
  return { name: (ensemble ?? top).name };
}
