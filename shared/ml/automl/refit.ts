/**
 * Fitting a pipeline again from its description: the ensembles fit their members as the trials did
 * (trial.ts: the fold bag or the fit on every training row; a bag over at least MEMBER_BAG_FOLDS
 * folds), and the explanation refits the best model on the training rows of its holdout
 * (the first fold) so that the rows it is explained on are rows it has not seen.
 */
import type { Column, FittedModel, Table } from '../types.js';
import { encodeLabels } from '../metrics.js';
import { kFoldSplits } from '../validation.js';
import type { Split } from '../validation.js';
import { featurizeDataset } from './dataset.js';
import { toFloat32Values } from './pipeline.js';
import { bagsFolds, fitOnRows, foldBag } from './trial.js';
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

/**
 * Ensemble members that bag (algorithms.ts foldBag) average at least this many fold models. A
 * trial's bag reuses its cross-validation folds for free (3 of them on 1,000 to 20,000 rows, as
 * Azure's default), but an ensemble fits its members again anyway, and five models on 80% of the
 * rows each average out more of their errors than three on 67%: on synth_mixed_20k, a vote of two
 * boosting configurations scored holdout AUC 0.7632 bagged over 5 folds against 0.7616 over 3
 * (means over three random fold draws) and 0.7576 fitted on every row.
 */
const MEMBER_BAG_FOLDS = 5;

/** The folds an ensemble's members are bagged over: the job's when the user gave them or there are enough, else MEMBER_BAG_FOLDS of its own. */
function memberFolds(d: PreparedDataset): readonly Split[] {
  const rows = d.features.rows;
  // The user's folds (cv_split_column_names) are kept: they may group rows that must not be split.
  if (d.settings.validation.kind === 'columns') return d.folds;
  if (d.folds.length < 2 || d.folds.length >= MEMBER_BAG_FOLDS || rows < MEMBER_BAG_FOLDS) return d.folds;
  const stratify = d.task === 'classification' ? encodeLabels(d.y as string[], d.classes ?? []) : undefined;
  const seed = d.settings.seed;
  return kFoldSplits(rows, {
    nCrossValidations: MEMBER_BAG_FOLDS,
    ...(stratify === undefined ? { seed } : { seed, stratify }),
  });
}

/** Fits the featurizer and the head on `rows` of the training data (default: every row). */
export function fitPipeline(data: PreparedDataset, head: HeadSpec, rows?: ArrayLike<number>): FittedPipeline {
  const d = rows === undefined ? data : subsetDataset(data, rows);
  const { featurizer, train } = featurizeDataset(d);
  const X = toFloat32Values(train);
  // The models the trials had, with an ensemble's bags over more folds; a subset has no folds, so
  // it is fitted on every row of it.
  const bagFolds = head.kind === 'single' ? d.folds : memberFolds(d);
  const fit = (config: TrialConfig): FittedModel =>
    (bagsFolds(d, config)
      ? foldBag(
          d,
          bagFolds.map((fold) => fitOnRows(d, X, config, fold.train)),
        )
      : undefined) ?? fitOnRows(d, X, config);
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
  /** test_data (or test_data_size's rows), validation_data, the validation split, or the first CV fold. */
  source: string;
  /** The training rows of the model to explain; undefined: every row (the holdout is test_data). */
  trainRows?: Int32Array;
}

/** Rows the best model can be explained on without having seen them. */
export function holdoutOf(data: PreparedDataset): Holdout {
  if (data.test !== undefined) {
    const source =
      data.settings.testDataSize === undefined
        ? 'test_data'
        : `the test_data_size ${data.settings.testDataSize} hold-out`;
    return { table: data.test.features, y: data.test.y, rows: data.test.features.rows, source };
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
