/**
 * Fitting a pipeline again from its description: the ensembles refit their members on every
 * training row, and the explanation refits the best model on the training rows of its holdout
 * (the first fold) so that the rows it is explained on are rows it has not seen.
 */
import type { Column, FittedModel, Table } from '../types.js';
import { algorithmEntry } from './algorithms.js';
import { featurizeDataset } from './dataset.js';
import type { FittedPipeline, ModelManifest, PreparedDataset, TrialConfig } from './types.js';

/** What to fit in front of the featurizer: one model, a weighted vote, or a stack with its fitted meta-learner. */
export type HeadSpec =
  | { kind: 'single'; config: TrialConfig }
  | { kind: 'vote'; members: { config: TrialConfig; weight: number }[] }
  | { kind: 'stack'; members: TrialConfig[]; meta: FittedModel; metaConfig: TrialConfig };

function pick<T>(values: readonly T[], rows: ArrayLike<number>): T[] {
  return Array.from({ length: rows.length }, (_, i) => values[rows[i] as number] as T);
}

/** The rows `rows` of a table. */
export function tableRows(table: Table, rows: ArrayLike<number>): Table {
  const columns = table.columns.map((c): Column => {
    if (c.kind === 'numeric' || c.kind === 'datetime') {
      const values = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) values[i] = c.values[rows[i] as number] as number;
      return { ...c, values };
    }
    return { ...c, values: pick(c.values, rows) };
  });
  return { rows: rows.length, columns };
}

function targetRows(y: Float64Array | string[], rows: ArrayLike<number>): Float64Array | string[] {
  if (y instanceof Float64Array) return Float64Array.from(pick(Array.from(y), rows));
  return pick(y, rows);
}

/** The dataset restricted to some training rows (the folds are dropped: nothing is scored on it). */
function subsetDataset(data: PreparedDataset, rows: ArrayLike<number>): PreparedDataset {
  return {
    ...data,
    features: tableRows(data.features, rows),
    y: targetRows(data.y, rows),
    ...(data.weights === undefined ? {} : { weights: Float64Array.from(pick(Array.from(data.weights), rows)) }),
    folds: [],
  };
}

/** Fits the featurizer and the head on `rows` of the training data (default: every row). */
export function fitPipeline(data: PreparedDataset, head: HeadSpec, rows?: ArrayLike<number>): FittedPipeline {
  const d = rows === undefined ? data : subsetDataset(data, rows);
  const { featurizer, train } = featurizeDataset(d);
  const fit = (config: TrialConfig): FittedModel =>
    algorithmEntry(d.task, config.algorithm).fit(train, d.y, config.params, {
      seed: d.settings.seed,
      ...(d.weights === undefined ? {} : { weights: d.weights }),
    });
  const base = { task: d.task, featurizer, ...(data.classes === undefined ? {} : { classes: data.classes }) };
  switch (head.kind) {
    case 'single':
      return { ...base, head: { kind: 'single', config: head.config, model: fit(head.config) } };
    case 'vote':
      return {
        ...base,
        head: {
          kind: 'vote',
          members: head.members.map((m) => ({ config: m.config, weight: m.weight, model: fit(m.config) })),
        },
      };
    case 'stack':
      return {
        ...base,
        head: {
          kind: 'stack',
          members: head.members.map((config) => ({ config, model: fit(config) })),
          meta: head.meta,
          metaConfig: head.metaConfig,
        },
      };
  }
}

/** The head a single model's or a vote's manifest describes (a stack needs its meta-learner: see the caller). */
export function singleOrVoteOfManifest(manifest: ModelManifest): HeadSpec | undefined {
  if (manifest.algorithm === 'VotingEnsemble') {
    return {
      kind: 'vote',
      members: (manifest.members ?? []).map((m) => ({
        config: { algorithm: m.algorithm, params: m.params },
        weight: m.weight ?? 0,
      })),
    };
  }
  if (manifest.algorithm === 'StackEnsemble') return undefined;
  return { kind: 'single', config: { algorithm: manifest.algorithm, params: manifest.params } };
}

export interface Holdout {
  table: Table;
  y: Float64Array | string[];
  weights?: Float64Array;
  rows: number;
  /** test_data, validation_data, the validation split, or the first CV fold. */
  source: string;
  /** The training rows of the model to explain; undefined: every row (the holdout is test_data). */
  trainRows?: Int32Array;
}

/** Rows the best model can be explained on without having seen them. */
export function holdoutOf(data: PreparedDataset): Holdout {
  if (data.test !== undefined) {
    return { table: data.test.features, y: data.test.y, rows: data.test.features.rows, source: 'test_data' };
  }
  const fold = data.folds[0];
  if (fold === undefined) throw new RangeError('the prepared dataset has no fold to hold out');
  const source =
    data.settings.validation.kind === 'data'
      ? 'validation_data'
      : data.folds.length === 1
        ? 'the validation split'
        : `cross-validation fold 1 of ${data.folds.length}`;
  return {
    table: tableRows(data.features, fold.validation),
    y: targetRows(data.y, fold.validation),
    ...(data.weights === undefined
      ? {}
      : { weights: Float64Array.from(pick(Array.from(data.weights), fold.validation)) }),
    rows: fold.validation.length,
    source,
    trainRows: fold.train,
  };
}
