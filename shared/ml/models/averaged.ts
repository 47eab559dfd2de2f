/**
 * The average of models fitted on different rows of the same task: AutoML's fold bag, the models
 * its cross-validation fitted (each on all rows but one fold's), which it keeps as the trial's
 * model instead of fitting once more on every row (see automl/trial.ts). Averaging models fitted
 * on different rows cancels part of their errors (bagging), and costs no extra fit.
 *
 * TypeScript computes what the graph computes: each member's output is rounded to float32, scaled
 * by the float32 weight 1/m and added in member order, as onnxruntime's Mul and Add do.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { FittedModel, Matrix, OnnxFeatures } from '../types.js';
import { argmaxRows, exportLabel } from './class-labels.js';

/**
 * Σ fround(fround(outputs[i]) × weights[i]) element-wise, in order and in float32 steps: what
 * exportWeightedSum's Mul and Add compute on float tensors in onnxruntime. `weights` are float32.
 */
export function weightedSum(outputs: readonly Float64Array[], weights: readonly number[]): Float64Array {
  let acc: Float64Array | undefined;
  outputs.forEach((out, i) => {
    const w = weights[i] as number;
    if (acc === undefined) {
      acc = out.map((v) => Math.fround(Math.fround(v) * w));
      return;
    }
    for (let j = 0; j < out.length; j++) {
      acc[j] = Math.fround((acc[j] as number) + Math.fround(Math.fround(out[j] as number) * w));
    }
  });
  if (acc === undefined) throw new RangeError('a weighted sum needs at least one term');
  return acc;
}

/** The graph's weightedSum: each float tensor times its float weight, added in order. */
export function exportWeightedSum(
  g: OnnxGraphBuilder,
  tensors: readonly string[],
  weights: readonly number[],
  prefix: string,
): string {
  if (tensors.length === 0) throw new RangeError('a weighted sum needs at least one term');
  const terms = tensors.map((t, i) => {
    const w = g.constant(`${prefix}_weight`, { type: 'float', dims: [], data: [weights[i] as number] });
    return g.node('Mul', [t, w], [g.fresh(`${prefix}_term`)])[0] as string;
  });
  return terms.reduce((acc, t) => g.node('Add', [acc, t], [g.fresh(`${prefix}_sum`)])[0] as string);
}

export class AveragedModel implements FittedModel {
  readonly task: FittedModel['task'];
  readonly classes?: readonly string[];
  /** 1/m in float32, one per member. */
  private readonly weights: readonly number[];

  constructor(readonly members: readonly FittedModel[]) {
    const first = members[0];
    if (first === undefined) throw new RangeError('an average needs at least one model');
    this.task = first.task;
    for (const m of members) {
      if (m.task !== first.task) throw new RangeError('averaged models must share their task');
      if (m.task === 'classification') {
        const own = m.classes ?? [];
        const theirs = first.classes ?? [];
        if (m.predictProba === undefined) throw new RangeError('averaged classifiers must give probabilities');
        if (own.length !== theirs.length || own.some((c, i) => c !== theirs[i])) {
          throw new RangeError(
            `averaged classifiers must share their classes: ${own.join(', ')} ≠ ${theirs.join(', ')}`,
          );
        }
      }
    }
    if (first.classes !== undefined) this.classes = first.classes;
    this.weights = members.map(() => Math.fround(1 / members.length));
  }

  predict(X: Matrix): Float64Array {
    if (this.task === 'regression')
      return weightedSum(
        this.members.map((m) => m.predict(X)),
        this.weights,
      );
    const p = this.predictProba(X);
    return argmaxRows(p.data, p.rows, p.cols);
  }

  predictProba(X: Matrix): Matrix {
    if (this.task !== 'classification') throw new TypeError('predictProba is for classification models');
    const k = (this.classes ?? []).length;
    const outputs = this.members.map((m) => (m.predictProba as (X: Matrix) => Matrix)(X).data);
    return { rows: X.rows, cols: k, data: weightedSum(outputs, this.weights) };
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    const classification = this.task === 'classification';
    const tensors = this.members.map((m) => {
      const out = m.exportOnnx(g, features);
      const t = classification ? out.probabilities : out.prediction;
      if (t === undefined) {
        throw new RangeError(`a ${m.task} member exported no ${classification ? 'probabilities' : 'prediction'}`);
      }
      return t;
    });
    const sum = exportWeightedSum(g, tensors, this.weights, 'average');
    if (!classification) return { prediction: sum };
    return { label: exportLabel(g, sum, this.classes ?? []), probabilities: sum };
  }
}
