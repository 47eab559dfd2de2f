import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../shared/errors.js';
import {
  backtestSplits,
  defaultValidationPlan,
  kFoldSplits,
  trainValidationSplit,
} from '../../shared/ml/validation.js';
import type { Split } from '../../shared/ml/validation.js';

const DAY = 86_400_000;

function assertPartition(split: Split, rows: number): void {
  const seen = new Uint8Array(rows);
  for (const i of [...split.train, ...split.validation]) {
    assert.equal(seen[i], 0, `row ${i} appears twice`);
    seen[i] = 1;
  }
  assert.ok(
    seen.every((v) => v === 1),
    'every row is used',
  );
  assert.deepEqual(
    [...split.train],
    [...split.train].sort((a, b) => a - b),
  );
  assert.deepEqual(
    [...split.validation],
    [...split.validation].sort((a, b) => a - b),
  );
}

const countBy = (labels: ArrayLike<number>, rows: Int32Array): Map<number, number> => {
  const out = new Map<number, number>();
  for (const i of rows) out.set(labels[i] as number, (out.get(labels[i] as number) ?? 0) + 1);
  return out;
};

test('train/validation split: ceil(size * rows) held out, a partition, the same for the same seed', () => {
  const split = trainValidationSplit(101, { validationSize: 0.2, seed: 3 });
  assert.equal(split.validation.length, 21);
  assert.equal(split.train.length, 80);
  assertPartition(split, 101);
  assert.deepEqual(trainValidationSplit(101, { validationSize: 0.2, seed: 3 }), split);
  assert.notDeepEqual(
    [...trainValidationSplit(101, { validationSize: 0.2, seed: 4 }).validation],
    [...split.validation],
  );
  // Not simply the first or last rows.
  assert.notDeepEqual(
    [...split.validation],
    Array.from({ length: 21 }, (_, i) => i),
  );
});

test('stratified split keeps class proportions; rounding goes to the largest remainders', () => {
  // 50 / 30 / 20 rows, interleaved.
  const labels = Array.from({ length: 100 }, (_, i) => (i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2));
  const split = trainValidationSplit(100, { validationSize: 0.2, seed: 1, stratify: labels });
  assertPartition(split, 100);
  assert.deepEqual(
    [...countBy(labels, split.validation)].sort(([a], [b]) => a - b),
    [
      [0, 10],
      [1, 6],
      [2, 4],
    ],
  );
  // 7 / 7 / 6 rows with 5 held out: ideal 1.75, 1.75, 1.5 -> floors 1, 1, 1 and two more to the
  // largest remainders (the two 7-row classes).
  const small = [...Array(7).fill(0), ...Array(7).fill(1), ...Array(6).fill(2)] as number[];
  const s = trainValidationSplit(20, { validationSize: 0.25, seed: 9, stratify: small });
  assert.deepEqual(
    [...countBy(small, s.validation)].sort(([a], [b]) => a - b),
    [
      [0, 2],
      [1, 2],
      [2, 1],
    ],
  );
});

test('split arguments are checked', () => {
  assert.throws(() => trainValidationSplit(10, { validationSize: 0, seed: 1 }), RangeError);
  assert.throws(() => trainValidationSplit(10, { validationSize: 1, seed: 1 }), RangeError);
  assert.throws(() => trainValidationSplit(2, { validationSize: 0.9, seed: 1 }), /no training rows/);
  assert.throws(() => trainValidationSplit(3, { validationSize: 0.5, seed: 1, stratify: [0, 1] }), /stratify/);
  assert.throws(() => trainValidationSplit(3, { validationSize: 0.5, seed: 1.5 }), /seed/);
});

test('k-fold: each row validates once, fold sizes differ by at most one, deterministic', () => {
  const folds = kFoldSplits(23, { nCrossValidations: 5, seed: 42 });
  assert.equal(folds.length, 5);
  const validated = new Uint8Array(23);
  for (const f of folds) {
    assertPartition(f, 23);
    for (const i of f.validation) validated[i] = (validated[i] as number) + 1;
  }
  assert.ok(validated.every((v) => v === 1));
  assert.deepEqual(
    folds.map((f) => f.validation.length),
    [5, 5, 5, 4, 4],
  );
  assert.deepEqual(kFoldSplits(23, { nCrossValidations: 5, seed: 42 }), folds);
  assert.notDeepEqual(kFoldSplits(23, { nCrossValidations: 5, seed: 43 }), folds);
});

test('stratified k-fold: every class spreads evenly over the folds', () => {
  const labels = Array.from({ length: 97 }, (_, i) => (i < 60 ? 0 : i < 85 ? 1 : 2));
  const folds = kFoldSplits(97, { nCrossValidations: 4, seed: 5, stratify: labels });
  const sizes = folds.map((f) => f.validation.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `fold sizes ${sizes}`);
  for (const c of [0, 1, 2]) {
    const perFold = folds.map((f) => countBy(labels, f.validation).get(c) ?? 0);
    assert.ok(Math.max(...perFold) - Math.min(...perFold) <= 1, `class ${c}: ${perFold}`);
    assert.equal(
      perFold.reduce((a, b) => a + b, 0),
      labels.filter((l) => l === c).length,
    );
  }
  assert.throws(() => kFoldSplits(3, { nCrossValidations: 4, seed: 1 }), /cannot exceed/);
  assert.throws(() => kFoldSplits(10, { nCrossValidations: 1, seed: 1 }), /nCrossValidations/);
});

test('Azure’s default validation plan by row count', () => {
  assert.deepEqual(defaultValidationPlan(500), { kind: 'cv', nCrossValidations: 10 });
  assert.deepEqual(defaultValidationPlan(5_000), { kind: 'cv', nCrossValidations: 3 });
  assert.deepEqual(defaultValidationPlan(50_000), { kind: 'split', validationSize: 0.1 });
});

test('backtest: rolling origins, horizon-long validation windows, the step between origins', () => {
  const times = Array.from({ length: 20 }, (_, i) => Date.UTC(2020, 0, 1) + i * DAY);
  const folds = backtestSplits({ times, horizon: 3, folds: 3 });
  assert.equal(folds.length, 3);
  const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);
  assert.deepEqual([...(folds[0]?.train ?? [])], range(0, 11));
  assert.deepEqual([...(folds[0]?.validation ?? [])], range(11, 14));
  assert.deepEqual([...(folds[2]?.train ?? [])], range(0, 17));
  assert.deepEqual([...(folds[2]?.validation ?? [])], range(17, 20));
  assert.equal(folds[2]?.origins.get(''), times[16]);
  const stepped = backtestSplits({ times, horizon: 3, folds: 2, step: 1 });
  assert.deepEqual([...(stepped[0]?.validation ?? [])], [16, 17, 18]);
  assert.deepEqual([...(stepped[1]?.validation ?? [])], [17, 18, 19]);
});

test('backtest per series: unsorted rows, unequal lengths, no leakage across the origin', () => {
  // Series 'a' has 10 points, 'b' 8, rows shuffled by a fixed permutation.
  const rows: { series: string; t: number }[] = [];
  for (let i = 0; i < 10; i++) rows.push({ series: 'a', t: Date.UTC(2021, i, 1) });
  for (let i = 0; i < 8; i++) rows.push({ series: 'b', t: Date.UTC(2021, i + 2, 1) });
  const order = [5, 17, 2, 11, 0, 9, 14, 3, 8, 16, 1, 12, 7, 15, 4, 10, 13, 6];
  const shuffled = order.map((i) => rows[i] as { series: string; t: number });
  const folds = backtestSplits({
    times: shuffled.map((r) => r.t),
    series: shuffled.map((r) => r.series),
    horizon: 2,
    folds: 2,
  });
  for (const fold of folds) {
    for (const key of ['a', 'b']) {
      const origin = fold.origins.get(key) as number;
      const trainTimes = [...fold.train]
        .filter((i) => shuffled[i]?.series === key)
        .map((i) => shuffled[i]?.t as number);
      const validTimes = [...fold.validation]
        .filter((i) => shuffled[i]?.series === key)
        .map((i) => shuffled[i]?.t as number);
      assert.equal(Math.max(...trainTimes), origin);
      assert.equal(validTimes.length, 2);
      assert.ok(Math.min(...validTimes) > origin, 'validation strictly after the origin');
    }
  }
  // Last fold: 'a' validates on its last two months (Sep, Oct), 'b' on its last two too.
  const last = folds[1] as (typeof folds)[number];
  const lastValid = [...last.validation]
    .map((i) => `${shuffled[i]?.series}:${new Date(shuffled[i]?.t as number).getUTCMonth()}`)
    .sort();
  assert.deepEqual(lastValid, ['a:8', 'a:9', 'b:8', 'b:9']);
});

test('backtest: short series are an error naming them, or dropped; duplicate times are an error', () => {
  const times = [...Array.from({ length: 12 }, (_, i) => i * DAY), ...Array.from({ length: 3 }, (_, i) => i * DAY)];
  const series = [...Array(12).fill('long'), ...Array(3).fill('short')] as string[];
  assert.throws(
    () => backtestSplits({ times, series, horizon: 2, folds: 3 }),
    (e: unknown) =>
      e instanceof ValidationError && /'short' \(3 rows\)/.test(e.message) && /at least 7 rows/.test(e.message),
  );
  const dropped = backtestSplits({ times, series, horizon: 2, folds: 3, shortSeries: 'drop' });
  for (const fold of dropped) {
    assert.ok([...fold.train, ...fold.validation].every((i) => i < 12));
    assert.deepEqual([...fold.origins.keys()], ['long']);
  }
  assert.throws(
    () => backtestSplits({ times: [0, DAY, DAY, 2 * DAY], horizon: 1, folds: 1 }),
    (e: unknown) => e instanceof ValidationError && /two rows at 1970-01-02/.test(e.message),
  );
  assert.throws(() => backtestSplits({ times: [0, DAY], horizon: 0, folds: 1 }), /horizon/);
});
