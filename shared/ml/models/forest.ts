/**
 * Random forests and extremely randomized trees: many CART trees (shared/ml/models/tree.ts), each
 * seeded by `Rng.fork(treeIndex)` of the fit's seed, so a forest is the same for the same data, seed
 * and settings whatever the order the trees are built in. Regression averages the leaf values;
 * classification averages the leaf class distributions (probabilities, as scikit-learn does).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import { Rng } from '../rng.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import { argmaxRows } from './class-labels.js';
import { checkInteger, checkRange, resolveTarget, resolveWeights } from './fit-inputs.js';
import type { MaxFeatures, TreeNodes, TreeParams, TreeTarget } from './tree.js';
import {
  checkOnnxWidth,
  checkWidth,
  growTree,
  leafOf,
  prepareTreeData,
  resolveGrowParams,
  resolveMaxFeatures,
  weightedRows,
} from './tree.js';
import { exportTreeClassifier, exportTreeRegressor } from './tree-ensemble-onnx.js';

export interface ForestParams extends TreeParams {
  /** Number of trees (default 100). */
  nEstimators?: number;
  /**
   * Features examined per node; default 'sqrt' for classification and 'all' for regression
   * (scikit-learn's defaults).
   */
  maxFeatures?: MaxFeatures;
  /** Draw each tree's rows with replacement (default: true for RandomForest, false for ExtremeRandomTrees). */
  bootstrap?: boolean;
  /** With bootstrap, the rows drawn per tree as a fraction of the weighted rows (default 1). */
  maxSamples?: number;
}

/** A fitted forest: the mean of its trees. */
export class ForestModel implements FittedModel {
  readonly task: 'classification' | 'regression';
  readonly classes?: readonly string[];

  constructor(
    readonly trees: readonly TreeNodes[],
    readonly featureCount: number,
    classes: readonly string[] | undefined,
  ) {
    this.task = classes === undefined ? 'regression' : 'classification';
    if (classes !== undefined) this.classes = classes;
  }

  predict(X: Matrix): Float64Array {
    checkWidth(X, this.featureCount);
    if (this.task === 'classification') {
      const proba = this.predictProba(X);
      return argmaxRows(proba.data, proba.rows, proba.cols);
    }
    const out = new Float64Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let sum = 0;
      for (const tree of this.trees) sum += tree.value[leafOf(tree, X.data, i * X.cols)] as number;
      out[i] = sum / this.trees.length;
    }
    return out;
  }

  predictProba(X: Matrix): Matrix {
    checkWidth(X, this.featureCount);
    if (this.classes === undefined) throw new TypeError('predictProba is for classification models');
    const k = this.classes.length;
    const out = new Float64Array(X.rows * k);
    for (let i = 0; i < X.rows; i++) {
      for (const tree of this.trees) {
        const leaf = leafOf(tree, X.data, i * X.cols);
        for (let c = 0; c < k; c++) out[i * k + c] = (out[i * k + c] as number) + (tree.value[leaf * k + c] as number);
      }
      for (let c = 0; c < k; c++) out[i * k + c] = (out[i * k + c] as number) / this.trees.length;
    }
    return { rows: X.rows, cols: k, data: out };
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    checkOnnxWidth(features, this.featureCount);
    if (this.classes === undefined) {
      return {
        prediction: exportTreeRegressor(g, features, { trees: this.trees, aggregate: 'AVERAGE', baseValue: 0 }),
      };
    }
    return exportTreeClassifier(g, features, {
      trees: this.trees,
      classes: this.classes,
      votes: { kind: 'distribution', divisor: this.trees.length },
    });
  }
}

function fitForest(
  X: Matrix,
  y: Float64Array | readonly string[],
  params: ForestParams,
  options: { seed: number; weights?: Float64Array },
  splitter: 'best' | 'random',
  defaultBootstrap: boolean,
): ForestModel {
  const target = resolveTarget(X, y);
  const weights = resolveWeights(options.weights, X.rows);
  const nEstimators = checkInteger('nEstimators', params.nEstimators ?? 100, 1);
  const bootstrap = params.bootstrap ?? defaultBootstrap;
  const maxSamples = checkRange('maxSamples', params.maxSamples ?? 1, 0, 1, true);
  const maxFeatures = resolveMaxFeatures(
    params.maxFeatures ?? (target.task === 'classification' ? 'sqrt' : 'all'),
    X.cols,
  );
  const { grow, criterion } = resolveGrowParams({ ...params, splitter }, target.task, maxFeatures);
  const treeTarget: TreeTarget =
    target.task === 'regression'
      ? { kind: 'regression', y: target.y }
      : {
          kind: 'classification',
          codes: target.codes,
          nClasses: target.classes.length,
          criterion: criterion as 'gini' | 'entropy',
        };
  const data = prepareTreeData(X);
  const eligible = weightedRows(weights);
  const draws = Math.max(1, Math.round(maxSamples * eligible.length));
  const root = new Rng(options.seed);
  const trees: TreeNodes[] = [];
  const counts = new Float64Array(X.rows);
  const treeWeights = new Float64Array(X.rows);
  for (let t = 0; t < nEstimators; t++) {
    const rng = root.fork(t);
    let rows = eligible;
    let w = weights;
    if (bootstrap) {
      // A bootstrap sample is a weighting: the sample weight times how often the row was drawn.
      counts.fill(0);
      for (let d = 0; d < draws; d++) {
        const r = eligible[rng.int(eligible.length)] as number;
        counts[r] = (counts[r] as number) + 1;
      }
      for (let i = 0; i < X.rows; i++) treeWeights[i] = (weights[i] as number) * (counts[i] as number);
      rows = weightedRows(treeWeights);
      w = treeWeights;
    }
    trees.push(growTree(data, treeTarget, rows, w, grow, rng));
  }
  return new ForestModel(trees, X.cols, target.task === 'classification' ? target.classes : undefined);
}

/** Azure ML's RandomForest: bootstrap samples, best thresholds on a random subset of features per node. */
export const randomForestTrainer = {
  name: 'random-forest',
  azureNames: ['RandomForest'],
  fit: (X, y, params, options): ForestModel => fitForest(X, y, params, options, 'best', true),
} satisfies Trainer<ForestParams>;

/** Azure ML's ExtremeRandomTrees: all rows (no bootstrap by default), one random threshold per feature. */
export const extraTreesTrainer = {
  name: 'extra-trees',
  azureNames: ['ExtremeRandomTrees'],
  fit: (X, y, params, options): ForestModel => fitForest(X, y, params, options, 'random', false),
} satisfies Trainer<ForestParams>;
