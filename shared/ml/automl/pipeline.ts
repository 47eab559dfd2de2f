/**
 * Fitted pipelines (types.ts FittedPipeline): predictions in TypeScript, and the export of the
 * whole pipeline as ONE ONNX graph — the featurizer's nodes, then the head:
 *
 * - single: the model's own nodes;
 * - vote: each member's probabilities (or predictions) times its normalized weight, summed;
 * - stack: the members' probability columns (or predictions) concatenated, [N, m·k] (or [N, m]),
 *   read by the meta model's nodes.
 *
 * Classification graphs output `label` (string [N]: ArgMax of the probabilities gathered from the
 * class names, whatever the head) and `probabilities` (float [N, k], classes in `classes` order);
 * regression graphs output `prediction` (float [N, 1]). The manifest (manifest.json) is also stored
 * in the graph's metadata under `tessera.manifest`.
 *
 * TypeScript computes what the graph computes: features are rounded to float32 (the graph's
 * feature tensor is float), members' outputs are rounded to float32 before a stack's meta model,
 * and a vote adds float32 terms in member order, as onnxruntime's Mul and Sum do.
 */
import type { FeaturizationPlan, Featurizer } from '../featurize/featurizer.js';
import { declareOnnxInputs } from '../featurize/onnx-io.js';
import type { MetricName } from '../metrics.js';
import { AveragedModel, exportWeightedSum, weightedSum } from '../models/averaged.js';
import { exportLabel } from '../models/class-labels.js';
import { createOnnxGraph } from '../onnx/graph-builder.js';
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { FittedModel, Matrix, OnnxFeatures, Table } from '../types.js';
import type { FittedPipeline, ManifestInput, ModelManifest, PipelinePrediction, TrialConfig } from './types.js';

/** The featurized rows as the graph sees them: every value rounded to float32. */
export function featureMatrix(featurizer: Featurizer, table: Table): Matrix {
  const m = featurizer.transform(table);
  return toFloat32Values(m);
}

/** The same matrix with each value rounded to float32 (in place). */
export function toFloat32Values(m: Matrix): Matrix {
  const d = m.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i] as number);
  return m;
}

/**
 * A classifier's probabilities with columns in `classes` order (a class the model never saw gets
 * 0); a model without predictProba votes 1 for its predicted class.
 */
export function alignedProbabilities(model: FittedModel, X: Matrix, classes: readonly string[]): Float64Array {
  const k = classes.length;
  const out = new Float64Array(X.rows * k);
  const own = model.classes ?? [];
  const at = new Map(classes.map((c, i) => [c, i]));
  const map = own.map((c) => {
    const j = at.get(c);
    if (j === undefined)
      throw new RangeError(`the model predicts class '${c}', which is not one of ${classes.join(', ')}`);
    return j;
  });
  if (model.predictProba !== undefined) {
    const p = model.predictProba(X);
    for (let r = 0; r < X.rows; r++) {
      for (let c = 0; c < p.cols; c++) out[r * k + (map[c] as number)] = p.data[r * p.cols + c] as number;
    }
  } else {
    const pred = model.predict(X);
    for (let r = 0; r < X.rows; r++) out[r * k + (map[pred[r] as number] as number)] = 1;
  }
  return out;
}

/** Regression: the prediction; classification: aligned probabilities. */
function memberOutput(model: FittedModel, X: Matrix, classes: readonly string[] | undefined): Float64Array {
  return classes === undefined ? model.predict(X) : alignedProbabilities(model, X, classes);
}

function normalizedWeights(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0) || weights.some((w) => !(w >= 0) || !Number.isFinite(w))) {
    throw new RangeError(`vote weights must be finite, ≥ 0 and not all 0; got ${weights.join(', ')}`);
  }
  return weights.map((w) => Math.fround(w / total));
}

/** Predictions of the pipeline on a raw table (the columns the featurizer reads). */
export function predictPipeline(p: FittedPipeline, table: Table): PipelinePrediction {
  const X = featureMatrix(p.featurizer, table);
  const classes = p.task === 'classification' ? (p.classes ?? []) : undefined;
  if (classes !== undefined && classes.length < 2) throw new RangeError('a classification pipeline needs its classes');
  const put = (values: Float64Array): PipelinePrediction =>
    classes === undefined ? { prediction: values } : { probabilities: values };
  const head = p.head;
  switch (head.kind) {
    case 'single':
      return put(memberOutput(head.model, X, classes));
    case 'vote': {
      if (head.members.length === 0) throw new RangeError('a vote needs at least one member');
      const weights = normalizedWeights(head.members.map((m) => m.weight));
      return put(
        weightedSum(
          head.members.map((m) => memberOutput(m.model, X, classes)),
          weights,
        ),
      );
    }
    case 'stack': {
      const Z = stackInputs(
        head.members.map((m) => memberOutput(m.model, X, classes)),
        X.rows,
      );
      return put(memberOutput(head.meta, Z, classes));
    }
  }
}

/** Members' outputs side by side ([rows, m·k] or [rows, m]), rounded to float32 as in the graph. */
export function stackInputs(outputs: readonly Float64Array[], rows: number): Matrix {
  const widths = outputs.map((o) => o.length / rows);
  const cols = widths.reduce((a, b) => a + b, 0);
  const data = new Float64Array(rows * cols);
  let offset = 0;
  outputs.forEach((o, m) => {
    const w = widths[m] as number;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < w; j++) data[r * cols + offset + j] = Math.fround(o[r * w + j] as number);
    }
    offset += w;
  });
  return { rows, cols, data };
}

/** The classes a pipeline predicts, as argmax of its probabilities (first maximum on ties). */
export function predictedLabels(p: Pick<FittedPipeline, 'classes'>, pred: PipelinePrediction): string[] {
  const classes = p.classes ?? [];
  const probs = pred.probabilities;
  if (probs === undefined || classes.length === 0) throw new RangeError('labels need class probabilities');
  const k = classes.length;
  const rows = probs.length / k;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((probs[r * k + c] as number) > (probs[r * k + best] as number)) best = c;
    out.push(classes[best] as string);
  }
  return out;
}

export interface ExportInfo {
  target: string;
  primaryMetric: MetricName;
  score?: number;
  featurization: FeaturizationPlan;
  trainingRows: number;
}

const INPUT_KIND: Record<ManifestInput['encoding'], ManifestInput['kind']> = {
  float32: 'numeric',
  'epoch-ms': 'datetime',
  string: 'categorical',
  tokens: 'text',
};

function memberTensor(
  g: OnnxGraphBuilder,
  model: FittedModel,
  features: OnnxFeatures,
  classes: readonly string[] | undefined,
): string {
  if (classes !== undefined) {
    const own = model.classes ?? [];
    if (own.length !== classes.length || own.some((c, i) => c !== classes[i])) {
      throw new RangeError(
        `a member's classes (${own.join(', ')}) differ from the pipeline's (${classes.join(', ')}); refit it on all rows`,
      );
    }
  }
  const out = model.exportOnnx(g, features);
  const tensor = classes === undefined ? out.prediction : out.probabilities;
  if (tensor === undefined)
    throw new RangeError(`a ${model.task} model exported no ${classes === undefined ? 'prediction' : 'probabilities'}`);
  return tensor;
}

/** A model's manifest entry: its algorithm and parameters, and how many fold models it averages (a fold bag). */
function headName(
  config: TrialConfig,
  model: FittedModel,
): { algorithm: string; params: TrialConfig['params']; foldModels?: number } {
  const entry = { algorithm: config.algorithm, params: { ...config.params } };
  return model instanceof AveragedModel ? { ...entry, foldModels: model.members.length } : entry;
}

/** The pipeline as one ONNX graph and its manifest. */
export function exportPipeline(p: FittedPipeline, info: ExportInfo): { onnx: Uint8Array; manifest: ModelManifest } {
  const classes = p.task === 'classification' ? [...(p.classes ?? [])] : undefined;
  if (classes !== undefined && classes.length < 2) throw new RangeError('a classification pipeline needs its classes');
  const g = createOnnxGraph('tessera-automl');
  const inputs = declareOnnxInputs(g, p.featurizer.onnxInputs);
  // Reserve the output names before any node can take them.
  const outNames =
    classes === undefined
      ? { prediction: g.fresh('prediction') }
      : { label: g.fresh('label'), probabilities: g.fresh('probabilities') };
  const features = p.featurizer.exportOnnx(g, inputs);
  const head = p.head;

  let result: string;
  let manifestHead: Pick<ModelManifest, 'algorithm' | 'params' | 'foldModels' | 'members'>;
  switch (head.kind) {
    case 'single':
      result = memberTensor(g, head.model, features, classes);
      manifestHead = headName(head.config, head.model);
      break;
    case 'vote': {
      if (head.members.length === 0) throw new RangeError('a vote needs at least one member');
      const weights = normalizedWeights(head.members.map((m) => m.weight));
      // Summed in member order, as predictPipeline adds.
      const tensors = head.members.map((m) => memberTensor(g, m.model, features, classes));
      result = exportWeightedSum(g, tensors, weights, 'vote');
      manifestHead = {
        algorithm: 'VotingEnsemble',
        params: {},
        members: head.members.map((m) => ({ ...headName(m.config, m.model), weight: m.weight })),
      };
      break;
    }
    case 'stack': {
      if (head.members.length === 0) throw new RangeError('a stack needs at least one member');
      const parts = head.members.map((m) => memberTensor(g, m.model, features, classes));
      const width = head.members.length * (classes === undefined ? 1 : classes.length);
      const stacked = g.fresh('stack_inputs');
      g.node('Concat', parts, [stacked], { axis: { i: 1 } });
      result = memberTensor(g, head.meta, { tensor: stacked, width }, classes);
      manifestHead = {
        algorithm: 'StackEnsemble',
        params: { metaLearner: head.metaConfig.algorithm, ...head.metaConfig.params },
        members: head.members.map((m) => headName(m.config, m.model)),
      };
      break;
    }
  }

  if (classes === undefined) {
    g.node('Identity', [result], [outNames.prediction as string]);
    g.output(outNames.prediction as string, 'float', ['N', 1]);
  } else {
    const probabilities = outNames.probabilities as string;
    const label = outNames.label as string;
    g.node('Identity', [result], [probabilities]);
    exportLabel(g, probabilities, classes, label);
    g.output(label, 'string', ['N']);
    g.output(probabilities, 'float', ['N', classes.length]);
  }

  const manifest: ModelManifest = {
    format: 'tessera.automl.v1',
    task: p.task,
    target: info.target,
    ...manifestHead,
    primaryMetric: info.primaryMetric,
    inputs: p.featurizer.onnxInputs.map((s) => ({
      column: s.column,
      kind: INPUT_KIND[s.encoding],
      onnxName: s.column,
      onnxType: s.type as ManifestInput['onnxType'],
      encoding: s.encoding,
    })),
    outputs: outNames,
    featurization: info.featurization,
    trainingRows: info.trainingRows,
  };
  if (info.score !== undefined) manifest.score = info.score;
  if (classes !== undefined) manifest.classes = classes;
  g.metadata('tessera.manifest', JSON.stringify(manifest));
  return { onnx: g.toBytes(), manifest };
}
