// Permutation importance with known predictors: the column the predictor leans on ranks first, a
// weak one next, columns it ignores score 0; every column kind is shuffled (values move between
// rows, none is lost); the same seed gives the same answer; large tables are subsampled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { permutationImportance } from '../../shared/ml/automl/importance.js';
import type { PipelinePrediction } from '../../shared/ml/automl/types.js';
import { Rng } from '../../shared/ml/rng.js';
import type { Column, Table } from '../../shared/ml/types.js';
import { normal } from '../support/synthetic-data.js';

function column<K extends Column['kind']>(table: Table, name: string, kind: K): Extract<Column, { kind: K }> {
  const found = table.columns.find((c) => c.name === name);
  if (found?.kind !== kind) throw new Error(`no ${kind} column ${name}`);
  return found as Extract<Column, { kind: K }>;
}

const DAY = 86_400_000;

/** Numeric a and b, then a categorical, a text and a datetime column that mean nothing. */
function regressionTable(seed: number, rows: number): { table: Table; y: Float64Array } {
  const rng = new Rng(seed);
  const a = Float64Array.from({ length: rows }, () => normal(rng));
  const b = Float64Array.from({ length: rows }, () => normal(rng));
  const words = ['red fox', 'blue sky', 'green tea', null];
  const table: Table = {
    rows,
    columns: [
      {
        kind: 'categorical',
        name: 'shop',
        values: Array.from({ length: rows }, () => ['x', 'y', 'z'][rng.int(3)] ?? null),
      },
      { kind: 'numeric', name: 'b', values: b },
      { kind: 'text', name: 'note', values: Array.from({ length: rows }, () => words[rng.int(4)] ?? null) },
      { kind: 'numeric', name: 'a', values: a },
      { kind: 'datetime', name: 'day', values: Float64Array.from({ length: rows }, () => 1.7e12 + rng.int(365) * DAY) },
    ],
  };
  const y = Float64Array.from(
    { length: rows },
    (_, i) => 3 * (a[i] as number) + 0.5 * (b[i] as number) + 0.1 * normal(rng),
  );
  return { table, y };
}

/** ŷ = 3a + 0.5b: reads only a and b. */
function linearPredictor(t: Table): PipelinePrediction {
  const a = column(t, 'a', 'numeric').values;
  const b = column(t, 'b', 'numeric').values;
  return { prediction: a.map((v, i) => 3 * v + 0.5 * (b[i] as number)) };
}

describe('permutationImportance', () => {
  it('ranks the column the model leans on first, the weak one next, and the ignored ones at 0', () => {
    const { table, y } = regressionTable(1, 300);
    for (const metric of ['r2_score', 'root_mean_squared_error'] as const) {
      const result = permutationImportance({ task: 'regression', table, y, metric, predict: linearPredictor, seed: 7 });
      assert.equal(result.metric, metric);
      assert.deepEqual(
        result.columns.slice(0, 2).map((c) => c.column),
        ['a', 'b'],
      );
      const [a, b] = result.columns as [(typeof result.columns)[0], (typeof result.columns)[0]];
      assert.ok(a.importance > 5 * b.importance && b.importance > 0, `${metric}: a ${a.importance}, b ${b.importance}`);
      assert.ok(a.std > 0);
      for (const ignored of result.columns.slice(2)) {
        assert.ok(Math.abs(ignored.importance) < 1e-12 && ignored.std < 1e-12, `${metric}: ${ignored.column}`);
      }
      // Ties keep the table's order.
      assert.deepEqual(
        result.columns.slice(2).map((c) => c.column),
        ['shop', 'note', 'day'],
      );
    }
  });

  it('is deterministic for a seed and changes with it', () => {
    const { table, y } = regressionTable(2, 200);
    const run = (seed: number) =>
      permutationImportance({ task: 'regression', table, y, metric: 'r2_score', predict: linearPredictor, seed });
    assert.deepEqual(run(3), run(3));
    assert.notEqual(run(3).columns[0]?.importance, run(4).columns[0]?.importance);
  });

  it('shuffles categorical, text and datetime columns for a classifier and scores its probabilities', () => {
    const rows = 300;
    const rng = new Rng(5);
    const colors = Array.from({ length: rows }, () => (rng.next() < 0.5 ? 'red' : 'blue'));
    const notes = Array.from({ length: rows }, () => (rng.next() < 0.3 ? 'urgent please' : null));
    const days = Float64Array.from({ length: rows }, () => 1.7e12 + rng.int(30) * DAY);
    const table: Table = {
      rows,
      columns: [
        { kind: 'datetime', name: 'day', values: days },
        { kind: 'text', name: 'note', values: notes },
        { kind: 'categorical', name: 'color', values: colors },
        { kind: 'numeric', name: 'noise', values: Float64Array.from({ length: rows }, () => normal(rng)) },
      ],
    };
    const pYes = (color: string | null, note: string | null, day: number): number =>
      (color === 'red' ? 0.8 : 0.15) + (note === null ? 0 : 0.1) + (day < 1.7e12 + 15 * DAY ? 0.05 : 0);
    const y = colors.map((c, i) => (rng.next() < pYes(c, notes[i] ?? null, days[i] as number) ? 'yes' : 'no'));
    const redCount = colors.filter((c) => c === 'red').length;
    const predict = (t: Table): PipelinePrediction => {
      const color = column(t, 'color', 'categorical').values;
      const note = column(t, 'note', 'text').values;
      const day = column(t, 'day', 'datetime').values;
      assert.equal(color.filter((c) => c === 'red').length, redCount, 'a shuffle moves values, it loses none');
      const probabilities = new Float64Array(t.rows * 2);
      for (let i = 0; i < t.rows; i++) {
        const p = pYes(color[i] ?? null, note[i] ?? null, day[i] as number);
        probabilities[2 * i] = 1 - p;
        probabilities[2 * i + 1] = p;
      }
      return { probabilities };
    };
    const result = permutationImportance({
      task: 'classification',
      table,
      y,
      classes: ['no', 'yes'],
      metric: 'log_loss',
      predict,
      seed: 11,
      repeats: 3,
    });
    assert.equal(result.columns[0]?.column, 'color');
    assert.ok((result.columns[0]?.importance as number) > 0.1);
    const noise = result.columns.find((c) => c.column === 'noise');
    assert.equal(noise?.importance, 0);
    assert.ok(result.columns.filter((c) => c.column !== 'noise').every((c) => c.importance !== 0));
  });

  it('subsamples rows beyond maxRows, deterministically', () => {
    const { table, y } = regressionTable(6, 400);
    const seen: number[] = [];
    const predict = (t: Table): PipelinePrediction => {
      seen.push(t.rows);
      return linearPredictor(t);
    };
    const options = {
      task: 'regression' as const,
      table,
      y,
      metric: 'r2_score' as const,
      predict,
      seed: 1,
      maxRows: 100,
      repeats: 2,
    };
    const first = permutationImportance(options);
    assert.ok(seen.length === 1 + 5 * 2 && seen.every((r) => r === 100));
    assert.deepEqual(permutationImportance(options), first);
    assert.equal(first.columns[0]?.column, 'a');
  });

  it('refuses a predictor that returns the wrong output and bad options', () => {
    const { table, y } = regressionTable(7, 50);
    const base = { task: 'regression' as const, table, y, metric: 'r2_score' as const, seed: 1 };
    assert.throws(
      () => permutationImportance({ ...base, predict: () => ({ probabilities: new Float64Array(100) }) }),
      /no prediction/,
    );
    assert.throws(() => permutationImportance({ ...base, predict: linearPredictor, repeats: 0 }), /repeats/);
    assert.throws(() => permutationImportance({ ...base, y: y.slice(1), predict: linearPredictor }), /50 rows/);
  });
});
