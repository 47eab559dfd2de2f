// prepareDataset: features, target, weights and folds from the job's tables, and one
// ValidationError naming the YAML key for each bad input, before any trial runs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareDataset } from '../../shared/ml/automl/dataset.js';
import type { AutomlSettings } from '../../shared/ml/automl/types.js';
import type { Table } from '../../shared/ml/types.js';
import { cat, num, table } from '../support/ml-tables.js';
import { assertInvalid } from './app-error-assertions.js';

function settings(extra: Partial<AutomlSettings> = {}): AutomlSettings {
  return {
    task: 'classification',
    targetColumn: 'y',
    primaryMetric: 'accuracy',
    validation: { kind: 'cv', folds: 3 },
    algorithms: ['LogisticRegression'],
    enableVoteEnsemble: true,
    enableStackEnsemble: true,
    maxTrials: 10,
    maxConcurrentTrials: 2,
    earlyTermination: true,
    seed: 0,
    notices: [],
    ...extra,
  };
}

const n = 30;
const xs = Array.from({ length: n }, (_, i) => i);
function clf(): Table {
  return table(
    num('x', xs),
    cat(
      'c',
      xs.map((i) => ['a', 'b', null][i % 3] ?? null),
    ),
    cat(
      'y',
      xs.map((i) => (i % 3 === 0 ? '10' : i % 3 === 1 ? '2' : 'cat')),
    ),
    num(
      'w',
      xs.map((i) => 1 + (i % 2)),
    ),
  );
}
/** The x values (row numbers) of some rows of a prepared dataset. */
function xOfRows(d: { features: Table }, rows: Int32Array): number[] {
  const x = d.features.columns.find((c) => c.name === 'x') as { values: Float64Array };
  return Array.from(rows, (r) => x.values[r] as number);
}

function reg(): Table {
  return table(
    num('x', xs),
    num(
      'y',
      xs.map((i) => (i === 4 ? null : i * 2 + 1)),
    ),
  );
}

describe('prepareDataset', () => {
  test('classification: classes in label order, stratified folds, weights split off', () => {
    const d = prepareDataset(settings({ weightColumn: 'w' }), clf());
    assert.equal(d.task, 'classification');
    assert.deepEqual(d.classes, ['2', '10', 'cat']);
    assert.deepEqual(
      d.features.columns.map((c) => c.name),
      ['x', 'c'],
    );
    assert.equal(d.weights?.length, n);
    assert.equal(d.folds.length, 3);
    const seen = new Set<number>();
    for (const f of d.folds) {
      for (const i of f.validation) seen.add(i);
      assert.equal(f.train.length + f.validation.length, n);
      // Stratified: each fold validates on every class.
      const classes = new Set(Array.from(f.validation, (i) => (d.y as string[])[i]));
      assert.equal(classes.size, 3);
    }
    assert.equal(seen.size, n);
    assert.deepEqual(
      d.featurization.columns.map((c) => c.name),
      ['x', 'c'],
    );
  });

  test('regression: rows without a target are dropped with a notice; yMin/yMax', () => {
    const d = prepareDataset(settings({ task: 'regression', validation: { kind: 'auto' } }), reg());
    assert.equal(d.features.rows, n - 1);
    assert.ok(d.y instanceof Float64Array);
    assert.equal(d.yMin, 1);
    assert.equal(d.yMax, 59);
    assert.ok(d.notices.some((m) => m.includes('1 training rows')));
    // Auto: fewer than 1000 rows → 10 folds.
    assert.equal(d.folds.length, 10);
  });

  test('validation_data rows come after the training rows, in one split', () => {
    const v = reg();
    const d = prepareDataset(settings({ task: 'regression', validation: { kind: 'data' } }), reg(), v);
    assert.equal(d.features.rows, 2 * (n - 1));
    assert.equal(d.folds.length, 1);
    assert.deepEqual(Array.from(d.folds[0]?.validation ?? []).slice(0, 2), [n - 1, n]);
    assert.equal(d.folds[0]?.train.length, n - 1);
  });

  test('split and test_data', () => {
    const d = prepareDataset(settings({ validation: { kind: 'split', size: 0.2 } }), clf(), undefined, clf());
    assert.equal(d.folds.length, 1);
    assert.equal(d.folds[0]?.validation.length, 6);
    assert.equal(d.test?.features.rows, n);
    assert.equal((d.test?.y as string[])[0], '10');
  });

  test('cv_split_column_names: one fold per column, 1 training and 0 validation rows; the columns are not features', () => {
    // Two folds over the 29 rows that have a target: f1 validates on x < 10, f2 on x >= 20.
    const withSplits = table(
      num('x', xs),
      num(
        'f1',
        xs.map((i) => (i < 10 ? 0 : 1)),
      ),
      num(
        'f2',
        xs.map((i) => (i >= 20 ? 0 : 1)),
      ),
      num(
        'y',
        xs.map((i) => (i === 4 ? null : i * 2 + 1)),
      ),
    );
    const columns = { kind: 'columns' as const, columns: ['f1', 'f2'] };
    const d = prepareDataset(settings({ task: 'regression', validation: columns }), withSplits);
    assert.deepEqual(
      d.features.columns.map((c) => c.name),
      ['x'],
    );
    assert.equal(d.folds.length, 2);
    // Row 4 has no target, so it is dropped; the folds follow the remaining rows.
    assert.deepEqual(
      xOfRows(d, d.folds[0]?.validation as Int32Array),
      xs.filter((i) => i < 10 && i !== 4),
    );
    assert.deepEqual(
      xOfRows(d, d.folds[1]?.validation as Int32Array),
      xs.filter((i) => i >= 20),
    );
    assert.equal((d.folds[0]?.train.length ?? 0) + (d.folds[0]?.validation.length ?? 0), 29);
    // With test_data_size, the held-out rows leave the folds too.
    const t = prepareDataset(settings({ task: 'regression', validation: columns, testDataSize: 0.2 }), withSplits);
    const all = new Set(t.folds.flatMap((f) => [...xOfRows(t, f.train), ...xOfRows(t, f.validation)]));
    assert.equal(all.size, t.features.rows);
    for (const f of t.folds) for (const x of xOfRows(t, f.validation)) assert.ok(x < 10 || x >= 20, `x=${x}`);

    const bad = (values: (number | null)[]) =>
      prepareDataset(
        settings({ task: 'regression', validation: { kind: 'columns', columns: ['f'] } }),
        table(num('x', xs), num('f', values), num('y', xs)),
      );
    assertInvalid(() => bad(xs.map((i) => (i === 7 ? 2 : i % 2))), 'cv_split_column_names');
    assert.throws(() => bad(xs.map((i) => (i === 7 ? 2 : i % 2))), /'f' .* has 2 at row 8/);
    assert.throws(() => bad(xs.map((i) => (i === 7 ? null : i % 2))), /'f' .* has no value at row 8/);
    assert.throws(() => bad(xs.map(() => 1)), /'f' .* marks no row 0 \(validation\)/);
    assertInvalid(
      () => prepareDataset(settings({ task: 'regression', validation: { kind: 'columns', columns: ['fold'] } }), reg()),
      'cv_split_column_names',
    );
  });

  test('test_data rows of a class the training data lacks are left out of the test rows, with a notice', () => {
    const test = table(
      num('x', [1, 2, 3]),
      cat('c', ['a', 'b', 'a']),
      cat('y', ['10', 'dog', 'cat']),
      num('w', [1, 1, 1]),
    );
    const d = prepareDataset(settings({ weightColumn: 'w' }), clf(), undefined, test);
    assert.deepEqual(d.test?.y, ['10', 'cat']);
    assert.equal(d.test?.features.rows, 2);
    assert.ok(
      d.notices.some((m) =>
        /test_data has classes the training data lacks \('dog'\); their 1 rows are left out/.test(m),
      ),
    );
  });

  test('test_data_size holds out training rows as test data, stratified, by the seed, before the folds', () => {
    const held = (seed: number) =>
      prepareDataset(settings({ weightColumn: 'w', testDataSize: 0.2, seed }), clf(), undefined, undefined);
    const d = held(0);
    // 20% of 30 rows, stratified: 2 of each class's 10.
    assert.equal(d.test?.features.rows, 6);
    assert.equal(d.features.rows, 24);
    assert.equal(d.y.length, 24);
    assert.equal(d.weights?.length, 24);
    const count = (ys: string[], c: string) => ys.filter((y) => y === c).length;
    for (const c of ['2', '10', 'cat']) assert.equal(count(d.test?.y as string[], c), 2, c);
    // The two parts are the training rows, each kept once and in order: x is the row number.
    const xOf = (t: Table) => Array.from((t.columns.find((c) => c.name === 'x') as { values: Float64Array }).values);
    const train = xOf(d.features);
    const test = xOf(d.test?.features as Table);
    assert.deepEqual(
      [...train, ...test].sort((a, b) => a - b),
      xs,
    );
    assert.deepEqual(
      train,
      [...train].sort((a, b) => a - b),
    );
    // The label of every held-out row is the row's own; the folds cover the remaining rows only.
    test.forEach((x, i) => assert.equal((d.test?.y as string[])[i], x % 3 === 0 ? '10' : x % 3 === 1 ? '2' : 'cat'));
    assert.equal(new Set(d.folds.flatMap((f) => Array.from(f.validation))).size, 24);
    assert.ok(d.notices.some((m) => m.includes('test_data_size 0.2: 6 of 30 training rows are held out')));
    // Deterministic for a seed; another seed holds out other rows.
    assert.deepEqual(xOf(held(0).test?.features as Table), test);
    assert.notDeepEqual(xOf(held(1).test?.features as Table), test);

    const r = prepareDataset(settings({ task: 'regression', validation: { kind: 'auto' }, testDataSize: 0.1 }), reg());
    assert.equal(r.test?.features.rows, 3); // ceil(0.1 × 29): the row without a target is dropped first
    assert.equal(r.features.rows, 26);
  });

  const cases: { name: string; run: () => unknown; key: string }[] = [
    {
      name: 'target column missing',
      run: () => prepareDataset(settings({ targetColumn: 'label' }), clf()),
      key: 'target_column_name',
    },
    {
      name: 'target all missing',
      run: () =>
        prepareDataset(
          settings({ task: 'regression' }),
          table(
            num('x', xs),
            num(
              'y',
              xs.map(() => null),
            ),
          ),
        ),
      key: 'target_column_name',
    },
    {
      name: 'one class',
      run: () =>
        prepareDataset(
          settings(),
          table(
            num('x', xs),
            cat(
              'y',
              xs.map(() => 'a'),
            ),
          ),
        ),
      key: 'target_column_name',
    },
    {
      name: 'a class with one row',
      run: () =>
        prepareDataset(
          settings(),
          table(
            num('x', xs),
            cat(
              'y',
              xs.map((i) => (i === 0 ? 'rare' : i % 2 === 0 ? 'a' : 'b')),
            ),
          ),
        ),
      key: 'target_column_name',
    },
    {
      name: 'constant regression target',
      run: () =>
        prepareDataset(
          settings({ task: 'regression' }),
          table(
            num('x', xs),
            num(
              'y',
              xs.map(() => 3),
            ),
          ),
        ),
      key: 'target_column_name',
    },
    {
      name: 'regression target not numeric',
      run: () => prepareDataset(settings({ task: 'regression' }), clf()),
      key: 'target_column_name',
    },
    {
      name: 'too few rows for the folds',
      run: () => prepareDataset(settings({ task: 'regression', validation: { kind: 'cv', folds: 20 } }), reg()),
      key: 'n_cross_validations',
    },
    {
      name: 'an all-missing feature column',
      run: () =>
        prepareDataset(
          settings(),
          table(
            ...clf().columns,
            num(
              'empty',
              xs.map(() => null),
            ),
          ),
        ),
      key: 'featurization.column_name_and_types.empty',
    },
    {
      name: 'weight column missing',
      run: () => prepareDataset(settings({ weightColumn: 'weights' }), clf()),
      key: 'weight_column_name',
    },
    {
      name: 'weight column not numeric',
      run: () => prepareDataset(settings({ weightColumn: 'c' }), clf()),
      key: 'weight_column_name',
    },
    {
      name: 'negative weight',
      run: () =>
        prepareDataset(
          settings({ weightColumn: 'w' }),
          table(
            ...clf().columns.filter((c) => c.name !== 'w'),
            num(
              'w',
              xs.map((i) => (i === 7 ? -1 : 1)),
            ),
          ),
        ),
      key: 'weight_column_name',
    },
    {
      name: 'validation_data lacks a training column',
      run: () =>
        prepareDataset(
          settings({ validation: { kind: 'data' } }),
          clf(),
          table(...clf().columns.filter((c) => c.name !== 'c')),
        ),
      key: 'validation_data',
    },
    {
      name: 'test_data_size leaves fewer than 4 rows to train on',
      run: () => prepareDataset(settings({ testDataSize: 0.9 }), clf()),
      key: 'test_data_size',
    },
    {
      name: 'test_data_size beside test_data',
      run: () => prepareDataset(settings({ testDataSize: 0.2 }), clf(), undefined, clf()),
      key: 'test_data_size',
    },
    {
      name: 'test_data lacks a training column',
      run: () => prepareDataset(settings(), clf(), undefined, table(...clf().columns.filter((c) => c.name !== 'x'))),
      key: 'test_data',
    },
    {
      name: 'positive_label not a class',
      run: () => prepareDataset(settings({ positiveLabel: 'dog' }), clf()),
      key: 'positive_label',
    },
  ];
  for (const c of cases) test(`ValidationError: ${c.name}`, () => assertInvalid(c.run, c.key));

  test('messages name what is wrong and how to fix it', () => {
    assert.throws(
      () => prepareDataset(settings({ targetColumn: 'label' }), clf()),
      /its columns are 'x', 'c', 'y', 'w'/,
    );
    assert.throws(
      () =>
        prepareDataset(
          settings(),
          table(
            ...clf().columns,
            num(
              'empty',
              xs.map(() => null),
            ),
          ),
        ),
      /'empty' has no values at all.*empty: Ignore/,
    );
  });

  test('an all-missing column declared Ignore is fine', () => {
    const d = prepareDataset(
      settings({ featurization: { mode: 'custom', column_name_and_types: { empty: 'Ignore' } } }),
      table(
        ...clf().columns,
        num(
          'empty',
          xs.map(() => null),
        ),
      ),
    );
    assert.equal(d.featurization.columns.find((c) => c.name === 'empty')?.purpose, 'ignore');
  });
});
