/**
 * The featurizer: fits one or more transformers per raw column, as the column's purpose and the
 * featurization settings decide, on the training rows only, and composes them into one
 * FittedFeaturizer whose matrix is the transformers' features side by side, in column order.
 *
 * Which transformers a column gets (each unless blocked; see settings.ts for the Azure names):
 * - numeric: imputer (mean unless `transformer_params.imputer` says otherwise) + missing indicator
 *   when training rows had missing values + the `scaler` option (none by default: scaling belongs
 *   to the model pipelines that need it);
 * - datetime: the parts that vary (datetime.ts) + missing indicator;
 * - categorical with at most `maxOneHotCategories` distinct values: one-hot; if blocked, target
 *   encoding (supervised only) and frequency encoding;
 * - categorical with more: target encoding (supervised only) and frequency encoding; when target
 *   encoding is not used, one-hot capped at `maxOneHotCategories` (+ __other__) as well;
 * - text: TF-IDF; if blocked, the hashed bag of words (TypeScript only: it does not export);
 * - a column whose transformers are all blocked, or that yields no feature, is left out (noted).
 *
 * `fitFeaturizer` also returns the training rows' matrix, which differs from
 * `featurizer.transform(training table)` in one way: target-encoded columns hold out-of-fold
 * values (target-encoding.ts). Train models on `train`; score new rows with `transform`.
 */
import { ValidationError } from '../../errors.js';
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column, FittedFeaturizer, Matrix, OnnxFeatures, Table } from '../types.js';
import { countKeys, MISSING, numberKeys, rankKeys, stringKeys } from './category-keys.js';
import type { CategoryKeys } from './category-keys.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { fitDatetime } from './datetime.js';
import { fitFrequency } from './frequency-encoding.js';
import { inferColumnTypes } from './infer-types.js';
import type { ColumnPlan } from './infer-types.js';
import { exportNumericBlock, fitNumeric, NumericTransform } from './numeric.js';
import { DEFAULT_MAX_ONE_HOT_CATEGORIES, fitOneHot } from './one-hot.js';
import { inputSpec } from './onnx-io.js';
import type { OnnxInputSpec } from './onnx-io.js';
import type { ScalerKind } from './scaler.js';
import { resolveFeaturization } from './settings.js';
import type { FeaturizationSpec, ImputerSetting, ResolvedFeaturization } from './settings.js';
import { mostFrequent, sortedFinite } from './stats.js';
import { fitTarget } from './target-encoding.js';
import type { TargetValues } from './target-encoding.js';
import { fitHashedBagOfWords, fitTfIdf } from './text.js';

export interface FeaturizerOptions {
  /** The job's `featurization:` settings. */
  featurization?: FeaturizationSpec;
  /** The training target, for target encoding; without it no column is target-encoded. */
  target?: TargetValues;
  /** Seeds the target encoding's folds. */
  seed: number;
  scaler?: ScalerKind;
  /** One-hot's cap, and the cardinality above which a categorical is target/frequency encoded. */
  maxOneHotCategories?: number;
  targetEncoding?: { folds?: number; smoothing?: number };
  text?: { maxFeatures?: number; minDf?: number };
}

export interface PlannedColumn extends ColumnPlan {
  /** The transformers fitted on the column, e.g. ['CatTargetEncoder', 'FrequencyEncoder']. */
  transformers: string[];
  features: number;
}

/** What the featurizer decided, column by column: for the run's logs and the model manifest. */
export interface FeaturizationPlan {
  mode: ResolvedFeaturization['mode'];
  columns: PlannedColumn[];
  notes: string[];
}

export interface FittedFeaturization {
  featurizer: Featurizer;
  /** The training rows' features (out-of-fold for target encoding). */
  train: Matrix;
  plan: FeaturizationPlan;
}

export function fitFeaturizer(table: Table, options: FeaturizerOptions): FittedFeaturization {
  checkTable(table);
  if (options.target !== undefined && options.target.values.length !== table.rows) {
    throw new RangeError(`target has ${options.target.values.length} values for ${table.rows} rows`);
  }
  const settings = resolveFeaturization(options.featurization, table);
  const notes = [...settings.notes];
  const plans = inferColumnTypes(table, settings);
  const fitted: FittedColumn[] = [];
  const planned: PlannedColumn[] = [];

  if (settings.mode === 'off') {
    const others = plans.filter((p) => p.storage !== 'numeric');
    if (others.length > 0) {
      throw new ValidationError(
        `featurization mode off needs numeric columns only; ${others.map((p) => `'${p.name}' (${p.storage})`).join(', ')} ` +
          `are not. Use mode: auto, or drop those columns from the training data.`,
        { target: 'featurization.mode' },
      );
    }
  }

  table.columns.forEach((column, i) => {
    const plan = plans[i] as ColumnPlan;
    const fits =
      settings.mode === 'off'
        ? [fitNumeric(column.name, column.values as Float64Array, { scaler: 'none' })]
        : fitColumn(column, plan, settings, options, notes);
    const kept = fits.filter((f) => f.transform.featureNames.length > 0);
    if (plan.purpose !== 'ignore' && kept.length === 0)
      notes.push(`Column '${column.name}' yields no feature and is left out.`);
    fitted.push(...kept);
    planned.push({
      ...plan,
      purpose: settings.mode === 'off' ? 'numeric' : kept.length === 0 ? 'ignore' : plan.purpose,
      reason: settings.mode === 'off' ? 'featurization off' : plan.reason,
      transformers: kept.map((f) => f.transform.transformer),
      features: kept.reduce((s, f) => s + f.transform.featureNames.length, 0),
    });
  });

  if (fitted.length === 0) {
    throw new ValidationError(
      'No column of the training data yields a feature: every column is ignored, constant, or has all its transformers blocked.',
      { target: 'training_data' },
    );
  }
  const featurizer = new Featurizer(fitted.map((f) => f.transform));
  const width = featurizer.featureNames.length;
  const data = new Float64Array(table.rows * width);
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  let offset = 0;
  for (const f of fitted) {
    const w = f.transform.featureNames.length;
    if (f.train !== undefined) {
      for (let r = 0; r < table.rows; r++) data.set(f.train.subarray(r * w, (r + 1) * w), r * width + offset);
    } else {
      f.transform.write(byName.get(f.transform.column) as Column, data, width, offset);
    }
    offset += w;
  }
  return {
    featurizer,
    train: { rows: table.rows, cols: width, data },
    plan: { mode: settings.mode, columns: planned, notes },
  };
}

function fitColumn(
  column: Column,
  plan: ColumnPlan,
  settings: ResolvedFeaturization,
  options: FeaturizerOptions,
  notes: string[],
): FittedColumn[] {
  const name = column.name;
  const imputer = settings.imputers.get(name);
  const blocked = settings.blocked;
  switch (plan.purpose) {
    case 'ignore':
      return [];
    case 'numeric': {
      const fill = typeof imputer?.fill === 'number' ? imputer.fill : undefined;
      return [
        fitNumeric(name, column.values as Float64Array, {
          imputer: { strategy: imputer?.strategy ?? 'mean', ...(fill === undefined ? {} : { fillValue: fill }) },
          scaler: options.scaler ?? 'none',
        }),
      ];
    }
    case 'datetime': {
      const fill = typeof imputer?.fill === 'number' ? imputer.fill : undefined;
      return [
        fitDatetime(
          name,
          column.values as Float64Array,
          imputer === undefined
            ? undefined
            : { strategy: imputer.strategy, ...(fill === undefined ? {} : { fillValue: fill }) },
        ),
      ];
    }
    case 'text': {
      if (imputer !== undefined)
        notes.push(`Column '${name}' is text: its imputer is ignored (missing text has no tokens).`);
      if (!blocked.has('tfidf')) return [fitTfIdf(name, column, options.text)];
      if (!blocked.has('hashed-bag-of-words')) {
        const bits = settings.hashBits.get(name);
        notes.push(
          `Column '${name}': TfIdf is blocked, so it gets a hashed bag of words, which does not export to ONNX.`,
        );
        return [fitHashedBagOfWords(name, column, bits === undefined ? {} : { bits })];
      }
      notes.push(`Column '${name}' is text and both TfIdf and the hashed bag of words are blocked: it is left out.`);
      return [];
    }
    case 'categorical': {
      const keys = categoryKeys(column, imputer);
      const maxCategories = options.maxOneHotCategories ?? DEFAULT_MAX_ONE_HOT_CATEGORIES;
      const distinct = countKeys(keys.keysOf(column)).size;
      const target = options.target;
      const useTarget = target !== undefined && !blocked.has('target');
      const out: FittedColumn[] = [];
      const addTarget = (): void => {
        if (target !== undefined && useTarget) {
          out.push(fitTarget(name, column, keys, target, { seed: options.seed, ...options.targetEncoding }));
        }
      };
      const addFrequency = (): void => {
        if (!blocked.has('frequency')) out.push(fitFrequency(name, column, keys));
      };
      if (distinct <= maxCategories) {
        if (!blocked.has('one-hot')) return [fitOneHot(name, column, keys, { maxCategories })];
        addTarget();
        addFrequency();
      } else {
        addTarget();
        addFrequency();
        if (!useTarget && !blocked.has('one-hot')) out.push(fitOneHot(name, column, keys, { maxCategories }));
      }
      if (out.length === 0)
        notes.push(`Column '${name}' is categorical and every encoder it could get is blocked: it is left out.`);
      return out;
    }
  }
}

/** The category keys of a column, with its categorical imputer (most_frequent or constant) if any. */
function categoryKeys(column: Column, imputer: ImputerSetting | undefined): CategoryKeys {
  if (column.kind === 'numeric') {
    if (imputer === undefined) return numberKeys(undefined);
    const fill =
      imputer.strategy === 'constant' && typeof imputer.fill === 'number'
        ? imputer.fill
        : mostFrequent(sortedFinite(Float64Array.from(column.values, Math.fround)));
    return numberKeys(Number.isNaN(fill) ? undefined : fill);
  }
  if (imputer === undefined) return stringKeys(undefined);
  if (imputer.strategy === 'constant' && typeof imputer.fill === 'string') return stringKeys(imputer.fill);
  const ranked = rankKeys(countKeys(stringKeys(undefined).keysOf(column))).filter((k) => k !== MISSING);
  return stringKeys(ranked[0]);
}

function checkTable(table: Table): void {
  if (!Number.isInteger(table.rows) || table.rows < 1)
    throw new RangeError(`table.rows must be ≥ 1; got ${table.rows}`);
  const seen = new Set<string>();
  for (const c of table.columns) {
    if (seen.has(c.name)) throw new RangeError(`table has two columns named '${c.name}'`);
    seen.add(c.name);
    if (c.values.length !== table.rows) {
      throw new RangeError(`column '${c.name}' has ${c.values.length} values for ${table.rows} rows`);
    }
  }
}

/**
 * A fitted featurization: transformers side by side. `transform` and the exported graph compute the
 * same matrix (to float32 rounding of the result; the graph outputs float).
 */
export class Featurizer implements FittedFeaturizer {
  readonly featureNames: readonly string[];
  /** The graph inputs `exportOnnx` reads, one per raw column used (onnx-io.ts). */
  readonly onnxInputs: readonly OnnxInputSpec[];

  constructor(readonly transforms: readonly ColumnTransform[]) {
    if (transforms.length === 0) throw new RangeError('a featurizer needs at least one transformer');
    this.featureNames = transforms.flatMap((t) => t.featureNames);
    const specs = new Map<string, OnnxInputSpec>();
    for (const t of transforms) {
      const spec = specs.get(t.column);
      if (spec !== undefined && spec.encoding !== t.encoding) {
        throw new TypeError(`column '${t.column}' is read as ${spec.encoding} and as ${t.encoding}`);
      }
      specs.set(t.column, inputSpec(t.column, t.encoding));
    }
    this.onnxInputs = [...specs.values()];
  }

  /** The raw columns read. */
  get columns(): readonly string[] {
    return this.onnxInputs.map((s) => s.column);
  }

  transform(table: Table): Matrix {
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    for (const t of this.transforms) {
      const c = byName.get(t.column);
      if (c === undefined) {
        throw new ValidationError(`The data has no column '${t.column}', which the model was trained with.`, {
          target: t.column,
        });
      }
      if (c.kind !== t.storage) {
        throw new ValidationError(
          `Column '${t.column}' holds ${c.kind} values; the model was trained on ${t.storage} values.`,
          {
            target: t.column,
          },
        );
      }
      if (c.values.length !== table.rows) {
        throw new RangeError(`column '${c.name}' has ${c.values.length} values for ${table.rows} rows`);
      }
    }
    const width = this.featureNames.length;
    const data = new Float64Array(table.rows * width);
    let offset = 0;
    for (const t of this.transforms) {
      t.write(byName.get(t.column) as Column, data, width, offset);
      offset += t.featureNames.length;
    }
    return { rows: table.rows, cols: width, data };
  }

  /** Runs of two or more numeric transforms export as one block (exportNumericBlock); the rest one by one. */
  exportOnnx(g: OnnxGraphBuilder, inputs: ReadonlyMap<string, string>): OnnxFeatures {
    const inputOf = (t: ColumnTransform): string => {
      const input = inputs.get(t.column);
      if (input === undefined) throw new TypeError(`inputs has no graph input for column '${t.column}'`);
      return input;
    };
    const parts: string[] = [];
    let run: NumericTransform[] = [];
    const flush = (): void => {
      if (run.length === 1) parts.push((run[0] as NumericTransform).exportOnnx(g, inputOf(run[0] as NumericTransform)));
      else if (run.length > 1) parts.push(exportNumericBlock(g, run, run.map(inputOf)));
      run = [];
    };
    for (const t of this.transforms) {
      if (t instanceof NumericTransform) {
        run.push(t);
        continue;
      }
      flush();
      parts.push(t.exportOnnx(g, inputOf(t)));
    }
    flush();
    const tensor = g.node('Concat', parts, [g.fresh('features')], { axis: { i: 1 } })[0] as string;
    return { tensor, width: this.featureNames.length };
  }
}
