import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, ValidationError } from '../../shared/errors.js';
import { civilParts, DATETIME_PARTS, fitDatetime } from '../../shared/ml/featurize/datetime.js';
import { fitFeaturizer } from '../../shared/ml/featurize/featurizer.js';
import type { FeaturizerOptions } from '../../shared/ml/featurize/featurizer.js';
import { inferColumnTypes } from '../../shared/ml/featurize/infer-types.js';
import { fitNumeric } from '../../shared/ml/featurize/numeric.js';
import type { NumericTransform } from '../../shared/ml/featurize/numeric.js';
import { declareOnnxInputs } from '../../shared/ml/featurize/onnx-io.js';
import { fitScaler } from '../../shared/ml/featurize/scaler.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import { resolveFeaturization } from '../../shared/ml/featurize/settings.js';
import type { FeaturizationSpec } from '../../shared/ml/featurize/settings.js';
import { fitTarget } from '../../shared/ml/featurize/target-encoding.js';
import { stringKeys } from '../../shared/ml/featurize/category-keys.js';
import { tableFromRows } from '../../shared/ml/featurize/table-from-rows.js';
import { fitHashedBagOfWords, tokenize } from '../../shared/ml/featurize/text.js';
import { Rng } from '../../shared/ml/rng.js';
import type { Table } from '../../shared/ml/types.js';
import { cat, dt, feature, num, row, table, text } from '../support/ml-tables.js';

const close = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
function assertClose(actual: readonly number[], expected: readonly number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  actual.forEach((a, i) =>
    assert.ok(close(a, expected[i] as number, tol), `[${i}] ${a} ≠ ${expected[i]} (actual ${actual.join(', ')})`),
  );
}

function fit(t: Table, options: Partial<FeaturizerOptions> = {}) {
  return fitFeaturizer(t, { seed: 7, ...options });
}

const WORDS = ['red', 'green', 'blue', 'cheap', 'fast', 'slow', 'great', 'bad', 'quiet', 'loud', 'small', 'big'];

/** A table with one column of every inferred kind, `n` rows. */
function mixedTable(n: number): Table {
  const rng = new Rng(1);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  return table(
    num(
      'age',
      Array.from({ length: n }, (_, i) => (i % 10 === 3 ? null : 20 + rng.int(50))),
    ),
    num(
      'row_id',
      Array.from({ length: n }, (_, i) => i + 1),
    ),
    num(
      'constant',
      Array.from({ length: n }, () => 5),
    ),
    num(
      'empty',
      Array.from({ length: n }, () => null),
    ),
    cat(
      'color',
      Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : pick(['red', 'green', 'blue']))),
    ),
    cat(
      'customer',
      Array.from({ length: n }, (_, i) => `cust-${i}`),
    ),
    cat(
      'review',
      Array.from({ length: n }, () => Array.from({ length: 4 }, () => pick(WORDS)).join(' ')),
    ),
    dt(
      'signup',
      Array.from({ length: n }, (_, i) => Date.UTC(2020, 0, 1) + i * 86_400_000 * 3.3),
    ),
  );
}

describe('column type inference', () => {
  test('rows as the MLTable reader yields them become raw columns', () => {
    const t = tableFromRows(
      [
        { name: 'i', type: 'int' },
        { name: 'f', type: 'float' },
        { name: 'b', type: 'boolean' },
        { name: 'd', type: 'datetime' },
        { name: 's', type: 'string' },
      ],
      [
        { i: 1, f: 2.5, b: true, d: new Date(Date.UTC(2024, 0, 2)), s: 'x' },
        { i: null, f: Number.NaN, b: false, d: null, s: null },
      ],
    );
    assert.equal(t.rows, 2);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.kind, Array.from(c.values as ArrayLike<number | string | null>)]),
      [
        ['i', 'numeric', [1, Number.NaN]],
        ['f', 'numeric', [2.5, Number.NaN]],
        ['b', 'numeric', [1, 0]],
        ['d', 'datetime', [Date.UTC(2024, 0, 2), Number.NaN]],
        ['s', 'categorical', ['x', null]],
      ],
    );
  });

  test('infers every kind, drops constant, empty, row-id and id-like columns', () => {
    const plans = inferColumnTypes(mixedTable(100));
    const purposes = Object.fromEntries(plans.map((p) => [p.name, p.purpose]));
    assert.deepEqual(purposes, {
      age: 'numeric',
      row_id: 'ignore',
      constant: 'ignore',
      empty: 'ignore',
      color: 'categorical',
      customer: 'ignore',
      review: 'text',
      signup: 'datetime',
    });
    assert.match(plans.find((p) => p.name === 'row_id')?.reason ?? '', /row id/);
    assert.match(plans.find((p) => p.name === 'customer')?.reason ?? '', /id/);
    assert.equal(plans.find((p) => p.name === 'age')?.stats.missing, 10);
  });

  test('a column constant but for missing values is kept (its missingness may matter)', () => {
    const plans = inferColumnTypes(table(num('x', [1, null, 1, 1]), cat('c', ['a', null, 'a', 'a'])));
    assert.deepEqual(
      plans.map((p) => p.purpose),
      ['numeric', 'categorical'],
    );
  });

  test('integers that are distinct but not consecutive are numeric, not a row id', () => {
    const values = Array.from({ length: 60 }, (_, i) => i * 2);
    assert.equal(inferColumnTypes(table(num('x', values)))[0]?.purpose, 'numeric');
  });

  test('column_name_and_types overrides the inference', () => {
    const t = mixedTable(100);
    const settings = resolveFeaturization(
      { mode: 'custom', column_name_and_types: { age: 'Categorical', customer: 'Text', color: 'ignore' } },
      t,
    );
    const purposes = Object.fromEntries(inferColumnTypes(t, settings).map((p) => [p.name, p.purpose]));
    assert.equal(purposes['age'], 'categorical');
    assert.equal(purposes['customer'], 'text');
    assert.equal(purposes['color'], 'ignore');
  });
});

describe('featurization settings', () => {
  const t = mixedTable(60);
  const problems = (spec: FeaturizationSpec): string[] => {
    try {
      resolveFeaturization(spec, t);
    } catch (err) {
      assert.ok(err instanceof ValidationError, String(err));
      return err.details.map((d) => `${d.target}: ${d.message}`);
    }
    return [];
  };

  test('bad settings are reported together, each with its key path and what to do', () => {
    const found = problems({
      mode: 'custom',
      column_name_and_types: { nope: 'Numeric', color: 'DateTime', age: 'Number' },
      blocked_transformers: ['OneHotEncoder', 'Magic'],
      transformer_params: {
        imputer: [
          { fields: ['age'], parameters: { strategy: 'mode' } },
          { fields: ['color'], parameters: { strategy: 'median' } },
          { fields: ['age'], parameters: { strategy: 'constant' } },
        ],
        tfidf: [{ fields: ['review'] }],
      },
    });
    assert.equal(found.length, 8, found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('featurization.column_name_and_types.nope:') && p.includes("'age'")));
    assert.ok(found.some((p) => p.startsWith('featurization.column_name_and_types.color:') && p.includes('strings')));
    assert.ok(found.some((p) => p.startsWith('featurization.column_name_and_types.age:') && p.includes('Numeric')));
    assert.ok(
      found.some((p) => p.startsWith('featurization.blocked_transformers[1]:') && p.includes('CatTargetEncoder')),
    );
    assert.ok(found.some((p) => p.includes('imputer[0].parameters.strategy') && p.includes('most_frequent')));
    assert.ok(found.some((p) => p.includes('imputer[1].parameters.strategy') && p.includes('Categorical')));
    assert.ok(found.some((p) => p.includes('imputer[2].parameters.fill_value')));
    assert.ok(found.some((p) => p.includes('transformer_params.tfidf')));
  });

  test('good settings resolve; names are case-insensitive; no-op blocked names are noted', () => {
    const r = resolveFeaturization(
      {
        mode: 'custom',
        blocked_transformers: ['onehotencoder', 'TfIdf', 'WordEmbedding'],
        transformer_params: {
          imputer: [
            { fields: ['age'], parameters: { strategy: 'constant', fill_value: -1 } },
            { fields: ['color'], parameters: { strategy: 'constant', fill_value: 'unknown' } },
            { fields: ['signup'], parameters: { strategy: 'constant', fill_value: '2021-06-01' } },
          ],
          hash_one_hot_encoder: [{ fields: ['review'], parameters: { number_of_bits: 4 } }],
        },
      },
      t,
    );
    assert.deepEqual([...r.blocked].sort(), ['one-hot', 'tfidf']);
    assert.deepEqual(r.imputers.get('age'), { strategy: 'constant', fill: -1 });
    assert.deepEqual(r.imputers.get('color'), { strategy: 'constant', fill: 'unknown' });
    assert.deepEqual(r.imputers.get('signup'), { strategy: 'constant', fill: Date.UTC(2021, 5, 1) });
    assert.equal(r.hashBits.get('review'), 4);
    assert.ok(r.notes.some((n) => n.includes('WordEmbedding')));
  });

  test('mode off refuses customizations and non-numeric columns, and passes numbers through', () => {
    assert.ok(problems({ mode: 'off', blocked_transformers: ['TfIdf'] }).some((p) => p.includes('mode: custom')));
    assert.throws(
      () => fit(t, { featurization: { mode: 'off' } }),
      (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /'color' \(categorical\)/);
        return true;
      },
    );
    const numbers = table(num('a', [1.5, null, 3]), num('b', [1, 1, 1]));
    const { train, plan } = fit(numbers, { featurization: { mode: 'off' }, scaler: 'standard' });
    assert.deepEqual(Array.from(train.data), [1.5, 1, Number.NaN, 1, 3, 1]);
    assert.deepEqual(
      plan.columns.map((c) => c.transformers),
      [['PassThrough'], ['PassThrough']],
    );
  });
});

describe('numeric imputation, missing indicators and scaling', () => {
  const values = Float64Array.from([1, 2, Number.NaN, 2, 10]);
  const fills: [string, { strategy: 'mean' | 'median' | 'most_frequent' | 'constant'; fillValue?: number }, number][] =
    [
      ['mean', { strategy: 'mean' }, 3.75],
      ['median', { strategy: 'median' }, 2],
      ['most_frequent', { strategy: 'most_frequent' }, 2],
      ['constant', { strategy: 'constant', fillValue: -7 }, -7],
    ];
  for (const [label, imputer, expected] of fills) {
    test(`${label} imputation, with a missing indicator`, () => {
      const { transform } = fitNumeric('x', values, { imputer, scaler: 'none' });
      assert.deepEqual(transform.featureNames, ['x', 'x:missing']);
      const out = new Float64Array(10);
      transform.write(num('x', [null, 4]), out, 2, 0);
      assert.deepEqual(Array.from(out.subarray(0, 4)), [expected, 1, 4, 0]);
    });
  }

  test('no indicator when the training rows had no missing value; an unseen NaN is still imputed', () => {
    const { transform } = fitNumeric('x', Float64Array.from([1, 3]), { imputer: { strategy: 'mean' }, scaler: 'none' });
    assert.deepEqual(transform.featureNames, ['x']);
    const out = new Float64Array(1);
    transform.write(num('x', [null]), out, 1, 0);
    assert.deepEqual(Array.from(out), [2]);
  });

  test('standard, min-max and robust scalers', () => {
    const sorted = Float64Array.from([1, 2, 3, 4, 10]);
    const s = fitScaler(sorted, 'standard');
    assert.ok(s !== undefined && close(s.offset, 4) && close(s.scale, 1 / Math.sqrt(10)), JSON.stringify(s));
    const m = fitScaler(sorted, 'minmax');
    assert.ok(m !== undefined && m.offset === 1 && close(m.scale, 1 / 9));
    const r = fitScaler(sorted, 'robust');
    assert.ok(r !== undefined && r.offset === 3 && close(r.scale, 1 / 2));
    assert.equal(fitScaler(Float64Array.from([5, 5]), 'standard')?.scale, 1);
    assert.equal(fitScaler(sorted, 'none'), undefined);
  });

  test('the scaler is fitted after imputation and applied to the imputed value', () => {
    const { transform } = fitNumeric('x', Float64Array.from([0, Number.NaN, 4]), {
      imputer: { strategy: 'mean' },
      scaler: 'minmax',
    });
    const out = new Float64Array(6);
    transform.write(num('x', [0, null, 4]), out, 2, 0);
    assert.deepEqual(Array.from(out), [0, 0, 0.5, 1, 1, 0]);
    assert.equal((transform as NumericTransform).transformer, 'Imputer+MissingIndicator+minmaxScaler');
  });

  test('cells are read at float32 precision, as the graph reads them', () => {
    const { transform } = fitNumeric('x', Float64Array.from([0.1]), { imputer: { strategy: 'mean' }, scaler: 'none' });
    const out = new Float64Array(1);
    transform.write(num('x', [0.1]), out, 1, 0);
    assert.equal(out[0], Math.fround(0.1));
  });
});

describe('categorical encoders', () => {
  test('one-hot keeps the most frequent categories up to the cap; the rest and unseen go to __other__', () => {
    const train = table(cat('c', ['a', 'a', 'a', 'b', 'b', 'c', null, null, 'd']));
    const { featurizer, train: m } = fit(train, { maxOneHotCategories: 3 });
    // b/c/d: distinct 5 > cap 3 and no target: frequency + capped one-hot.
    assert.deepEqual(featurizer.featureNames, ['c:frequency', 'c=a', 'c=b', 'c=__missing__', 'c=__other__']);
    assert.deepEqual(
      row(m, 5),
      [1 / 9, 0, 0, 0, 1].map(Math.fround).map((v, i) => (i === 0 ? v : Math.round(v))),
    );
    const scored = featurizer.transform(table(cat('c', ['b', null, 'zzz', 'c', ''])));
    assert.deepEqual(feature(scored, featurizer.featureNames, 'c=__other__'), [0, 0, 1, 1, 0]);
    assert.deepEqual(feature(scored, featurizer.featureNames, 'c=__missing__'), [0, 1, 0, 0, 1]);
    assertClose(feature(scored, featurizer.featureNames, 'c:frequency'), [2 / 9, 2 / 9, 0, 1 / 9, 2 / 9]);
  });

  test('low cardinality gets one-hot only; every row has exactly one 1', () => {
    const { featurizer, train } = fit(table(cat('c', ['x', 'y', 'x', null])));
    assert.deepEqual(featurizer.featureNames, ['c=x', 'c=y', 'c=__missing__', 'c=__other__']);
    for (let r = 0; r < train.rows; r++)
      assert.equal(
        row(train, r).reduce((a, b) => a + b, 0),
        1,
      );
  });

  test('a categorical imputer makes missing cells the most frequent (or a constant) category', () => {
    const t = table(cat('c', ['x', 'y', 'x', null]));
    const most = fit(t, {
      featurization: {
        mode: 'custom',
        transformer_params: { imputer: [{ fields: ['c'], parameters: { strategy: 'most_frequent' } }] },
      },
    });
    assert.deepEqual(most.featurizer.featureNames, ['c=x', 'c=y', 'c=__other__']);
    assert.deepEqual(row(most.featurizer.transform(table(cat('c', [null]))), 0), [1, 0, 0]);
    const constant = fit(t, {
      featurization: {
        mode: 'custom',
        transformer_params: { imputer: [{ fields: ['c'], parameters: { strategy: 'constant', fill_value: 'none' } }] },
      },
    });
    assert.deepEqual(constant.featurizer.featureNames, ['c=x', 'c=none', 'c=y', 'c=__other__']);
  });

  test('a numeric column declared Categorical is encoded by value', () => {
    const { featurizer } = fit(table(num('n', [1, 2, 2, null])), {
      featurization: { mode: 'custom', column_name_and_types: { n: 'Categorical' } },
    });
    assert.deepEqual(featurizer.featureNames, ['n=2', 'n=1', 'n=__missing__', 'n=__other__']);
    assert.deepEqual(row(featurizer.transform(table(num('n', [3]))), 0), [0, 0, 0, 1]);
  });

  test('target encoding: the full-fit mapping is the smoothed mean; unseen categories get the prior', () => {
    const column = cat('c', ['a', 'a', 'b', 'b', 'b', 'c']);
    const y = Float64Array.from([1, 3, 10, 20, 30, 0]);
    const { transform } = fitTarget(
      'c',
      column,
      stringKeys(undefined),
      { task: 'regression', values: y },
      {
        seed: 1,
        smoothing: 2,
      },
    );
    const prior = 64 / 6;
    const out = new Float64Array(4);
    transform.write(cat('c', ['a', 'b', 'c', 'new']), out, 1, 0);
    assertClose(Array.from(out), [(4 + 2 * prior) / 4, (60 + 2 * prior) / 5, (0 + 2 * prior) / 3, prior]);
  });

  test('target encoding of classes: one column for binary, one per class for multiclass', () => {
    const column = cat('c', ['a', 'a', 'b', 'b']);
    const binary = fitTarget(
      'c',
      column,
      stringKeys(undefined),
      { task: 'classification', values: ['no', 'yes', 'no', 'no'] },
      { seed: 1, smoothing: 0 },
    );
    assert.deepEqual(binary.transform.featureNames, ['c:target[yes]']);
    const out = new Float64Array(2);
    binary.transform.write(cat('c', ['a', 'b']), out, 1, 0);
    assert.deepEqual(Array.from(out), [0.5, 0]);
    const multi = fitTarget(
      'c',
      column,
      stringKeys(undefined),
      { task: 'classification', values: ['p', 'q', 'r', 'r'] },
      { seed: 1, smoothing: 0 },
    );
    assert.deepEqual(multi.transform.featureNames, ['c:target[p]', 'c:target[q]', 'c:target[r]']);
  });

  test("target encoding is leakage-free: a training row's own target never moves its out-of-fold value", () => {
    const rng = new Rng(3);
    const n = 60;
    const column = cat(
      'c',
      Array.from({ length: n }, () => `k${rng.int(12)}`),
    );
    const y = Float64Array.from({ length: n }, () => rng.next() * 10);
    const options = { seed: 11, folds: 5, smoothing: 3 };
    const base = fitTarget('c', column, stringKeys(undefined), { task: 'regression', values: y }, options);
    const fullBefore = new Float64Array(n);
    base.transform.write(column, fullBefore, 1, 0);
    for (let r = 0; r < n; r++) {
      const changed = Float64Array.from(y);
      changed[r] = 1000;
      const again = fitTarget('c', column, stringKeys(undefined), { task: 'regression', values: changed }, options);
      assert.equal(again.train?.[r], base.train?.[r], `row ${r}: its own target moved its training encoding`);
      const fullAfter = new Float64Array(n);
      again.transform.write(column, fullAfter, 1, 0);
      assert.notEqual(fullAfter[r], fullBefore[r], 'the full-fit mapping does use every row (control)');
    }
  });

  test('target encoding of unique ids carries no signal out of fold, though the full fit would memorize it', () => {
    const rng = new Rng(5);
    const n = 400;
    const labels = Array.from({ length: n }, () => (rng.next() < 0.5 ? 'no' : 'yes'));
    const column = cat(
      'id',
      Array.from({ length: n }, (_, i) => `id-${i}`),
    );
    const target = { task: 'classification' as const, values: labels };
    const fitted = fitTarget('id', column, stringKeys(undefined), target, { seed: 2, smoothing: 1 });
    const y: number[] = labels.map((l) => (l === 'yes' ? 1 : 0));
    const full = new Float64Array(n);
    fitted.transform.write(column, full, 1, 0);
    const corr = (x: ArrayLike<number>): number => {
      const mx = Array.from(x).reduce((a, b) => a + b, 0) / n;
      const my = y.reduce((a, b) => a + b, 0) / n;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < n; i++) {
        sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
        sxx += ((x[i] as number) - mx) ** 2;
        syy += ((y[i] as number) - my) ** 2;
      }
      return sxx === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
    };
    assert.ok(corr(full) > 0.99, `full-fit correlation ${corr(full)}`);
    // Out of fold, a unique id is unseen: its value is the other folds' prior, which leans away
    // from the row's own label a little (its fold holds it); never towards it.
    assert.ok(corr(fitted.train as Float64Array) <= 0, `out-of-fold correlation ${corr(fitted.train as Float64Array)}`);
  });

  test('high cardinality with a target: target + frequency encoding, training rows out of fold', () => {
    const rng = new Rng(9);
    const n = 200;
    const t = table(
      cat(
        'c',
        Array.from({ length: n }, () => `v${rng.int(50)}`),
      ),
    );
    const y = Float64Array.from({ length: n }, () => rng.next());
    const { featurizer, train, plan } = fit(t, { target: { task: 'regression', values: y } });
    assert.deepEqual(featurizer.featureNames, ['c:target_mean', 'c:frequency']);
    assert.deepEqual(plan.columns[0]?.transformers, ['CatTargetEncoder', 'FrequencyEncoder']);
    const scored = featurizer.transform(t);
    assert.notDeepEqual(
      feature(train, featurizer.featureNames, 'c:target_mean'),
      feature(scored, featurizer.featureNames, 'c:target_mean'),
    );
    assert.deepEqual(
      feature(train, featurizer.featureNames, 'c:frequency'),
      feature(scored, featurizer.featureNames, 'c:frequency'),
    );
  });
});

describe('datetime parts', () => {
  test('civilParts agrees with the UTC calendar, before and after 1970, across leap years', () => {
    const rng = new Rng(4);
    const samples = [
      Date.UTC(1970, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(1900, 2, 1),
      Date.UTC(2100, 1, 28, 23),
      Date.UTC(2024, 11, 31, 5),
      ...Array.from({ length: 2000 }, () => Math.round((rng.next() - 0.5) * 2 * 8e12)),
    ];
    for (const ms of samples) {
      const d = new Date(ms);
      const jan1 = Date.UTC(d.getUTCFullYear(), 0, 1);
      const expected = [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        (d.getUTCDay() + 6) % 7,
        d.getUTCHours(),
        Math.floor((ms - jan1) / 86_400_000) + 1,
      ];
      assert.deepEqual(civilParts(ms), expected, d.toISOString());
    }
    assert.equal(DATETIME_PARTS.length, 6);
  });

  test('only parts that vary are kept; missing values are imputed with the median and flagged', () => {
    const values = dt('d', ['2024-01-01', '2024-03-05', null, '2024-03-09']);
    const { transform } = fitDatetime('d', values.values as Float64Array, undefined);
    assert.deepEqual(transform.featureNames, ['d:month', 'd:day', 'd:weekday', 'd:dayofyear', 'd:missing']);
    const out = new Float64Array(5);
    transform.write(dt('d', [null]), out, 5, 0);
    // The median of Jan 1, Mar 5 and Mar 9 is Mar 5 (a Tuesday, day 65 of leap year 2024).
    assert.deepEqual(Array.from(out), [3, 5, 1, 65, 1]);
  });
});

describe('text', () => {
  test('tokenize lowercases and splits on everything but letters and digits', () => {
    assert.deepEqual(tokenize("Hello, WORLD! it's 2024 — Ünïcode_ok"), [
      'hello',
      'world',
      'it',
      's',
      '2024',
      'ünïcode',
      'ok',
    ]);
    assert.deepEqual(tokenize(null), []);
    assert.deepEqual(tokenize(''), []);
  });

  test('TF-IDF over the fitted vocabulary: sklearn weights, unit rows, unseen words ignored', () => {
    const docs = ['good good movie', 'bad movie', 'good plot', null];
    const { featurizer, train } = fit(table(text('t', docs)), { text: { minDf: 2 } });
    assert.deepEqual(featurizer.featureNames, ['t:tfidf:good', 't:tfidf:movie']);
    const idf = (df: number): number => Math.fround(Math.log(5 / (1 + df)) + 1);
    const r0 = [2 * idf(2), idf(2)];
    const norm = Math.hypot(...r0);
    assertClose(
      row(train, 0),
      r0.map((v) => v / norm),
    );
    assertClose(row(train, 1), [0, 1]);
    assert.deepEqual(row(train, 3), [0, 0]);
    assert.deepEqual(row(featurizer.transform(table(text('t', ['unheard words']))), 0), [0, 0]);
  });

  test('the hashed bag of words counts tokens in 2^bits buckets and does not export', () => {
    const { transform } = fitHashedBagOfWords('t', text('t', []), { bits: 3 });
    assert.equal(transform.featureNames.length, 8);
    const out = new Float64Array(8);
    transform.write(text('t', ['a b a c']), out, 8, 0);
    assert.equal(
      out.reduce((s, v) => s + v, 0),
      4,
    );
    assert.throws(
      () => transform.exportOnnx({} as never, 't'),
      (err: unknown) => err instanceof AppError && err.code === 'Unsupported',
    );
  });
});

describe('blocked transformers', () => {
  const rng = new Rng(12);
  const n = 120;
  const t = table(
    cat(
      'low',
      Array.from({ length: n }, () => ['a', 'b', 'c'][rng.int(3)] as string),
    ),
    cat(
      'high',
      Array.from({ length: n }, () => `h${rng.int(60)}`),
    ),
    cat(
      'review',
      Array.from({ length: n }, () => Array.from({ length: 5 }, () => WORDS[rng.int(WORDS.length)]).join(' ')),
    ),
  );
  const target = {
    task: 'classification' as const,
    values: Array.from({ length: n }, () => (rng.next() < 0.3 ? 'y' : 'n')),
  };
  const transformers = (blocked: string[]): Record<string, string[]> => {
    const { plan } = fit(t, { target, featurization: { mode: 'custom', blocked_transformers: blocked } });
    return Object.fromEntries(plan.columns.map((c) => [c.name, c.transformers]));
  };

  const cases: [string[], Record<string, string[]>][] = [
    [[], { low: ['OneHotEncoder'], high: ['CatTargetEncoder', 'FrequencyEncoder'], review: ['TfIdf'] }],
    [
      ['OneHotEncoder'],
      {
        low: ['CatTargetEncoder', 'FrequencyEncoder'],
        high: ['CatTargetEncoder', 'FrequencyEncoder'],
        review: ['TfIdf'],
      },
    ],
    [['CatTargetEncoder'], { low: ['OneHotEncoder'], high: ['FrequencyEncoder', 'OneHotEncoder'], review: ['TfIdf'] }],
    [['CatTargetEncoder', 'LabelEncoder'], { low: ['OneHotEncoder'], high: ['OneHotEncoder'], review: ['TfIdf'] }],
    [['OneHotEncoder', 'CatTargetEncoder', 'LabelEncoder'], { low: [], high: [], review: ['TfIdf'] }],
    [
      ['TfIdf'],
      { low: ['OneHotEncoder'], high: ['CatTargetEncoder', 'FrequencyEncoder'], review: ['HashedBagOfWords'] },
    ],
    [
      ['TfIdf', 'CountVectorizer'],
      { low: ['OneHotEncoder'], high: ['CatTargetEncoder', 'FrequencyEncoder'], review: [] },
    ],
    [
      ['TfIdf', 'HashOneHotEncoder'],
      { low: ['OneHotEncoder'], high: ['CatTargetEncoder', 'FrequencyEncoder'], review: [] },
    ],
  ];
  for (const [blocked, expected] of cases) {
    test(`blocked ${JSON.stringify(blocked)}`, () => assert.deepEqual(transformers(blocked), expected));
  }

  test('a column whose encoders are all blocked is left out and noted; a capped one-hot has 32 + 1 columns', () => {
    const { plan, featurizer } = fit(t, {
      target,
      featurization: { mode: 'custom', blocked_transformers: ['CatTargetEncoder', 'LabelEncoder'] },
    });
    assert.equal(featurizer.featureNames.filter((f) => f.startsWith('high=')).length, 33);
    const none = fit(t, {
      target,
      featurization: { mode: 'custom', blocked_transformers: ['OneHotEncoder', 'CatTargetEncoder', 'LabelEncoder'] },
    });
    assert.equal(none.plan.columns.find((c) => c.name === 'low')?.purpose, 'ignore');
    assert.ok(none.plan.notes.some((note) => note.includes("'low'") && note.includes('blocked')));
    void plan;
  });
});

describe('the featurizer', () => {
  test('is deterministic: the same data, settings and seed give the same matrices', () => {
    const t = mixedTable(150);
    const y = Float64Array.from({ length: 150 }, (_, i) => (i * 7919) % 13);
    const options = {
      target: { task: 'regression' as const, values: y },
      scaler: 'robust' as const,
      maxOneHotCategories: 2,
    };
    const a = fit(t, options);
    const b = fit(t, options);
    assert.deepEqual(a.featurizer.featureNames, b.featurizer.featureNames);
    assert.deepEqual(a.train.data, b.train.data);
    assert.deepEqual(a.featurizer.transform(t).data, b.featurizer.transform(t).data);
    const bytes = (f: typeof a.featurizer): Uint8Array => {
      const g = createOnnxGraph('featurizer');
      const features = f.exportOnnx(g, declareOnnxInputs(g, f.onnxInputs));
      g.output(features.tensor, 'float', ['N', features.width]);
      return g.toBytes();
    };
    assert.deepEqual(bytes(a.featurizer), bytes(b.featurizer), 'the same ONNX bytes');
    const c = fit(t, { ...options, seed: 8 });
    assert.notDeepEqual(c.train.data, a.train.data, 'another seed, other folds');
    assert.deepEqual(
      c.featurizer.transform(t).data,
      a.featurizer.transform(t).data,
      'the full-fit mapping does not depend on the seed',
    );
  });

  test('fits on training rows only: scoring other rows does not change the fitted parameters', () => {
    const t = table(num('x', [1, 2, 3, 4]), cat('c', ['a', 'b', 'a', 'b']));
    const { featurizer } = fit(t, { scaler: 'standard' });
    const before = featurizer.transform(t).data;
    featurizer.transform(table(num('x', [1000, -5]), cat('c', ['z', 'y'])));
    assert.deepEqual(featurizer.transform(t).data, before);
  });

  test('the plan says what was done with every column', () => {
    const { plan, featurizer } = fit(mixedTable(100), { scaler: 'standard' });
    const byName = Object.fromEntries(plan.columns.map((c) => [c.name, c]));
    assert.deepEqual(byName['age']?.transformers, ['Imputer+MissingIndicator+standardScaler']);
    assert.equal(byName['customer']?.purpose, 'ignore');
    assert.equal(
      plan.columns.reduce((s, c) => s + c.features, 0),
      featurizer.featureNames.length,
    );
    assert.deepEqual(featurizer.columns, ['age', 'color', 'review', 'signup']);
    assert.deepEqual(
      featurizer.onnxInputs.map((s) => [s.column, s.type]),
      [
        ['age', 'float'],
        ['color', 'string'],
        ['review', 'string'],
        ['signup', 'double'],
      ],
    );
  });

  test('transform names a missing or mistyped column', () => {
    const { featurizer } = fit(table(num('x', [1, 2]), cat('c', ['a', 'b'])));
    assert.throws(() => featurizer.transform(table(num('x', [1]))), /no column 'c'/);
    assert.throws(() => featurizer.transform(table(num('x', [1]), num('c', [1]))), /holds numeric values/);
  });

  test('a table where nothing yields a feature is a validation error', () => {
    assert.throws(() => fit(table(num('k', [1, 1, 1]))), ValidationError);
  });
});
