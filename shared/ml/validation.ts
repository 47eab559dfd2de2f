/**
 * How AutoML holds data out: a train/validation split (`validation_size`), k-fold cross-validation
 * (`n_cross_validations`), both stratified by class for classification, and rolling-origin
 * backtests for forecasting (per series when `time_series_id_column_names` are set).
 *
 * Shuffles come from `Rng` only, so the same rows, settings and seed give the same folds.
 * Backtests involve no randomness. Index arrays are sorted ascending.
 */
import { ValidationError } from '../errors.js';
import { Rng } from './rng.js';

export interface Split {
  train: Int32Array;
  validation: Int32Array;
}

export interface RandomSplitOptions {
  seed: number;
  /** Class index of each row: stratify by it (classification). */
  stratify?: ArrayLike<number>;
}

function sortedIndices(values: number[]): Int32Array {
  return Int32Array.from(values).sort();
}

function checkRows(rows: number): void {
  if (!Number.isInteger(rows) || rows < 2) throw new RangeError(`rows must be an integer >= 2; got ${rows}`);
}

function checkStratify(rows: number, stratify: ArrayLike<number> | undefined): void {
  if (stratify === undefined) return;
  if (stratify.length !== rows) throw new RangeError(`stratify has ${stratify.length} entries; expected ${rows}`);
  for (let i = 0; i < rows; i++) {
    const c = stratify[i] as number;
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`stratify[${i}] = ${c} is not a class index`);
  }
}

/** Rows of each class, each list shuffled; classes in index order. */
function shuffledByClass(rows: number, stratify: ArrayLike<number>, rng: Rng): number[][] {
  const byClass: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const c = stratify[i] as number;
    (byClass[c] ??= []).push(i);
  }
  return byClass.filter((members) => members !== undefined).map((members) => rng.shuffle(members));
}

/**
 * Holds out ceil(validationSize * rows) rows, as scikit-learn's train_test_split counts them.
 * Stratified, each class gives its proportional share (largest remainders settle the rounding;
 * ties go to the larger class, then the lower class index).
 */
export function trainValidationSplit(rows: number, options: RandomSplitOptions & { validationSize: number }): Split {
  checkRows(rows);
  const { validationSize, seed, stratify } = options;
  if (!(validationSize > 0 && validationSize < 1)) {
    throw new RangeError(`validationSize must be in (0, 1); got ${validationSize}`);
  }
  checkStratify(rows, stratify);
  const nValidation = Math.ceil(validationSize * rows);
  if (nValidation >= rows) {
    throw new RangeError(`validationSize ${validationSize} leaves no training rows out of ${rows}`);
  }
  const rng = new Rng(seed);
  const validation: number[] = [];
  const train: number[] = [];
  if (stratify === undefined) {
    const order = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
    validation.push(...order.slice(0, nValidation));
    train.push(...order.slice(nValidation));
  } else {
    const classes = shuffledByClass(rows, stratify, rng);
    const ideal = classes.map((members) => (members.length * nValidation) / rows);
    const take = ideal.map(Math.floor);
    let missing = nValidation - take.reduce((a, b) => a + b, 0);
    const byRemainder = classes
      .map((members, c) => ({ c, remainder: (ideal[c] as number) - (take[c] as number), size: members.length }))
      .sort((a, b) => b.remainder - a.remainder || b.size - a.size || a.c - b.c);
    for (const { c } of byRemainder) {
      if (missing === 0) break;
      take[c] = (take[c] as number) + 1;
      missing--;
    }
    classes.forEach((members, c) => {
      validation.push(...members.slice(0, take[c]));
      train.push(...members.slice(take[c]));
    });
  }
  return { train: sortedIndices(train), validation: sortedIndices(validation) };
}

/**
 * k folds; each row validates exactly once. Unstratified: a shuffle cut into k runs, the first
 * rows % k one row longer (scikit-learn's KFold sizes). Stratified: each class's shuffled rows are
 * dealt round-robin, continuing from class to class, so fold sizes and every class's count per
 * fold differ by at most one.
 */
export function kFoldSplits(rows: number, options: RandomSplitOptions & { nCrossValidations: number }): Split[] {
  checkRows(rows);
  const { nCrossValidations: k, seed, stratify } = options;
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`nCrossValidations must be an integer >= 2; got ${k}`);
  if (k > rows) throw new RangeError(`nCrossValidations (${k}) cannot exceed the number of rows (${rows})`);
  checkStratify(rows, stratify);
  const rng = new Rng(seed);
  const fold = new Int32Array(rows);
  if (stratify === undefined) {
    const order = rng.shuffle(Array.from({ length: rows }, (_, i) => i));
    const base = Math.floor(rows / k);
    const extra = rows % k;
    let at = 0;
    for (let f = 0; f < k; f++) {
      const size = base + (f < extra ? 1 : 0);
      for (let j = 0; j < size; j++) fold[order[at + j] as number] = f;
      at += size;
    }
  } else {
    let position = 0;
    for (const members of shuffledByClass(rows, stratify, rng)) {
      for (const row of members) fold[row] = position++ % k;
    }
  }
  const splits: Split[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const validation: number[] = [];
    for (let i = 0; i < rows; i++) (fold[i] === f ? validation : train).push(i);
    splits.push({ train: Int32Array.from(train), validation: Int32Array.from(validation) });
  }
  return splits;
}

/**
 * Azure's default when neither validation data, validation_size nor n_cross_validations is given:
 * more than 20,000 rows hold out 10%; fewer than 1,000 use 10 folds; otherwise 3 folds.
 */
export function defaultValidationPlan(
  rows: number,
): { kind: 'split'; validationSize: number } | { kind: 'cv'; nCrossValidations: number } {
  if (rows > 20_000) return { kind: 'split', validationSize: 0.1 };
  return { kind: 'cv', nCrossValidations: rows < 1_000 ? 10 : 3 };
}

// ---------------------------------------------------------------------------------------------
// Time-series backtests

export interface BacktestOptions {
  /** Epoch-ms time of each row. Rows need not be sorted. */
  times: ArrayLike<number>;
  /** The series each row belongs to (joined time_series_id values); one series when absent. */
  series?: readonly string[];
  /** forecast_horizon: the validation window of each fold, in periods (rows of a series). */
  horizon: number;
  /** n_cross_validations: the number of forecast origins. */
  folds: number;
  /** cv_step_size: periods between consecutive origins (default: the horizon). */
  step?: number;
  /** Fewest training rows a series must keep at the earliest origin (default 1). */
  minTrainRows?: number;
  /** A series too short for every fold: a ValidationError (default) or left out of all folds. */
  shortSeries?: 'error' | 'drop';
}

export interface BacktestFold extends Split {
  /** Per series: the time of the last training row (the forecast origin). */
  origins: Map<string, number>;
}

const SINGLE_SERIES = '';

/** Rows of each series, in time order; duplicate times within a series are a ValidationError. */
export function rowsBySeries(times: ArrayLike<number>, series?: readonly string[]): Map<string, number[]> {
  const rows = times.length;
  if (series !== undefined && series.length !== rows) {
    throw new RangeError(`series has ${series.length} entries; expected ${rows}`);
  }
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rows; i++) {
    const t = times[i] as number;
    if (!Number.isFinite(t)) throw new ValidationError(`row ${i} has no time (${t}); every row needs one`);
    const key = series?.[i] ?? SINGLE_SERIES;
    let members = groups.get(key);
    if (members === undefined) groups.set(key, (members = []));
    members.push(i);
  }
  for (const [key, members] of groups) {
    members.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
    for (let j = 1; j < members.length; j++) {
      if (times[members[j] as number] === times[members[j - 1] as number]) {
        const at = new Date(times[members[j] as number] as number).toISOString();
        throw new ValidationError(
          `series ${key === SINGLE_SERIES ? '(the only one)' : `'${key}'`} has two rows at ${at}; ` +
            'a time must appear once per series (set time_series_id_column_names if the rows belong to different series)',
        );
      }
    }
  }
  return groups;
}

/**
 * Rolling-origin folds, oldest origin first. In fold f of F, each series of length L trains on its
 * first L - horizon - (F - 1 - f) * step rows and validates on the `horizon` rows after them.
 */
export function backtestSplits(options: BacktestOptions): BacktestFold[] {
  const { times, series, horizon, folds } = options;
  const step = options.step ?? horizon;
  const minTrain = options.minTrainRows ?? 1;
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new RangeError(`horizon must be a positive integer; got ${horizon}`);
  if (!Number.isInteger(folds) || folds < 1) throw new RangeError(`folds must be a positive integer; got ${folds}`);
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`step must be a positive integer; got ${step}`);
  if (!Number.isInteger(minTrain) || minTrain < 1)
    throw new RangeError(`minTrainRows must be a positive integer; got ${minTrain}`);
  const needed = minTrain + horizon + (folds - 1) * step;
  const groups = rowsBySeries(times, series);
  const out: { train: number[]; validation: number[]; origins: Map<string, number> }[] = Array.from(
    { length: folds },
    () => ({ train: [], validation: [], origins: new Map() }),
  );
  const tooShort: string[] = [];
  for (const [key, members] of groups) {
    const length = members.length;
    if (length < needed) {
      tooShort.push(`${key === SINGLE_SERIES ? 'the series' : `'${key}'`} (${length} rows)`);
      continue;
    }
    for (let f = 0; f < folds; f++) {
      const cut = length - horizon - (folds - 1 - f) * step;
      const fold = out[f] as (typeof out)[number];
      for (let j = 0; j < cut; j++) fold.train.push(members[j] as number);
      for (let j = cut; j < cut + horizon; j++) fold.validation.push(members[j] as number);
      fold.origins.set(key, times[members[cut - 1] as number] as number);
    }
  }
  if (tooShort.length > 0 && (options.shortSeries ?? 'error') === 'error') {
    throw new ValidationError(
      `${tooShort.length} series are too short for ${folds} backtest folds of horizon ${horizon} ` +
        `(step ${step}): each needs at least ${needed} rows; short: ${tooShort.slice(0, 5).join(', ')}` +
        `${tooShort.length > 5 ? ', ...' : ''}. Lower n_cross_validations or forecast_horizon, or drop short series.`,
    );
  }
  if (tooShort.length === groups.size) {
    throw new ValidationError(`every series is too short for the backtest: each needs at least ${needed} rows`);
  }
  return out.map((f) => ({
    train: sortedIndices(f.train),
    validation: sortedIndices(f.validation),
    origins: f.origins,
  }));
}
