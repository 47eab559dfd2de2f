/**
 * The algorithm registry of tabular AutoML: each Azure ML algorithm name Tessera implements, the
 * trainer behind it (shared/ml/models), its default hyperparameters, the ranges the proposer
 * searches, a relative cost to try cheap algorithms first, and the size gates that keep an
 * algorithm out of a job it cannot finish. Names Azure ML offers that Tessera does not implement
 * are listed too, so `allowed_training_algorithms` can refuse them by name.
 *
 * Several Azure names share one Tessera trainer: LightGBM, GradientBoosting and XGBoost* all run
 * the histogram gradient boosting of gbm.ts, with the tree shape their own libraries default to
 * (see ARCHITECTURE.md, "Algorithms").
 */
import {
  bernoulliNaiveBayesTrainer,
  gaussianNaiveBayesTrainer,
  multinomialNaiveBayesTrainer,
} from '../models/naive-bayes.js';
import { extraTreesTrainer, randomForestTrainer } from '../models/forest.js';
import { histGradientBoostingTrainer } from '../models/gbm.js';
import { knnTrainer } from '../models/knn.js';
import {
  elasticNetTrainer,
  lassoLarsTrainer,
  logisticRegressionTrainer,
  sgdClassifierTrainer,
  sgdRegressorTrainer,
} from '../models/linear.js';
import { decisionTreeTrainer } from '../models/tree.js';
import type { FittedModel, Matrix, Trainer } from '../types.js';
import type { ParamValue, TabularTask } from './types.js';

/** One hyperparameter's search range: numbers uniform or log-uniform in [min, max], or a choice. */
export type ParamRange =
  | { kind: 'float'; min: number; max: number; log?: boolean }
  | { kind: 'int'; min: number; max: number; log?: boolean }
  | { kind: 'choice'; values: readonly ParamValue[] };

export type FitAlgorithm = (
  X: Matrix,
  y: Float64Array | readonly string[],
  params: Readonly<Record<string, ParamValue>>,
  options: { seed: number; weights?: Float64Array },
) => FittedModel;

export interface AlgorithmEntry {
  /** The Azure ML name (`allowed_training_algorithms`), as Azure spells it. */
  name: string;
  task: TabularTask;
  /** The Tessera trainer's name (shared/ml/models). */
  trainer: string;
  /** What the name maps to, in a phrase (ARCHITECTURE.md's table). */
  implementation: string;
  /** Trains on a featurized matrix; `params` are the trainer's own (camelCase) hyperparameters. */
  fit: FitAlgorithm;
  /** The first trial's hyperparameters. */
  defaults: Readonly<Record<string, ParamValue>>;
  /** What the proposer's local search varies (a subset of the trainer's hyperparameters). */
  space: Readonly<Record<string, ParamRange>>;
  /**
   * Relative cost of one fit on rows × features with these parameters (arbitrary units, about
   * one per row·feature·pass); only the order matters.
   */
  cost(rows: number, features: number, params: Readonly<Record<string, ParamValue>>, classes?: number): number;
  /** Left out of a job with more training rows than this unless allowed by name. */
  maxRows?: number;
  /**
   * A cross-validated trial keeps its fold bag, the average of its fold models (trial.ts foldBag),
   * instead of refitting on every row: for the high-variance learners, boosting and single trees,
   * whose fits on different rows differ enough for the average to gain. The others refit: the
   * stable learners (linear models, naive Bayes, KNN) gain little from an average of models that
   * each saw fewer rows (breast_cancer's logistic regression lost: holdout AUC 0.99504 bagged,
   * 0.995701 refit), and forests are averages already and would only grow their graphs.
   */
  foldBag?: boolean;
  /** A Tessera name Azure ML does not have: used only when allowed by name. */
  extension?: boolean;
}

/**
 * Whether a trial of `entry` scored on `folds` folds keeps its fold bag: cross-validated (two folds
 * or more, so that every row was trained on) and an algorithm that gains (AlgorithmEntry.foldBag).
 */
export function keepsFoldBag(entry: AlgorithmEntry, folds: number): boolean {
  return folds >= 2 && entry.foldBag === true;
}

/** Binds a typed trainer to the registry's untyped parameter records. */
function fitWith<P>(trainer: Trainer<P>, fixed: Readonly<Record<string, ParamValue>> = {}): FitAlgorithm {
  return (X, y, params, options) => trainer.fit(X, y, { ...fixed, ...params } as unknown as P, options);
}

const num = (params: Readonly<Record<string, ParamValue>>, key: string, fallback: number): number => {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
};

const log2 = (n: number): number => Math.log2(Math.max(2, n));

// Relative costs. The constants were set so that, on a few thousand rows, the order matches the
// seconds the trainers take here: naive Bayes < one tree < linear and boosting < forests and KNN
// (whose cost grows with the square of the rows, since it predicts by brute force). Recalibrated with the
// WebAssembly boosting kernel (boosting halved, forests doubled) on synth_mixed_20k's 16,000 × 22
// features, a trial (3 folds and the refit) alone in its process: LightGBM's default 1.7 s, CART
// 1.3 s, extra trees 14.6 s, a random forest 19.9 s, about 0.1–0.13 s per million cost units each.
// Beside another trial on two cores, forests slow down more than boosting (extra trees 22 s).
const linearCost = (passes: number) => (rows: number, features: number) => 20 * passes * rows * features;
const treeCost = (rows: number, features: number): number => 2 * rows * features * log2(rows);
const forestCost =
  (share: number) =>
  (rows: number, features: number, params: Readonly<Record<string, ParamValue>>): number => {
    const trees = num(params, 'nEstimators', 100);
    const mf = params['maxFeatures'];
    const examined =
      mf === 'sqrt' || mf === undefined
        ? Math.sqrt(features)
        : mf === 'log2'
          ? log2(features)
          : mf === 'all'
            ? features
            : typeof mf === 'number'
              ? mf <= 1
                ? mf * features
                : mf
              : features;
    return share * trees * rows * Math.max(1, examined) * log2(rows);
  };
/** Multiclass boosting grows one tree per class and round. */
const boostingCost = (
  rows: number,
  features: number,
  params: Readonly<Record<string, ParamValue>>,
  classes = 2,
): number =>
  num(params, 'nEstimators', 100) * (rows * features * 0.3 + 255 * features * 4) * (classes > 2 ? classes : 1);
const knnCost = (rows: number, features: number): number => 0.2 * rows * rows * features + rows * features;
const naiveBayesCost = (rows: number, features: number): number => 2 * rows * features;

const LEARNING_RATE: ParamRange = { kind: 'float', min: 0.01, max: 0.3, log: true };
const ROUNDS: ParamRange = { kind: 'int', min: 50, max: 500, log: true };
const SUBSAMPLE: ParamRange = { kind: 'float', min: 0.5, max: 1 };
const COLSAMPLE: ParamRange = { kind: 'float', min: 0.3, max: 1 };
const LAMBDA: ParamRange = { kind: 'float', min: 1e-3, max: 10, log: true };

function boosting(task: TabularTask, name: string, shape: 'lightgbm' | 'xgboost' | 'sklearn'): AlgorithmEntry {
  const common = {
    task,
    trainer: histGradientBoostingTrainer.name,
    fit: fitWith(histGradientBoostingTrainer),
    foldBag: true,
  };
  if (shape === 'lightgbm') {
    return {
      ...common,
      name,
      implementation: 'histogram gradient boosting, leaf-wise, 31 leaves (LightGBM’s defaults); not LightGBM',
      defaults: { growPolicy: 'leafwise', numLeaves: 31, learningRate: 0.1, nEstimators: 100, minChildSamples: 20 },
      space: {
        learningRate: LEARNING_RATE,
        numLeaves: { kind: 'int', min: 4, max: 255, log: true },
        minChildSamples: { kind: 'int', min: 2, max: 100, log: true },
        nEstimators: ROUNDS,
        subsample: SUBSAMPLE,
        colsampleBytree: COLSAMPLE,
        regLambda: LAMBDA,
      },
      cost: boostingCost,
    };
  }
  if (shape === 'xgboost') {
    return {
      ...common,
      name,
      implementation:
        'histogram gradient boosting, depth-wise, depth 6, λ = 1, η = 0.3 (XGBoost’s defaults); not XGBoost',
      defaults: {
        growPolicy: 'depthwise',
        maxDepth: 6,
        learningRate: 0.3,
        nEstimators: 100,
        regLambda: 1,
        minChildWeight: 1,
        minChildSamples: 1,
      },
      space: {
        learningRate: LEARNING_RATE,
        maxDepth: { kind: 'int', min: 2, max: 10 },
        minChildWeight: { kind: 'float', min: 1e-3, max: 10, log: true },
        nEstimators: ROUNDS,
        subsample: SUBSAMPLE,
        colsampleBytree: COLSAMPLE,
        regLambda: LAMBDA,
      },
      cost: boostingCost,
    };
  }
  return {
    ...common,
    name,
    implementation: 'histogram gradient boosting, depth-wise, depth 3 (scikit-learn GradientBoosting’s defaults)',
    defaults: { growPolicy: 'depthwise', maxDepth: 3, learningRate: 0.1, nEstimators: 100, minChildSamples: 1 },
    space: {
      learningRate: LEARNING_RATE,
      maxDepth: { kind: 'int', min: 2, max: 8 },
      minChildSamples: { kind: 'int', min: 1, max: 50, log: true },
      nEstimators: ROUNDS,
      subsample: SUBSAMPLE,
    },
    cost: boostingCost,
  };
}

function decisionTree(task: TabularTask): AlgorithmEntry {
  return {
    name: 'DecisionTree',
    task,
    trainer: decisionTreeTrainer.name,
    implementation: 'CART tree (scikit-learn’s DecisionTree)',
    fit: fitWith(decisionTreeTrainer),
    foldBag: true,
    defaults: { minSamplesLeaf: 1 },
    space: {
      maxDepth: { kind: 'int', min: 2, max: 30 },
      minSamplesLeaf: { kind: 'int', min: 1, max: 50, log: true },
      maxFeatures: { kind: 'choice', values: ['all', 'sqrt', 0.5] },
      ...(task === 'classification'
        ? { criterion: { kind: 'choice', values: ['gini', 'entropy'] } as ParamRange }
        : {}),
    },
    cost: treeCost,
  };
}

function forest(task: TabularTask, name: 'RandomForest' | 'ExtremeRandomTrees'): AlgorithmEntry {
  const random = name === 'RandomForest';
  const trainer = random ? randomForestTrainer : extraTreesTrainer;
  return {
    name,
    task,
    trainer: trainer.name,
    implementation: random
      ? 'random forest: bootstrap, best split on a feature subset (scikit-learn’s)'
      : 'extremely randomized trees: random thresholds, no bootstrap (scikit-learn’s)',
    fit: fitWith(trainer),
    defaults: { nEstimators: 100, maxFeatures: task === 'classification' ? 'sqrt' : 'all' },
    space: {
      nEstimators: { kind: 'int', min: 10, max: 300, log: true },
      maxFeatures: { kind: 'choice', values: ['sqrt', 'log2', 0.5, 'all'] },
      minSamplesLeaf: { kind: 'int', min: 1, max: 20, log: true },
      ...(task === 'classification'
        ? { criterion: { kind: 'choice', values: ['gini', 'entropy'] } as ParamRange }
        : {}),
    },
    cost: forestCost(random ? 2 : 1.2),
  };
}

function knn(task: TabularTask): AlgorithmEntry {
  return {
    name: 'KNN',
    task,
    trainer: knnTrainer.name,
    implementation: 'k-nearest neighbours, euclidean, brute force (scikit-learn’s KNeighbors*)',
    fit: fitWith(knnTrainer),
    defaults: { nNeighbors: 5, weights: 'uniform' },
    space: {
      nNeighbors: { kind: 'int', min: 1, max: 50, log: true },
      weights: { kind: 'choice', values: ['uniform', 'distance'] },
    },
    cost: knnCost,
    maxRows: 50_000,
  };
}

const SGD_SPACE: Readonly<Record<string, ParamRange>> = {
  alpha: { kind: 'float', min: 1e-6, max: 1e-1, log: true },
  penalty: { kind: 'choice', values: ['l2', 'l1', 'elasticnet'] },
  l1Ratio: { kind: 'float', min: 0.05, max: 0.95 },
};

const CLASSIFICATION: readonly AlgorithmEntry[] = [
  {
    name: 'MultinomialNaiveBayes',
    task: 'classification',
    trainer: multinomialNaiveBayesTrainer.name,
    implementation: 'multinomial naive Bayes (scikit-learn’s); a trial fails if a feature is negative',
    fit: fitWith(multinomialNaiveBayesTrainer),
    defaults: { alpha: 1, fitPrior: true },
    space: {
      alpha: { kind: 'float', min: 1e-3, max: 10, log: true },
      fitPrior: { kind: 'choice', values: [true, false] },
    },
    cost: naiveBayesCost,
  },
  {
    name: 'BernoulliNaiveBayes',
    task: 'classification',
    trainer: bernoulliNaiveBayesTrainer.name,
    implementation: 'Bernoulli naive Bayes, features binarized at 0 (scikit-learn’s)',
    fit: fitWith(bernoulliNaiveBayesTrainer),
    defaults: { alpha: 1, fitPrior: true },
    space: {
      alpha: { kind: 'float', min: 1e-3, max: 10, log: true },
      fitPrior: { kind: 'choice', values: [true, false] },
    },
    cost: naiveBayesCost,
  },
  {
    name: 'GaussianNaiveBayes',
    task: 'classification',
    trainer: gaussianNaiveBayesTrainer.name,
    implementation: 'Gaussian naive Bayes (scikit-learn’s GaussianNB); a Tessera extension, used only when allowed',
    fit: fitWith(gaussianNaiveBayesTrainer),
    defaults: { varSmoothing: 1e-9 },
    space: { varSmoothing: { kind: 'float', min: 1e-12, max: 1e-3, log: true } },
    cost: naiveBayesCost,
    extension: true,
  },
  {
    name: 'LogisticRegression',
    task: 'classification',
    trainer: logisticRegressionTrainer.name,
    implementation: 'penalized logistic regression on standardized features, coordinate descent',
    fit: fitWith(logisticRegressionTrainer),
    defaults: { C: 1, penalty: 'l2' },
    space: {
      C: { kind: 'float', min: 1e-3, max: 1e3, log: true },
      penalty: { kind: 'choice', values: ['l2', 'l1'] },
    },
    cost: linearCost(4),
  },
  {
    name: 'SGD',
    task: 'classification',
    trainer: sgdClassifierTrainer.name,
    implementation: 'SGDClassifier’s log-loss objective solved to convergence (not stochastic steps)',
    fit: fitWith(sgdClassifierTrainer),
    defaults: { alpha: 1e-4, penalty: 'l2' },
    space: SGD_SPACE,
    cost: linearCost(4),
  },
  decisionTree('classification'),
  boosting('classification', 'LightGBM', 'lightgbm'),
  boosting('classification', 'XGBoostClassifier', 'xgboost'),
  boosting('classification', 'GradientBoosting', 'sklearn'),
  forest('classification', 'ExtremeRandomTrees'),
  forest('classification', 'RandomForest'),
  knn('classification'),
];

const REGRESSION: readonly AlgorithmEntry[] = [
  {
    name: 'ElasticNet',
    task: 'regression',
    trainer: elasticNetTrainer.name,
    implementation: 'elastic net on standardized features, coordinate descent',
    fit: fitWith(elasticNetTrainer),
    defaults: { alpha: 0.01, l1Ratio: 0.5 },
    space: {
      alpha: { kind: 'float', min: 1e-4, max: 10, log: true },
      l1Ratio: { kind: 'float', min: 0, max: 1 },
    },
    cost: linearCost(2),
  },
  {
    name: 'LassoLars',
    task: 'regression',
    trainer: lassoLarsTrainer.name,
    implementation: 'the lasso objective solved by coordinate descent, not least-angle regression',
    fit: fitWith(lassoLarsTrainer),
    defaults: { alpha: 0.01 },
    space: { alpha: { kind: 'float', min: 1e-4, max: 10, log: true } },
    cost: linearCost(2),
  },
  {
    name: 'SGD',
    task: 'regression',
    trainer: sgdRegressorTrainer.name,
    implementation: 'SGDRegressor’s squared-error objective solved to convergence (not stochastic steps)',
    fit: fitWith(sgdRegressorTrainer),
    defaults: { alpha: 1e-4, penalty: 'l2' },
    space: SGD_SPACE,
    cost: linearCost(2),
  },
  decisionTree('regression'),
  boosting('regression', 'LightGBM', 'lightgbm'),
  boosting('regression', 'XGBoostRegressor', 'xgboost'),
  boosting('regression', 'GradientBoosting', 'sklearn'),
  forest('regression', 'ExtremeRandomTrees'),
  forest('regression', 'RandomForest'),
  knn('regression'),
];

/** Every implemented tabular algorithm, by task, cheapest family first. */
export const ALGORITHMS: Readonly<Record<TabularTask, readonly AlgorithmEntry[]>> = {
  classification: CLASSIFICATION,
  regression: REGRESSION,
};

/** Azure ML algorithm names Tessera does not implement: refused when allowed, accepted (noted) when blocked. */
export const UNIMPLEMENTED_ALGORITHMS: Readonly<Record<TabularTask | 'forecasting', readonly string[]>> = {
  classification: ['SVM', 'LinearSVM', 'TabnetClassifier', 'AveragedPerceptronClassifier'],
  regression: ['TabnetRegressor', 'OnlineGradientDescentRegressor', 'FastLinearRegressor'],
  forecasting: ['AutoArima', 'Prophet', 'Arimax', 'TCNForecaster', 'TabnetRegressor'],
};

/**
 * Forecasting names (the forecast-*.ts trials own them): the statistical forecasters, then the
 * regression learners, which forecasting trains on lag features.
 */
export const FORECASTING_ALGORITHMS: readonly string[] = [
  'Naive',
  'SeasonalNaive',
  'Average',
  'SeasonalAverage',
  'ExponentialSmoothing',
  ...REGRESSION.map((a) => a.name),
];

/** How names compare: case, '_', '-' and spaces do not matter ('light_gbm' is LightGBM). */
export function algorithmKey(name: string): string {
  return name.replace(/[\s_-]/g, '').toLowerCase();
}

/** The implemented algorithm called `name` (any spelling algorithmKey accepts), or undefined. */
export function findAlgorithm(task: TabularTask, name: string): AlgorithmEntry | undefined {
  const key = algorithmKey(name);
  return ALGORITHMS[task].find((a) => algorithmKey(a.name) === key);
}

/** The implemented algorithm called `name`; a RangeError listing the names when there is none. */
export function algorithmEntry(task: TabularTask, name: string): AlgorithmEntry {
  const entry = findAlgorithm(task, name);
  if (entry === undefined) {
    throw new RangeError(
      `'${name}' is not a ${task} algorithm of Tessera; use one of ${ALGORITHMS[task].map((a) => a.name).join(', ')}`,
    );
  }
  return entry;
}
