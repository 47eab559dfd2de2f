/**
 * Histogram gradient boosting, LightGBM-style: features binned into ≤ 255 quantile bins (float32
 * edges, shared/ml/models/histogram-bins.ts), trees grown leaf-wise (best gain first, up to
 * `numLeaves`) or depth-wise (level by level, up to `maxDepth`) from per-bin gradient/hessian
 * histograms (a child's histogram is its parent's minus its sibling's), Newton leaf values
 * -G / (H + λ) shrunk by the learning rate, row and column subsampling, and early stopping on a
 * held-out validation split. Losses: squared error (regression), log loss (binary), softmax
 * (multiclass: one tree per class per round).
 *
 * Azure ML names: LightGBM, GradientBoosting, XGBoostClassifier and XGBoostRegressor all map to
 * this one trainer. LightGBM → Tessera's histogram gradient boosting; it is not LightGBM itself,
 * not scikit-learn's exact GradientBoosting and not XGBoost, but the same family of model with
 * their common hyperparameters (learning rate, leaves/depth, min child samples, L2 λ, subsample,
 * colsample).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import { Rng } from '../rng.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import { argmaxRows } from './class-labels.js';
import { checkInteger, checkRange, resolveTarget, resolveWeights } from './fit-inputs.js';
import { MAX_BINS, binCodes, binEdges } from './histogram-bins.js';
import { histogramRunner } from './histogram-threads.js';
import type { FoundSplit, HistogramRunner, LeafScan } from './histogram-threads.js';
import { histogramLayout } from './histograms.js';
import type { TreeNodes } from './tree.js';
import { checkOnnxWidth, checkWidth, leafOf, weightedRows } from './tree.js';
import { exportTreeClassifier, exportTreeRegressor } from './tree-ensemble-onnx.js';

export interface GradientBoostingParams {
  /** Boosting rounds (default 100); with early stopping, the most rounds. */
  nEstimators?: number;
  /** Shrinkage of each tree's leaf values (default 0.1). */
  learningRate?: number;
  /** 'leafwise' (default, LightGBM): split the leaf of best gain; 'depthwise' (XGBoost): level by level. */
  growPolicy?: 'leafwise' | 'depthwise';
  /** Most leaves per tree (default 31 leaf-wise, unlimited depth-wise). */
  numLeaves?: number;
  /** Deepest leaf depth (default unlimited leaf-wise, 6 depth-wise). */
  maxDepth?: number;
  /** Fewest training rows in a leaf (default 20). */
  minChildSamples?: number;
  /** Smallest hessian sum in a leaf (default 1e-3). */
  minChildWeight?: number;
  /** L2 regularization λ of leaf values (default 0). */
  regLambda?: number;
  /** Smallest gain worth a split (default 0). */
  minSplitGain?: number;
  /** Most bins per feature, 2..255 (default 255). */
  maxBin?: number;
  /** Fraction of training rows drawn (without replacement) for each round (default 1). */
  subsample?: number;
  /** Fraction of features drawn for each tree (default 1). */
  colsampleBytree?: number;
  /** Hold out a validation split and stop when it stops improving; 'auto' (default): when over 10,000 rows. */
  earlyStopping?: boolean | 'auto';
  /** Fraction held out for early stopping (default 0.1; stratified for classification). */
  validationFraction?: number;
  /** Rounds without a validation improvement of more than `tol` before stopping (default 10). */
  nIterNoChange?: number;
  /** Improvement of the validation loss that counts (default 1e-7). */
  tol?: number;
  /**
   * Threads that build histograms, this one included (default 1). The model is the same for every
   * count; more threads only pay on large data (hundreds of thousands of rows × features) and on
   * real cores (on a 2-vCPU virtual machine two threads measured slower than one), and the default
   * leaves the machine's other cores to the jobs running beside this one.
   */
  threads?: number;
}

type Objective = 'regression' | 'binary' | 'multiclass';

interface ResolvedParams {
  nEstimators: number;
  learningRate: number;
  growPolicy: 'leafwise' | 'depthwise';
  numLeaves: number;
  maxDepth: number;
  minChildSamples: number;
  minChildWeight: number;
  regLambda: number;
  minSplitGain: number;
  maxBin: number;
  subsample: number;
  colsampleBytree: number;
  earlyStopping: boolean | 'auto';
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  threads: number;
}

function resolveParams(p: GradientBoostingParams): ResolvedParams {
  const growPolicy = p.growPolicy ?? 'leafwise';
  if (growPolicy !== 'leafwise' && growPolicy !== 'depthwise') {
    throw new RangeError(`growPolicy must be 'leafwise' or 'depthwise'; got '${String(growPolicy)}'`);
  }
  const earlyStopping = p.earlyStopping ?? 'auto';
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== 'auto') {
    throw new RangeError(`earlyStopping must be true, false or 'auto'; got ${String(earlyStopping)}`);
  }
  const leafwise = growPolicy === 'leafwise';
  return {
    nEstimators: checkInteger('nEstimators', p.nEstimators ?? 100, 1),
    learningRate: checkRange('learningRate', p.learningRate ?? 0.1, 0, Number.MAX_VALUE, true),
    growPolicy,
    numLeaves: checkInteger('numLeaves', p.numLeaves ?? (leafwise ? 31 : Infinity), 2, true),
    maxDepth: checkInteger('maxDepth', p.maxDepth ?? (leafwise ? Infinity : 6), 1, true),
    minChildSamples: checkInteger('minChildSamples', p.minChildSamples ?? 20, 1),
    minChildWeight: checkRange('minChildWeight', p.minChildWeight ?? 1e-3, 0, Number.MAX_VALUE),
    regLambda: checkRange('regLambda', p.regLambda ?? 0, 0, Number.MAX_VALUE),
    minSplitGain: checkRange('minSplitGain', p.minSplitGain ?? 0, 0, Number.MAX_VALUE),
    maxBin: checkInteger('maxBin', p.maxBin ?? MAX_BINS, 2),
    subsample: checkRange('subsample', p.subsample ?? 1, 0, 1, true),
    colsampleBytree: checkRange('colsampleBytree', p.colsampleBytree ?? 1, 0, 1, true),
    earlyStopping,
    validationFraction: checkRange('validationFraction', p.validationFraction ?? 0.1, 0, 1, true),
    nIterNoChange: checkInteger('nIterNoChange', p.nIterNoChange ?? 10, 1),
    tol: checkRange('tol', p.tol ?? 1e-7, 0, Number.MAX_VALUE),
    threads: checkInteger('threads', p.threads ?? 1, 1),
  };
}

/** How a fit went: rounds run and kept, and the validation loss per round (with early stopping). */
export interface BoostingHistory {
  /** Rounds trained before stopping. */
  roundsRun: number;
  /** Rounds kept in the model: the best validation round with early stopping, else all. */
  roundsKept: number;
  stoppedEarly: boolean;
  /** Validation loss after each round (empty without early stopping). */
  validationLoss: readonly number[];
}

/** A fitted boosted ensemble: raw score = base + Σ tree values, then identity, sigmoid or softmax. */
export class GradientBoostingModel implements FittedModel {
  readonly task: 'classification' | 'regression';
  readonly classes?: readonly string[];
  /** Raw scores per row: 1, or one per class for multiclass (tree t scores class t mod that). */
  readonly scoreCount: number;

  constructor(
    readonly objective: Objective,
    /** Trees in round order; multiclass rounds hold one tree per class. */
    readonly trees: readonly TreeNodes[],
    /** Initial raw scores, one per raw score. */
    readonly baseScores: readonly number[],
    readonly featureCount: number,
    classes: readonly string[] | undefined,
    readonly history: BoostingHistory,
  ) {
    this.task = objective === 'regression' ? 'regression' : 'classification';
    if (classes !== undefined) this.classes = classes;
    this.scoreCount = baseScores.length;
  }

  /** Row-major [rows, scoreCount] raw scores (margins). */
  rawScores(X: Matrix): Matrix {
    checkWidth(X, this.featureCount);
    const k = this.scoreCount;
    const out = new Float64Array(X.rows * k);
    for (let i = 0; i < X.rows; i++) for (let c = 0; c < k; c++) out[i * k + c] = this.baseScores[c] as number;
    // Tree by tree, so that each tree stays in cache; every row still adds its trees in order.
    const all = Int32Array.from({ length: X.rows }, (_, i) => i);
    this.trees.forEach((tree, t) => addTreeValues(tree, X, all, out, k, t % k));
    return { rows: X.rows, cols: k, data: out };
  }

  predict(X: Matrix): Float64Array {
    if (this.objective === 'regression') return this.rawScores(X).data;
    const proba = this.predictProba(X);
    return argmaxRows(proba.data, proba.rows, proba.cols);
  }

  predictProba(X: Matrix): Matrix {
    if (this.objective === 'regression') throw new TypeError('predictProba is for classification models');
    const raw = this.rawScores(X);
    if (this.objective === 'binary') {
      const out = new Float64Array(X.rows * 2);
      for (let i = 0; i < X.rows; i++) {
        const s = raw.data[i] as number;
        out[2 * i] = 1 / (1 + Math.exp(s));
        out[2 * i + 1] = 1 / (1 + Math.exp(-s));
      }
      return { rows: X.rows, cols: 2, data: out };
    }
    softmaxRows(raw.data, X.rows, raw.cols);
    return raw;
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    checkOnnxWidth(features, this.featureCount);
    if (this.objective === 'regression') {
      return {
        prediction: exportTreeRegressor(g, features, {
          trees: this.trees,
          aggregate: 'SUM',
          baseValue: this.baseScores[0] as number,
        }),
      };
    }
    const k = this.scoreCount;
    // Binary: σ(s) is the softmax of the scores [0, s], so every tree scores class 1 (see
    // exportTreeClassifier on why not LOGISTIC).
    const binary = this.objective === 'binary';
    return exportTreeClassifier(g, features, {
      trees: this.trees,
      classes: this.classes as readonly string[],
      votes: {
        kind: 'score',
        classOfTree: binary ? () => 1 : (t) => t % k,
        baseScores: binary ? [0, this.baseScores[0] as number] : this.baseScores,
      },
    });
  }
}

/** In place: each row of a row-major [rows, k] matrix becomes its softmax. */
function softmaxRows(values: Float64Array, rows: number, k: number): void {
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, values[i * k + c] as number);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp((values[i * k + c] as number) - max);
      values[i * k + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) values[i * k + c] = (values[i * k + c] as number) / sum;
  }
}

interface GrowingLeaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | null;
  split: FoundSplit | null;
}

/** What every boosting tree is grown from: the binned rows, the histogram runner and reusable buffers. */
interface BoostContext {
  /** Does the histogram work and the partitions, and owns the gradients, hessians and row order they read. */
  runner: HistogramRunner;
  edges: readonly Float32Array[];
  /** Histogram buffers freed by earlier leaves and trees, reused to spare the allocator. */
  pool: Float64Array[];
  params: ResolvedParams;
}

function boostContext(
  codes: Uint8Array,
  edges: readonly Float32Array[],
  n: number,
  params: ResolvedParams,
): BoostContext {
  const limits = {
    minChildSamples: params.minChildSamples,
    minChildWeight: params.minChildWeight,
    minSplitGain: params.minSplitGain,
    lambda: params.regLambda,
  };
  return {
    runner: histogramRunner(histogramLayout(codes, edges), limits, n, params.threads),
    edges,
    pool: [],
    params,
  };
}

// The long loops of a fit below are each alone in a function with nothing
// but a return after them: V8 compiles a long loop while it runs (on-stack replacement), before the
// code after it has ever run, and code without type feedback there would drop back to the
// interpreter on every later call.

/** Σ values[order[k]] for k in [start, end), in that order. */
function sumOf(values: Float64Array, order: Int32Array, start: number, end: number): number {
  let sum = 0;
  for (let k = start; k < end; k++) sum += values[order[k] as number] as number;
  return sum;
}

/** A grown tree, its split bins, and where its training rows ended up: leaf i holds order[start[i]..end[i]). */
interface GrownTree {
  tree: TreeNodes;
  splitBin: Int32Array;
  leafNode: Int32Array;
  leafStart: Int32Array;
  leafEnd: Int32Array;
}

/** Grows one tree on `rows` from the runner's gradients and hessians over the features `featureSet`. */
function growBoostingTree(ctx: BoostContext, rows: Int32Array, featureSet: Int32Array): GrownTree {
  const { runner, edges, pool, params } = ctx;
  const { grad, hess, order } = runner;
  order.set(rows);
  const feature: number[] = [];
  const threshold: number[] = [];
  const splitBin: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const newNode = (): number => {
    feature.push(-1);
    threshold.push(0);
    splitBin.push(-1);
    left.push(-1);
    right.push(-1);
    value.push(0);
    return feature.length - 1;
  };
  const lambda = params.regLambda;
  const leafValue = (g: number, h: number): number => (h + lambda > 0 ? (-g / (h + lambda)) * params.learningRate : 0);
  // A leaf is worth a histogram only if it may be split: shallow and large enough.
  const splittable = (leaf: GrowingLeaf): boolean =>
    leaf.depth < params.maxDepth && leaf.end - leaf.start >= 2 * params.minChildSamples;
  const scan = (leaf: GrowingLeaf): LeafScan => ({
    hist: leaf.hist as Float64Array,
    g: leaf.g,
    h: leaf.h,
    count: leaf.end - leaf.start,
  });
  /** Records each scanned leaf's split; a leaf without one gives its histogram back to the pool. */
  const settle = (scanned: GrowingLeaf[], splits: (FoundSplit | null)[]): void =>
    scanned.forEach((leaf, i) => {
      leaf.split = splits[i] ?? null;
      if (leaf.split === null) {
        pool.push(leaf.hist as Float64Array);
        leaf.hist = null;
      }
    });

  const rootLeaf: GrowingLeaf = {
    node: newNode(),
    start: 0,
    end: rows.length,
    depth: 0,
    g: sumOf(grad, order, 0, rows.length),
    h: sumOf(hess, order, 0, rows.length),
    hist: null,
    split: null,
  };
  if (splittable(rootLeaf)) {
    rootLeaf.hist = pool.pop() ?? runner.allocate();
    const build = { hist: rootLeaf.hist, start: 0, end: rows.length };
    settle([rootLeaf], runner.run({ build, scans: [scan(rootLeaf)] }, featureSet));
  }
  const leaves: GrowingLeaf[] = [rootLeaf];

  while (leaves.length < params.numLeaves) {
    // Leaf-wise: the largest gain; depth-wise: the shallowest, oldest leaf (breadth first).
    let pick = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = (leaves[i] as GrowingLeaf).split;
      if (s === null) continue;
      if (pick < 0) {
        pick = i;
        continue;
      }
      const current = leaves[pick] as GrowingLeaf;
      const candidate = leaves[i] as GrowingLeaf;
      const better =
        params.growPolicy === 'leafwise'
          ? s.gain > (current.split as FoundSplit).gain
          : candidate.depth < current.depth || (candidate.depth === current.depth && candidate.node < current.node);
      if (better) pick = i;
    }
    if (pick < 0) break;
    const leaf = leaves[pick] as GrowingLeaf;
    const split = leaf.split as FoundSplit;
    // A stable partition: both children keep their rows in ascending order, so the histogram
    // passes below read gradients and codes in memory order.
    const sf = split.feature;
    const sb = split.bin;
    const i = runner.partition(sf, sb, leaf.start, leaf.end);
    // The left side's sums, as the scan took them from the histogram's bins (no pass over the rows).
    const gl = split.gl;
    const hl = split.hl;
    const l = newNode();
    const r = newNode();
    feature[leaf.node] = sf;
    threshold[leaf.node] = (edges[sf] as Float32Array)[sb] as number;
    splitBin[leaf.node] = sb;
    left[leaf.node] = l;
    right[leaf.node] = r;
    const leftLeaf: GrowingLeaf = {
      node: l,
      start: leaf.start,
      end: i,
      depth: leaf.depth + 1,
      g: gl,
      h: hl,
      hist: null,
      split: null,
    };
    const rightLeaf: GrowingLeaf = {
      node: r,
      start: i,
      end: leaf.end,
      depth: leaf.depth + 1,
      g: leaf.g - gl,
      h: leaf.h - hl,
      hist: null,
      split: null,
    };
    leaves.splice(pick, 1, leftLeaf, rightLeaf);
    // Histogram subtraction: build the smaller child's, derive the larger one's from the parent.
    // Only children that may still be split need one (the last split of a tree needs none).
    const [small, large] = i - leaf.start <= leaf.end - i ? [leftLeaf, rightLeaf] : [rightLeaf, leftLeaf];
    const room = leaves.length < params.numLeaves;
    const parentHist = leaf.hist as Float64Array;
    leaf.hist = null;
    if (!room || !splittable(large)) pool.push(parentHist);
    if (room && (splittable(large) || splittable(small))) {
      small.hist = pool.pop() ?? runner.allocate();
      const build = { hist: small.hist, start: small.start, end: small.end };
      if (splittable(large)) large.hist = parentHist;
      // Scans in left, right order, as one scan after the other would find them.
      const scanned = [leftLeaf, rightLeaf].filter(splittable);
      const work = {
        build: large.hist === null ? build : { ...build, subtractFrom: parentHist },
        scans: scanned.map(scan),
      };
      settle(scanned, runner.run(work, featureSet));
      if (!splittable(small)) {
        pool.push(small.hist);
        small.hist = null;
      }
    }
  }
  for (const leaf of leaves) {
    value[leaf.node] = leafValue(leaf.g, leaf.h);
    if (leaf.hist !== null) pool.push(leaf.hist);
  }

  return {
    tree: {
      nodeCount: feature.length,
      outputs: 1,
      feature: Int32Array.from(feature),
      threshold: Float32Array.from(threshold),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
    },
    splitBin: Int32Array.from(splitBin),
    leafNode: Int32Array.from(leaves, (leaf) => leaf.node),
    leafStart: Int32Array.from(leaves, (leaf) => leaf.start),
    leafEnd: Int32Array.from(leaves, (leaf) => leaf.end),
  };
}

/** The leaf of training row r, routed by bin codes (the same path as the float32 thresholds). */
function binnedLeaf(tree: TreeNodes, splitBin: Int32Array, codes: Uint8Array, p: number, r: number): number {
  let node = 0;
  let f = tree.feature[0] as number;
  while (f >= 0) {
    node =
      (codes[r * p + f] as number) <= (splitBin[node] as number)
        ? (tree.left[node] as number)
        : (tree.right[node] as number);
    f = tree.feature[node] as number;
  }
  return node;
}

/** Draws `k` of `items` without replacement (a partial Fisher-Yates), returned in ascending order. */
function drawSorted(items: Int32Array, k: number, rng: Rng): Int32Array {
  if (k >= items.length) return items;
  const pool = Int32Array.from(items);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i);
    const tmp = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = tmp;
  }
  return pool.slice(0, k).sort();
}

/** Splits the weighted rows into training and validation, stratified by class for classification. */
function validationSplit(
  rows: Int32Array,
  fraction: number,
  codes: Int32Array | undefined,
  rng: Rng,
): { train: Int32Array; valid: Int32Array } {
  const groups = new Map<number, number[]>();
  for (const r of rows) {
    const key = codes === undefined ? 0 : (codes[r] as number);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(r);
  }
  const train: number[] = [];
  const valid: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const group = rng.shuffle(groups.get(key) as number[]);
    const take = Math.min(group.length - 1, Math.round(fraction * group.length));
    valid.push(...group.slice(0, take));
    train.push(...group.slice(take));
  }
  if (valid.length === 0 || train.length === 0) {
    throw new RangeError(`validationFraction ${fraction} leaves no validation or no training rows for early stopping`);
  }
  return { train: Int32Array.from(train).sort(), valid: Int32Array.from(valid).sort() };
}

/** Adds each leaf's value to raw score c of the rows it holds. */
function addLeafValues(grown: GrownTree, order: Int32Array, raw: Float64Array, k: number, c: number): void {
  const { tree, leafNode, leafStart, leafEnd } = grown;
  for (let leaf = 0; leaf < leafNode.length; leaf++) {
    const v = tree.value[leafNode[leaf] as number] as number;
    addToRows(raw, k, c, order, leafStart[leaf] as number, leafEnd[leaf] as number, v);
  }
}

function addToRows(
  raw: Float64Array,
  k: number,
  c: number,
  order: Int32Array,
  start: number,
  end: number,
  v: number,
): void {
  for (let i = start; i < end; i++) {
    const at = (order[i] as number) * k + c;
    raw[at] = (raw[at] as number) + v;
  }
}

/** Adds the tree's value to raw score c of `rows`, routed by their bin codes. */
function addBinnedTreeValues(
  tree: TreeNodes,
  splitBin: Int32Array,
  codes: Uint8Array,
  p: number,
  rows: Int32Array,
  raw: Float64Array,
  k: number,
  c: number,
): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    raw[r * k + c] = (raw[r * k + c] as number) + (tree.value[binnedLeaf(tree, splitBin, codes, p, r)] as number);
  }
}

/** Adds the tree's value to raw score c of `rows`, routed by their features. */
function addTreeValues(tree: TreeNodes, X: Matrix, rows: Int32Array, raw: Float64Array, k: number, c: number): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    raw[r * k + c] = (raw[r * k + c] as number) + (tree.value[leafOf(tree, X.data, r * X.cols)] as number);
  }
}

/** The probabilities of `rows` from their raw scores: σ (binary) or softmax (multiclass); none for regression. */
function updateProbabilities(
  objective: Objective,
  k: number,
  rows: Int32Array,
  raw: Float64Array,
  prob: Float64Array,
): void {
  if (objective === 'binary') {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      prob[r] = 1 / (1 + Math.exp(-(raw[r] as number)));
    }
  } else if (objective === 'multiclass') {
    for (let i = 0; i < rows.length; i++) softmaxRow(raw, prob, (rows[i] as number) * k, k);
  }
}

function softmaxRow(raw: Float64Array, prob: Float64Array, offset: number, k: number): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, raw[offset + c] as number);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += prob[offset + c] = Math.exp((raw[offset + c] as number) - max);
  for (let c = 0; c < k; c++) prob[offset + c] = (prob[offset + c] as number) / sum;
}

/**
 * Gradient and hessian of the weighted loss for raw score c of `rows`: `target` holds the values
 * (regression) or class codes (classification).
 */
function lossGradients(
  objective: Objective,
  c: number,
  k: number,
  rows: Int32Array,
  raw: Float64Array,
  prob: Float64Array,
  target: Float64Array | Int32Array,
  weights: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
): void {
  if (objective === 'regression') {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      const w = weights[r] as number;
      grad[r] = w * ((raw[r] as number) - (target[r] as number));
      hess[r] = w;
    }
  } else if (objective === 'binary') {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      const w = weights[r] as number;
      const q = prob[r] as number;
      grad[r] = w * (q - (target[r] as number));
      hess[r] = w * Math.max(q * (1 - q), 1e-16);
    }
  } else {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as number;
      const w = weights[r] as number;
      const q = prob[r * k + c] as number;
      grad[r] = w * (q - (target[r] === c ? 1 : 0));
      hess[r] = w * Math.max(q * (1 - q), 1e-16);
    }
  }
}

function fitBoosting(
  X: Matrix,
  y: Float64Array | readonly string[],
  rawParams: GradientBoostingParams,
  options: { seed: number; weights?: Float64Array },
): GradientBoostingModel {
  const target = resolveTarget(X, y);
  const weights = resolveWeights(options.weights, X.rows);
  const params = resolveParams(rawParams);
  const maxBin = Math.min(params.maxBin, MAX_BINS);
  const n = X.rows;
  const p = X.cols;
  const objective: Objective =
    target.task === 'regression' ? 'regression' : target.classes.length === 2 ? 'binary' : 'multiclass';
  const k = objective === 'multiclass' ? (target.task === 'classification' ? target.classes.length : 1) : 1;
  const labels = target.task === 'classification' ? target.codes : undefined;
  const yValues = target.task === 'regression' ? target.y : new Float64Array(n);
  const yCodes = labels ?? new Int32Array(n);

  const root = new Rng(options.seed);
  const eligible = weightedRows(weights);
  const earlyStopping = params.earlyStopping === 'auto' ? eligible.length > 10000 : params.earlyStopping;
  const { train, valid } = earlyStopping
    ? validationSplit(eligible, params.validationFraction, labels, root.fork(0x7fffffff))
    : { train: eligible, valid: new Int32Array(0) };

  const columns = new Float32Array(n * p);
  for (let f = 0; f < p; f++) for (let i = 0; i < n; i++) columns[f * n + i] = X.data[i * p + f] as number;
  const edges: Float32Array[] = [];
  for (let f = 0; f < p; f++) edges.push(binEdges(columns.subarray(f * n, (f + 1) * n), train, maxBin));
  const codes = binCodes(columns, n, edges);

  // Initial raw scores: the weighted mean, log-odds or log class priors of the training rows.
  let wSum = 0;
  const prior = new Float64Array(Math.max(k, 1));
  let ySum = 0;
  for (const r of train) {
    const w = weights[r] as number;
    wSum += w;
    const c = yCodes[r] as number;
    if (objective === 'regression') ySum += w * (yValues[r] as number);
    else if (objective === 'binary') ySum += w * c;
    else prior[c] = (prior[c] as number) + w;
  }
  const clamp = (q: number): number => Math.min(1 - 1e-15, Math.max(1e-15, q));
  const baseScores: number[] =
    objective === 'regression'
      ? [ySum / wSum]
      : objective === 'binary'
        ? [Math.log(clamp(ySum / wSum) / (1 - clamp(ySum / wSum)))]
        : Array.from(prior, (c) => Math.log(clamp(c / wSum)));

  // Raw scores of every row (only training and validation rows are read).
  const raw = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) raw[i * k + c] = baseScores[c] as number;
  const prob = new Float64Array(n * k);

  const validationLoss = (): number => {
    updateProbabilities(objective, k, valid, raw, prob);
    let loss = 0;
    let w = 0;
    for (const r of valid) {
      const wr = weights[r] as number;
      w += wr;
      if (objective === 'regression') loss += wr * ((raw[r] as number) - (yValues[r] as number)) ** 2;
      else if (objective === 'binary') {
        const q = clamp(prob[r] as number);
        loss -= wr * (yCodes[r] === 1 ? Math.log(q) : Math.log(1 - q));
      } else loss -= wr * Math.log(clamp(prob[r * k + (yCodes[r] as number)] as number));
    }
    return loss / w;
  };

  const allFeatures = Int32Array.from({ length: p }, (_, f) => f);
  const featuresPerTree = Math.max(1, Math.round(params.colsampleBytree * p));
  const rowsPerRound = Math.max(1, Math.round(params.subsample * train.length));
  const trees: TreeNodes[] = [];
  const losses: number[] = [];
  let best = Infinity;
  let bestRound = -1;
  let sinceBest = 0;
  let roundsRun = 0;
  let stoppedEarly = false;

  const ctx = boostContext(codes, edges, n, params);
  const { grad, hess, order } = ctx.runner;
  try {
    for (let round = 0; round < params.nEstimators; round++) {
      const roundRng = root.fork(round);
      const bag = drawSorted(train, rowsPerRound, roundRng);
      updateProbabilities(objective, k, train, raw, prob);
      for (let c = 0; c < k; c++) {
        const target = objective === 'regression' ? yValues : yCodes;
        lossGradients(objective, c, k, train, raw, prob, target, weights, grad, hess);
        const featureSet = drawSorted(allFeatures, featuresPerTree, roundRng.fork(c));
        const grown = growBoostingTree(ctx, bag, featureSet);
        const { tree, splitBin } = grown;
        trees.push(tree);
        // When the bag is every training row, the tree's leaves already hold them.
        if (bag.length === train.length) addLeafValues(grown, order, raw, k, c);
        else addBinnedTreeValues(tree, splitBin, codes, p, train, raw, k, c);
        addTreeValues(tree, X, valid, raw, k, c);
      }
      roundsRun = round + 1;
      if (earlyStopping) {
        const loss = validationLoss();
        losses.push(loss);
        if (loss < best - params.tol) {
          best = loss;
          bestRound = round;
          sinceBest = 0;
        } else if (++sinceBest >= params.nIterNoChange) {
          stoppedEarly = true;
          break;
        }
      }
    }
  } finally {
    ctx.runner.close();
  }
  const roundsKept = earlyStopping ? Math.max(bestRound, 0) + 1 : roundsRun;
  return new GradientBoostingModel(
    objective,
    trees.slice(0, roundsKept * k),
    baseScores,
    p,
    target.task === 'classification' ? target.classes : undefined,
    { roundsRun, roundsKept, stoppedEarly, validationLoss: losses },
  );
}

/**
 * Histogram gradient boosting under Azure ML's names for boosted trees. LightGBM → Tessera's
 * histogram gradient boosting, and so do GradientBoosting, XGBoostClassifier and XGBoostRegressor:
 * one trainer, not the libraries themselves (see the file comment).
 */
export const histGradientBoostingTrainer = {
  name: 'hist-gradient-boosting',
  azureNames: ['LightGBM', 'GradientBoosting', 'XGBoostClassifier', 'XGBoostRegressor'],
  fit: (X, y, params, options): GradientBoostingModel => fitBoosting(X, y, params, options),
} satisfies Trainer<GradientBoostingParams>;
