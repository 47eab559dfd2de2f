/**
 * Permutation importance of a pipeline's raw input columns (Breiman 2001; scikit-learn's
 * permutation_importance): shuffle one column's values across the rows, predict again, and see how
 * much the metric gets worse. The pipeline is a black box here (`predict`), so every column kind
 * (numeric, categorical, text, datetime) is handled the same way: its values move between rows.
 *
 * Deterministic for a given seed: the row subsample and each column's shuffles come from `Rng`
 * streams forked per column, so adding a column does not change the others' shuffles.
 */
import { METRIC_GOALS, type MetricName } from '../metrics.js';
import { Rng } from '../rng.js';
import type { Column, Table } from '../types.js';
import { scoreOof, type OofTarget } from './ensemble.js';
import type { PipelinePrediction } from './types.js';

export interface PermutationImportanceInput extends OofTarget {
  /** The rows to explain (holdout rows, ideally), raw columns only: no target or weight column. */
  table: Table;
  metric: MetricName;
  /** The fitted pipeline: regression `prediction`, classification `probabilities` [rows, classes]. */
  predict: (table: Table) => PipelinePrediction;
  /** Shuffles per column (default 5). */
  repeats?: number;
  seed: number;
  /** Rows beyond this are subsampled, deterministically by seed (default 5000). */
  maxRows?: number;
}

export interface ColumnImportance {
  column: string;
  /** Mean worsening of the metric over the repeats; positive = the model relies on the column. */
  importance: number;
  /** Standard deviation of the worsening over the repeats (population, as scikit-learn). */
  std: number;
}

export interface PermutationImportance {
  metric: MetricName;
  /** The metric on the unshuffled rows. */
  baseline: number;
  /** Most important first; ties keep the table's column order. */
  columns: ColumnImportance[];
}

const DEFAULT_REPEATS = 5;
const DEFAULT_MAX_ROWS = 5000;

/** How much each raw column's values matter to `predict`, by the metric's drop when shuffled. */
export function permutationImportance(input: PermutationImportanceInput): PermutationImportance {
  const repeats = input.repeats ?? DEFAULT_REPEATS;
  const maxRows = input.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isInteger(repeats) || repeats < 1)
    throw new RangeError(`repeats must be a positive integer; got ${repeats}`);
  if (!Number.isInteger(maxRows) || maxRows < 1)
    throw new RangeError(`maxRows must be a positive integer; got ${maxRows}`);
  if (input.y.length !== input.table.rows) {
    throw new RangeError(`y has ${input.y.length} entries; the table has ${input.table.rows} rows`);
  }
  const root = new Rng(input.seed);
  const { table, target } = subsample(input, maxRows, root.fork(0));
  const sign = METRIC_GOALS[input.metric] === 'maximize' ? 1 : -1;
  const score = (t: Table): number => scoreOof(target, predictionOf(input.predict(t), target), input.metric);
  const baseline = score(table);

  const columns = table.columns.map((column, c): ColumnImportance => {
    const rng = root.fork(c + 1);
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const order = rng.shuffle(Array.from({ length: table.rows }, (_, i) => i));
      const shuffled: Table = {
        rows: table.rows,
        columns: table.columns.map((col, j) => (j === c ? permuted(col, order) : col)),
      };
      drops.push(sign * (baseline - score(shuffled)));
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / repeats);
    return { column: column.name, importance: mean, std };
  });
  // Array.prototype.sort is stable: equal importances keep the table's order.
  columns.sort((a, b) => b.importance - a.importance);
  return { metric: input.metric, baseline, columns };
}

/** At most `maxRows` rows, chosen by `rng` and kept in table order. */
function subsample(input: PermutationImportanceInput, maxRows: number, rng: Rng): { table: Table; target: OofTarget } {
  const target: OofTarget = { task: input.task, y: input.y };
  if (input.classes !== undefined) target.classes = input.classes;
  if (input.weights !== undefined) target.weights = input.weights;
  if (input.yMin !== undefined) target.yMin = input.yMin;
  if (input.yMax !== undefined) target.yMax = input.yMax;
  if (input.table.rows <= maxRows) return { table: input.table, target };

  const rows = rng
    .shuffle(Array.from({ length: input.table.rows }, (_, i) => i))
    .slice(0, maxRows)
    .sort((a, b) => a - b);
  const table: Table = { rows: rows.length, columns: input.table.columns.map((col) => permuted(col, rows)) };
  const y = input.y;
  target.y =
    y instanceof Float64Array ? Float64Array.from(rows, (r) => y[r] as number) : rows.map((r) => y[r] as string);
  const weights = input.weights;
  if (weights !== undefined) target.weights = Float64Array.from(rows, (r) => weights[r] as number);
  return { table, target };
}

/** The column's values at `rows` (row i of the result holds value rows[i]). */
function permuted(column: Column, rows: readonly number[]): Column {
  switch (column.kind) {
    case 'numeric':
    case 'datetime':
      return { ...column, values: Float64Array.from(rows, (r) => column.values[r] as number) };
    case 'categorical':
    case 'text':
      return { ...column, values: rows.map((r) => column.values[r] ?? null) };
  }
}

/** The prediction in the OOF layout scoreOof reads. */
function predictionOf(p: PipelinePrediction, target: OofTarget): Float64Array {
  const values = target.task === 'regression' ? p.prediction : p.probabilities;
  if (values === undefined) {
    throw new RangeError(
      `predict returned no ${target.task === 'regression' ? 'prediction' : 'probabilities'} for a ${target.task} task`,
    );
  }
  return values;
}
