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
import { argmaxRows } from './class-labels.js';

export class AveragedModel implements FittedModel {
  readonly task: FittedModel['task'];
  readonly classes?: readonly string[];
  private readonly weight: number;

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
    this.weight = Math.fround(1 / members.length);
  }

  /** Σ fround(fround(output) × w), in member order and float32 steps. */
  private average(outputs: (m: FittedModel) => Float64Array): Float64Array {
    let acc: Float64Array | undefined;
    const w = this.weight;
    for (const m of this.members) {
      const out = outputs(m);
      if (acc === undefined) {
        acc = out.map((v) => Math.fround(Math.fround(v) * w));
        continue;
      }
      for (let j = 0; j < out.length; j++) {
        acc[j] = Math.fround((acc[j] as number) + Math.fround(Math.fround(out[j] as number) * w));
      }
    }
    return acc as Float64Array;
  }

  predict(X: Matrix): Float64Array {
    if (this.task === 'regression') return this.average((m) => m.predict(X));
    const p = this.predictProba(X);
    return argmaxRows(p.data, p.rows, p.cols);
  }

  predictProba(X: Matrix): Matrix {
    if (this.task !== 'classification') throw new TypeError('predictProba is for classification models');
    const k = (this.classes ?? []).length;
    return { rows: X.rows, cols: k, data: this.average((m) => (m.predictProba as (X: Matrix) => Matrix)(X).data) };
  }

  exportOnnx(
    g: OnnxGraphBuilder,
    features: OnnxFeatures,
  ): { prediction?: string; label?: string; probabilities?: string } {
    const classification = this.task === 'classification';
    const w = g.constant('average_weight', { type: 'float', dims: [], data: [this.weight] });
    const terms = this.members.map((m) => {
      const out = m.exportOnnx(g, features);
      const t = classification ? out.probabilities : out.prediction;
      if (t === undefined)
        throw new RangeError(`a ${m.task} member exported no ${classification ? 'probabilities' : 'prediction'}`);
      return g.node('Mul', [t, w], [g.fresh('average_term')])[0] as string;
    });
    const sum = terms.reduce((acc, t) => g.node('Add', [acc, t], [g.fresh('average_sum')])[0] as string);
    if (!classification) return { prediction: sum };
    const index = g.node('ArgMax', [sum], [g.fresh('average_class')], {
      axis: { i: 1 },
      keepdims: { i: 0 },
    })[0] as string;
    const names = g.constant('class_names', {
      type: 'string',
      dims: [(this.classes ?? []).length],
      data: [...(this.classes ?? [])],
    });
    const label = g.node('Gather', [names, index], [g.fresh('average_label')], { axis: { i: 0 } })[0] as string;
    return { label, probabilities: sum };
  }
}
