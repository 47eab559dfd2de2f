// encodePrepared / decodePrepared: a PreparedDataset survives the binary file exactly (NaN and
// null cells, typed folds, weights, test rows) and a 100k × 20 dataset decodes quickly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareDataset } from '../../shared/ml/automl/dataset.js';
import { decodePrepared, encodePrepared } from '../../shared/ml/automl/snapshot.js';
import type { AutomlSettings, PreparedDataset } from '../../shared/ml/automl/types.js';
import type { Column } from '../../shared/ml/types.js';
import { cat, dt, num, table, text } from '../support/ml-tables.js';

const settings: AutomlSettings = {
  task: 'classification',
  targetColumn: 'y',
  primaryMetric: 'AUC_weighted',
  weightColumn: 'w',
  validation: { kind: 'cv', folds: 3 },
  algorithms: ['LightGBM', 'LogisticRegression'],
  enableVoteEnsemble: true,
  enableStackEnsemble: false,
  maxTrials: 5,
  maxConcurrentTrials: 2,
  earlyTermination: true,
  exitScore: 0.9,
  featurization: { mode: 'custom', column_name_and_types: { n: 'Numeric' } },
  seed: 7,
  notices: ['a notice'],
};

function sample(): PreparedDataset {
  const rows = 40;
  const i = Array.from({ length: rows }, (_, k) => k);
  const t = table(
    num(
      'n',
      i.map((k) => (k % 5 === 0 ? null : k / 3)),
    ),
    cat(
      'c',
      i.map((k) => (k % 4 === 0 ? null : `v${k % 3}`)),
    ),
    dt(
      'd',
      i.map((k) => (k % 6 === 0 ? null : Date.UTC(2020, 0, 1 + k))),
    ),
    text(
      'txt',
      i.map((k) => (k % 7 === 0 ? null : `word${k % 4} other`)),
    ),
    cat(
      'y',
      i.map((k) => (k % 2 === 0 ? 'yes' : 'no')),
    ),
    num(
      'w',
      i.map((k) => 1 + (k % 3)),
    ),
  );
  return prepareDataset(settings, t, undefined, t);
}

describe('AutoML snapshot', () => {
  test('round-trips a prepared dataset exactly', () => {
    const d = sample();
    const back = decodePrepared(encodePrepared(d));
    assert.deepEqual(back, d);
    const n = back.features.columns.find((c) => c.name === 'n') as Column & { kind: 'numeric' };
    assert.ok(n.values instanceof Float64Array);
    assert.ok(Number.isNaN(n.values[0]));
    assert.ok(back.folds[0]?.train instanceof Int32Array);
    assert.ok(back.weights instanceof Float64Array);
    assert.equal((back.features.columns.find((c) => c.name === 'c')?.values as (string | null)[])[0], null);
  });

  test('regression targets, yMin/yMax and non-finite numbers survive', () => {
    const d = sample();
    const r: PreparedDataset = {
      ...d,
      task: 'regression',
      y: Float64Array.from([1.5, -0, 3]),
      yMin: -0.5,
      yMax: 3,
      notices: [],
    };
    delete r.classes;
    (r.settings as { exitScore?: number }) = { ...r.settings, exitScore: Number.POSITIVE_INFINITY };
    const back = decodePrepared(encodePrepared(r));
    assert.deepEqual(back, r);
  });

  test('rejects bytes that are not a snapshot', () => {
    assert.throws(() => decodePrepared(new Uint8Array(4)), /too short/);
    assert.throws(() => decodePrepared(new Uint8Array(16)), /magic/);
    const bytes = encodePrepared(sample());
    assert.throws(() => decodePrepared(bytes.subarray(0, bytes.length - 100)), /truncated/);
  });

  test('a 100k × 20 table round-trips (its decode time is a benchmark matter, not a test one)', () => {
    const rows = 100_000;
    const columns: Column[] = Array.from({ length: 19 }, (_, j) => ({
      kind: 'numeric' as const,
      name: `f${j}`,
      values: Float64Array.from({ length: rows }, (_, i) => (i % 97 === j ? Number.NaN : i * 0.5 + j)),
    }));
    columns.push({ kind: 'categorical', name: 'g', values: Array.from({ length: rows }, (_, i) => `g${i % 50}`) });
    const base = sample();
    const big: PreparedDataset = {
      ...base,
      features: { rows, columns },
      y: Array.from({ length: rows }, (_, i) => (i % 2 === 0 ? 'yes' : 'no')),
      weights: new Float64Array(rows).fill(1),
      folds: [
        {
          train: Int32Array.from({ length: rows / 2 }, (_, i) => i),
          validation: Int32Array.from({ length: rows / 2 }, (_, i) => rows / 2 + i),
        },
      ],
    };
    delete big.test;
    const bytes = encodePrepared(big);
    const back = decodePrepared(bytes);
    assert.equal(back.features.rows, rows);
    assert.ok(Number.isNaN((back.features.columns[3] as { values: Float64Array }).values[3]));
    assert.deepEqual((back.features.columns[19] as { values: string[] }).values.slice(0, 3), ['g0', 'g1', 'g2']);
    assert.deepEqual(back.folds[0]?.validation.slice(0, 2), Int32Array.from([rows / 2, rows / 2 + 1]));
  });
});
