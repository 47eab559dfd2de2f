/**
 * Tree ensembles as ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier nodes, built so that
 * onnxruntime computes what the TypeScript models compute (checked by
 * test/integration/ml-trees-onnx.test.ts):
 *
 * - Every split is BRANCH_LEQ on a float32-representable threshold, the comparison `leafOf` makes.
 * - The features are cast to double first and the thresholds, leaf weights and base values are
 *   given as double tensors (`*_as_tensor`, ai.onnx.ml opset 3). onnxruntime then sums the trees in
 *   double, as TypeScript does; a float32 sum of hundreds of trees would drift by ~1e-5. Casting a
 *   float32 feature to double is exact, so every row still takes the same path.
 * - Classifier labels come from ArgMax over the probabilities (ties → the first class, as in
 *   TypeScript) and a Gather into the class names, not from the operator's label output:
 *   onnxruntime labels a two-class problem "class 1 when its score > 0", wrong for averaged
 *   forest probabilities.
 * - Boosted scores use SOFTMAX, two-class too (σ(s) = softmax([0, s])[1]). onnxruntime's
 *   two-class LOGISTIC writes [1 - σ(s), σ(s)] in float32, which loses the small probability's
 *   relative precision (3e-3 at p = 2e-5), and skips the sigmoid when no leaf weight is negative.
 *   Base scores ride on a one-leaf tree instead of base_values, whose two-class handling in
 *   onnxruntime is special-cased.
 */
import type { AttributeValue, OnnxGraphBuilder } from '../onnx/builder.js';
import type { OnnxFeatures } from '../types.js';
import { exportLabel } from './class-labels.js';
import type { TreeNodes } from './tree.js';

/** ONNX TensorProto data type of double, for Cast's `to`. */
const DOUBLE = 11;

function doubles(values: readonly number[]): AttributeValue {
  return { t: { type: 'double', dims: [values.length], data: values } };
}

function castToDouble(g: OnnxGraphBuilder, features: OnnxFeatures): string {
  const out = g.fresh('tree_features_f64');
  g.node('Cast', [features.tensor], [out], { to: { i: DOUBLE } });
  return out;
}

/** The nodes_* attributes shared by both operators. */
function nodeAttributes(trees: readonly TreeNodes[]): Record<string, AttributeValue> {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  trees.forEach((tree, t) => {
    for (let node = 0; node < tree.nodeCount; node++) {
      const f = tree.feature[node] as number;
      const split = f >= 0;
      treeIds.push(t);
      nodeIds.push(node);
      featureIds.push(split ? f : 0);
      values.push(split ? (tree.threshold[node] as number) : 0);
      modes.push(split ? 'BRANCH_LEQ' : 'LEAF');
      trueIds.push(split ? (tree.left[node] as number) : 0);
      falseIds.push(split ? (tree.right[node] as number) : 0);
    }
  });
  return {
    nodes_treeids: { ints: treeIds },
    nodes_nodeids: { ints: nodeIds },
    nodes_featureids: { ints: featureIds },
    nodes_values_as_tensor: doubles(values),
    nodes_modes: { strings: modes },
    nodes_truenodeids: { ints: trueIds },
    nodes_falsenodeids: { ints: falseIds },
  };
}

export interface RegressorExport {
  trees: readonly TreeNodes[];
  /** 'SUM' for a single tree and boosting, 'AVERAGE' for forests. */
  aggregate: 'SUM' | 'AVERAGE';
  /** Added to the aggregate (boosting's initial score). */
  baseValue: number;
}

/** Adds a TreeEnsembleRegressor on the trees' first output; returns the float [N, 1] prediction. */
export function exportTreeRegressor(g: OnnxGraphBuilder, features: OnnxFeatures, spec: RegressorExport): string {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const weights: number[] = [];
  spec.trees.forEach((tree, t) => {
    for (let node = 0; node < tree.nodeCount; node++) {
      if ((tree.feature[node] as number) >= 0) continue;
      treeIds.push(t);
      nodeIds.push(node);
      weights.push(tree.value[node * tree.outputs] as number);
    }
  });
  const prediction = g.fresh('tree_prediction');
  g.node(
    'TreeEnsembleRegressor',
    [castToDouble(g, features)],
    [prediction],
    {
      ...nodeAttributes(spec.trees),
      n_targets: { i: 1 },
      target_treeids: { ints: treeIds },
      target_nodeids: { ints: nodeIds },
      target_ids: { ints: treeIds.map(() => 0) },
      target_weights_as_tensor: doubles(weights),
      aggregate_function: { s: spec.aggregate },
      base_values_as_tensor: doubles([spec.baseValue]),
      post_transform: { s: 'NONE' },
    },
    'ai.onnx.ml',
  );
  return prediction;
}

/** How leaves vote for classes. */
export type ClassVotes =
  /** Each leaf votes its class distribution divided by `divisor` (forests: the tree count); no transform. */
  | { kind: 'distribution'; divisor: number }
  /**
   * Each leaf votes its one value for class `classOfTree(t)`, added to `baseScores` (one per
   * class); the probabilities are the softmax of the sums (boosting).
   */
  | { kind: 'score'; classOfTree: (tree: number) => number; baseScores: readonly number[] };

export interface ClassifierExport {
  trees: readonly TreeNodes[];
  classes: readonly string[];
  votes: ClassVotes;
}

/** Adds a TreeEnsembleClassifier; returns the string label [N] and float probabilities [N, classes]. */
export function exportTreeClassifier(
  g: OnnxGraphBuilder,
  features: OnnxFeatures,
  spec: ClassifierExport,
): { label: string; probabilities: string } {
  const { votes } = spec;
  const k = spec.classes.length;
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const classIds: number[] = [];
  const weights: number[] = [];
  const vote = (t: number, node: number, c: number, w: number): void => {
    treeIds.push(t);
    nodeIds.push(node);
    classIds.push(c);
    weights.push(w);
  };
  spec.trees.forEach((tree, t) => {
    for (let node = 0; node < tree.nodeCount; node++) {
      if ((tree.feature[node] as number) >= 0) continue;
      if (votes.kind === 'distribution') {
        // Every class, zeros included: onnxruntime treats two classes of which only one ever gets
        // a vote as a special "binary" case.
        for (let c = 0; c < k; c++) vote(t, node, c, (tree.value[node * tree.outputs + c] as number) / votes.divisor);
      } else {
        vote(t, node, votes.classOfTree(t), tree.value[node * tree.outputs] as number);
      }
    }
  });
  const trees = [...spec.trees];
  if (votes.kind === 'score') {
    // The base scores as a last tree of one leaf, which also gives every class a score on every row.
    const t = trees.length;
    trees.push(singleLeaf());
    for (let c = 0; c < k; c++) vote(t, 0, c, votes.baseScores[c] ?? 0);
  }
  const opLabel = g.fresh('tree_op_label');
  const probabilities = g.fresh('tree_probabilities');
  g.node(
    'TreeEnsembleClassifier',
    [castToDouble(g, features)],
    [opLabel, probabilities],
    {
      ...nodeAttributes(trees),
      class_treeids: { ints: treeIds },
      class_nodeids: { ints: nodeIds },
      class_ids: { ints: classIds },
      class_weights_as_tensor: doubles(weights),
      classlabels_strings: { strings: spec.classes },
      post_transform: { s: votes.kind === 'distribution' ? 'NONE' : 'SOFTMAX' },
    },
    'ai.onnx.ml',
  );

  return { label: exportLabel(g, probabilities, spec.classes), probabilities };
}

function singleLeaf(): TreeNodes {
  return {
    nodeCount: 1,
    outputs: 1,
    feature: Int32Array.of(-1),
    threshold: Float32Array.of(0),
    left: Int32Array.of(-1),
    right: Int32Array.of(-1),
    value: Float64Array.of(0),
  };
}
