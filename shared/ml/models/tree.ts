/**
 * CART decision trees: squared error for regression, gini or entropy for classification, with
 * depth, split and leaf limits, per-node feature subsampling (for forests), random thresholds (for
 * extra trees) and sample weights. `growTree` is the shared builder; `decisionTreeTrainer` the
 * single-tree model (Azure ML's DecisionTree).
 *
 * Float32 routing: ONNX TreeEnsemble operators compare float32 features against float32 thresholds.
 * So training sees the features as float32, every threshold t is a float32 value with
 * a ≤ t < b for the neighbouring values a < b it separates, and prediction compares
 * `Math.fround(x) <= t`. TypeScript and onnxruntime then send every row down the same path, and
 * a row whose value sits exactly on a training value goes where the training row went. NaN
 * (missing) compares false and goes right, which is also onnxruntime's default. Leaf values stay
 * float64: the export gives them to onnxruntime as double tensors (tree-ensemble-onnx.ts).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import { Rng } from '../rng.js';
import type { FittedModel, Matrix, OnnxFeatures, Trainer } from '../types.js';
import { argmaxRows } from './class-labels.js';
import { checkInteger, checkMatrix, resolveTarget, resolveWeights } from './fit-inputs.js';
import { exportTreeClassifier, exportTreeRegressor } from './tree-ensemble-onnx.js';

/**
 * A fitted binary tree in flat arrays. Node 0 is the root and node ids are array indices, which is
 * what ONNX asks of a tree (ids 0..n-1). A row goes to `left` when `Math.fround(x[feature]) <= threshold`.
 */
export interface TreeNodes {
  readonly nodeCount: number;
  /** Outputs per node: 1 for regression and boosting, the class count for class distributions. */
  readonly outputs: number;
  /** The split feature, or -1 at a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** [nodeCount, outputs] row-major: the node's value (a leaf's prediction). */
  readonly value: Float64Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 below the float32 value `x`. */
export function float32Below(x: number): number {
  f32[0] = x;
  if (x > 0) u32[0] = (u32[0] as number) - 1;
  else if (x < 0) u32[0] = (u32[0] as number) + 1;
  else u32[0] = 0x80000001;
  return f32[0] as number;
}

/** A float32 threshold between float32 values a < b: their midpoint in float32, kept below b (a ≤ t < b). */
export function float32Midpoint(a: number, b: number): number {
  const t = Math.fround(a / 2 + b / 2);
  return t < b ? t : a;
}

/** Finds the leaf of the row starting at `data[offset]`. */
export function leafOf(tree: TreeNodes, data: Float64Array, offset: number): number {
  const { feature, threshold, left, right } = tree;
  let node = 0;
  let f = feature[0] as number;
  while (f >= 0) {
    node =
      Math.fround(data[offset + f] as number) <= (threshold[node] as number)
        ? (left[node] as number)
        : (right[node] as number);
    f = feature[node] as number;
  }
  return node;
}

/** The feature matrix as trees see it: float32 columns, each value's rank among its column's distinct values. */
export interface TreeData {
  readonly rows: number;
  readonly cols: number;
  /** Column-major float32 values. */
  readonly columns: Float32Array;
  /** Column-major rank of each value among the column's sorted distinct values; NaN ranks last (= distinct count). */
  readonly ranks: Int32Array;
  readonly distinct: readonly Float32Array[];
}

export function prepareTreeData(X: Matrix): TreeData {
  const { rows: n, cols: p, data } = X;
  const columns = new Float32Array(n * p);
  const ranks = new Int32Array(n * p);
  const distinct: Float32Array[] = [];
  for (let f = 0; f < p; f++) {
    const col = columns.subarray(f * n, (f + 1) * n);
    for (let i = 0; i < n; i++) col[i] = data[i * p + f] as number;
    const sorted = Float32Array.from(col).sort(); // NaN sorts last
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = sorted[i] as number;
      if (Number.isNaN(v)) break;
      if (count === 0 || v !== sorted[count - 1]) sorted[count++] = v;
    }
    const uniq = sorted.slice(0, count);
    distinct.push(uniq);
    for (let i = 0; i < n; i++) {
      const v = col[i] as number;
      ranks[f * n + i] = Number.isNaN(v) ? count : lowerBound(uniq, v);
    }
  }
  return { rows: n, cols: p, columns, ranks, distinct };
}

function lowerBound(sorted: Float32Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type TreeTarget =
  | { kind: 'regression'; y: Float64Array }
  | { kind: 'classification'; codes: Int32Array; nClasses: number; criterion: 'gini' | 'entropy' };

export interface GrowParams {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Features examined per node (1..cols); fewer than cols draws them at random. */
  maxFeatures: number;
  /** 'best': the best threshold of each feature; 'random': one uniform threshold per feature (extra trees). */
  splitter: 'best' | 'random';
}

interface Split {
  feature: number;
  threshold: number;
  proxy: number;
}

/**
 * Grows one tree on the rows `sampleRows` of `data` (each with weight `weight[row]` > 0), depth first.
 * `rng` draws the features of each node (when maxFeatures < cols) and the random thresholds.
 */
export function growTree(
  data: TreeData,
  target: TreeTarget,
  sampleRows: Int32Array,
  weight: Float64Array,
  params: GrowParams,
  rng: Rng,
): TreeNodes {
  const { rows: n, cols: p, columns, ranks, distinct } = data;
  const outputs = target.kind === 'regression' ? 1 : target.nClasses;
  const rows = Int32Array.from(sampleRows);
  // Sort keys rank × n + row: int32 when they fit (sorting them is about 1.7 times as fast as
  // sorting doubles), doubles on larger data. The order, and so the tree, is the same.
  const keys = (n + 1) * n <= 0x7fffffff ? new Int32Array(rows.length) : new Float64Array(rows.length);
  const featureOrder = new Int32Array(p);
  const total = new Float64Array(outputs);
  const leftStats = new Float64Array(outputs);
  const nodeValue = new Float64Array(outputs);

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const value: number[] = [];
  const newNode = (): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    for (let k = 0; k < outputs; k++) value.push(0);
    return feature.length - 1;
  };

  // Sum of weights and of weighted targets (regression) or weighted class counts (classification).
  const accumulate = (stats: Float64Array, start: number, end: number): number => {
    stats.fill(0);
    let w = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i] as number;
      const wr = weight[r] as number;
      w += wr;
      if (target.kind === 'regression') stats[0] = (stats[0] as number) + wr * (target.y[r] as number);
      else {
        const c = target.codes[r] as number;
        stats[c] = (stats[c] as number) + wr;
      }
    }
    return w;
  };

  // The split criterion as a proxy to maximize (the parent's impurity is a constant).
  const sideProxy = (stats: Float64Array, w: number): number => {
    if (target.kind === 'regression') return ((stats[0] as number) * (stats[0] as number)) / w;
    let s = 0;
    if (target.criterion === 'gini') {
      for (let k = 0; k < outputs; k++) s += (stats[k] as number) * (stats[k] as number);
      return s / w;
    }
    for (let k = 0; k < outputs; k++) {
      const c = stats[k] as number;
      if (c > 0) s += c * Math.log(c);
    }
    return s - w * Math.log(w);
  };
  const rightStats = new Float64Array(outputs);
  const splitProxy = (wl: number, wTotal: number): number => {
    for (let k = 0; k < outputs; k++) rightStats[k] = (total[k] as number) - (leftStats[k] as number);
    return sideProxy(leftStats, wl) + sideProxy(rightStats, wTotal - wl);
  };
  const addRow = (r: number): number => {
    const wr = weight[r] as number;
    if (target.kind === 'regression') leftStats[0] = (leftStats[0] as number) + wr * (target.y[r] as number);
    else {
      const c = target.codes[r] as number;
      leftStats[c] = (leftStats[c] as number) + wr;
    }
    return wr;
  };

  const isPure = (start: number, end: number): boolean => {
    if (target.kind === 'regression') {
      const y0 = target.y[rows[start] as number];
      for (let i = start + 1; i < end; i++) if (target.y[rows[i] as number] !== y0) return false;
      return true;
    }
    const c0 = target.codes[rows[start] as number];
    for (let i = start + 1; i < end; i++) if (target.codes[rows[i] as number] !== c0) return false;
    return true;
  };

  // Best threshold of feature f over rows[start, end); returns false when f is constant there.
  const bestOnFeature = (f: number, start: number, end: number, wTotal: number, best: Split): boolean => {
    const m = end - start;
    const base = f * n;
    for (let i = 0; i < m; i++) {
      const r = rows[start + i] as number;
      keys[i] = (ranks[base + r] as number) * n + r;
    }
    const sorted = keys.subarray(0, m).sort();
    const firstRank = Math.floor((sorted[0] as number) / n);
    const lastRank = Math.floor((sorted[m - 1] as number) / n);
    if (firstRank === lastRank) return false;
    const uniq = distinct[f] as Float32Array;
    leftStats.fill(0);
    let wl = 0;
    const minLeaf = params.minSamplesLeaf;
    for (let i = 0; i < m - 1; i++) {
      const key = sorted[i] as number;
      const r = key % n;
      const rank = (key - r) / n;
      wl += addRow(r);
      const nextRank = Math.floor((sorted[i + 1] as number) / n);
      if (nextRank === rank) continue;
      if (i + 1 < minLeaf) continue;
      if (m - i - 1 < minLeaf) break;
      const proxy = splitProxy(wl, wTotal);
      if (proxy > best.proxy) {
        best.proxy = proxy;
        best.feature = f;
        // Rank `distinct.length` is NaN: every number goes left, the missing ones right.
        best.threshold =
          nextRank === uniq.length ? Infinity : float32Midpoint(uniq[rank] as number, uniq[nextRank] as number);
      }
    }
    return true;
  };

  // One uniform random threshold of feature f between its node minimum and maximum (extra trees).
  const randomOnFeature = (f: number, start: number, end: number, wTotal: number, best: Split): boolean => {
    const col = columns.subarray(f * n, (f + 1) * n);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      const v = col[rows[i] as number] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(lo < hi)) return false;
    let t = Math.fround(lo + rng.next() * (hi - lo));
    if (t >= hi) t = float32Below(hi);
    if (t < lo) t = lo;
    leftStats.fill(0);
    let wl = 0;
    let count = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i] as number;
      if ((col[r] as number) <= t) {
        wl += addRow(r);
        count++;
      }
    }
    if (count < params.minSamplesLeaf || end - start - count < params.minSamplesLeaf) return true;
    const proxy = splitProxy(wl, wTotal);
    if (proxy > best.proxy) {
      best.proxy = proxy;
      best.feature = f;
      best.threshold = t;
    }
    return true;
  };

  const root = newNode();
  const stack: { id: number; start: number; end: number; depth: number }[] = [
    { id: root, start: 0, end: rows.length, depth: 0 },
  ];
  while (stack.length > 0) {
    const { id, start, end, depth } = stack.pop() as { id: number; start: number; end: number; depth: number };
    const m = end - start;
    const wTotal = accumulate(total, start, end);
    if (target.kind === 'regression') nodeValue[0] = (total[0] as number) / wTotal;
    else for (let k = 0; k < outputs; k++) nodeValue[k] = (total[k] as number) / wTotal;
    for (let k = 0; k < outputs; k++) value[id * outputs + k] = nodeValue[k] as number;

    if (depth >= params.maxDepth || m < params.minSamplesSplit || m < 2 * params.minSamplesLeaf || isPure(start, end)) {
      continue;
    }
    const best: Split = { feature: -1, threshold: 0, proxy: -Infinity };
    for (let j = 0; j < p; j++) featureOrder[j] = j;
    let visited = 0;
    for (let j = 0; j < p && visited < params.maxFeatures; j++) {
      if (params.maxFeatures < p) {
        const k = j + rng.int(p - j);
        const tmp = featureOrder[j] as number;
        featureOrder[j] = featureOrder[k] as number;
        featureOrder[k] = tmp;
      }
      const f = featureOrder[j] as number;
      const found =
        params.splitter === 'best'
          ? bestOnFeature(f, start, end, wTotal, best)
          : randomOnFeature(f, start, end, wTotal, best);
      if (found) visited++;
    }
    if (best.feature < 0) continue;

    // Partition rows[start, end) into left (x <= t) and right, in place.
    const col = columns.subarray(best.feature * n, (best.feature + 1) * n);
    const t = best.threshold;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if ((col[rows[i] as number] as number) <= t) i++;
      else {
        const tmp = rows[i] as number;
        rows[i] = rows[j] as number;
        rows[j] = tmp;
        j--;
      }
    }
    if (i === start || i === end) continue; // cannot happen with a valid threshold; stay a leaf if it does
    const l = newNode();
    const r = newNode();
    feature[id] = best.feature;
    threshold[id] = t;
    left[id] = l;
    right[id] = r;
    stack.push({ id: r, start: i, end, depth: depth + 1 });
    stack.push({ id: l, start, end: i, depth: depth + 1 });
  }

  return {
    nodeCount: feature.length,
    outputs,
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    value: Float64Array.from(value),
  };
}

/** Azure ML's max_features: 'sqrt', 'log2', 'all', a fraction in (0, 1], or a count > 1. */
export type MaxFeatures = 'sqrt' | 'log2' | 'all' | number;

export function resolveMaxFeatures(spec: MaxFeatures, cols: number): number {
  if (spec === 'all') return cols;
  if (spec === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(cols)));
  if (spec === 'log2') return Math.max(1, Math.floor(Math.log2(cols)));
  if (typeof spec !== 'number' || !Number.isFinite(spec) || spec <= 0 || (spec > 1 && !Number.isInteger(spec))) {
    throw new RangeError(
      `maxFeatures must be 'sqrt', 'log2', 'all', a fraction in (0, 1] or an integer count; got ${String(spec)}`,
    );
  }
  return spec <= 1 ? Math.max(1, Math.floor(spec * cols)) : Math.min(cols, spec);
}

/** Hyperparameters shared by a single tree and the trees of a forest (defaults as scikit-learn's). */
export interface TreeParams {
  /** Classification: 'gini' (default) or 'entropy'; regression: 'squared_error' (the only one). */
  criterion?: 'gini' | 'entropy' | 'squared_error';
  /** Deepest node depth (root = 0); Infinity (default) grows until leaves are pure or too small. */
  maxDepth?: number;
  /** Fewest rows a node needs to be split (default 2). */
  minSamplesSplit?: number;
  /** Fewest rows each child must keep (default 1). */
  minSamplesLeaf?: number;
}

export interface DecisionTreeParams extends TreeParams {
  /** Features examined per node (default 'all'). */
  maxFeatures?: MaxFeatures;
  /** 'best' (default) or 'random' thresholds. */
  splitter?: 'best' | 'random';
}

/** Checks the shared tree parameters and the criterion against the task. */
export function resolveGrowParams(
  params: TreeParams & { splitter?: 'best' | 'random' },
  task: 'classification' | 'regression',
  maxFeatures: number,
): { grow: GrowParams; criterion: 'gini' | 'entropy' | 'squared_error' } {
  const criterion = params.criterion ?? (task === 'classification' ? 'gini' : 'squared_error');
  if (task === 'classification' ? criterion === 'squared_error' : criterion !== 'squared_error') {
    throw new RangeError(
      `criterion must be ${task === 'classification' ? "'gini' or 'entropy'" : "'squared_error'"} for ${task}; got '${criterion}'`,
    );
  }
  const splitter = params.splitter ?? 'best';
  if (splitter !== 'best' && splitter !== 'random') {
    throw new RangeError(`splitter must be 'best' or 'random'; got '${String(splitter)}'`);
  }
  return {
    criterion,
    grow: {
      maxDepth: checkInteger('maxDepth', params.maxDepth ?? Infinity, 0, true),
      minSamplesSplit: checkInteger('minSamplesSplit', params.minSamplesSplit ?? 2, 2),
      minSamplesLeaf: checkInteger('minSamplesLeaf', params.minSamplesLeaf ?? 1, 1),
      maxFeatures,
      splitter,
    },
  };
}

/** Rows with a positive weight: the ones a tree learns from. */
export function weightedRows(weights: Float64Array): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < weights.length; i++) if ((weights[i] as number) > 0) out.push(i);
  return Int32Array.from(out);
}

/** Checks that X has the fitted width. */
export function checkWidth(X: Matrix, cols: number): void {
  checkMatrix(X);
  if (X.cols !== cols) throw new RangeError(`X has ${X.cols} columns; the model was fitted on ${cols}`);
}

/** A single fitted CART tree. */
export class DecisionTreeModel implements FittedModel {
  readonly task: 'classification' | 'regression';
  readonly classes?: readonly string[];

  constructor(
    readonly tree: TreeNodes,
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
    for (let i = 0; i < X.rows; i++) out[i] = this.tree.value[leafOf(this.tree, X.data, i * X.cols)] as number;
    return out;
  }

  predictProba(X: Matrix): Matrix {
    checkWidth(X, this.featureCount);
    if (this.classes === undefined) throw new TypeError('predictProba is for classification models');
    const k = this.classes.length;
    const out = new Float64Array(X.rows * k);
    for (let i = 0; i < X.rows; i++) {
      const leaf = leafOf(this.tree, X.data, i * X.cols);
      for (let c = 0; c < k; c++) out[i * k + c] = this.tree.value[leaf * k + c] as number;
    }
    return { rows: X.rows, cols: k, data: out };
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    checkOnnxWidth(features, this.featureCount);
    if (this.classes === undefined) {
      return { prediction: exportTreeRegressor(g, features, { trees: [this.tree], aggregate: 'SUM', baseValue: 0 }) };
    }
    return exportTreeClassifier(g, features, {
      trees: [this.tree],
      classes: this.classes,
      votes: { kind: 'distribution', divisor: 1 },
    });
  }
}

export function checkOnnxWidth(features: OnnxFeatures, cols: number): void {
  if (features.width !== cols) {
    throw new RangeError(`features has width ${features.width}; the model was fitted on ${cols} columns`);
  }
}

/** Azure ML's DecisionTree: one CART tree (regression or classification by the type of y). */
export const decisionTreeTrainer = {
  name: 'decision-tree',
  azureNames: ['DecisionTree'],
  fit(
    X: Matrix,
    y: Float64Array | readonly string[],
    params: DecisionTreeParams,
    options: { seed: number; weights?: Float64Array },
  ): DecisionTreeModel {
    const target = resolveTarget(X, y);
    const weights = resolveWeights(options.weights, X.rows);
    const maxFeatures = resolveMaxFeatures(params.maxFeatures ?? 'all', X.cols);
    const { grow, criterion } = resolveGrowParams(params, target.task, maxFeatures);
    const data = prepareTreeData(X);
    const rng = new Rng(options.seed);
    if (target.task === 'regression') {
      const tree = growTree(data, { kind: 'regression', y: target.y }, weightedRows(weights), weights, grow, rng);
      return new DecisionTreeModel(tree, X.cols, undefined);
    }
    const tree = growTree(
      data,
      {
        kind: 'classification',
        codes: target.codes,
        nClasses: target.classes.length,
        criterion: criterion as 'gini' | 'entropy',
      },
      weightedRows(weights),
      weights,
      grow,
      rng,
    );
    return new DecisionTreeModel(tree, X.cols, target.classes);
  },
} satisfies Trainer<DecisionTreeParams>;
