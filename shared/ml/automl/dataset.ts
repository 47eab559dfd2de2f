/**
 * The setup step of a tabular AutoML job: the training table (and validation_data, test_data)
 * split into features, target and weights, checked so that a bad input fails once, before any
 * trial, with a ValidationError naming the YAML key and what to change; then the folds every trial
 * scores on, and the featurization every trial will fit (decided here once, for the job's logs).
 */
import { ValidationError } from '../../errors.js';
import { fitFeaturizer } from '../featurize/featurizer.js';
import type { FittedFeaturization } from '../featurize/featurizer.js';
import type { TargetValues } from '../featurize/target-encoding.js';
import { encodeLabels } from '../metrics.js';
import { compareLabels } from '../models/class-labels.js';
import type { Column, Table } from '../types.js';
import { defaultValidationPlan, kFoldSplits, trainValidationSplit } from '../validation.js';
import type { Split } from '../validation.js';
import type { AutomlSettings, PreparedDataset, TabularTask } from './types.js';

const list = (names: readonly string[], max = 10): string =>
  names
    .slice(0, max)
    .map((n) => `'${n}'`)
    .join(', ') + (names.length > max ? `, … (${names.length} in all)` : '');

function isMissing(column: Column, i: number): boolean {
  if (column.kind === 'numeric' || column.kind === 'datetime') return Number.isNaN(column.values[i] as number);
  const v = column.values[i];
  return v === null || v === undefined || v === '';
}

/** The target as labels (classification) or numbers (regression); missing: null / NaN. */
function targetValues(column: Column, task: TabularTask, key: string, where: string): (string | null)[] | Float64Array {
  if (task === 'regression') {
    if (column.kind !== 'numeric') {
      throw new ValidationError(
        `The target column '${column.name}' of ${where} holds ${column.kind} values, but regression needs numbers. ` +
          `Use task: classification for labels, or convert the column to numbers in the MLTable.`,
        { target: key },
      );
    }
    return column.values;
  }
  if (column.kind === 'datetime') {
    throw new ValidationError(
      `The target column '${column.name}' of ${where} holds datetimes, which cannot be class labels; convert it to strings in the MLTable.`,
      { target: key },
    );
  }
  if (column.kind === 'numeric') return Array.from(column.values, (v) => (Number.isNaN(v) ? null : String(v)));
  return column.values.map((v) => (v === '' ? null : v));
}

function selectRows(table: Table, rows: readonly number[]): Table {
  if (rows.length === table.rows) return table;
  const idx = Int32Array.from(rows);
  return {
    rows: idx.length,
    columns: table.columns.map((c): Column => {
      if (c.kind === 'numeric' || c.kind === 'datetime') {
        const values = new Float64Array(idx.length);
        for (let i = 0; i < idx.length; i++) values[i] = c.values[idx[i] as number] as number;
        return { ...c, values };
      }
      return { ...c, values: Array.from(idx, (i) => c.values[i] ?? null) };
    }),
  };
}

/** Rows of `b` appended after those of `a`; both have `a`'s columns (checked by the caller). */
function concatTables(a: Table, b: Table): Table {
  const byName = new Map(b.columns.map((c) => [c.name, c]));
  return {
    rows: a.rows + b.rows,
    columns: a.columns.map((c): Column => {
      const other = byName.get(c.name) as Column;
      if (c.kind === 'numeric' || c.kind === 'datetime') {
        const values = new Float64Array(a.rows + b.rows);
        values.set(c.values);
        values.set(other.values as Float64Array, a.rows);
        return { ...c, values };
      }
      return { ...c, values: [...c.values, ...(other.values as (string | null)[])] };
    }),
  };
}

interface Part {
  features: Table;
  y: Float64Array | string[];
  weights?: Float64Array;
  /** training_data under cv_split_column_names: each split column's values (1 train, 0 validation). */
  splits?: Uint8Array[];
  dropped: number;
}

/** The error for a column `name` (given by the YAML key `setting`) that `table` lacks: it lists the columns there are. */
function noColumn(table: Table, where: string, name: string, setting: string, target: string): ValidationError {
  const columns = list(
    table.columns.map((c) => c.name),
    30,
  );
  return new ValidationError(`${where} has no column '${name}' (${setting}); its columns are ${columns}.`, { target });
}

/** The cv_split_column_names columns of `table` for the rows `keep`, checked to hold only 0s and 1s. */
function splitValues(table: Table, names: readonly string[], keep: readonly number[], where: string): Uint8Array[] {
  return names.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (column === undefined) throw noColumn(table, where, name, 'cv_split_column_names', 'cv_split_column_names');
    const out = new Uint8Array(keep.length);
    keep.forEach((row, i) => {
      const v = column.kind === 'numeric' ? column.values[row] : Number.NaN;
      if (v !== 0 && v !== 1) {
        const shown =
          column.kind !== 'numeric' ? `'${String(column.values[row])}'` : Number.isNaN(v) ? 'no value' : String(v);
        throw new ValidationError(
          `The split column '${name}' (cv_split_column_names) has ${shown} at row ${row + 1} of ${where}; ` +
            'each value must be 1 (a training row of that fold) or 0 (a validation row).',
          { target: 'cv_split_column_names' },
        );
      }
      out[i] = v;
    });
    return out;
  });
}

/** Mixed into the job's seed for the test_data_size split, so that it is not the validation split's stream. */
const TEST_SPLIT_SEED = 0x7e57da7a;

/**
 * test_data_size: the training rows split, before anything else, into the rows trials train and
 * score on and the rows only the best model is scored on (as test_data is): stratified by class
 * for classification, random for regression, by the job's seed; both keep the rows' order.
 */
function holdOutTest(settings: AutomlSettings, part: Part, notices: string[]): { train: Part; test: Part } {
  const size = settings.testDataSize as number;
  const n = part.y.length;
  const held = Math.ceil(size * n);
  if (n - held < 4) {
    throw new ValidationError(
      `test_data_size ${size} holds out ${held} of ${n} training rows, leaving ${n - held}; AutoML needs at least 4 to train on. ` +
        'Use a smaller test_data_size, add rows, or give test_data.',
      { target: 'test_data_size' },
    );
  }
  const stratify = part.y instanceof Float64Array ? undefined : encodeLabels(part.y, [...new Set(part.y)]);
  const seed = (settings.seed ^ TEST_SPLIT_SEED) >>> 0;
  const split = trainValidationSplit(n, {
    ...(stratify === undefined ? { seed } : { seed, stratify }),
    validationSize: size,
  });
  const rows = (index: Int32Array): Part => {
    const list = Array.from(index);
    const y =
      part.y instanceof Float64Array
        ? Float64Array.from(list, (i) => part.y[i] as number)
        : list.map((i) => part.y[i] as string);
    return {
      features: selectRows(part.features, list),
      y,
      ...(part.weights === undefined ? {} : { weights: Float64Array.from(list, (i) => part.weights?.[i] as number) }),
      ...(part.splits === undefined
        ? {}
        : { splits: part.splits.map((s) => Uint8Array.from(list, (i) => s[i] as number)) }),
      dropped: 0,
    };
  };
  notices.push(
    `test_data_size ${size}: ${split.validation.length} of ${n} training rows are held out as test data` +
      `${stratify === undefined ? '' : ' (stratified by class)'}; only the best model is scored on them.`,
  );
  return { train: rows(split.train), test: rows(split.validation) };
}

/** Splits one table into features / target / weights, dropping rows without a target. */
function splitTable(settings: AutomlSettings, task: TabularTask, table: Table, key: string, where: string): Part {
  const targetName = settings.targetColumn;
  const target = table.columns.find((c) => c.name === targetName);
  if (target === undefined) {
    throw noColumn(
      table,
      where,
      targetName,
      'target_column_name',
      key === 'training_data' ? 'target_column_name' : key,
    );
  }
  const weightName = settings.weightColumn;
  const weightColumn = weightName === undefined ? undefined : table.columns.find((c) => c.name === weightName);
  if (weightName !== undefined && weightColumn === undefined) {
    throw noColumn(table, where, weightName, 'weight_column_name', 'weight_column_name');
  }
  const values = targetValues(target, task, key === 'training_data' ? 'target_column_name' : key, where);
  const keep: number[] = [];
  for (let i = 0; i < table.rows; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && !(typeof v === 'number' && !Number.isFinite(v))) keep.push(i);
  }
  if (keep.length === 0) {
    throw new ValidationError(
      `Every row of ${where} is missing the target '${targetName}'; there is nothing to learn.`,
      {
        target: key === 'training_data' ? 'target_column_name' : key,
      },
    );
  }
  const splitNames = settings.validation.kind === 'columns' ? settings.validation.columns : [];
  const featureTable = selectRows(
    {
      rows: table.rows,
      columns: table.columns.filter(
        (c) => c.name !== targetName && c.name !== weightName && !splitNames.includes(c.name),
      ),
    },
    keep,
  );
  const y =
    values instanceof Float64Array
      ? Float64Array.from(keep, (i) => values[i] as number)
      : keep.map((i) => values[i] as string);
  const part: Part = { features: featureTable, y, dropped: table.rows - keep.length };
  if (key === 'training_data' && splitNames.length > 0) part.splits = splitValues(table, splitNames, keep, where);
  if (weightColumn !== undefined) {
    if (weightColumn.kind !== 'numeric') {
      throw new ValidationError(
        `The weight column '${weightColumn.name}' of ${where} holds ${weightColumn.kind} values; sample weights must be numbers ≥ 0.`,
        { target: 'weight_column_name' },
      );
    }
    const weights = Float64Array.from(keep, (i) => weightColumn.values[i] as number);
    const bad = weights.findIndex((w) => !(w >= 0) || !Number.isFinite(w));
    if (bad >= 0) {
      throw new ValidationError(
        `The weight column '${weightColumn.name}' of ${where} has ${weights[bad]} at row ${keep[bad]}; sample weights must be finite numbers ≥ 0 (fill or drop such rows).`,
        { target: 'weight_column_name' },
      );
    }
    if (!weights.some((w) => w > 0)) {
      throw new ValidationError(`Every sample weight in '${weightColumn.name}' of ${where} is 0.`, {
        target: 'weight_column_name',
      });
    }
    part.weights = weights;
  }
  return part;
}

/** validation_data / test_data must carry the training feature columns with the same kinds. */
function checkColumns(train: Table, other: Table, key: string, where: string): void {
  const byName = new Map(other.columns.map((c) => [c.name, c]));
  const missing = train.columns.filter((c) => !byName.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new ValidationError(
      `${where} lacks the training column${missing.length > 1 ? 's' : ''} ${list(missing)}; it needs the same columns as training_data.`,
      { target: key },
    );
  }
  for (const c of train.columns) {
    const o = byName.get(c.name) as Column;
    if (o.kind !== c.kind) {
      throw new ValidationError(
        `Column '${c.name}' holds ${o.kind} values in ${where} but ${c.kind} values in training_data; give it the same type in both MLTables.`,
        { target: key },
      );
    }
  }
}

function ignoredByFeaturization(settings: AutomlSettings): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of Object.entries(settings.featurization?.column_name_and_types ?? {})) {
    if (type.trim().toLowerCase() === 'ignore') out.add(name);
  }
  return out;
}

/** The folds of `rows` rows as the settings ask (stratified by class for classification). */
function makeFolds(
  settings: AutomlSettings,
  rows: number,
  trainRows: number,
  stratify: Int32Array | undefined,
  notices: string[],
  splits: readonly Uint8Array[] = [],
): Split[] {
  const seed = settings.seed;
  const random = stratify === undefined ? { seed } : { seed, stratify };
  const v = settings.validation;
  if (v.kind === 'columns') {
    return v.columns.map((name, j) => {
      const values = splits[j];
      if (values === undefined || values.length !== rows)
        throw new TypeError(`split column ${j} is missing its values`);
      const train: number[] = [];
      const validation: number[] = [];
      values.forEach((value, row) => (value === 1 ? train : validation).push(row));
      if (train.length === 0 || validation.length === 0) {
        throw new ValidationError(
          `The split column '${name}' (cv_split_column_names) marks ${train.length === 0 ? 'no row 1 (training)' : 'no row 0 (validation)'}; ` +
            'each fold needs rows of both.',
          { target: 'cv_split_column_names' },
        );
      }
      return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
    });
  }
  if (v.kind === 'data') {
    return [
      {
        train: Int32Array.from({ length: trainRows }, (_, i) => i),
        validation: Int32Array.from({ length: rows - trainRows }, (_, i) => trainRows + i),
      },
    ];
  }
  if (v.kind === 'split') {
    if (Math.ceil(v.size * rows) >= rows || Math.ceil(v.size * rows) < 1) {
      throw new ValidationError(
        `validation_data_size ${v.size} of ${rows} rows leaves no rows to train or to validate on; use a fraction that keeps both.`,
        { target: 'validation_data_size' },
      );
    }
    return [trainValidationSplit(rows, { ...random, validationSize: v.size })];
  }
  if (v.kind === 'cv') {
    if (rows < 2 * v.folds) {
      throw new ValidationError(
        `n_cross_validations ${v.folds} needs at least ${2 * v.folds} training rows (2 per fold); there are ${rows}. ` +
          `Lower n_cross_validations or add rows.`,
        { target: 'n_cross_validations' },
      );
    }
    return kFoldSplits(rows, { ...random, nCrossValidations: v.folds });
  }
  const plan = defaultValidationPlan(rows);
  if (plan.kind === 'split') return [trainValidationSplit(rows, { ...random, validationSize: plan.validationSize })];
  const folds = Math.min(plan.nCrossValidations, Math.floor(rows / 2));
  if (folds < 2) {
    throw new ValidationError(`There are ${rows} training rows; AutoML needs at least 4 to cross-validate.`, {
      target: 'training_data',
    });
  }
  if (folds < plan.nCrossValidations)
    notices.push(`Only ${rows} training rows: ${folds} folds instead of Azure's default ${plan.nCrossValidations}.`);
  return kFoldSplits(rows, { ...random, nCrossValidations: folds });
}

/** The target as fitFeaturizer takes it. */
export function targetOf(d: Pick<PreparedDataset, 'task' | 'y'>): TargetValues {
  return d.task === 'regression'
    ? { task: 'regression', values: d.y as Float64Array }
    : { task: 'classification', values: d.y as string[] };
}

/**
 * The job's featurizer, fitted on every row of `d.features` with the target (deterministic: every
 * trial of a job gets the same one). Its training matrix holds out-of-fold target encodings.
 */
export function featurizeDataset(d: PreparedDataset): FittedFeaturization {
  const options = {
    target: targetOf(d),
    seed: d.settings.seed,
    ...(d.settings.featurization === undefined ? {} : { featurization: d.settings.featurization }),
  };
  return fitFeaturizer(d.features, options);
}

/**
 * Checks the inputs of a tabular job and prepares what every trial reads. `validation` is the job's
 * validation_data (settings.validation.kind 'data'), `test` its test_data.
 */
export function prepareDataset(
  settings: AutomlSettings,
  train: Table,
  validation?: Table,
  test?: Table,
): PreparedDataset {
  const task = settings.task;
  if (task !== 'classification' && task !== 'regression') {
    throw new ValidationError(`prepareDataset handles classification and regression; task is ${task}.`, {
      target: 'task',
    });
  }
  const notices: string[] = [];
  const given = splitTable(settings, task, train, 'training_data', 'training_data');
  if (given.dropped > 0)
    notices.push(`${given.dropped} training rows have no value of '${settings.targetColumn}' and were dropped.`);
  if (settings.testDataSize !== undefined && test !== undefined) {
    throw new ValidationError('test_data and test_data_size cannot both be set.', { target: 'test_data_size' });
  }
  const heldOut = settings.testDataSize === undefined ? undefined : holdOutTest(settings, given, notices);
  const trainPart = heldOut?.train ?? given;

  if (settings.validation.kind === 'data' && validation === undefined) {
    throw new ValidationError('The settings score on validation_data, but no validation_data table was given.', {
      target: 'validation_data',
    });
  }
  if (settings.validation.kind !== 'data' && validation !== undefined) {
    throw new ValidationError(
      'A validation_data table was given, but the settings do not score on it (n_cross_validations or validation_data_size is set).',
      { target: 'validation_data' },
    );
  }

  let features = trainPart.features;
  let y: Float64Array | string[] = trainPart.y;
  let weights = trainPart.weights;
  const trainRows = features.rows;
  if (validation !== undefined) {
    const part = splitTable(settings, task, validation, 'validation_data', 'validation_data');
    checkColumns(features, part.features, 'validation_data', 'validation_data');
    if (part.dropped > 0)
      notices.push(`${part.dropped} validation rows have no value of '${settings.targetColumn}' and were dropped.`);
    features = concatTables(features, part.features);
    y =
      y instanceof Float64Array
        ? Float64Array.from([...y, ...(part.y as Float64Array)])
        : [...y, ...(part.y as string[])];
    if (weights !== undefined && part.weights !== undefined) weights = Float64Array.from([...weights, ...part.weights]);
  }

  // Feature columns with no value at all.
  const ignored = ignoredByFeaturization(settings);
  const empty = features.columns
    .filter((c) => !ignored.has(c.name))
    .filter((c) => {
      for (let i = 0; i < trainRows; i++) if (!isMissing(c, i)) return false;
      return true;
    })
    .map((c) => c.name);
  if (empty.length > 0) {
    const example = empty[0] as string;
    throw new ValidationError(
      `The training column${empty.length > 1 ? 's' : ''} ${list(empty)} ${empty.length > 1 ? 'have' : 'has'} no values at all. ` +
        `Drop ${empty.length > 1 ? 'them' : 'it'} from the MLTable, or set featurization: {mode: custom, column_name_and_types: {${example}: Ignore}}.`,
      { target: `featurization.column_name_and_types.${example}` },
    );
  }
  if (features.columns.length === 0) {
    throw new ValidationError(
      `training_data has no column besides the target${settings.weightColumn === undefined ? '' : ' and the weights'}; add feature columns.`,
      { target: 'training_data' },
    );
  }

  const prepared: PreparedDataset = {
    task,
    settings,
    features,
    y,
    folds: [],
    featurization: { mode: 'auto', columns: [], notes: [] },
    notices,
  };
  if (weights !== undefined) prepared.weights = weights;

  let stratify: Int32Array | undefined;
  if (task === 'classification') {
    const labels = y as string[];
    const counts = new Map<string, number>();
    for (let i = 0; i < trainRows; i++) counts.set(labels[i] as string, (counts.get(labels[i] as string) ?? 0) + 1);
    const classes = [...new Set(labels)].sort(compareLabels);
    if (counts.size < 2) {
      throw new ValidationError(
        `The target '${settings.targetColumn}' has one class ('${classes[0]}') in training_data; classification needs at least two.`,
        { target: 'target_column_name' },
      );
    }
    const onlyInValidation = classes.filter((c) => !counts.has(c));
    if (onlyInValidation.length > 0) {
      throw new ValidationError(
        `The class${onlyInValidation.length > 1 ? 'es' : ''} ${list(onlyInValidation)} of validation_data never appear${onlyInValidation.length > 1 ? '' : 's'} in training_data; a model cannot learn ${onlyInValidation.length > 1 ? 'them' : 'it'}.`,
        { target: 'validation_data' },
      );
    }
    const rare = classes.filter((c) => (counts.get(c) ?? 0) < 2);
    if (rare.length > 0) {
      throw new ValidationError(
        `The class${rare.length > 1 ? 'es' : ''} ${list(rare)} of '${settings.targetColumn}' ${rare.length > 1 ? 'have' : 'has'} a single training row; ` +
          `each class needs at least 2 rows. Add rows of ${rare.length > 1 ? 'those classes' : 'that class'} or drop ${rare.length > 1 ? 'them' : 'it'}.`,
        { target: 'target_column_name' },
      );
    }
    if (settings.positiveLabel !== undefined && !classes.includes(settings.positiveLabel)) {
      throw new ValidationError(
        `positive_label '${settings.positiveLabel}' is not a class of '${settings.targetColumn}'; the classes are ${list(classes)}.`,
        { target: 'positive_label' },
      );
    }
    prepared.classes = classes;
    stratify = encodeLabels(labels, classes);
  } else {
    const values = y as Float64Array;
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    let trainMin = Infinity;
    let trainMax = -Infinity;
    for (let i = 0; i < trainRows; i++) {
      trainMin = Math.min(trainMin, values[i] as number);
      trainMax = Math.max(trainMax, values[i] as number);
    }
    if (trainMin === trainMax) {
      throw new ValidationError(
        `The target '${settings.targetColumn}' is ${trainMin} on every training row; a constant cannot be learned. Check target_column_name.`,
        { target: 'target_column_name' },
      );
    }
    prepared.yMin = min;
    prepared.yMax = max;
  }

  if (settings.validation.kind !== 'data' && features.rows < 4) {
    throw new ValidationError(`There are ${features.rows} training rows; AutoML needs at least 4.`, {
      target: 'training_data',
    });
  }
  prepared.folds = makeFolds(settings, features.rows, trainRows, stratify, notices, trainPart.splits);

  const testPart = test === undefined ? heldOut?.test : splitTable(settings, task, test, 'test_data', 'test_data');
  if (testPart !== undefined) {
    const what = test === undefined ? 'The rows test_data_size held out have' : 'test_data has';
    if (test !== undefined) checkColumns(trainPart.features, testPart.features, 'test_data', 'test_data');
    if (testPart.dropped > 0)
      notices.push(`${testPart.dropped} test rows have no value of '${settings.targetColumn}' and were dropped.`);
    let { features: testFeatures, y: testY } = testPart;
    if (prepared.classes !== undefined) {
      // A model cannot give a probability to a class it never saw: such rows cannot be scored.
      const known = new Set(prepared.classes);
      const labels = testY as string[];
      const unseen = [...new Set(labels)].filter((c) => !known.has(c));
      if (unseen.length > 0) {
        const keep = labels.flatMap((label, i) => (known.has(label) ? [i] : []));
        notices.push(
          `${what} classes the training data lacks (${list(unseen)}); their ${labels.length - keep.length} rows are left out of the test metrics.`,
        );
        testFeatures = selectRows(testFeatures, keep);
        testY = keep.map((i) => labels[i] as string);
      }
    }
    if (testY.length > 0) prepared.test = { features: testFeatures, y: testY };
    else notices.push('No test row is left to score: the best model is explained on its validation rows instead.');
  }

  prepared.featurization = featurizeDataset(prepared).plan;
  return prepared;
}
